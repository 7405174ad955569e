//! Refunds: the refund and refund query requests, their responses, and the
//! encrypted refund notify.
//!
//! `/secapi/pay/refund` needs the merchant's client certificate (mutual TLS):
//! the transport is the caller's business; this module only builds the body.

use super::orders::{check_notify_url, check_return_code, ids, parse_response};
use super::{
    finish, get, merge_extra, opt, opt_u64, parse_u64, parse_u64_value, require_len,
    require_order_no, Request, SignType,
};
use crate::crypto::digest::{hex_lower, md5};
use crate::crypto::encoding::{b64decode, utf8};
use crate::crypto::symmetric::aes_256_ecb_decrypt;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::wechat::xml;

/// `/secapi/pay/refund` (mTLS). One of `transaction_id` / `out_trade_no` is required.
///
/// Validation: `out_refund_no` 1–64 chars of `[A-Za-z0-9_-|*@]`; `total_fee` and
/// `refund_fee` > 0 with `refund_fee` ≤ `total_fee`; `notify_url` (optional) an
/// http(s) URL without a query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Refund {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The merchant's refund number (unique; retries reuse it).
    pub out_refund_no: String,
    /// The order's amount in fen.
    pub total_fee: u64,
    /// The amount to refund in fen.
    pub refund_fee: u64,
    /// Shown to the payer.
    pub refund_desc: Option<String>,
    /// Where the refund notify goes (overrides the merchant platform setting).
    pub notify_url: Option<String>,
    /// Any other parameters, sent and signed as given.
    pub extra: Params,
}

impl Refund {
    /// Validates and returns the signed request.
    pub fn to_request(&self, key: &str, sign_type: SignType, nonce: &str) -> Result<Request> {
        let mut p = ids(&self.appid, &self.mch_id)?;
        order_ids(
            &mut p,
            self.transaction_id.as_deref(),
            self.out_trade_no.as_deref(),
        )?;
        if p.len() == 2 {
            return Err(Error::missing("out_trade_no"));
        }
        require_order_no("out_refund_no", &self.out_refund_no, 64, "@")?;
        p.insert("out_refund_no".into(), self.out_refund_no.clone());
        if self.total_fee == 0 {
            return Err(Error::invalid("total_fee", "must be greater than 0 (fen)"));
        }
        if self.refund_fee == 0 {
            return Err(Error::invalid("refund_fee", "must be greater than 0 (fen)"));
        }
        if self.refund_fee > self.total_fee {
            return Err(Error::invalid(
                "refund_fee",
                format!(
                    "{} fen is more than the order's total_fee of {} fen",
                    self.refund_fee, self.total_fee
                ),
            ));
        }
        p.insert("total_fee".into(), self.total_fee.to_string());
        p.insert("refund_fee".into(), self.refund_fee.to_string());
        if let Some(d) = self.refund_desc.as_deref().filter(|s| !s.is_empty()) {
            require_len("refund_desc", d, 80)?;
            p.insert("refund_desc".into(), d.into());
        }
        if let Some(u) = self.notify_url.as_deref().filter(|s| !s.is_empty()) {
            check_notify_url(u)?;
            p.insert("notify_url".into(), u.into());
        }
        merge_extra(&mut p, &self.extra)?;
        finish("/secapi/pay/refund", p, key, sign_type, nonce)
    }
}

fn order_ids(
    p: &mut Params,
    transaction_id: Option<&str>,
    out_trade_no: Option<&str>,
) -> Result<()> {
    if let Some(t) = transaction_id.filter(|s| !s.is_empty()) {
        require_len("transaction_id", t, 32)?;
        p.insert("transaction_id".into(), t.into());
    }
    if let Some(o) = out_trade_no.filter(|s| !s.is_empty()) {
        require_order_no("out_trade_no", o, 32, "")?;
        p.insert("out_trade_no".into(), o.into());
    }
    Ok(())
}

/// `/pay/refundquery`: by any one of the four ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefundQuery {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The merchant's refund number.
    pub out_refund_no: Option<String>,
    /// WeChat Pay's refund id.
    pub refund_id: Option<String>,
}

