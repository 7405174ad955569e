//! v2 gateway requests: the common parameters and builders for the
//! `alipay.trade.*` methods. Builders validate their fields and produce
//! unsigned [`Params`]; sign them with [`sign_params`](super::sign_params)
//! (or [`sign_order_string`](super::sign_order_string) for APP pay).

use super::sign::SignType;
use super::time::{beijing_timestamp, fen_to_yuan, MAX_AMOUNT_FEN};
use crate::error::{Error, Result};
use crate::params::Params;
use serde_json::{Map, Value};

/// The common (protocol) parameters of every v2 gateway request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonParams {
    /// `app_id`.
    pub app_id: String,
    /// `method`, e.g. `alipay.trade.query` (set by [`BizRequest::to_params`]).
    pub method: String,
    /// `format`: `JSON`.
    pub format: String,
    /// `charset`: `utf-8`.
    pub charset: String,
    /// `sign_type`.
    pub sign_type: SignType,
    /// `timestamp`, `yyyy-MM-dd HH:mm:ss` Beijing time.
    pub timestamp: String,
    /// `version`: `1.0`.
    pub version: String,
    /// `notify_url`.
    pub notify_url: Option<String>,
    /// `return_url` (page / wap pay).
    pub return_url: Option<String>,
    /// `app_cert_sn` (certificate mode).
    pub app_cert_sn: Option<String>,
    /// `alipay_root_cert_sn` (certificate mode).
    pub alipay_root_cert_sn: Option<String>,
    /// `app_auth_token` (calling on behalf of a merchant).
    pub app_auth_token: Option<String>,
}

impl CommonParams {
    /// Common parameters for `app_id` at `unix_secs` (converted to Beijing
    /// time), RSA2, utf-8, JSON, version 1.0; no method yet.
    pub fn new(app_id: impl Into<String>, unix_secs: i64) -> Result<Self> {
        Ok(CommonParams {
            app_id: app_id.into(),
            method: String::new(),
            format: "JSON".into(),
            charset: "utf-8".into(),
            sign_type: SignType::Rsa2,
            timestamp: beijing_timestamp(unix_secs)?,
            version: "1.0".into(),
            notify_url: None,
            return_url: None,
            app_cert_sn: None,
            alipay_root_cert_sn: None,
            app_auth_token: None,
        })
    }

    /// Sets `notify_url`.
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Sets `return_url`.
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Sets `sign_type`.
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.sign_type = sign_type;
        self
    }

    /// Certificate mode: sets `app_cert_sn` and `alipay_root_cert_sn`
    /// (see [`cert_sn`](fn@super::cert_sn)).
    pub fn cert_mode(
        mut self,
        app_cert_sn: impl Into<String>,
        alipay_root_cert_sn: impl Into<String>,
    ) -> Self {
        self.app_cert_sn = Some(app_cert_sn.into());
        self.alipay_root_cert_sn = Some(alipay_root_cert_sn.into());
        self
    }

    /// The common parameters as a map (optional ones only when set).
    /// Errors when `app_id`, `method` or `timestamp` is empty.
    pub fn to_params(&self) -> Result<Params> {
        for (field, value) in [
            ("app_id", &self.app_id),
            ("method", &self.method),
            ("timestamp", &self.timestamp),
        ] {
            if value.trim().is_empty() {
                return Err(Error::missing(field));
            }
        }
        let mut p = Params::new();
        p.insert("app_id".into(), self.app_id.clone());
        p.insert("method".into(), self.method.clone());
        p.insert("format".into(), self.format.clone());
        p.insert("charset".into(), self.charset.clone());
        p.insert("sign_type".into(), self.sign_type.as_str().into());
        p.insert("timestamp".into(), self.timestamp.clone());
        p.insert("version".into(), self.version.clone());
        for (k, v) in [
            ("notify_url", &self.notify_url),
            ("return_url", &self.return_url),
            ("app_cert_sn", &self.app_cert_sn),
            ("alipay_root_cert_sn", &self.alipay_root_cert_sn),
            ("app_auth_token", &self.app_auth_token),
        ] {
            if let Some(v) = v {
                p.insert(k.into(), v.clone());
            }
        }
        Ok(p)
    }
}

/// A business request: a method and its `biz_content` JSON text, sent
/// byte-for-byte as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizRequest {
    /// The API method, e.g. `alipay.trade.app.pay`.
    pub method: String,
    /// The `biz_content` JSON string.
    pub biz_content: String,
}

