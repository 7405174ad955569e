//! RSA key loading: PEM (PKCS#1, PKCS#8, SPKI, X.509 certificate) or a bare
//! one-line base64 DER key, as merchants paste them from the Alipay and WeChat
//! consoles.

use super::asn1::{self, Elements, RSA_ENCRYPTION};
use super::cert::Certificate;
use super::encoding::{b64decode, pem_blocks};
use crate::error::{quoted, Error, Result};
use der::Tag;
use pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::fmt;

/// The PKCS#8 DER of a private key given as PEM `PRIVATE KEY` (PKCS#8), PEM
/// `RSA PRIVATE KEY` (PKCS#1) or bare base64 of either DER form — what
/// WebCrypto's `importKey("pkcs8")` takes. The structure is checked (an RSA
/// PKCS#8 wrapping a PKCS#1 `RSAPrivateKey`); the numbers are not: that needs
/// big-integer arithmetic, which [`PrivateKey::parse`] (or WebCrypto) does.
pub fn private_key_pkcs8_der(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let bad = |reason: String| Error::invalid_key("private_key", reason);
    if !text.contains("-----BEGIN ") {
        return pkcs8_from_der(&b64decode("private_key", text)?);
    }
    let block = pem_blocks("private_key", text)?.swap_remove(0);
    match block.label.as_str() {
        "PRIVATE KEY" => check_pkcs8(&block.der)
            .map(|()| block.der)
            .map_err(|e| bad(format!("not a PKCS#8 RSA private key: {e}"))),
        "RSA PRIVATE KEY" => wrap_pkcs1_private(&block.der)
            .map_err(|e| bad(format!("not a PKCS#1 RSA private key: {e}"))),
        other => Err(bad(format!(
            "PEM block is {}; expected \"PRIVATE KEY\" or \"RSA PRIVATE KEY\"",
            quoted(other)
        ))),
    }
}

/// PKCS#8 DER from DER that is PKCS#8 or PKCS#1.
fn pkcs8_from_der(der: &[u8]) -> Result<Vec<u8>> {
    if check_pkcs8(der).is_ok() {
        return Ok(der.to_vec());
    }
    wrap_pkcs1_private(der).map_err(|_| {
        Error::invalid_key(
            "private_key",
            "not an RSA private key in PKCS#8 or PKCS#1 DER",
        )
    })
}

/// Fails unless the algorithm identifier next in `e` is `rsaEncryption`.
fn expect_rsa(e: &mut Elements<'_>) -> der::Result<()> {
    if asn1::algorithm_oid(e)? == RSA_ENCRYPTION {
        Ok(())
    } else {
        Err(Tag::ObjectIdentifier.value_error())
    }
}

/// `PrivateKeyInfo { version, rsaEncryption, OCTET STRING { RSAPrivateKey }, … }`.
fn check_pkcs8(der: &[u8]) -> der::Result<()> {
    let mut info = Elements::new(asn1::single(der, Tag::Sequence)?)?;
    info.expect(Tag::Integer)?;
    expect_rsa(&mut info)?;
    check_pkcs1_private(info.expect(Tag::OctetString)?)
}

/// PKCS#1 `RSAPrivateKey`: a version and the eight integers n, e, d, p, q, dP, dQ, qInv
/// (then, for multi-prime keys, more), each a non-empty INTEGER.
fn check_pkcs1_private(der: &[u8]) -> der::Result<()> {
    let mut key = Elements::new(asn1::single(der, Tag::Sequence)?)?;
    for _ in 0..9 {
        if key.expect(Tag::Integer)?.is_empty() {
            return Err(Tag::Integer.value_error());
        }
    }
    Ok(())
}

fn wrap_pkcs1_private(der: &[u8]) -> der::Result<Vec<u8>> {
    check_pkcs1_private(der)?;
    let version = [0x02, 0x01, 0x00];
    let key = asn1::wrap(Tag::OctetString, &[der])?;
    asn1::wrap(Tag::Sequence, &[&version, &asn1::rsa_algorithm()?, &key])
}

/// The SPKI DER of a public key given as PEM `PUBLIC KEY` (SPKI), `RSA PUBLIC
/// KEY` (PKCS#1), `CERTIFICATE` (its subject key) or bare base64 of any of
/// their DER forms — what WebCrypto's `importKey("spki")` takes. Checked to be
/// an RSA key with the PKCS#1 structure, as [`private_key_pkcs8_der`].
pub fn public_key_spki_der(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let bad = |reason: String| Error::invalid_key("public_key", reason);
    if !text.contains("-----BEGIN ") {
        return spki_from_der(&b64decode("public_key", text)?);
    }
    let block = pem_blocks("public_key", text)?.swap_remove(0);
    match block.label.as_str() {
        "PUBLIC KEY" => check_spki(&block.der)
            .map(|()| block.der)
            .map_err(|e| bad(format!("not an SPKI RSA public key: {e}"))),
        "RSA PUBLIC KEY" => wrap_pkcs1_public(&block.der)
            .map_err(|e| bad(format!("not a PKCS#1 RSA public key: {e}"))),
        // A chain: the first certificate is the leaf.
        "CERTIFICATE" => Certificate::from_der(&block.der)?.rsa_spki_der(),
        other => Err(bad(format!(
            "PEM block is {}; expected \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\"",
            quoted(other)
        ))),
    }
}

