//! Request builders and response parsers for the payment endpoints, sans-IO
//! (like async-stripe): each builder gives an [`HttpRequest`] (method, path,
//! JSON body) that the caller signs ([`HttpRequest::authorization`]) and
//! sends; each parser takes the HTTP status and the raw body. Verify the
//! response signature over the raw bytes first ([`super::verify()`]).

use super::auth::{authorization, Credentials};
use super::json::from_json;
use super::notify::Transaction;
use crate::crypto::Signer;
use crate::error::{Error, Result, UpstreamError};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The production gateway.
pub const BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// A request to send: method, path (with query, already escaped) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query, exactly as sent and signed (e.g. `/v3/pay/transactions/native`).
    pub path: String,
    /// The JSON body (empty for `GET`).
    pub body: String,
}

impl HttpRequest {
    /// The `Authorization` header for this request.
    pub fn authorization(
        &self,
        signer: &impl Signer,
        credentials: &Credentials,
        timestamp: i64,
        nonce: &str,
    ) -> Result<String> {
        authorization(
            signer,
            credentials,
            self.method,
            &self.path,
            timestamp,
            nonce,
            &self.body,
        )
    }

    /// The full URL under `base` (e.g. [`BASE_URL`] or an emulator).
    pub fn url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path)
    }
}

/// Which product a prepay order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrepayKind {
    /// Official-account pages and mini programs (needs the payer's openid).
    Jsapi,
    /// Apps (OpenSDK).
    App,
    /// Mobile browsers outside WeChat (needs scene info with `h5_info.type`).
    H5,
    /// QR code (`code_url`).
    Native,
}

impl PrepayKind {
    /// The last path segment: `jsapi`, `app`, `h5`, `native`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrepayKind::Jsapi => "jsapi",
            PrepayKind::App => "app",
            PrepayKind::H5 => "h5",
            PrepayKind::Native => "native",
        }
    }

    /// The endpoint path, e.g. `/v3/pay/transactions/jsapi`.
    pub fn path(self) -> String {
        format!("/v3/pay/transactions/{}", self.as_str())
    }
}

/// `scene_info` of a prepay order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SceneInfo {
    /// The payer's IP address (IPv4 or IPv6).
    pub payer_client_ip: String,
    /// `h5_info.type` (`Wap`, `iOS`, `Android`): required for H5.
    pub h5_type: Option<String>,
}

/// A prepay order (`POST /v3/pay/transactions/{jsapi,app,h5,native}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepay {
    /// Which product.
    pub kind: PrepayKind,
    /// App id (official account, mini program or app).
    pub appid: String,
    /// Merchant id.
    pub mchid: String,
    /// What is bought (≤ 127 characters).
    pub description: String,
    /// The merchant's order number: 6–32 characters, letters, digits, `_-|*`.
    pub out_trade_no: String,
    /// Where the notify goes: an absolute `https://` URL without a query.
    pub notify_url: String,
    /// Total in fen (> 0).
    pub amount_total: u64,
    /// Currency (`CNY` when empty).
    pub currency: String,
    /// The payer's openid under `appid` (required for JSAPI).
    pub payer_openid: Option<String>,
    /// Scene info (required for H5).
    pub scene_info: Option<SceneInfo>,
    /// Merchant data echoed in the notify (≤ 128 characters).
    pub attach: Option<String>,
    /// Expiry, RFC 3339 (`2018-06-08T10:34:56+08:00`).
    pub time_expire: Option<String>,
}

impl Prepay {
    /// A prepay order with the required fields; the rest empty, currency `CNY`.
    pub fn new(
        kind: PrepayKind,
        appid: impl Into<String>,
        mchid: impl Into<String>,
        description: impl Into<String>,
        out_trade_no: impl Into<String>,
        notify_url: impl Into<String>,
        amount_total: u64,
    ) -> Self {
        Prepay {
            kind,
            appid: appid.into(),
            mchid: mchid.into(),
            description: description.into(),
            out_trade_no: out_trade_no.into(),
            notify_url: notify_url.into(),
            amount_total,
            currency: "CNY".into(),
            payer_openid: None,
            scene_info: None,
            attach: None,
            time_expire: None,
        }
    }

