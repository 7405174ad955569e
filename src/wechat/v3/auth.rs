//! Request authentication: the `Authorization: WECHATPAY2-SHA256-RSA2048 …` header.
//!
//! The merchant signs `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n` with its
//! private key (RSA-SHA256, PKCS#1 v1.5) and sends the base64 signature in the
//! header together with its `mchid`, the nonce, the timestamp and the serial
//! number of its API certificate.
//!
//! Two steps for asynchronous signers ([`authorization_message`], then
//! [`authorization_header`]) or one step with a [`Signer`] ([`authorization`]).

use crate::crypto::encoding::b64encode;
use crate::crypto::{RsaHash, Signer};
use crate::error::{Error, Result};

/// The only `Authorization` scheme (and `Wechatpay-Signature-Type`) of API v3.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The merchant's identity in the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The merchant id (`mchid`).
    pub mchid: String,
    /// The serial number of the merchant API certificate whose private key signs.
    pub serial_no: String,
}

impl Credentials {
    /// Credentials from a merchant id and an API certificate serial number.
    pub fn new(mchid: impl Into<String>, serial_no: impl Into<String>) -> Self {
        Credentials {
            mchid: mchid.into(),
            serial_no: serial_no.into(),
        }
    }
}

/// The part of `url` that is signed: the path and the query, as sent.
///
/// Accepts a full URL (`https://api.mch.weixin.qq.com/v3/…?a=b`) or a path
/// (`/v3/…?a=b`); drops the scheme, host and any `#fragment`, and gives `/`
/// for a URL without a path (as Go's `URL.RequestURI`, which wechatpay-go
/// signs). The path is not re-encoded: it must already be in its wire form
/// (percent-encoded), so spaces, control characters and non-ASCII characters
/// are refused with an error naming `url`.
///
/// ```
/// use edgepay::wechat::v3::auth::canonical_url;
/// assert_eq!(
///     canonical_url("https://api.mch.weixin.qq.com/v3/certificates?x=1#top").unwrap(),
///     "/v3/certificates?x=1"
/// );
/// assert_eq!(canonical_url("/v3/certificates").unwrap(), "/v3/certificates");
/// assert_eq!(canonical_url("https://api.mch.weixin.qq.com").unwrap(), "/");
/// ```
pub fn canonical_url(url: &str) -> Result<String> {
    if url.is_empty() {
        return Err(Error::missing("url"));
    }
    if let Some(bad) = url
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control() || *c == ' ')
    {
        return Err(Error::invalid(
            "url",
            format!(
                "contains {}: give the path and query percent-encoded, exactly as sent",
                crate::error::quoted_char(bad, &mut [0; 4])
            ),
        ));
    }
    // Drop the fragment: it is never sent.
    let url = url.split('#').next().unwrap_or_default();
    let rest = if url.starts_with('/') {
        if url.starts_with("//") {
            return Err(Error::invalid(
                "url",
                "a scheme-relative URL (//host/…) is ambiguous: give https://host/… or /path",
            ));
        }
        url
    } else if let Some(pos) = url.find("://") {
        let scheme = &url[..pos];
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(Error::invalid("url", "not a URL (bad scheme) nor a /path"));
        }
        let after = &url[pos + 3..];
        // The authority ends at the first '/' or '?'.
        match after.find(['/', '?']) {
            Some(i) if after[i..].starts_with('/') => &after[i..],
            Some(i) => {
                // "https://host?x=1" → "/?x=1"
                return Ok(format!("/{}", &after[i..]));
            }
            None => "/",
        }
    } else {
        return Err(Error::invalid(
            "url",
            "must be a full URL (https://host/path) or a path starting with /",
        ));
    };
    Ok(rest.to_string())
}