/// SPKI DER from DER that is SPKI, PKCS#1 or an X.509 certificate.
fn spki_from_der(der: &[u8]) -> Result<Vec<u8>> {
    if check_spki(der).is_ok() {
        return Ok(der.to_vec());
    }
    if let Ok(spki) = wrap_pkcs1_public(der) {
        return Ok(spki);
    }
    match Certificate::from_der(der) {
        Ok(cert) => cert.rsa_spki_der(),
        Err(_) => Err(Error::invalid_key(
            "public_key",
            "not an RSA public key in SPKI, PKCS#1 or X.509 certificate DER",
        )),
    }
}

/// `SubjectPublicKeyInfo { rsaEncryption, BIT STRING { RSAPublicKey } }`.
fn check_spki(der: &[u8]) -> der::Result<()> {
    let mut info = Elements::new(asn1::single(der, Tag::Sequence)?)?;
    expect_rsa(&mut info)?;
    let bits = info.expect(Tag::BitString)?;
    info.end()?;
    match bits.split_first() {
        Some((0, key)) => check_pkcs1_public(key),
        _ => Err(Tag::BitString.value_error()),
    }
}

/// PKCS#1 `RSAPublicKey { modulus INTEGER, publicExponent INTEGER }`.
fn check_pkcs1_public(der: &[u8]) -> der::Result<()> {
    let mut key = Elements::new(asn1::single(der, Tag::Sequence)?)?;
    for _ in 0..2 {
        if key.expect(Tag::Integer)?.is_empty() {
            return Err(Tag::Integer.value_error());
        }
    }
    key.end()
}

fn wrap_pkcs1_public(der: &[u8]) -> der::Result<Vec<u8>> {
    check_pkcs1_public(der)?;
    let bits = asn1::wrap(Tag::BitString, &[&[0], der])?;
    asn1::wrap(Tag::Sequence, &[&asn1::rsa_algorithm()?, &bits])
}

/// An RSA private key. Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct PrivateKey(RsaPrivateKey);

/// An RSA public key (from SPKI, PKCS#1 or a certificate).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(RsaPublicKey);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts;
        write!(f, "PublicKey(rsa-{})", self.0.size() * 8)
    }
}

impl PrivateKey {
    /// Parses a private key: PEM `PRIVATE KEY` (PKCS#8), PEM `RSA PRIVATE KEY`
    /// (PKCS#1), or bare base64 of either DER form.
    ///
    /// ```
    /// let pem = std::fs::read_to_string("../shared/vectors/wechatpay-go-test-key.pem").unwrap();
    /// let key = edgepay::crypto::PrivateKey::parse(&pem).unwrap();
    /// assert_eq!(key.public_key().bits(), 2048);
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_pkcs8_der(&private_key_pkcs8_der(text)?)
    }

    /// Parses DER, PKCS#8 or PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::from_pkcs8_der(&pkcs8_from_der(der)?)
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        RsaPrivateKey::from_pkcs8_der(der).map(Self).map_err(|e| {
            Error::invalid_key("private_key", format!("not a valid RSA private key: {e}"))
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.to_public_key())
    }

    /// The underlying `rsa` crate key.
    pub fn as_rsa(&self) -> &RsaPrivateKey {
        &self.0
    }

    /// PKCS#8 DER encoding (for handing the key to WebCrypto's `importKey("pkcs8")`).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        use pkcs8::EncodePrivateKey;
        self.0
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| Error::Crypto {
                reason: format!("PKCS#8 encoding failed: {e}"),
            })
    }
}

impl PublicKey {
    /// Parses a public key: PEM `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS#1),
    /// `CERTIFICATE` (X.509, its subject key), or bare base64 of SPKI, PKCS#1 or
    /// certificate DER.
    ///
    /// ```
    /// let pem = std::fs::read_to_string("../shared/vectors/yansongda-alipay-public-cert.crt").unwrap();
    /// let from_cert = edgepay::crypto::PublicKey::parse(&pem).unwrap();
    /// let pem = std::fs::read_to_string("../shared/vectors/yansongda-alipay-public-key.pem").unwrap();
    /// assert_eq!(edgepay::crypto::PublicKey::parse(&pem).unwrap(), from_cert);
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_spki_der(&public_key_spki_der(text)?)
    }

    /// Parses DER: SPKI, PKCS#1, or an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::from_spki_der(&spki_from_der(der)?)
    }

    /// Parses an RSA `SubjectPublicKeyInfo` (DER).
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        RsaPublicKey::from_public_key_der(der)
            .map(Self)
            .map_err(|e| {
                Error::invalid_key("public_key", format!("not a valid RSA public key: {e}"))
            })
    }

    /// Wraps an `rsa` crate key.
    pub fn from_rsa(key: RsaPublicKey) -> Self {
        Self(key)
    }

    /// The underlying `rsa` crate key.
    pub fn as_rsa(&self) -> &RsaPublicKey {
        &self.0
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        use rsa::traits::PublicKeyParts;
        self.0.size() * 8
    }

    /// SPKI DER encoding (for WebCrypto's `importKey("spki")`).
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        use pkcs8::EncodePublicKey;
        self.0
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| Error::Crypto {
                reason: format!("SPKI encoding failed: {e}"),
            })
    }
}