    /// Validates and builds the request. Errors name the field (`appid`,
    /// `payer.openid`, `scene_info.h5_info.type`, `amount.total`, …).
    ///
    /// ```
    /// use edgepay::wechat::v3::{Prepay, PrepayKind};
    /// let mut order = Prepay::new(PrepayKind::Jsapi, "wxd678efh567hg6787", "1230000109",
    ///     "Image形象店-深圳腾大-QQ公仔", "1217752501201407033233368018",
    ///     "https://www.weixin.qq.com/wxpay/pay.php", 100);
    /// assert_eq!(order.build().unwrap_err().field(), Some("payer.openid"));
    /// order.payer_openid = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
    /// let req = order.build().unwrap();
    /// assert_eq!(req.path, "/v3/pay/transactions/jsapi");
    /// assert!(req.body.contains(r#""amount":{"total":100,"currency":"CNY"}"#));
    /// ```
    pub fn build(&self) -> Result<HttpRequest> {
        check_id("appid", &self.appid, 32)?;
        check_id("mchid", &self.mchid, 32)?;
        check_text("description", &self.description, 127, true)?;
        check_out_trade_no(&self.out_trade_no)?;
        check_notify_url("notify_url", &self.notify_url)?;
        if self.amount_total == 0 {
            return Err(Error::invalid("amount.total", "must be at least 1 fen"));
        }
        let currency = currency_or_cny(&self.currency)?;
        let mut body = Map::new();
        body.insert("appid".into(), json!(self.appid));
        body.insert("mchid".into(), json!(self.mchid));
        body.insert("description".into(), json!(self.description));
        body.insert("out_trade_no".into(), json!(self.out_trade_no));
        if let Some(t) = &self.time_expire {
            check_time("time_expire", t)?;
            body.insert("time_expire".into(), json!(t));
        }
        if let Some(a) = &self.attach {
            check_text("attach", a, 128, false)?;
            if !a.is_empty() {
                body.insert("attach".into(), json!(a));
            }
        }
        body.insert("notify_url".into(), json!(self.notify_url));
        body.insert(
            "amount".into(),
            json!({ "total": self.amount_total, "currency": currency }),
        );
        match (&self.payer_openid, self.kind) {
            (Some(openid), _) if !openid.is_empty() => {
                check_id("payer.openid", openid, 128)?;
                body.insert("payer".into(), json!({ "openid": openid }));
            }
            (_, PrepayKind::Jsapi) => return Err(Error::missing("payer.openid")),
            _ => {}
        }
        match (&self.scene_info, self.kind) {
            (Some(scene), kind) => {
                check_id("scene_info.payer_client_ip", &scene.payer_client_ip, 45)?;
                let mut s = Map::new();
                s.insert("payer_client_ip".into(), json!(scene.payer_client_ip));
                match (&scene.h5_type, kind) {
                    (Some(t), _) if !t.is_empty() => {
                        check_id("scene_info.h5_info.type", t, 32)?;
                        s.insert("h5_info".into(), json!({ "type": t }));
                    }
                    (_, PrepayKind::H5) => return Err(Error::missing("scene_info.h5_info.type")),
                    _ => {}
                }
                body.insert("scene_info".into(), Value::Object(s));
            }
            (None, PrepayKind::H5) => return Err(Error::missing("scene_info.payer_client_ip")),
            _ => {}
        }
        Ok(HttpRequest {
            method: "POST",
            path: self.kind.path(),
            body: Value::Object(body).to_string(),
        })
    }
}

/// Everything but ASCII letters, digits and `-_.~` is escaped in a path
/// segment (as Go's `url.PathEscape` does for these characters).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// Order query by the merchant's order number:
/// `GET /v3/pay/transactions/out-trade-no/{no}?mchid=…`.
///
/// ```
/// let req = edgepay::wechat::v3::query_by_out_trade_no("1217752501*201407|03", "1230000109").unwrap();
/// assert_eq!(req.path, "/v3/pay/transactions/out-trade-no/1217752501%2A201407%7C03?mchid=1230000109");
/// assert_eq!((req.method, req.body.as_str()), ("GET", ""));
/// ```
pub fn query_by_out_trade_no(out_trade_no: &str, mchid: &str) -> Result<HttpRequest> {
    check_out_trade_no(out_trade_no)?;
    check_id("mchid", mchid, 32)?;
    Ok(HttpRequest {
        method: "GET",
        path: format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            segment(out_trade_no),
            segment(mchid)
        ),
        body: String::new(),
    })
}