/// The exact string the merchant signs for a request:
/// `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n` (every line ends in `\n`;
/// `body` is empty for `GET`).
///
/// `url` may be a full URL or a path (see [`canonical_url`]); `method` is
/// upper-cased. Errors name the field at fault (`method`, `url`, `timestamp`,
/// `nonce`, `body`).
///
/// ```
/// use edgepay::wechat::v3::authorization_message;
/// let m = authorization_message(
///     "GET",
///     "https://api.mch.weixin.qq.com/v3/certificates",
///     1554208460,
///     "593BEC0C930BF1AFEB40B4A08C8FB242",
///     "",
/// )
/// .unwrap();
/// assert_eq!(m, "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
/// ```
pub fn authorization_message(
    method: &str,
    url: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> Result<String> {
    let method = check_method(method)?;
    let path = canonical_url(url)?;
    check_timestamp(timestamp)?;
    check_header_value("nonce", nonce)?;
    if method == "GET" && !body.is_empty() {
        return Err(Error::invalid(
            "body",
            "a GET request has no body: sign an empty body",
        ));
    }
    Ok(format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n"))
}

/// Assembles the `Authorization` header value from a base64 signature of the
/// [`authorization_message`]:
/// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
///
/// ```
/// use edgepay::wechat::v3::authorization_header;
/// let h = authorization_header("1900009191", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", "c2ln").unwrap();
/// assert_eq!(h, "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",timestamp=\"1554208460\",serial_no=\"1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C\",signature=\"c2ln\"");
/// ```
pub fn authorization_header(
    mchid: &str,
    serial_no: &str,
    timestamp: i64,
    nonce: &str,
    signature_b64: &str,
) -> Result<String> {
    check_header_value("mchid", mchid)?;
    check_header_value("serial_no", serial_no)?;
    check_timestamp(timestamp)?;
    check_header_value("nonce", nonce)?;
    check_header_value("signature", signature_b64)?;
    Ok(format!(
        "{AUTH_SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\",signature=\"{signature_b64}\""
    ))
}

/// RSA-SHA256 (PKCS#1 v1.5) signature of `message`, base64: the signature
/// form of API v3 (requests, and the JSAPI/APP `paySign`).
pub fn sign_base64(signer: &impl Signer, message: &str) -> Result<String> {
    Ok(b64encode(signer.sign(RsaHash::Sha256, message.as_bytes())?))
}

/// One step: builds the message, signs it with `signer` and assembles the
/// `Authorization` header value.
///
/// ```
/// use edgepay::crypto::PrivateKey;
/// use edgepay::wechat::v3::{authorization, Credentials};
/// # let pem = std::fs::read_to_string("../shared/vectors/wechatpay-go-test-key.pem").unwrap();
/// let key = PrivateKey::parse(&pem).unwrap();
/// let creds = Credentials::new("1900009191", "F5765756002FDD77");
/// let header = authorization(&key, &creds, "POST", "/v3/pay/transactions/native", 1700000000, "n0nce", "{}").unwrap();
/// assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"n0nce\""));
/// ```
pub fn authorization(
    signer: &impl Signer,
    credentials: &Credentials,
    method: &str,
    url: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> Result<String> {
    // Validate the header fields before spending an RSA operation.
    check_header_value("mchid", &credentials.mchid)?;
    check_header_value("serial_no", &credentials.serial_no)?;
    let message = authorization_message(method, url, timestamp, nonce, body)?;
    let signature = sign_base64(signer, &message)?;
    authorization_header(
        &credentials.mchid,
        &credentials.serial_no,
        timestamp,
        nonce,
        &signature,
    )
}

fn check_method(method: &str) -> Result<String> {
    if method.is_empty() {
        return Err(Error::missing("method"));
    }
    if !method.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Error::invalid(
            "method",
            "an HTTP method is ASCII letters only (GET, POST, PUT, PATCH, DELETE)",
        ));
    }
    Ok(method.to_ascii_uppercase())
}

fn check_timestamp(timestamp: i64) -> Result<()> {
    if timestamp < 0 {
        return Err(Error::invalid(
            "timestamp",
            "must be Unix seconds (not negative)",
        ));
    }
    Ok(())
}

/// A value that goes between double quotes in the header (and, for the
/// nonce, on a line of its own in the signed message).
fn check_header_value(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    if value.contains('"') {
        return Err(Error::invalid(
            field,
            "must not contain a double quote (\")",
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            field,
            "must not contain control characters (line breaks)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_url_forms() {
        assert_eq!(canonical_url("https://h/a/b?c=d").unwrap(), "/a/b?c=d");
        assert_eq!(canonical_url("https://h?c=d").unwrap(), "/?c=d");
        assert_eq!(canonical_url("http://h:8080").unwrap(), "/");
        assert_eq!(canonical_url("/a?x=%2B#f").unwrap(), "/a?x=%2B");
        for bad in ["", "v3/x", "//h/x", "/a b", "/测试", "://h/x", "/a\n"] {
            let e = canonical_url(bad).unwrap_err();
            assert_eq!(e.field(), Some("url"), "{bad:?}");
        }
    }

    #[test]
    fn message_validation_names_fields() {
        let e = authorization_message("", "/x", 1, "n", "").unwrap_err();
        assert_eq!((e.code(), e.field()), ("missing_field", Some("method")));
        let e = authorization_message("GE T", "/x", 1, "n", "").unwrap_err();
        assert_eq!(e.field(), Some("method"));
        let e = authorization_message("GET", "/x", 1, "a\"b", "").unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_field", Some("nonce")));
        let e = authorization_message("GET", "/x", 1, "", "").unwrap_err();
        assert_eq!((e.code(), e.field()), ("missing_field", Some("nonce")));
        let e = authorization_message("GET", "/x", 1, "a\nb", "").unwrap_err();
        assert_eq!(e.field(), Some("nonce"));
        let e = authorization_message("GET", "/x", -1, "n", "").unwrap_err();
        assert_eq!(e.field(), Some("timestamp"));
        let e = authorization_message("GET", "/x", 1, "n", "{}").unwrap_err();
        assert_eq!(e.field(), Some("body"));
        assert_eq!(
            authorization_message("post", "/x", 1, "n", "{}").unwrap(),
            "POST\n/x\n1\nn\n{}\n"
        );
        let e = authorization_header("1", "S\"", 1, "n", "s").unwrap_err();
        assert_eq!(e.field(), Some("serial_no"));
        let e = authorization_header("", "S", 1, "n", "s").unwrap_err();
        assert_eq!(e.field(), Some("mchid"));
    }
}
