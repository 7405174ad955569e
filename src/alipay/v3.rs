//! The Alipay v3 protocol (`https://openapi.alipay.com/v3/…`, JSON bodies).
//!
//! Request: `Authorization: ALIPAY-SHA256withRSA <authString>,sign=<base64>`
//! with `authString = app_id=…[,app_cert_sn=…],nonce=…,timestamp=<ms>` (the
//! order of the official Java/.NET v3 SDKs and gopay; alipay-sdk-nodejs v4
//! omits `app_cert_sn`), signed over
//! `authString\nMETHOD\nURI\nBODY\n[app_auth_token\n]` with SHA256withRSA.
//!
//! Response: headers `alipay-timestamp`, `alipay-nonce`, `alipay-signature`
//! (and `alipay-sn` in certificate mode); the signature covers
//! `timestamp\nnonce\nBODY\n` over the raw body bytes.

use crate::crypto::encoding::{b64decode, b64encode};
use crate::crypto::{RsaHash, Signer, Verifier};
use crate::error::{Error, Result};

/// The scheme word of the `Authorization` header.
pub const AUTH_SCHEME: &str = "ALIPAY-SHA256withRSA";

fn check_token(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::missing(field));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b',' && b != b'=')
    {
        return Err(Error::invalid(
            field,
            "must be visible ASCII without ',' or '='",
        ));
    }
    Ok(())
}

/// The `authString`: `app_id=…[,app_cert_sn=…],nonce=…,timestamp=<ms>`.
///
/// `timestamp_ms` is Unix **milliseconds**; values below 10^12 (before
/// September 2001) are refused as probably seconds (pitfall 7).
///
/// ```
/// let s = edgepay::alipay::v3_auth_string("2014060600164699", "n1", 1_700_000_000_000, None).unwrap();
/// assert_eq!(s, "app_id=2014060600164699,nonce=n1,timestamp=1700000000000");
/// ```
pub fn v3_auth_string(
    app_id: &str,
    nonce: &str,
    timestamp_ms: i64,
    app_cert_sn: Option<&str>,
) -> Result<String> {
    check_token("app_id", app_id)?;
    check_token("nonce", nonce)?;
    if timestamp_ms < 1_000_000_000_000 {
        return Err(Error::invalid(
            "timestamp",
            format!("{timestamp_ms} is not Unix milliseconds (seconds given?)"),
        ));
    }
    let mut s = format!("app_id={app_id}");
    if let Some(sn) = app_cert_sn.filter(|s| !s.is_empty()) {
        check_token("app_cert_sn", sn)?;
        s.push_str(",app_cert_sn=");
        s.push_str(sn);
    }
    s.push_str(&format!(",nonce={nonce},timestamp={timestamp_ms}"));
    Ok(s)
}

/// One v3 request to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Request<'a> {
    /// `app_id`.
    pub app_id: &'a str,
    /// `app_cert_sn` in certificate mode.
    pub app_cert_sn: Option<&'a str>,
    /// A fresh nonce (e.g. a UUID).
    pub nonce: &'a str,
    /// Unix milliseconds.
    pub timestamp_ms: i64,
    /// HTTP method (`GET`, `POST`…); upper-cased.
    pub method: &'a str,
    /// Path with query string, no host: `/v3/alipay/trade/query`.
    pub uri: &'a str,
    /// The exact request body ("" for GET).
    pub body: &'a str,
    /// `alipay-app-auth-token`, when calling on behalf of a merchant.
    pub app_auth_token: Option<&'a str>,
}

impl V3Request<'_> {
    /// The `authString`.
    pub fn auth_string(&self) -> Result<String> {
        v3_auth_string(self.app_id, self.nonce, self.timestamp_ms, self.app_cert_sn)
    }

    /// Step one: the exact text to sign,
    /// `authString\nMETHOD\nURI\nBODY\n[app_auth_token\n]`.
    pub fn message(&self) -> Result<String> {
        let method = self.method.to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::invalid("method", "must be an HTTP method name"));
        }
        if !self.uri.starts_with('/') || self.uri.contains(['\n', '\r', ' ']) {
            return Err(Error::invalid(
                "uri",
                "must be a path starting with '/' (no host, no spaces)",
            ));
        }
        let mut m = format!(
            "{}\n{}\n{}\n{}\n",
            self.auth_string()?,
            method,
            self.uri,
            self.body
        );
        if let Some(token) = self.app_auth_token.filter(|t| !t.is_empty()) {
            m.push_str(token);
            m.push('\n');
        }
        Ok(m)
    }

    /// Step two: the `Authorization` header value from a base64 signature.
    pub fn authorization(&self, signature_b64: &str) -> Result<String> {
        b64decode("sign", signature_b64)?;
        Ok(format!(
            "{AUTH_SCHEME} {},sign={signature_b64}",
            self.auth_string()?
        ))
    }

    /// One step: signs with SHA256withRSA and returns the `Authorization` value.
    pub fn sign(&self, signer: &impl Signer) -> Result<String> {
        let sig = signer.sign(RsaHash::Sha256, self.message()?.as_bytes())?;
        self.authorization(&b64encode(sig))
    }
}

/// Step one of response verification: `timestamp\nnonce\nBODY\n` over the raw body bytes.
pub fn v3_response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    crate::crypto::encoding::newline_terminated(&[timestamp.as_bytes(), nonce.as_bytes(), body])
}

/// Verifies a v3 response (or v3 notify) over its raw body bytes, from the
/// `alipay-timestamp`, `alipay-nonce` and `alipay-signature` header values.
pub fn verify_v3_response(
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature_b64: &str,
    verifier: &impl Verifier,
) -> Result<()> {
    if timestamp.is_empty() {
        return Err(Error::missing("alipay-timestamp"));
    }
    if nonce.is_empty() {
        return Err(Error::missing("alipay-nonce"));
    }
    let signature = b64decode("alipay-signature", signature_b64)?;
    verifier
        .verify(
            RsaHash::Sha256,
            &v3_response_message(timestamp, nonce, body),
            &signature,
        )
        .map_err(|e| match e {
            Error::SignatureMismatch { .. } => Error::mismatch(
                "the v3 response signature does not match the raw body and the Alipay public key",
            ),
            other => other,
        })
}

/// As [`verify_v3_response`], reading the three headers (names matched
/// case-insensitively) from `(name, value)` pairs.
pub fn verify_v3_response_headers<'h>(
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
    body: &[u8],
    verifier: &impl Verifier,
) -> Result<()> {
    let (mut ts, mut nonce, mut sig) = (None, None, None);
    for (name, value) in headers {
        let slot = match name.to_ascii_lowercase().as_str() {
            "alipay-timestamp" => &mut ts,
            "alipay-nonce" => &mut nonce,
            "alipay-signature" => &mut sig,
            _ => continue,
        };
        *slot = Some(value);
    }
    verify_v3_response(
        ts.ok_or_else(|| Error::missing("alipay-timestamp"))?,
        nonce.ok_or_else(|| Error::missing("alipay-nonce"))?,
        body,
        sig.ok_or_else(|| Error::missing("alipay-signature"))?,
        verifier,
    )
}