/// Order query by WeChat Pay's transaction id:
/// `GET /v3/pay/transactions/id/{transaction_id}?mchid=…`.
pub fn query_by_transaction_id(transaction_id: &str, mchid: &str) -> Result<HttpRequest> {
    check_id("transaction_id", transaction_id, 32)?;
    check_id("mchid", mchid, 32)?;
    Ok(HttpRequest {
        method: "GET",
        path: format!(
            "/v3/pay/transactions/id/{}?mchid={}",
            segment(transaction_id),
            segment(mchid)
        ),
        body: String::new(),
    })
}

/// Close an unpaid order: `POST /v3/pay/transactions/out-trade-no/{no}/close`
/// with body `{"mchid":"…"}` (the answer is `204` with no body).
pub fn close(out_trade_no: &str, mchid: &str) -> Result<HttpRequest> {
    check_out_trade_no(out_trade_no)?;
    check_id("mchid", mchid, 32)?;
    Ok(HttpRequest {
        method: "POST",
        path: format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            segment(out_trade_no)
        ),
        body: json!({ "mchid": mchid }).to_string(),
    })
}

/// Which payment a refund is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTarget {
    /// By the merchant's order number.
    OutTradeNo(String),
    /// By WeChat Pay's transaction id.
    TransactionId(String),
}

/// A refund (`POST /v3/refund/domestic/refunds`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The payment to refund.
    pub target: RefundTarget,
    /// The merchant's refund number (1–64 characters, letters, digits, `_-|*@`).
    pub out_refund_no: String,
    /// Shown to the payer (≤ 80 characters).
    pub reason: Option<String>,
    /// Where the refund notify goes (overrides the platform setting).
    pub notify_url: Option<String>,
    /// Amount to refund, in fen (> 0, ≤ total).
    pub refund: u64,
    /// The original order total, in fen.
    pub total: u64,
    /// Currency (`CNY` when empty).
    pub currency: String,
}

impl Refund {
    /// A refund with the required fields, currency `CNY`.
    pub fn new(
        target: RefundTarget,
        out_refund_no: impl Into<String>,
        refund: u64,
        total: u64,
    ) -> Self {
        Refund {
            target,
            out_refund_no: out_refund_no.into(),
            reason: None,
            notify_url: None,
            refund,
            total,
            currency: "CNY".into(),
        }
    }

    /// Validates and builds the request; errors name the field.
    pub fn build(&self) -> Result<HttpRequest> {
        let mut body = Map::new();
        match &self.target {
            RefundTarget::TransactionId(id) => {
                check_id("transaction_id", id, 32)?;
                body.insert("transaction_id".into(), json!(id));
            }
            RefundTarget::OutTradeNo(no) => {
                check_out_trade_no(no)?;
                body.insert("out_trade_no".into(), json!(no));
            }
        }
        check_refund_no(&self.out_refund_no)?;
        body.insert("out_refund_no".into(), json!(self.out_refund_no));
        if let Some(r) = &self.reason {
            check_text("reason", r, 80, false)?;
            if !r.is_empty() {
                body.insert("reason".into(), json!(r));
            }
        }
        if let Some(u) = &self.notify_url {
            check_notify_url("notify_url", u)?;
            body.insert("notify_url".into(), json!(u));
        }
        if self.total == 0 {
            return Err(Error::invalid("amount.total", "must be at least 1 fen"));
        }
        if self.refund == 0 {
            return Err(Error::invalid("amount.refund", "must be at least 1 fen"));
        }
        if self.refund > self.total {
            return Err(Error::invalid(
                "amount.refund",
                format!(
                    "{} is more than the order total {}",
                    self.refund, self.total
                ),
            ));
        }
        let currency = currency_or_cny(&self.currency)?;
        body.insert(
            "amount".into(),
            json!({ "refund": self.refund, "total": self.total, "currency": currency }),
        );
        Ok(HttpRequest {
            method: "POST",
            path: "/v3/refund/domestic/refunds".into(),
            body: Value::Object(body).to_string(),
        })
    }
}