impl RefundQuery {
    /// Validates and returns the signed request (at least one id is required).
    pub fn to_request(&self, key: &str, sign_type: SignType, nonce: &str) -> Result<Request> {
        let mut p = ids(&self.appid, &self.mch_id)?;
        order_ids(
            &mut p,
            self.transaction_id.as_deref(),
            self.out_trade_no.as_deref(),
        )?;
        if let Some(r) = self.out_refund_no.as_deref().filter(|s| !s.is_empty()) {
            require_order_no("out_refund_no", r, 64, "@")?;
            p.insert("out_refund_no".into(), r.into());
        }
        if let Some(r) = self.refund_id.as_deref().filter(|s| !s.is_empty()) {
            require_len("refund_id", r, 32)?;
            p.insert("refund_id".into(), r.into());
        }
        if p.len() == 2 {
            return Err(Error::missing("out_refund_no"));
        }
        finish("/pay/refundquery", p, key, sign_type, nonce)
    }
}

/// The useful part of a successful refund response (the refund is accepted,
/// not yet done: the result comes by refund notify or refund query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundResponse {
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The refunded amount in fen.
    pub refund_fee: u64,
    /// The order's amount in fen.
    pub total_fee: u64,
    /// The cash part of the order in fen.
    pub cash_fee: Option<u64>,
    /// Every parameter of the verified response.
    pub params: Params,
}

impl RefundResponse {
    /// [`parse_response`] then the typed fields.
    pub fn parse(xml_text: &str, key: &str) -> Result<Self> {
        Self::from_params(parse_response(xml_text, key)?)
    }

    /// The typed fields of already verified parameters.
    pub fn from_params(params: Params) -> Result<Self> {
        Ok(RefundResponse {
            transaction_id: get(&params, "transaction_id")?,
            out_trade_no: get(&params, "out_trade_no")?,
            out_refund_no: get(&params, "out_refund_no")?,
            refund_id: get(&params, "refund_id")?,
            refund_fee: parse_u64(&params, "refund_fee")?,
            total_fee: parse_u64(&params, "total_fee")?,
            cash_fee: opt_u64(&params, "cash_fee")?,
            params,
        })
    }
}

/// One refund of a refund query response (the `_$n` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// `out_refund_no_$n`.
    pub out_refund_no: String,
    /// `refund_id_$n`.
    pub refund_id: String,
    /// `refund_fee_$n` in fen.
    pub refund_fee: u64,
    /// `refund_status_$n`: SUCCESS, REFUNDCLOSE, PROCESSING, CHANGE.
    pub refund_status: String,
    /// `refund_success_time_$n`, `yyyy-MM-dd HH:mm:ss`.
    pub success_time: Option<String>,
    /// `refund_recv_accout_$n` (sic: the wire spells it so).
    pub refund_recv_accout: Option<String>,
}

/// The useful part of a successful refund query response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQueryResponse {
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The order's amount in fen.
    pub total_fee: u64,
    /// The refunds, `refund_count` of them.
    pub refunds: Vec<RefundRecord>,
    /// Every parameter of the verified response.
    pub params: Params,
}

impl RefundQueryResponse {
    /// [`parse_response`] then the typed fields.
    pub fn parse(xml_text: &str, key: &str) -> Result<Self> {
        Self::from_params(parse_response(xml_text, key)?)
    }

    /// The typed fields of already verified parameters.
    pub fn from_params(params: Params) -> Result<Self> {
        let count = parse_u64(&params, "refund_count")?;
        if count > 50 {
            return Err(Error::invalid(
                "refund_count",
                format!("{count} refunds; an order has at most 50"),
            ));
        }
        let mut refunds = Vec::new();
        for n in 0..count {
            let f = |name: &str| format!("{name}_{n}");
            refunds.push(RefundRecord {
                out_refund_no: get(&params, &f("out_refund_no"))?,
                refund_id: get(&params, &f("refund_id"))?,
                refund_fee: parse_u64(&params, &f("refund_fee"))?,
                refund_status: get(&params, &f("refund_status"))?,
                success_time: opt(&params, &f("refund_success_time")),
                refund_recv_accout: opt(&params, &f("refund_recv_accout")),
            });
        }
        Ok(RefundQueryResponse {
            transaction_id: get(&params, "transaction_id")?,
            out_trade_no: get(&params, "out_trade_no")?,
            total_fee: parse_u64(&params, "total_fee")?,
            refunds,
            params,
        })
    }
}

