//! WeChat Pay API v2: XML bodies signed with a shared secret (MD5 or HMAC-SHA256).
//!
//! Sans-IO: request builders return the endpoint path and the signed XML body
//! ([`Request`]); response and notify parsers take the raw XML text. Nonces are
//! passed in; nothing here reads a clock or opens a socket.
//!
//! - [`sign`](mod@sign): [`SignType`], [`string_to_sign`], [`sign()`], [`verify`], [`explain_mismatch`].
//! - [`orders`]: unified order (JSAPI, NATIVE, APP, MWEB), order query, close order,
//!   and [`parse_response`] for every signed response.
//! - [`refund`]: refund and refund query requests and responses, refund notifies
//!   (`req_info` decryption).
//! - [`notify`]: payment notifies, the order check, and the exact replies.
//!
//! The main flow — build a unified order, parse the response:
//!
//! ```
//! use edgepay::wechat::v2::{self, SignType, TradeType, UnifiedOrder};
//! let key = "192006250b4c09247ec02edce69f6a2d";
//! let order = UnifiedOrder {
//!     appid: "wxd930ea5d5a258f4f".into(),
//!     mch_id: "10000100".into(),
//!     out_trade_no: "20150806125346".into(),
//!     total_fee: 1,
//!     body: "test".into(),
//!     notify_url: "https://example.com/notify/wechat".into(),
//!     trade_type: TradeType::Jsapi,
//!     openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
//!     spbill_create_ip: "203.0.113.7".into(),
//!     ..Default::default()
//! };
//! let req = order.to_request(key, SignType::HmacSha256, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap();
//! assert_eq!(req.path, "/pay/unifiedorder");
//! // The upstream answers (signed with the same key):
//! let mut answer = edgepay::params::params([
//!     ("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("appid", "wxd930ea5d5a258f4f"),
//!     ("mch_id", "10000100"), ("nonce_str", "IITRi8Iabbblz1Jc"), ("trade_type", "JSAPI"),
//!     ("prepay_id", "wx201411101639507cbf6ffd8b0779950874"),
//! ]);
//! let s = v2::sign(&answer, key, SignType::Md5);
//! answer.insert("sign".into(), s);
//! let resp = v2::UnifiedOrderResponse::parse(&edgepay::wechat::xml::encode(&answer), key).unwrap();
//! assert_eq!(resp.prepay_id, "wx201411101639507cbf6ffd8b0779950874");
//! ```

pub mod notify;
pub mod orders;
pub mod refund;
pub mod sign;

pub use self::notify::{parse_notify, reply_fail, reply_success, ExpectedOrder, PayNotify};
pub use self::orders::{
    parse_response, CloseOrder, OrderQuery, OrderQueryResponse, Request, TradeState, TradeType,
    UnifiedOrder, UnifiedOrderResponse,
};
pub use self::refund::{
    decrypt_refund_req_info, decrypt_refund_req_info_text, parse_refund_notify, Refund,
    RefundNotify, RefundQuery, RefundQueryResponse, RefundRecord, RefundResponse,
};
pub use self::sign::{
    detect_sign_type, explain_mismatch, sign, string_to_sign, string_to_sign_masked, verify,
    verify_as, SignType,
};

use crate::error::quoted;
use crate::error::{Error, Result};
use crate::params::Params;

/// The production gateway of WeChat Pay v2.
pub const GATEWAY: &str = "https://api.mch.weixin.qq.com";

/// A required string field: non-empty.
pub(crate) fn require(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        Err(Error::missing(field))
    } else {
        Ok(())
    }
}

/// A required string field no longer than `max` characters.
pub(crate) fn require_len(field: &str, value: &str, max: usize) -> Result<()> {
    require(field, value)?;
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(
            field,
            format!("{n} characters; at most {max} allowed"),
        ));
    }
    Ok(())
}

/// A merchant order / refund number: 1..=max chars of `[A-Za-z0-9_\-|*]` (+ `extra`).
pub(crate) fn require_order_no(field: &str, value: &str, max: usize, extra: &str) -> Result<()> {
    require_len(field, value, max)?;
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-|*".contains(*c) || extra.contains(*c)))
    {
        return Err(Error::invalid(
            field,
            format!(
                "character {} is not allowed: use letters, digits and _-|*{extra}",
                crate::error::quoted_char(c, &mut [0; 4])
            ),
        ));
    }
    Ok(())
}

/// The nonce: 1..=32 characters.
pub(crate) fn require_nonce(field: &str, nonce: &str) -> Result<()> {
    require_len(field, nonce, 32)
}

/// The API key: non-empty.
pub(crate) fn require_key(key: &str) -> Result<()> {
    if key.is_empty() {
        Err(Error::invalid_key("api_key", "the API key is empty"))
    } else {
        Ok(())
    }
}

/// Merges caller extras into typed fields; extras may not override them.
pub(crate) fn merge_extra(params: &mut Params, extra: &Params) -> Result<()> {
    for (k, v) in extra {
        if params.contains_key(k) || k == "sign" || k == "sign_type" || k == "nonce_str" {
            return Err(Error::invalid(
                k.as_str(),
                "is set by the typed request (or by signing) and cannot be passed in extra",
            ));
        }
        params.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// Adds `nonce_str`, `sign_type` and `sign`, and encodes the XML body.
pub(crate) fn finish(
    path: &'static str,
    mut params: Params,
    key: &str,
    sign_type: SignType,
    nonce: &str,
) -> Result<Request> {
    require_key(key)?;
    require_nonce("nonce_str", nonce)?;
    params.insert("nonce_str".into(), nonce.into());
    params.insert("sign_type".into(), sign_type.as_str().into());
    let s = sign(&params, key, sign_type);
    params.insert("sign".into(), s);
    Ok(Request {
        path,
        body: crate::wechat::xml::encode(&params),
    })
}

/// Parses an unsigned decimal amount (fen) or count, naming the field on error.
pub(crate) fn parse_u64(params: &Params, field: &str) -> Result<u64> {
    let v = params
        .get(field)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing(field))?;
    parse_u64_value(field, v)
}

pub(crate) fn parse_u64_value(field: &str, v: &str) -> Result<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            field,
            format!("{} is not a non-negative integer", quoted(v)),
        ));
    }
    v.parse::<u64>()
        .map_err(|_| Error::invalid(field, format!("{} is out of range", quoted(v))))
}

/// An optional unsigned integer field.
pub(crate) fn opt_u64(params: &Params, field: &str) -> Result<Option<u64>> {
    match params.get(field).filter(|v| !v.is_empty()) {
        Some(v) => parse_u64_value(field, v).map(Some),
        None => Ok(None),
    }
}

/// A required string field of a parsed response.
pub(crate) fn get(params: &Params, field: &str) -> Result<String> {
    params
        .get(field)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| Error::missing(field))
}

/// An optional string field of a parsed response (empty = absent).
pub(crate) fn opt(params: &Params, field: &str) -> Option<String> {
    params.get(field).filter(|v| !v.is_empty()).cloned()
}
