//! Unified order, order query and close order: typed requests, signed
//! responses.

use super::{
    finish, get, merge_extra, opt, opt_u64, require, require_len, require_order_no, verify,
    SignType,
};
use crate::error::{quoted, Error, Result, UpstreamError};
use crate::params::Params;
use crate::wechat::xml;
use std::fmt;
use std::str::FromStr;

/// A request ready to send: POST `body` (XML) to [`super::GATEWAY`] + `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The endpoint path, e.g. `/pay/unifiedorder`.
    pub path: &'static str,
    /// The signed XML body.
    pub body: String,
}

/// How the payer pays (`trade_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TradeType {
    /// In a WeChat web page or mini program (needs `openid`).
    #[default]
    Jsapi,
    /// A QR code the payer scans (`code_url`).
    Native,
    /// In a mobile app through the WeChat SDK.
    App,
    /// H5 in a mobile browser outside WeChat (`mweb_url`).
    Mweb,
}

impl TradeType {
    /// The wire name (`JSAPI`, `NATIVE`, `APP`, `MWEB`).
    pub fn as_str(self) -> &'static str {
        match self {
            TradeType::Jsapi => "JSAPI",
            TradeType::Native => "NATIVE",
            TradeType::App => "APP",
            TradeType::Mweb => "MWEB",
        }
    }
}

impl fmt::Display for TradeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TradeType {
    type Err = Error;

    /// Parses the wire name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self> {
        [
            TradeType::Jsapi,
            TradeType::Native,
            TradeType::App,
            TradeType::Mweb,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            Error::invalid(
                "trade_type",
                format!("{} is not JSAPI, NATIVE, APP or MWEB", quoted(s)),
            )
        })
    }
}

/// `/pay/unifiedorder`: creates a prepay order.
///
/// Validation (the error names the field): `appid`, `mch_id`, `body` (≤ 128
/// chars), `spbill_create_ip` required; `out_trade_no` 1–32 chars of
/// `[A-Za-z0-9_-|*]`; `total_fee` > 0; `notify_url` an absolute http(s) URL
/// without a query; JSAPI needs `openid`; NATIVE needs `product_id`.
/// `extra` carries any other documented field (`attach`, `detail`,
/// `time_expire`, `scene_info`, …) and may not override the typed ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnifiedOrder {
    /// The official account / mini program / app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The amount in fen (1 CNY = 100 fen).
    pub total_fee: u64,
    /// The goods description.
    pub body: String,
    /// Where WeChat Pay posts the payment notify.
    pub notify_url: String,
    /// How the payer pays.
    pub trade_type: TradeType,
    /// The payer's openid under `appid` (required for JSAPI).
    pub openid: Option<String>,
    /// The payer's IP address.
    pub spbill_create_ip: String,
    /// The product id (required for NATIVE).
    pub product_id: Option<String>,
    /// Any other parameters, sent and signed as given.
    pub extra: Params,
}

impl UnifiedOrder {
    /// Validates the order and returns the signed request.
    pub fn to_request(&self, key: &str, sign_type: SignType, nonce: &str) -> Result<Request> {
        require_len("appid", &self.appid, 32)?;
        require_len("mch_id", &self.mch_id, 32)?;
        require_order_no("out_trade_no", &self.out_trade_no, 32, "")?;
        if self.total_fee == 0 {
            return Err(Error::invalid("total_fee", "must be greater than 0 (fen)"));
        }
        require_len("body", &self.body, 128)?;
        require("notify_url", &self.notify_url)?;
        check_notify_url(&self.notify_url)?;
        require_len("spbill_create_ip", &self.spbill_create_ip, 64)?;
        let openid = self.openid.as_deref().filter(|s| !s.is_empty());
        let product_id = self.product_id.as_deref().filter(|s| !s.is_empty());
        if self.trade_type == TradeType::Jsapi && openid.is_none() {
            return Err(Error::missing("openid"));
        }
        if self.trade_type == TradeType::Native && product_id.is_none() {
            return Err(Error::missing("product_id"));
        }
        let mut p = Params::new();
        p.insert("appid".into(), self.appid.clone());
        p.insert("mch_id".into(), self.mch_id.clone());
        p.insert("out_trade_no".into(), self.out_trade_no.clone());
        p.insert("total_fee".into(), self.total_fee.to_string());
        p.insert("body".into(), self.body.clone());
        p.insert("notify_url".into(), self.notify_url.clone());
        p.insert("trade_type".into(), self.trade_type.as_str().into());
        p.insert("spbill_create_ip".into(), self.spbill_create_ip.clone());
        if let Some(o) = openid {
            p.insert("openid".into(), o.into());
        }
        if let Some(id) = product_id {
            p.insert("product_id".into(), id.into());
        }
        merge_extra(&mut p, &self.extra)?;
        finish("/pay/unifiedorder", p, key, sign_type, nonce)
    }
}

