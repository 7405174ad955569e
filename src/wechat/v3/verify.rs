//! Verification of WeChat Pay's signed responses and notifies.
//!
//! WeChat Pay signs `TIMESTAMP\nNONCE\nBODY\n` over the **raw body bytes** with
//! the key named by `Wechatpay-Serial`: a platform certificate (hex serial) or
//! a WeChat Pay public key (`PUB_KEY_ID_…`). [`verify`] checks, in this order:
//! `WECHATPAY/SIGNTEST/` probes (rejected before any crypto), the signature
//! type, the timestamp (`|now - ts| < 300`), the serial, then the RSA-SHA256
//! signature.

use super::auth::AUTH_SCHEME;
use crate::crypto::encoding::b64decode;
use crate::crypto::{Certificate, PublicKey, RsaHash, Verifier};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The window, in seconds, outside which a signed timestamp is refused (exclusive).
pub const TIMESTAMP_WINDOW: i64 = 300;

/// Prefix of the deliberate probe signatures WeChat Pay sends; they must never verify.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Prefix of the ids of WeChat Pay public keys (as opposed to certificate serials).
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// Header names (as WeChat Pay spells them; matched case-insensitively).
pub mod headers {
    /// `Wechatpay-Timestamp`: Unix seconds, as signed.
    pub const TIMESTAMP: &str = "Wechatpay-Timestamp";
    /// `Wechatpay-Nonce`: the random string, as signed.
    pub const NONCE: &str = "Wechatpay-Nonce";
    /// `Wechatpay-Signature`: base64 RSA-SHA256 signature.
    pub const SIGNATURE: &str = "Wechatpay-Signature";
    /// `Wechatpay-Serial`: platform certificate serial or `PUB_KEY_ID_…`.
    pub const SERIAL: &str = "Wechatpay-Serial";
    /// `Wechatpay-Signature-Type`: `WECHATPAY2-SHA256-RSA2048` (optional).
    pub const SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
}

/// The signature headers of a WeChat Pay response or notify.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignedHeaders {
    /// `Wechatpay-Timestamp`, exactly as received (it is signed as text).
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature` (base64).
    pub signature: String,
    /// `Wechatpay-Serial`.
    pub serial: String,
    /// `Wechatpay-Signature-Type`, when sent.
    pub signature_type: Option<String>,
}

impl SignedHeaders {
    /// Picks the `Wechatpay-*` headers out of any list of `(name, value)`
    /// pairs, matching names case-insensitively. A missing (or empty) required
    /// header gives [`Error::MissingField`] naming it; `Wechatpay-Signature-Type`
    /// is optional.
    ///
    /// ```
    /// use edgepay::wechat::v3::SignedHeaders;
    /// let h = SignedHeaders::from_headers([
    ///     ("wechatpay-timestamp", "1624523846"),
    ///     ("WECHATPAY-NONCE", "n"),
    ///     ("Wechatpay-Signature", "c2ln"),
    ///     ("Wechatpay-Serial", "D7CE59D1F522D701"),
    ///     ("Content-Type", "application/json"),
    /// ])
    /// .unwrap();
    /// assert_eq!(h.serial, "D7CE59D1F522D701");
    /// let e = SignedHeaders::from_headers([("Wechatpay-Nonce", "n")]).unwrap_err();
    /// assert_eq!(e.field(), Some("Wechatpay-Timestamp"));
    /// ```
    pub fn from_headers<I, K, V>(headers: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out = SignedHeaders::default();
        let mut seen_type = None;
        for (name, value) in headers {
            let name = name.as_ref();
            let value = value.as_ref();
            let slot = if name.eq_ignore_ascii_case(headers::TIMESTAMP) {
                &mut out.timestamp
            } else if name.eq_ignore_ascii_case(headers::NONCE) {
                &mut out.nonce
            } else if name.eq_ignore_ascii_case(headers::SIGNATURE) {
                &mut out.signature
            } else if name.eq_ignore_ascii_case(headers::SERIAL) {
                &mut out.serial
            } else if name.eq_ignore_ascii_case(headers::SIGNATURE_TYPE) {
                seen_type = Some(value.to_string());
                continue;
            } else {
                continue;
            };
            *slot = value.to_string();
        }
        out.signature_type = seen_type;
        for (field, value) in [
            (headers::TIMESTAMP, &out.timestamp),
            (headers::NONCE, &out.nonce),
            (headers::SIGNATURE, &out.signature),
            (headers::SERIAL, &out.serial),
        ] {
            if value.is_empty() {
                return Err(Error::missing(field));
            }
        }
        Ok(out)
    }

    /// True when the signature is a `WECHATPAY/SIGNTEST/` probe.
    pub fn is_probe(&self) -> bool {
        self.signature.starts_with(SIGNTEST_PREFIX)
    }
}

/// The exact bytes WeChat Pay signs: `TIMESTAMP\nNONCE\nBODY\n` over the raw body.
///
/// ```
/// use edgepay::wechat::v3::verification_message;
/// assert_eq!(verification_message("1624523846", "n", b"{}"), b"1624523846\nn\n{}\n");
/// ```
pub fn verification_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    crate::crypto::encoding::newline_terminated(&[timestamp.as_bytes(), nonce.as_bytes(), body])
}

