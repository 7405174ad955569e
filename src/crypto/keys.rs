//! RSA key loading: PEM (PKCS#1, PKCS#8, SPKI, X.509 certificate) or a bare
//! one-line base64 DER key, as merchants paste them from the Alipay and WeChat
//! consoles.

use super::cert::Certificate;
use super::encoding::{b64decode, pem_blocks};
use crate::error::{Error, Result};
use pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::fmt;

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
        let text = text.trim();
        let bad = |reason: String| Error::invalid_key("private_key", reason);
        if !text.contains("-----BEGIN ") {
            let der = b64decode("private_key", text)?;
            return Self::from_der(&der);
        }
        let block = pem_blocks("private_key", text)?.swap_remove(0);
        match block.label.as_str() {
            "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&block.der)
                .map(Self)
                .map_err(|e| bad(format!("not a PKCS#8 RSA private key: {e}"))),
            "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_der(&block.der)
                .map(Self)
                .map_err(|e| bad(format!("not a PKCS#1 RSA private key: {e}"))),
            other => Err(bad(format!(
                "PEM block is {other:?}; expected \"PRIVATE KEY\" or \"RSA PRIVATE KEY\""
            ))),
        }
    }

    /// Parses DER, PKCS#8 or PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map(Self)
            .map_err(|_| {
                Error::invalid_key(
                    "private_key",
                    "not an RSA private key in PKCS#8 or PKCS#1 DER",
                )
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
        let text = text.trim();
        let bad = |reason: String| Error::invalid_key("public_key", reason);
        if !text.contains("-----BEGIN ") {
            let der = b64decode("public_key", text)?;
            return Self::from_der(&der);
        }
        let block = pem_blocks("public_key", text)?.swap_remove(0);
        match block.label.as_str() {
            "PUBLIC KEY" => RsaPublicKey::from_public_key_der(&block.der)
                .map(Self)
                .map_err(|e| bad(format!("not an SPKI RSA public key: {e}"))),
            "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_der(&block.der)
                .map(Self)
                .map_err(|e| bad(format!("not a PKCS#1 RSA public key: {e}"))),
            // A chain: the first certificate is the leaf.
            "CERTIFICATE" => Certificate::from_der(&block.der)?.public_key(),
            other => Err(bad(format!(
                "PEM block is {other:?}; expected \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\""
            ))),
        }
    }

    /// Parses DER: SPKI, PKCS#1, or an X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = RsaPublicKey::from_public_key_der(der) {
            return Ok(Self(k));
        }
        if let Ok(k) = RsaPublicKey::from_pkcs1_der(der) {
            return Ok(Self(k));
        }
        match Certificate::from_der(der) {
            Ok(cert) => cert.public_key(),
            Err(_) => Err(Error::invalid_key(
                "public_key",
                "not an RSA public key in SPKI, PKCS#1 or X.509 certificate DER",
            )),
        }
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