/// Refund query: `GET /v3/refund/domestic/refunds/{out_refund_no}`.
pub fn query_refund(out_refund_no: &str) -> Result<HttpRequest> {
    check_refund_no(out_refund_no)?;
    Ok(HttpRequest {
        method: "GET",
        path: format!("/v3/refund/domestic/refunds/{}", segment(out_refund_no)),
        body: String::new(),
    })
}

/// What a prepay call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepayResponse {
    /// JSAPI and APP: `prepay_id` (valid for 2 hours).
    PrepayId(String),
    /// Native: `code_url` to show as a QR code.
    CodeUrl(String),
    /// H5: `h5_url` to redirect the browser to.
    H5Url(String),
}

/// Turns a non-2xx answer into [`Error::Upstream`]: `code` and `message` from
/// WeChat Pay's `{code, message, detail?}` body, `sub_message` =
/// `HTTP <status>` (followed by the `detail` JSON when present). A body that
/// is not such JSON gives `code` = `HTTP_<status>`.
pub fn check_response(status: u16, body: &[u8]) -> Result<()> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    #[derive(Deserialize)]
    struct ApiError {
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<Value>,
    }
    let upstream = match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => UpstreamError {
            code: e.code,
            message: e.message,
            sub_code: None,
            sub_message: Some(match e.detail {
                Some(d) => format!("HTTP {status}: {d}"),
                None => format!("HTTP {status}"),
            }),
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            UpstreamError {
                code: format!("HTTP_{status}"),
                message: text.chars().take(200).collect(),
                sub_code: None,
                sub_message: Some(format!("HTTP {status}")),
            }
        }
    };
    Err(Error::Upstream(upstream))
}

/// Parses a prepay answer for `kind`: `prepay_id` (JSAPI, APP), `code_url`
/// (Native) or `h5_url` (H5); a non-2xx status gives [`Error::Upstream`].
///
/// ```
/// use edgepay::wechat::v3::{parse_prepay_response, PrepayKind, PrepayResponse};
/// let r = parse_prepay_response(PrepayKind::Native, 200, br#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#).unwrap();
/// assert_eq!(r, PrepayResponse::CodeUrl("weixin://wxpay/bizpayurl?pr=p4lpSuKzz".into()));
/// let e = parse_prepay_response(PrepayKind::Jsapi, 400, br#"{"code":"PARAM_ERROR","message":"bad"}"#).unwrap_err();
/// assert_eq!(e.code(), "upstream_error");
/// ```
pub fn parse_prepay_response(kind: PrepayKind, status: u16, body: &[u8]) -> Result<PrepayResponse> {
    check_response(status, body)?;
    let value: Map<String, Value> = from_json("prepay response", body)?;
    let field = match kind {
        PrepayKind::Jsapi | PrepayKind::App => "prepay_id",
        PrepayKind::Native => "code_url",
        PrepayKind::H5 => "h5_url",
    };
    let text = match value.get(field) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(Error::missing(field)),
        Some(_) => return Err(Error::invalid(field, "must be a string")),
    };
    Ok(match kind {
        PrepayKind::Jsapi | PrepayKind::App => PrepayResponse::PrepayId(text),
        PrepayKind::Native => PrepayResponse::CodeUrl(text),
        PrepayKind::H5 => PrepayResponse::H5Url(text),
    })
}

/// Parses an order-query answer.
pub fn parse_transaction_response(status: u16, body: &[u8]) -> Result<Transaction> {
    check_response(status, body)?;
    from_json("transaction", body)
}

/// Parses an answer that has no body on success (close: `204`).
pub fn parse_empty_response(status: u16, body: &[u8]) -> Result<()> {
    check_response(status, body)
}