impl BizRequest {
    /// The full unsigned request: `common` with this method and `biz_content`.
    pub fn to_params(&self, common: &CommonParams) -> Result<Params> {
        let mut common = common.clone();
        common.method = self.method.clone();
        let mut p = common.to_params()?;
        p.insert("biz_content".into(), self.biz_content.clone());
        Ok(p)
    }

    /// [`to_params`](Self::to_params) with content encryption
    /// (`encrypt_type=AES`, for apps that set an AES key in the Alipay console):
    /// `biz_content` becomes its AES-128-CBC ciphertext under `aes_key_b64`
    /// ([`aes_encrypt`](super::aes_encrypt)) and `encrypt_type=AES` is added; sign
    /// the result as usual (encrypt, then sign). The answer's node then comes
    /// encrypted too: verify it with
    /// [`verify_encrypted_response`](super::response::verify_encrypted_response).
    pub fn to_encrypted_params(&self, common: &CommonParams, aes_key_b64: &str) -> Result<Params> {
        let mut p = self.to_params(common)?;
        p.insert(
            "biz_content".into(),
            super::aes::aes_encrypt(aes_key_b64, &self.biz_content)?,
        );
        p.insert("encrypt_type".into(), "AES".into());
        Ok(p)
    }
}

/// A payment order for APP, page (PC) and wap (H5) pay.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeOrder {
    /// `out_trade_no`: the merchant's order number (1–64 visible ASCII characters).
    pub out_trade_no: String,
    /// The amount in fen (1 ..= 10 000 000 000), sent as `total_amount` yuan.
    pub total_fen: u64,
    /// `subject`: the order title (non-empty, ≤ 256 characters).
    pub subject: String,
    /// More `biz_content` fields (e.g. `timeout_express`, `body`), appended
    /// after the standard ones; must not repeat them.
    pub extra: Map<String, Value>,
}

impl TradeOrder {
    /// An order with no extra fields.
    pub fn new(
        out_trade_no: impl Into<String>,
        total_fen: u64,
        subject: impl Into<String>,
    ) -> Self {
        TradeOrder {
            out_trade_no: out_trade_no.into(),
            total_fen,
            subject: subject.into(),
            extra: Map::new(),
        }
    }
}

fn check_out_no(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    if value.chars().count() > 64 {
        return Err(Error::invalid(field, "longer than 64 characters"));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            "only visible ASCII characters (letters, digits, _ -) are allowed",
        ));
    }
    Ok(())
}

fn check_amount(field: &str, fen: u64) -> Result<String> {
    if fen == 0 {
        return Err(Error::invalid(field, "must be greater than 0"));
    }
    if fen > MAX_AMOUNT_FEN {
        return Err(Error::invalid(field, "must not exceed 100000000.00 yuan"));
    }
    Ok(fen_to_yuan(fen))
}

fn pay(method: &str, product_code: &str, order: &TradeOrder) -> Result<BizRequest> {
    check_out_no("out_trade_no", &order.out_trade_no)?;
    let amount = check_amount("total_amount", order.total_fen)?;
    if order.subject.trim().is_empty() {
        return Err(Error::missing("subject"));
    }
    if order.subject.chars().count() > 256 {
        return Err(Error::invalid("subject", "longer than 256 characters"));
    }
    let mut biz = Map::new();
    biz.insert("out_trade_no".into(), order.out_trade_no.clone().into());
    biz.insert("total_amount".into(), amount.into());
    biz.insert("subject".into(), order.subject.clone().into());
    biz.insert("product_code".into(), product_code.into());
    for (k, v) in &order.extra {
        if biz.contains_key(k) {
            return Err(Error::invalid(
                k.clone(),
                "set by the builder; do not repeat it in extra",
            ));
        }
        biz.insert(k.clone(), v.clone());
    }
    Ok(BizRequest {
        method: method.into(),
        biz_content: Value::Object(biz).to_string(),
    })
}

/// `alipay.trade.app.pay` (product `QUICK_MSECURITY_PAY`).
pub fn trade_app_pay(order: &TradeOrder) -> Result<BizRequest> {
    pay("alipay.trade.app.pay", "QUICK_MSECURITY_PAY", order)
}