pub(crate) fn check_notify_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(Error::invalid(
            "notify_url",
            "must be an absolute http:// or https:// URL",
        ));
    }
    if url.contains('?') {
        return Err(Error::invalid(
            "notify_url",
            "must not carry query parameters",
        ));
    }
    Ok(())
}

/// `/pay/orderquery`: by `transaction_id` (preferred by WeChat) or `out_trade_no`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderQuery {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
}

impl OrderQuery {
    /// Validates and returns the signed request (one of the two ids is required).
    pub fn to_request(&self, key: &str, sign_type: SignType, nonce: &str) -> Result<Request> {
        let mut p = ids(&self.appid, &self.mch_id)?;
        let tid = self.transaction_id.as_deref().filter(|s| !s.is_empty());
        let otn = self.out_trade_no.as_deref().filter(|s| !s.is_empty());
        if let Some(t) = tid {
            require_len("transaction_id", t, 32)?;
            p.insert("transaction_id".into(), t.into());
        }
        if let Some(o) = otn {
            require_order_no("out_trade_no", o, 32, "")?;
            p.insert("out_trade_no".into(), o.into());
        }
        if tid.is_none() && otn.is_none() {
            return Err(Error::missing("out_trade_no"));
        }
        finish("/pay/orderquery", p, key, sign_type, nonce)
    }
}

/// `/pay/closeorder`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloseOrder {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
}

impl CloseOrder {
    /// Validates and returns the signed request.
    pub fn to_request(&self, key: &str, sign_type: SignType, nonce: &str) -> Result<Request> {
        let mut p = ids(&self.appid, &self.mch_id)?;
        require_order_no("out_trade_no", &self.out_trade_no, 32, "")?;
        p.insert("out_trade_no".into(), self.out_trade_no.clone());
        finish("/pay/closeorder", p, key, sign_type, nonce)
    }
}

pub(crate) fn ids(appid: &str, mch_id: &str) -> Result<Params> {
    require_len("appid", appid, 32)?;
    require_len("mch_id", mch_id, 32)?;
    let mut p = Params::new();
    p.insert("appid".into(), appid.into());
    p.insert("mch_id".into(), mch_id.into());
    Ok(p)
}

/// Parses and checks any signed v2 response:
///
/// 1. decodes the XML;
/// 2. `return_code` ≠ `SUCCESS` → [`Error::Upstream`] (code = `return_code`,
///    message = `return_msg`): such answers are not signed;
/// 3. verifies `sign` (algorithm from `sign_type` or the sign's length);
/// 4. `result_code` present and ≠ `SUCCESS` → [`Error::Upstream`] with
///    `sub_code` = `err_code` and `sub_message` = `err_code_des`.
///
/// Returns every parameter of the verified response.
pub fn parse_response(xml_text: &str, key: &str) -> Result<Params> {
    let params = xml::decode(xml_text)?;
    check_return_code(&params)?;
    verify(&params, key)?;
    check_result_code(&params)?;
    Ok(params)
}

pub(crate) fn check_return_code(params: &Params) -> Result<()> {
    let rc = params
        .get("return_code")
        .ok_or_else(|| Error::missing("return_code"))?;
    if rc != "SUCCESS" {
        return Err(Error::Upstream(UpstreamError {
            code: rc.clone(),
            message: params.get("return_msg").cloned().unwrap_or_default(),
            sub_code: None,
            sub_message: None,
        }));
    }
    Ok(())
}

fn check_result_code(params: &Params) -> Result<()> {
    match params.get("result_code") {
        Some(rc) if rc != "SUCCESS" => Err(Error::Upstream(UpstreamError {
            code: rc.clone(),
            message: params.get("return_msg").cloned().unwrap_or_default(),
            sub_code: opt(params, "err_code"),
            sub_message: opt(params, "err_code_des"),
        })),
        _ => Ok(()),
    }
}