/// The amounts of a refund answer, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundResponseAmount {
    /// Original order total.
    pub total: u64,
    /// Refunded amount.
    pub refund: u64,
    /// What the payer had paid.
    #[serde(default)]
    pub payer_total: Option<u64>,
    /// What the payer gets back.
    #[serde(default)]
    pub payer_refund: Option<u64>,
    /// Currency.
    #[serde(default)]
    pub currency: Option<String>,
}

/// A refund, as the refund and refund-query endpoints answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundResponse {
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// `SUCCESS`, `CLOSED`, `PROCESSING`, `ABNORMAL`.
    pub status: String,
    /// Where the money goes.
    #[serde(default)]
    pub user_received_account: Option<String>,
    /// When it succeeded.
    #[serde(default)]
    pub success_time: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub create_time: Option<String>,
    /// The amounts.
    pub amount: RefundResponseAmount,
}

/// Parses a refund or refund-query answer.
pub fn parse_refund_response(status: u16, body: &[u8]) -> Result<RefundResponse> {
    check_response(status, body)?;
    from_json("refund response", body)
}

// ---- validation helpers ---------------------------------------------------

fn check_text(field: &str, value: &str, max_chars: usize, required: bool) -> Result<()> {
    if required && value.is_empty() {
        return Err(Error::missing(field));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(Error::invalid(
            field,
            format!("{n} characters is more than {max_chars}"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// An identifier: non-empty, printable ASCII without spaces, bounded.
fn check_id(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    if value.len() > max {
        return Err(Error::invalid(
            field,
            format!("{} characters is more than {max}", value.len()),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            "must be printable ASCII without spaces",
        ));
    }
    Ok(())
}

fn check_out_trade_no(value: &str) -> Result<()> {
    check_number("out_trade_no", value, 6, 32, "_-|*")
}

fn check_refund_no(value: &str) -> Result<()> {
    check_number("out_refund_no", value, 1, 64, "_-|*@")
}

fn check_number(field: &str, value: &str, min: usize, max: usize, extra: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    {
        return Err(Error::invalid(
            field,
            format!("only letters, digits and {extra} are allowed"),
        ));
    }
    if value.len() < min || value.len() > max {
        return Err(Error::invalid(
            field,
            format!("must be {min} to {max} characters, got {}", value.len()),
        ));
    }
    Ok(())
}

fn check_notify_url(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(Error::invalid(
            field,
            "must be an absolute https:// URL (WeChat Pay refuses http:// in production)",
        ));
    }
    if value.contains('?') || value.contains('#') {
        return Err(Error::invalid(field, "must not carry a query or fragment"));
    }
    if value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            "must be at most 255 printable ASCII characters",
        ));
    }
    Ok(())
}

fn currency_or_cny(currency: &str) -> Result<&str> {
    if currency.is_empty() {
        return Ok("CNY");
    }
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(
            "amount.currency",
            "must be an ISO 4217 code such as CNY",
        ));
    }
    Ok(currency)
}

/// `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM` (RFC 3339, as WeChat writes it).
fn check_time(field: &str, value: &str) -> Result<()> {
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let head = b.len() >= 20
        && digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && at(10, b'T')
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19);
    let zone = match b.len() {
        20 => at(19, b'Z'),
        25 => (at(19, b'+') || at(19, b'-')) && digits(20..22) && at(22, b':') && digits(23..25),
        _ => false,
    };
    if !(head && zone) {
        return Err(Error::invalid(
            field,
            "must be RFC 3339 like 2018-06-08T10:34:56+08:00",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert!(check_time("t", "2018-06-08T10:34:56+08:00").is_ok());
        assert!(check_time("t", "2018-06-08T10:34:56Z").is_ok());
        for bad in [
            "",
            "2018-06-08 10:34:56+08:00",
            "20180608103456",
            "2018-06-08T10:34:56+0800",
            "２018-06-08T10:34:56+08:00",
        ] {
            assert_eq!(
                check_time("t", bad).unwrap_err().field(),
                Some("t"),
                "{bad:?}"
            );
        }
    }
}