/// Parses a `Wechatpay-Timestamp` (ASCII digits, Unix seconds).
pub fn parse_timestamp(timestamp: &str) -> Result<i64> {
    if timestamp.is_empty() {
        return Err(Error::missing(headers::TIMESTAMP));
    }
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            headers::TIMESTAMP,
            "must be Unix seconds (ASCII digits only)",
        ));
    }
    timestamp
        .parse::<i64>()
        .map_err(|_| Error::invalid(headers::TIMESTAMP, "out of range"))
}

/// Checks everything but the signature itself: probe, signature type,
/// timestamp window. Cheap; run before any key lookup or RSA.
pub fn precheck(headers: &SignedHeaders, now: i64) -> Result<()> {
    if headers.is_probe() {
        return Err(Error::SignatureProbe);
    }
    if headers.signature.is_empty() {
        return Err(Error::missing(self::headers::SIGNATURE));
    }
    if let Some(t) = &headers.signature_type {
        if t != AUTH_SCHEME {
            return Err(Error::invalid(
                self::headers::SIGNATURE_TYPE,
                format!("must be {AUTH_SCHEME}"),
            ));
        }
    }
    let ts = parse_timestamp(&headers.timestamp)?;
    if (i128::from(now) - i128::from(ts)).abs() >= i128::from(TIMESTAMP_WINDOW) {
        return Err(Error::TimestampOutOfWindow {
            timestamp: ts,
            now,
            window: TIMESTAMP_WINDOW,
        });
    }
    if headers.nonce.is_empty() {
        return Err(Error::missing(self::headers::NONCE));
    }
    Ok(())
}

/// Verifies with one known key (e.g. the WeChat Pay public key given on the
/// command line), ignoring `Wechatpay-Serial`. Same checks as [`verify`].
pub fn verify_with_key(
    key: &impl Verifier,
    headers: &SignedHeaders,
    body: &[u8],
    now: i64,
) -> Result<()> {
    precheck(headers, now)?;
    check_signature(key, headers, body)
}

fn check_signature(key: &impl Verifier, headers: &SignedHeaders, body: &[u8]) -> Result<()> {
    let signature = b64decode(headers::SIGNATURE, &headers.signature)?;
    let message = verification_message(&headers.timestamp, &headers.nonce, body);
    key.verify(RsaHash::Sha256, &message, &signature)
        .map_err(|e| match e {
            Error::SignatureMismatch { .. } => Error::mismatch(
                "Wechatpay-Signature does not match TIMESTAMP\\nNONCE\\nBODY\\n over the raw body bytes",
            ),
            other => other,
        })
}

/// Verifies a WeChat Pay response or notify over its raw body bytes.
///
/// Errors: [`Error::SignatureProbe`] for `WECHATPAY/SIGNTEST/` (before any
/// crypto), [`Error::InvalidField`] for a wrong `Wechatpay-Signature-Type` or a
/// non-numeric `Wechatpay-Timestamp`, [`Error::TimestampOutOfWindow`] when
/// `|now - timestamp| >= 300`, [`Error::UnknownSerial`] when `keys` has no key
/// for `Wechatpay-Serial` (refresh the platform certificates and retry: see
/// [`KeySet::verify_or_refresh`]), [`Error::SignatureMismatch`] otherwise.
pub fn verify(keys: &KeySet, headers: &SignedHeaders, body: &[u8], now: i64) -> Result<()> {
    precheck(headers, now)?;
    let key = keys.lookup(&headers.serial)?;
    check_signature(key, headers, body)
}

/// The position in `serials` of the key for `Wechatpay-Serial`, matched as
/// [`KeySet`] matches (hex serials case-insensitively and without leading
/// zeros, `PUB_KEY_ID_…` exactly). For hosts that keep the keys themselves
/// (the npm package hands the chosen key to WebCrypto). Errors as
/// [`KeySet::lookup`].
pub fn serial_index<S: AsRef<str>>(serials: &[S], serial: &str) -> Result<usize> {
    if serial.is_empty() {
        return Err(Error::missing(headers::SERIAL));
    }
    let wanted = normalise(serial);
    serials
        .iter()
        .position(|s| normalise(s.as_ref()) == wanted)
        .ok_or_else(|| Error::UnknownSerial {
            serial: serial.to_string(),
        })
}

/// Where a key in a [`KeySet`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A platform certificate, keyed by its hex serial.
    Certificate,
    /// A WeChat Pay public key, keyed by its id (`PUB_KEY_ID_…`).
    PublicKey,
}

#[derive(Debug, Clone)]
struct Entry {
    serial: String,
    key: PublicKey,
    source: KeySource,
}

/// WeChat Pay's verifying keys by serial: platform certificates (hex serials,
/// compared case-insensitively and without leading zeros) and WeChat Pay
/// public keys (`PUB_KEY_ID_…`, compared exactly). Keep every valid key: during
/// a rotation both the old and the new serial are in use.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: BTreeMap<String, Entry>,
}

