//! Legacy 2014 APP pay (retired by WeChat; kept for old integrations).
//!
//! The flow: an access token from `/cgi-bin/token`; a `package` of order
//! parameters signed with the partner key ([`package`]); a prepay id from
//! `POST https://api.weixin.qq.com/pay/genprepay?access_token=…` with the JSON
//! body of [`genprepay_body`] (SHA1 `app_signature` over `appid, appkey,
//! noncestr, package, timestamp, traceid`; the `appkey` signs but is never
//! sent); then the app receives [`app_pay_params`], signed by a second SHA1.
//!
//! Encoding rule of `package` (from the 2014 SDK demos, e.g. the official
//! Java demo's `FormatBizQueryParaMap`): values are URL-encoded like Java's
//! `URLEncoder` (UTF-8; `A-Z a-z 0-9 . - * _` kept, everything else `%XX` upper
//! case) except that a space is `%20`, not `+`; keys are written as given;
//! empty values are left out of both the signature and the package.
//!
//! ```
//! use edgepay::params::params;
//! // The 2014 doc's example (also chanxuehong/wechat's pay tests).
//! let p = params([
//!     ("bank_type", "WX"), ("body", "支付测试"), ("fee_type", "1"), ("input_charset", "UTF-8"),
//!     ("notify_url", "http://weixin.qq.com"), ("out_trade_no", "7240b65810859cbf2a8d9f76a638c0a3"),
//!     ("partner", "1900000109"), ("spbill_create_ip", "196.168.1.1"), ("total_fee", "1"),
//! ]);
//! let pkg = edgepay::wechat::legacy::package(&p, "8934e7d15453e97507ef794cf7b0519d");
//! assert!(pkg.ends_with("&total_fee=1&sign=7F77B507B755B3262884291517E380F8"));
//! assert!(pkg.starts_with("bank_type=WX&body=%E6%94%AF%E4%BB%98%E6%B5%8B%E8%AF%95&"));
//! ```

use crate::crypto::digest::{hex_lower, hex_upper, md5, sha1};
use crate::params::{canonical_string, Params};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

/// Java `URLEncoder`'s safe set (`A-Z a-z 0-9 . - * _`); space handled as `%20`.
const JAVA_URLENCODER: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'*')
    .remove(b'_');

/// URL-encodes one value the way the 2014 SDKs did (see the module docs).
pub fn encode_value(value: &str) -> String {
    utf8_percent_encode(value, JAVA_URLENCODER).to_string()
}

/// The MD5 `sign` of a package: upper hex of MD5(`k=v&…&key=PARTNER_KEY`)
/// over the non-empty raw values (without `sign`), sorted by key.
pub fn package_sign(params: &Params, partner_key: &str) -> String {
    let mut s = canonical_string(params, &["sign"]);
    if !s.is_empty() {
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(partner_key);
    hex_upper(&md5(s.as_bytes()))
}

/// The `package` string: sorted `k=urlencode(v)&…` of the non-empty values
/// (without `sign`) followed by `&sign=` [`package_sign`].
pub fn package(params: &Params, partner_key: &str) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if v.is_empty() || k == "sign" {
            continue;
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_value(v));
        out.push('&');
    }
    out.push_str("sign=");
    out.push_str(&package_sign(params, partner_key));
    out
}

/// The string hashed by [`app_signature`]: keys lower-cased, sorted, `k=v&…`
/// of the non-empty raw values, without `sign`, `app_signature` and `sign_method`.
pub fn app_signature_string(params: &Params) -> String {
    let lowered: Params = params
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    canonical_string(&lowered, &["sign", "app_signature", "sign_method"])
}

/// SHA1 lower-case hex of [`app_signature_string`]; `appkey` must be among the params.
///
/// ```
/// use edgepay::params::params;
/// // chanxuehong/wechat pay tests (TestWXSHA1Sign1), from the 2014 APP pay doc.
/// let p = params([
///     ("appid", "wxd930ea5d5a258f4f"),
///     ("appkey", "L8LrMqqeGRxST5reouB0K66CaYAWpqhAVsq7ggKkxHCOastWksvuX1uvmvQclxaHoYd3ElNBrNO2DHnnzgfVG9Qs473M3DTOZug5er46FhuGofumV8H2FVR9qkjSlC5K"),
///     ("noncestr", "e7d161ac8d8a76529d39d9f5b4249ccb"),
///     ("package", "bank_type=WX&body=%E6%94%AF%E4%BB%98%E6%B5%8B%E8%AF%95&fee_type=1&input_charset=UTF-8&notify_url=http%3A%2F%2Fweixin.qq.com&out_trade_no=7240b65810859cbf2a8d9f76a638c0a3&partner=1900000109&spbill_create_ip=196.168.1.1&total_fee=1&sign=7F77B507B755B3262884291517E380F8"),
///     ("timestamp", "1399514976"),
///     ("traceid", "test_1399514976"),
/// ]);
/// assert_eq!(edgepay::wechat::legacy::app_signature(&p), "8893870b9004ead28691b60db97a8d2c80dbfdc6");
/// ```
pub fn app_signature(params: &Params) -> String {
    hex_lower(&sha1(app_signature_string(params).as_bytes()))
}

/// The JSON body for `/pay/genprepay?access_token=…`: `appid, traceid,
/// noncestr, package, timestamp` (a number), `app_signature` and
/// `sign_method: "sha1"`, without `appkey`.
pub fn genprepay_body(
    appid: &str,
    appkey: &str,
    traceid: &str,
    noncestr: &str,
    package: &str,
    timestamp: i64,
) -> String {
    let ts = timestamp.to_string();
    let p: Params = [
        ("appid", appid),
        ("appkey", appkey),
        ("noncestr", noncestr),
        ("package", package),
        ("timestamp", ts.as_str()),
        ("traceid", traceid),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = app_signature(&p);
    serde_json::json!({
        "appid": appid,
        "traceid": traceid,
        "noncestr": noncestr,
        "package": package,
        "timestamp": timestamp,
        "app_signature": sig,
        "sign_method": "sha1",
    })
    .to_string()
}

/// What the app passes to the WeChat SDK (`PayReq`) in legacy APP pay.
/// Field names are the wire keys; `appkey` is not among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyAppParams {
    /// The app id.
    pub appid: String,
    /// The nonce.
    pub noncestr: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// The partner (merchant) id.
    pub partnerid: String,
    /// The prepay id from `genprepay`.
    pub prepayid: String,
    /// Unix seconds, as a decimal string.
    pub timestamp: String,
    /// SHA1 over `appid, appkey, noncestr, package, partnerid, prepayid, timestamp`.
    pub sign: String,
}

/// The second signature: the parameters the app needs to pay.
pub fn app_pay_params(
    appid: &str,
    appkey: &str,
    partnerid: &str,
    prepayid: &str,
    noncestr: &str,
    timestamp: i64,
) -> LegacyAppParams {
    let ts = timestamp.to_string();
    let p: Params = [
        ("appid", appid),
        ("appkey", appkey),
        ("noncestr", noncestr),
        ("package", "Sign=WXPay"),
        ("partnerid", partnerid),
        ("prepayid", prepayid),
        ("timestamp", ts.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    LegacyAppParams {
        appid: appid.into(),
        noncestr: noncestr.into(),
        package: "Sign=WXPay".into(),
        partnerid: partnerid.into(),
        prepayid: prepayid.into(),
        timestamp: ts,
        sign: app_signature(&p),
    }
}
