//! The JS-SDK `wx.config` signature.
//!
//! SHA1, lower-case hex, over
//! `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with raw values, in that
//! (alphabetical) order, and the URL without its `#fragment`.
//!
//! ```
//! // The example of the JS-SDK documentation (appendix 1).
//! let s = edgepay::wechat::jssdk::signature(
//!     "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
//!     "Wm3WZYTPz0wzccnW",
//!     1414587457,
//!     "http://mp.weixin.qq.com?params=value#section",
//! );
//! assert_eq!(s, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
//! ```

use crate::crypto::digest::{hex_lower, sha1};
use serde::Serialize;

/// The URL as signed: everything before the first `#`.
pub fn signed_url(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// The exact string hashed by [`signature`].
pub fn string_to_sign(jsapi_ticket: &str, noncestr: &str, timestamp: i64, url: &str) -> String {
    format!(
        "jsapi_ticket={jsapi_ticket}&noncestr={noncestr}&timestamp={timestamp}&url={}",
        signed_url(url)
    )
}

/// The `wx.config` signature: SHA1 lower-case hex of [`string_to_sign`].
/// `timestamp` is Unix seconds.
pub fn signature(jsapi_ticket: &str, noncestr: &str, timestamp: i64, url: &str) -> String {
    hex_lower(&sha1(
        string_to_sign(jsapi_ticket, noncestr, timestamp, url).as_bytes(),
    ))
}

/// The signed fields of `wx.config({...})` (add `debug` and `jsApiList` on the page).
/// Field names are the wire keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// The official account's app id.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds (a number on the wire).
    pub timestamp: i64,
    /// The nonce that was signed.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// The SHA1 signature.
    pub signature: String,
}

/// Builds the signed `wx.config` fields for a page URL.
pub fn config(
    appid: &str,
    jsapi_ticket: &str,
    noncestr: &str,
    timestamp: i64,
    url: &str,
) -> Config {
    Config {
        app_id: appid.to_string(),
        timestamp,
        nonce_str: noncestr.to_string(),
        signature: signature(jsapi_ticket, noncestr, timestamp, url),
    }
}