/// `alipay.trade.page.pay`, PC web (product `FAST_INSTANT_TRADE_PAY`).
pub fn trade_page_pay(order: &TradeOrder) -> Result<BizRequest> {
    pay("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", order)
}

/// `alipay.trade.wap.pay`, mobile web (product `QUICK_WAP_WAY`).
pub fn trade_wap_pay(order: &TradeOrder) -> Result<BizRequest> {
    pay("alipay.trade.wap.pay", "QUICK_WAP_WAY", order)
}

/// Which trade a query, close or refund is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeRef {
    /// The merchant's `out_trade_no`.
    OutTradeNo(String),
    /// Alipay's `trade_no`.
    TradeNo(String),
}

impl TradeRef {
    fn insert(&self, biz: &mut Map<String, Value>) -> Result<()> {
        match self {
            TradeRef::OutTradeNo(no) => {
                check_out_no("out_trade_no", no)?;
                biz.insert("out_trade_no".into(), no.clone().into());
            }
            TradeRef::TradeNo(no) => {
                check_out_no("trade_no", no)?;
                biz.insert("trade_no".into(), no.clone().into());
            }
        }
        Ok(())
    }
}

fn simple(method: &str, trade: &TradeRef) -> Result<BizRequest> {
    let mut biz = Map::new();
    trade.insert(&mut biz)?;
    Ok(BizRequest {
        method: method.into(),
        biz_content: Value::Object(biz).to_string(),
    })
}

/// `alipay.open.app.alipaycert.download`: Alipay's public certificate with
/// this SN (certificate mode, after Alipay rotated it). The answer's
/// `alipay_cert_content` is the certificate file in base64
/// ([`downloaded_cert_pem`]); trust it only once it chains to the root bundle
/// ([`verify_cert_chain`](super::cert_chain::verify_cert_chain)).
pub fn alipay_cert_download(alipay_cert_sn: &str) -> Result<BizRequest> {
    let sn = alipay_cert_sn.trim();
    if sn.len() != 32 || !sn.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "alipay_cert_sn",
            "must be the 32 hex digits of a certificate SN",
        ));
    }
    let mut biz = Map::new();
    biz.insert("alipay_cert_sn".into(), Value::String(sn.into()));
    Ok(BizRequest {
        method: "alipay.open.app.alipaycert.download".into(),
        biz_content: Value::Object(biz).to_string(),
    })
}

/// The certificate file (PEM text) in a verified
/// `alipay.open.app.alipaycert.download` answer.
pub fn downloaded_cert_pem(answer: &Value) -> Result<String> {
    let b64 = answer
        .get("alipay_cert_content")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("alipay_cert_content"))?;
    let bytes = crate::crypto::encoding::b64decode("alipay_cert_content", b64)?;
    let pem = crate::crypto::encoding::utf8("alipay_cert_content", bytes)?;
    crate::crypto::Certificate::parse_pem(&pem)?;
    Ok(pem)
}

/// `alipay.trade.query`.
pub fn trade_query(trade: &TradeRef) -> Result<BizRequest> {
    simple("alipay.trade.query", trade)
}

/// `alipay.trade.close`.
pub fn trade_close(trade: &TradeRef) -> Result<BizRequest> {
    simple("alipay.trade.close", trade)
}

/// A refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The trade to refund.
    pub trade: TradeRef,
    /// `out_request_no`: identifies this refund (partial refunds need one each; 1–64 chars).
    pub out_request_no: String,
    /// The refund amount in fen, sent as `refund_amount` yuan.
    pub refund_fen: u64,
    /// `refund_reason`, optional.
    pub reason: Option<String>,
}

/// `alipay.trade.refund`.
pub fn trade_refund(refund: &Refund) -> Result<BizRequest> {
    let mut biz = Map::new();
    refund.trade.insert(&mut biz)?;
    let amount = check_amount("refund_amount", refund.refund_fen)?;
    check_out_no("out_request_no", &refund.out_request_no)?;
    biz.insert("refund_amount".into(), amount.into());
    biz.insert(
        "out_request_no".into(),
        refund.out_request_no.clone().into(),
    );
    if let Some(reason) = refund.reason.as_ref().filter(|r| !r.is_empty()) {
        biz.insert("refund_reason".into(), reason.clone().into());
    }
    Ok(BizRequest {
        method: "alipay.trade.refund".into(),
        biz_content: Value::Object(biz).to_string(),
    })
}