/// Decrypts the `req_info` of a refund notify: base64 → AES-256-ECB (PKCS#7)
/// with key = the lower-case hex MD5 of the API key (32 ASCII bytes) → the
/// `<root>` XML document → its parameters.
///
/// There is no signature: successful decryption (valid padding, valid XML) is
/// the authentication. A wrong key gives [`Error::DecryptFailed`] (or, rarely,
/// a padding that happens to be valid and then malformed XML).
pub fn decrypt_refund_req_info(api_key: &str, req_info_b64: &str) -> Result<Params> {
    xml::decode(&decrypt_refund_req_info_text(api_key, req_info_b64)?)
}

/// Like [`decrypt_refund_req_info`], but returns the decrypted `<root>` XML
/// text as it was sent (for display, e.g. by the CLI).
pub fn decrypt_refund_req_info_text(api_key: &str, req_info_b64: &str) -> Result<String> {
    if api_key.is_empty() {
        return Err(Error::invalid_key("api_key", "the API key is empty"));
    }
    let aes_key = hex_lower(&md5(api_key.as_bytes()));
    let ct = b64decode("req_info", req_info_b64)?;
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(Error::invalid(
            "req_info",
            format!("{} bytes is not a whole number of AES blocks", ct.len()),
        ));
    }
    let plain = aes_256_ecb_decrypt(aes_key.as_bytes(), &ct)?;
    utf8("req_info", plain).map_err(|_| Error::DecryptFailed {
        reason: "req_info did not decrypt to UTF-8 text: wrong API key?".into(),
    })
}

/// A decrypted, checked refund notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundNotify {
    /// Outer `appid`.
    pub appid: String,
    /// Outer `mch_id`.
    pub mch_id: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The order's amount in fen.
    pub total_fee: u64,
    /// The refund's amount in fen.
    pub refund_fee: u64,
    /// The refund actually settled in fen.
    pub settlement_refund_fee: Option<u64>,
    /// SUCCESS, CHANGE or REFUNDCLOSE.
    pub refund_status: String,
    /// `yyyy-MM-dd HH:mm:ss`, when successful.
    pub success_time: Option<String>,
    /// Where the money went (sic: `refund_recv_accout`).
    pub refund_recv_accout: Option<String>,
    /// The decrypted `req_info` parameters.
    pub info: Params,
    /// The outer parameters (`return_code`, `appid`, `mch_id`, `nonce_str`, `req_info`).
    pub params: Params,
}

impl RefundNotify {
    /// True when the refund succeeded (`refund_status` = `SUCCESS`).
    pub fn is_success(&self) -> bool {
        self.refund_status == "SUCCESS"
    }
}

/// Parses a refund notify body: `return_code` must be `SUCCESS`, then
/// `req_info` is decrypted with [`decrypt_refund_req_info`] and the typed
/// fields are read (amounts must be integers).
pub fn parse_refund_notify(outer_xml: &str, api_key: &str) -> Result<RefundNotify> {
    let params = xml::decode(outer_xml)?;
    check_return_code(&params)?;
    let req_info = get(&params, "req_info")?;
    let info = decrypt_refund_req_info(api_key, &req_info)?;
    let u = |f: &str| parse_u64(&info, f);
    Ok(RefundNotify {
        appid: get(&params, "appid")?,
        mch_id: get(&params, "mch_id")?,
        transaction_id: get(&info, "transaction_id")?,
        out_trade_no: get(&info, "out_trade_no")?,
        refund_id: get(&info, "refund_id")?,
        out_refund_no: get(&info, "out_refund_no")?,
        total_fee: u("total_fee")?,
        refund_fee: u("refund_fee")?,
        settlement_refund_fee: match opt(&info, "settlement_refund_fee") {
            Some(v) => Some(parse_u64_value("settlement_refund_fee", &v)?),
            None => None,
        },
        refund_status: get(&info, "refund_status")?,
        success_time: opt(&info, "success_time"),
        refund_recv_accout: opt(&info, "refund_recv_accout"),
        info,
        params,
    })
}
