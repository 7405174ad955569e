//! Payment notifies: verify, check against the stored order, reply.
//!
//! ```
//! use edgepay::params::params;
//! use edgepay::wechat::v2::{self, ExpectedOrder, SignType};
//! let key = "192006250b4c09247ec02edce69f6a2d";
//! let mut p = params([
//!     ("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("appid", "wx1"),
//!     ("mch_id", "10000100"), ("out_trade_no", "A1"), ("transaction_id", "4200001"),
//!     ("total_fee", "100"), ("nonce_str", "n"),
//! ]);
//! // Signed with HMAC-SHA256 but without sign_type: detected from the length.
//! let s = v2::sign(&p, key, SignType::HmacSha256);
//! p.insert("sign".into(), s);
//! let n = v2::parse_notify(&edgepay::wechat::xml::encode(&p), key).unwrap();
//! assert_eq!(n.sign_type, SignType::HmacSha256);
//! n.check(&ExpectedOrder { appid: "wx1", mch_id: "10000100", out_trade_no: "A1", total_fee: 100 }).unwrap();
//! let e = n.check(&ExpectedOrder { appid: "wx1", mch_id: "10000100", out_trade_no: "A1", total_fee: 1 });
//! assert_eq!(e.unwrap_err().field(), Some("total_fee"));
//! assert!(v2::reply_success().starts_with("<xml><return_code><![CDATA[SUCCESS]]>"));
//! ```

use super::orders::check_return_code;
use super::{get, opt, opt_u64, parse_u64, verify, SignType};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::wechat::xml;

/// A verified payment notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayNotify {
    /// The app id.
    pub appid: String,
    /// The merchant id.
    pub mch_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: Option<String>,
    /// The amount paid in fen.
    pub total_fee: u64,
    /// The cash part in fen.
    pub cash_fee: Option<u64>,
    /// `SUCCESS` or `FAIL`.
    pub result_code: String,
    /// The payer's openid.
    pub openid: Option<String>,
    /// The trade type.
    pub trade_type: Option<String>,
    /// Payment time, `yyyyMMddHHmmss` Beijing time.
    pub time_end: Option<String>,
    /// The merchant's `attach`, echoed.
    pub attach: Option<String>,
    /// The algorithm the notify's signature used.
    pub sign_type: SignType,
    /// Every parameter of the verified notify.
    pub params: Params,
}

/// What the merchant stored for the order, to compare a notify against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedOrder<'a> {
    /// The app id the order was created with.
    pub appid: &'a str,
    /// The merchant id.
    pub mch_id: &'a str,
    /// The merchant's order number.
    pub out_trade_no: &'a str,
    /// The stored amount in fen (never the amount the client sent).
    pub total_fee: u64,
}

impl PayNotify {
    /// True when the notify reports a payment (`result_code` = `SUCCESS`).
    pub fn is_paid(&self) -> bool {
        self.result_code == "SUCCESS"
    }

    /// Compares the notify with the stored order; the first difference is an
    /// [`Error::OrderMismatch`] naming the field (`appid`, `mch_id`,
    /// `out_trade_no`, `total_fee`).
    pub fn check(&self, expected: &ExpectedOrder<'_>) -> Result<()> {
        let mismatch = |field: &str, e: String, a: String| Error::OrderMismatch {
            field: field.into(),
            expected: e,
            actual: a,
        };
        if self.appid != expected.appid {
            return Err(mismatch("appid", expected.appid.into(), self.appid.clone()));
        }
        if self.mch_id != expected.mch_id {
            return Err(mismatch(
                "mch_id",
                expected.mch_id.into(),
                self.mch_id.clone(),
            ));
        }
        if self.out_trade_no != expected.out_trade_no {
            return Err(mismatch(
                "out_trade_no",
                expected.out_trade_no.into(),
                self.out_trade_no.clone(),
            ));
        }
        if self.total_fee != expected.total_fee {
            return Err(mismatch(
                "total_fee",
                expected.total_fee.to_string(),
                self.total_fee.to_string(),
            ));
        }
        Ok(())
    }
}

/// Parses a payment notify: decodes the XML, requires `return_code` =
/// `SUCCESS`, verifies `sign` (algorithm from `sign_type`, else from the
/// sign's length), then reads the typed fields (`appid`, `mch_id`,
/// `out_trade_no`, `total_fee`, `result_code` required; amounts must be
/// integers, else `invalid_field`).
///
/// A notify with `result_code` = `FAIL` parses successfully: check
/// [`PayNotify::is_paid`] before fulfilling the order.
pub fn parse_notify(xml_text: &str, key: &str) -> Result<PayNotify> {
    let params = xml::decode(xml_text)?;
    check_return_code(&params)?;
    let sign_type = verify(&params, key)?;
    Ok(PayNotify {
        appid: get(&params, "appid")?,
        mch_id: get(&params, "mch_id")?,
        out_trade_no: get(&params, "out_trade_no")?,
        transaction_id: opt(&params, "transaction_id"),
        total_fee: parse_u64(&params, "total_fee")?,
        cash_fee: opt_u64(&params, "cash_fee")?,
        result_code: get(&params, "result_code")?,
        openid: opt(&params, "openid"),
        trade_type: opt(&params, "trade_type"),
        time_end: opt(&params, "time_end"),
        attach: opt(&params, "attach"),
        sign_type,
        params,
    })
}

/// The exact reply that acknowledges a notify (anything else is retried).
pub fn reply_success() -> &'static str {
    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
}

/// A refusal: WeChat Pay will retry the notify later.
///
/// ```
/// assert_eq!(
///     edgepay::wechat::v2::reply_fail("bad sign"),
///     "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[bad sign]]></return_msg></xml>"
/// );
/// ```
pub fn reply_fail(msg: &str) -> String {
    let mut p = Params::new();
    p.insert("return_code".into(), "FAIL".into());
    p.insert("return_msg".into(), msg.into());
    xml::encode(&p)
}