/// The useful part of a successful unified order response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedOrderResponse {
    /// The prepay id the client pays with (valid 2 hours).
    pub prepay_id: String,
    /// The trade type the order was created with.
    pub trade_type: TradeType,
    /// NATIVE: the QR code content.
    pub code_url: Option<String>,
    /// MWEB: the H5 payment URL.
    pub mweb_url: Option<String>,
    /// Every parameter of the verified response.
    pub params: Params,
}

impl UnifiedOrderResponse {
    /// [`parse_response`] then the typed fields (`prepay_id`, `trade_type` required).
    pub fn parse(xml_text: &str, key: &str) -> Result<Self> {
        Self::from_params(parse_response(xml_text, key)?)
    }

    /// The typed fields of already verified parameters.
    pub fn from_params(params: Params) -> Result<Self> {
        Ok(UnifiedOrderResponse {
            prepay_id: get(&params, "prepay_id")?,
            trade_type: get(&params, "trade_type")?.parse()?,
            code_url: opt(&params, "code_url"),
            mweb_url: opt(&params, "mweb_url"),
            params,
        })
    }
}

/// `trade_state` of an order query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TradeState {
    /// Paid.
    Success,
    /// Refunded (in part or in full).
    Refund,
    /// Not paid yet.
    NotPay,
    /// Closed.
    Closed,
    /// Revoked (micropay).
    Revoked,
    /// The payer is entering a password.
    UserPaying,
    /// Payment failed.
    PayError,
    /// A state this crate does not know.
    Other(String),
}

impl TradeState {
    /// The wire name (`SUCCESS`, `NOTPAY`, …).
    pub fn as_str(&self) -> &str {
        match self {
            TradeState::Success => "SUCCESS",
            TradeState::Refund => "REFUND",
            TradeState::NotPay => "NOTPAY",
            TradeState::Closed => "CLOSED",
            TradeState::Revoked => "REVOKED",
            TradeState::UserPaying => "USERPAYING",
            TradeState::PayError => "PAYERROR",
            TradeState::Other(s) => s,
        }
    }

    /// Parses a wire name; unknown names become [`TradeState::Other`].
    pub fn parse(s: &str) -> TradeState {
        match s {
            "SUCCESS" => TradeState::Success,
            "REFUND" => TradeState::Refund,
            "NOTPAY" => TradeState::NotPay,
            "CLOSED" => TradeState::Closed,
            "REVOKED" => TradeState::Revoked,
            "USERPAYING" => TradeState::UserPaying,
            "PAYERROR" => TradeState::PayError,
            other => TradeState::Other(other.to_string()),
        }
    }
}

impl fmt::Display for TradeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The useful part of a successful order query response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQueryResponse {
    /// The order's state.
    pub trade_state: TradeState,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id (once paid).
    pub transaction_id: Option<String>,
    /// The amount in fen (present once paid).
    pub total_fee: Option<u64>,
    /// The cash part of the amount in fen.
    pub cash_fee: Option<u64>,
    /// Payment time, `yyyyMMddHHmmss` Beijing time.
    pub time_end: Option<String>,
    /// The payer's openid.
    pub openid: Option<String>,
    /// The trade type.
    pub trade_type: Option<String>,
    /// A human description of the state.
    pub trade_state_desc: Option<String>,
    /// Every parameter of the verified response.
    pub params: Params,
}

impl OrderQueryResponse {
    /// [`parse_response`] then the typed fields (`trade_state`, `out_trade_no` required;
    /// non-numeric amounts are `invalid_field`).
    pub fn parse(xml_text: &str, key: &str) -> Result<Self> {
        Self::from_params(parse_response(xml_text, key)?)
    }

    /// The typed fields of already verified parameters.
    pub fn from_params(params: Params) -> Result<Self> {
        Ok(OrderQueryResponse {
            trade_state: TradeState::parse(&get(&params, "trade_state")?),
            out_trade_no: get(&params, "out_trade_no")?,
            transaction_id: opt(&params, "transaction_id"),
            total_fee: opt_u64(&params, "total_fee")?,
            cash_fee: opt_u64(&params, "cash_fee")?,
            time_end: opt(&params, "time_end"),
            openid: opt(&params, "openid"),
            trade_type: opt(&params, "trade_type"),
            trade_state_desc: opt(&params, "trade_state_desc"),
            params,
        })
    }
}
