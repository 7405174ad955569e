//! X.509 certificates: just what payment protocols need (serial number,
//! issuer attributes, signature algorithm, subject public key).

use super::encoding::pem_blocks;
use super::keys::PublicKey;
use crate::error::{Error, Result};
use der::{Decode, Encode};
use rsa::RsaPublicKey;
use spki::DecodePublicKey;
use x509_cert::Certificate as X509;

/// A parsed X.509 certificate.
#[derive(Clone, Debug)]
pub struct Certificate(X509);

/// OID of `rsaEncryption`.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

impl Certificate {
    /// Parses a PEM `CERTIFICATE` block; for a chain, the first (leaf) certificate.
    pub fn parse_pem(text: &str) -> Result<Self> {
        let mut certs = Self::parse_pem_bundle(text)?;
        Ok(certs.swap_remove(0))
    }

    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        X509::from_der(der).map(Self).map_err(|e| {
            Error::invalid_key("certificate", format!("not an X.509 certificate: {e}"))
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM bundle (e.g. Alipay's root bundle), in order.
    pub fn parse_pem_bundle(text: &str) -> Result<Vec<Self>> {
        let blocks = pem_blocks("certificate", text)?;
        let certs: Vec<Self> = blocks
            .iter()
            .filter(|b| b.label == "CERTIFICATE")
            .map(|b| Self::from_der(&b.der))
            .collect::<Result<_>>()?;
        if certs.is_empty() {
            return Err(Error::invalid_key(
                "certificate",
                "no CERTIFICATE block in the PEM text",
            ));
        }
        Ok(certs)
    }

    /// The serial number's big-endian bytes, without a leading sign byte.
    pub fn serial_bytes(&self) -> Vec<u8> {
        let raw = self.0.tbs_certificate.serial_number.as_bytes();
        let start = raw
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(raw.len().saturating_sub(1));
        raw[start..].to_vec()
    }

    /// The serial number in upper-case hex (WeChat Pay's `serial_no` form).
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(self.serial_bytes())
    }

    /// The serial number in decimal (Alipay's cert SN uses this form).
    pub fn serial_decimal(&self) -> String {
        // rsa re-exports num-bigint-dig: one big-integer crate in the wasm, not two.
        rsa::BigUint::from_bytes_be(&self.serial_bytes()).to_str_radix(10)
    }

    /// The issuer's attributes as `(short name, value)` pairs, in DER order
    /// (usually C, O, OU, CN). Unknown attribute types are given as dotted OIDs.
    pub fn issuer_attributes(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for rdn in self.0.tbs_certificate.issuer.0.iter() {
            for atv in rdn.0.iter() {
                let oid = atv.oid.to_string();
                let name = match oid.as_str() {
                    "2.5.4.3" => "CN",
                    "2.5.4.6" => "C",
                    "2.5.4.7" => "L",
                    "2.5.4.8" => "ST",
                    "2.5.4.10" => "O",
                    "2.5.4.11" => "OU",
                    "1.2.840.113549.1.9.1" => "E",
                    _ => oid.as_str(),
                }
                .to_string();
                let value = attribute_text(&atv.value);
                out.push((name, value));
            }
        }
        out
    }

    /// The dotted OID of the certificate's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> String {
        self.0.signature_algorithm.oid.to_string()
    }

    /// The dotted OID of the subject public key's algorithm.
    pub fn public_key_algorithm_oid(&self) -> String {
        self.0
            .tbs_certificate
            .subject_public_key_info
            .algorithm
            .oid
            .to_string()
    }

    /// True when the subject key is an RSA key.
    pub fn has_rsa_key(&self) -> bool {
        self.public_key_algorithm_oid() == RSA_ENCRYPTION
    }

    /// `notBefore` and `notAfter` as Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.0.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs() as i64,
            v.not_after.to_unix_duration().as_secs() as i64,
        )
    }

    /// The subject's RSA public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        if !self.has_rsa_key() {
            return Err(Error::invalid_key(
                "certificate",
                format!(
                    "subject key algorithm is {}, not RSA",
                    self.public_key_algorithm_oid()
                ),
            ));
        }
        let spki = self
            .0
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| Error::invalid_key("certificate", e.to_string()))?;
        RsaPublicKey::from_public_key_der(&spki)
            .map(PublicKey::from_rsa)
            .map_err(|e| Error::invalid_key("certificate", format!("bad RSA subject key: {e}")))
    }

    /// The underlying `x509-cert` certificate.
    pub fn as_x509(&self) -> &X509 {
        &self.0
    }
}

/// The text of a directory string attribute (UTF8String, PrintableString, IA5String…).
fn attribute_text(value: &der::Any) -> String {
    match std::str::from_utf8(value.value()) {
        Ok(s) => s.to_string(),
        Err(_) => hex::encode(value.value()),
    }
}