/// Normalises a serial for lookup: ids are exact; hex serials are
/// upper-cased and stripped of leading zeros (Java's `toString(16)` and Go's
/// `%X` drop them, a DER-byte hex form keeps them).
fn normalise(serial: &str) -> String {
    let s = serial.trim();
    if s.starts_with(PUBLIC_KEY_ID_PREFIX) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return s.to_string();
    }
    let upper = s.to_ascii_uppercase();
    let trimmed = upper.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a platform certificate under its own serial (upper-case hex);
    /// returns that serial.
    pub fn insert_certificate(&mut self, certificate: &Certificate) -> Result<String> {
        let serial = certificate.serial_hex();
        let key = certificate.public_key()?;
        self.keys.insert(
            normalise(&serial),
            Entry {
                serial: serial.clone(),
                key,
                source: KeySource::Certificate,
            },
        );
        Ok(serial)
    }

    /// Adds a platform certificate from PEM text; returns its serial.
    pub fn insert_certificate_pem(&mut self, pem: &str) -> Result<String> {
        self.insert_certificate(&Certificate::parse_pem(pem)?)
    }

    /// Adds a WeChat Pay public key under its id (`PUB_KEY_ID_…` as shown in
    /// the merchant platform), or any public key under a certificate serial.
    pub fn insert_public_key(&mut self, id: &str, key: PublicKey) -> Result<()> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::missing("serial"));
        }
        if id.contains(|c: char| c.is_control() || c == '"') {
            return Err(Error::invalid(
                "serial",
                "contains a control character or a quote",
            ));
        }
        let source = if id.starts_with(PUBLIC_KEY_ID_PREFIX) {
            KeySource::PublicKey
        } else {
            KeySource::Certificate
        };
        self.keys.insert(
            normalise(id),
            Entry {
                serial: id.to_string(),
                key,
                source,
            },
        );
        Ok(())
    }

    /// Removes the key for `serial`; true when there was one.
    pub fn remove(&mut self, serial: &str) -> bool {
        self.keys.remove(&normalise(serial)).is_some()
    }

    /// Every serial / id held, as inserted.
    pub fn serials(&self) -> Vec<String> {
        self.keys.values().map(|e| e.serial.clone()).collect()
    }

    /// The key for `serial`, if held.
    pub fn get(&self, serial: &str) -> Option<&PublicKey> {
        self.keys.get(&normalise(serial)).map(|e| &e.key)
    }

    /// Where the key for `serial` came from, if held.
    pub fn source(&self, serial: &str) -> Option<KeySource> {
        self.keys.get(&normalise(serial)).map(|e| e.source)
    }

    /// The key for `serial`, or [`Error::UnknownSerial`].
    pub fn lookup(&self, serial: &str) -> Result<&PublicKey> {
        if serial.is_empty() {
            return Err(Error::missing(headers::SERIAL));
        }
        self.get(serial).ok_or_else(|| Error::UnknownSerial {
            serial: serial.to_string(),
        })
    }

    /// True when the key for `serial` is unknown and fetching
    /// `GET /v3/certificates` could bring it (a `PUB_KEY_ID_…` is never
    /// delivered that way: it must be configured).
    pub fn needs_refresh(&self, serial: &str) -> bool {
        !serial.is_empty()
            && !serial.starts_with(PUBLIC_KEY_ID_PREFIX)
            && self.get(serial).is_none()
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds every key of `other` (replacing keys with the same serial).
    pub fn merge(&mut self, other: KeySet) {
        self.keys.extend(other.keys);
    }

    /// [`verify`], and when the serial is unknown (and the cheap checks
    /// passed), calls `refresh` once with the serial to obtain fresh keys
    /// (typically: fetch `/v3/certificates` and [`super::certificates::parse_certificates`]),
    /// merges them and verifies again. Rate-limit refreshes in the caller:
    /// anyone can send an unknown serial.
    pub fn verify_or_refresh<F>(
        &mut self,
        headers: &SignedHeaders,
        body: &[u8],
        now: i64,
        refresh: F,
    ) -> Result<()>
    where
        F: FnOnce(&str) -> Result<KeySet>,
    {
        match verify(self, headers, body, now) {
            Err(Error::UnknownSerial { serial }) if self.needs_refresh(&serial) => {
                let fresh = refresh(&serial)?;
                self.merge(fresh);
                verify(self, headers, body, now)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_normalisation() {
        assert_eq!(normalise("00ab"), "AB");
        assert_eq!(normalise("000"), "0");
        assert_eq!(normalise("PUB_KEY_ID_0114"), "PUB_KEY_ID_0114");
        assert_eq!(normalise("pub_key_id_x"), "pub_key_id_x");
    }

    #[test]
    fn timestamp_parsing() {
        assert_eq!(parse_timestamp("1624523846").unwrap(), 1624523846);
        for bad in ["-1", "+1", " 1", "1.0", "abc", "99999999999999999999"] {
            assert_eq!(
                parse_timestamp(bad).unwrap_err().field(),
                Some(headers::TIMESTAMP),
                "{bad:?}"
            );
        }
    }
}
