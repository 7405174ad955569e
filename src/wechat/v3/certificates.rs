//! `GET /v3/certificates`: WeChat Pay's platform certificates, each encrypted
//! like a notify resource.
//!
//! Verify the response like any other (over its raw bytes, [`super::verify()`]).
//! On the very first download no platform key is known yet: WeChat Pay's SDKs
//! then verify the response with the certificates it carries, after
//! decrypting them with the APIv3 key (which only WeChat Pay and the merchant
//! know) — [`parse_certificates`] followed by [`super::verify()`] against the
//! resulting [`KeySet`] does exactly that.

use super::json::from_json;
use super::resource::{decrypt_to_string, EncryptedResource};
use super::verify::KeySet;
use crate::crypto::Certificate;
use crate::error::{quoted, Error, Result};
use serde::Deserialize;

/// The path to fetch (GET, empty body).
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

#[derive(Deserialize)]
struct Response {
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    serial_no: String,
    #[serde(default)]
    effective_time: String,
    #[serde(default)]
    expire_time: String,
    encrypt_certificate: EncryptedResource,
}

/// One decrypted platform certificate.
#[derive(Debug, Clone)]
pub struct PlatformCertificate {
    /// The serial number, as listed (and checked against the certificate).
    pub serial_no: String,
    /// `effective_time` as listed (RFC 3339).
    pub effective_time: String,
    /// `expire_time` as listed (RFC 3339).
    pub expire_time: String,
    /// The certificate, PEM text, as decrypted.
    pub pem: String,
    /// The parsed certificate.
    pub certificate: Certificate,
}

impl PlatformCertificate {
    /// True when the certificate's own validity covers `now` (Unix seconds).
    pub fn is_valid_at(&self, now: i64) -> bool {
        matches!(self.certificate.validity(), Ok((not_before, not_after)) if not_before <= now && now <= not_after)
    }
}

/// Parses a `/v3/certificates` response body, decrypts each certificate with
/// the APIv3 key and checks that its serial equals the listed `serial_no`
/// ([`Error::InvalidField`] naming `serial_no` otherwise).
pub fn parse_certificates(apiv3_key: &[u8], raw_body: &[u8]) -> Result<Vec<PlatformCertificate>> {
    let response: Response = from_json("certificates response", raw_body)?;
    let mut out = Vec::with_capacity(response.data.len());
    for entry in response.data {
        let pem = decrypt_to_string(apiv3_key, &entry.encrypt_certificate)?;
        let certificate = Certificate::parse_pem(&pem)?;
        certificate.validity()?;
        if !same_serial(&certificate.serial_hex(), &entry.serial_no) {
            return Err(Error::invalid(
                "serial_no",
                format!(
                    "listed as {} but the decrypted certificate's serial is {}",
                    quoted(&entry.serial_no),
                    certificate.serial_hex()
                ),
            ));
        }
        out.push(PlatformCertificate {
            serial_no: entry.serial_no,
            effective_time: entry.effective_time,
            expire_time: entry.expire_time,
            pem,
            certificate,
        });
    }
    Ok(out)
}

fn same_serial(a: &str, b: &str) -> bool {
    let n = |s: &str| s.trim().trim_start_matches('0').to_ascii_uppercase();
    n(a) == n(b)
}

/// Parses and decrypts a `/v3/certificates` response and returns the
/// certificates valid at `now` as a [`KeySet`] (merge it into yours with
/// [`KeySet::merge`]).
///
/// ```no_run
/// # fn fetch() -> Vec<u8> { unimplemented!() }
/// use edgepay::wechat::v3::{certificates::load_certificates, KeySet};
/// let mut keys = KeySet::new();
/// let fresh = load_certificates(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb", &fetch(), 1_700_000_000).unwrap();
/// keys.merge(fresh);
/// ```
pub fn load_certificates(apiv3_key: &[u8], raw_body: &[u8], now: i64) -> Result<KeySet> {
    let mut keys = KeySet::new();
    for cert in parse_certificates(apiv3_key, raw_body)? {
        if cert.is_valid_at(now) {
            keys.insert_certificate(&cert.certificate)?;
        }
    }
    Ok(keys)
}
