//! X.509 certificates: just what payment protocols need (serial number,
//! issuer attributes, signature algorithm, subject public key, validity).
//!
//! Read with the `der` crate's reader, field by field, instead of decoding the
//! whole certificate into `x509-cert` types: the certificates come from the
//! merchant's configuration or from WeChat Pay's AES-GCM-authenticated
//! certificate list, only these fields are used, and the full decoder tripled
//! the size of the npm package's WebAssembly. The outer structure is checked
//! strictly (DER, no trailing bytes); extensions are skipped unread.

use super::encoding::pem_blocks;
use super::keys::PublicKey;
use crate::error::{Error, Result};
use der::asn1::{AnyRef, GeneralizedTime, ObjectIdentifier, UtcTime};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};

/// A parsed X.509 certificate (the fields edgepay uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    serial: Vec<u8>,
    issuer: Vec<(String, String)>,
    signature_algorithm: String,
    public_key_algorithm: String,
    spki_der: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

/// OID of `rsaEncryption`.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

fn bad(reason: impl std::fmt::Display) -> Error {
    Error::invalid_key("certificate", format!("not an X.509 certificate: {reason}"))
}

/// The contents of a constructed element with tag `tag`.
fn inner<'a>(any: AnyRef<'a>, tag: Tag, what: &str) -> Result<SliceReader<'a>> {
    if any.tag() != tag {
        return Err(bad(format!("{what} is {}, not {tag}", any.tag())));
    }
    SliceReader::new(any.value()).map_err(bad)
}

fn next<'a>(r: &mut SliceReader<'a>, what: &str) -> Result<AnyRef<'a>> {
    if r.is_finished() {
        return Err(bad(format!("{what} is missing")));
    }
    AnyRef::decode(r).map_err(|e| bad(format!("{what}: {e}")))
}

/// The OID at the start of an `AlgorithmIdentifier` (parameters ignored).
fn algorithm_oid(any: AnyRef<'_>, what: &str) -> Result<String> {
    let mut r = inner(any, Tag::Sequence, what)?;
    let oid = ObjectIdentifier::decode(&mut r).map_err(|e| bad(format!("{what}: {e}")))?;
    Ok(oid.to_string())
}

/// `Time ::= CHOICE { utcTime, generalTime }` as Unix seconds.
fn time(any: AnyRef<'_>, what: &str) -> Result<i64> {
    let der = any.to_der().map_err(bad)?;
    let secs = match any.tag() {
        Tag::UtcTime => UtcTime::from_der(&der).map(|t| t.to_unix_duration()),
        Tag::GeneralizedTime => GeneralizedTime::from_der(&der).map(|t| t.to_unix_duration()),
        other => return Err(bad(format!("{what} is {other}, not a time"))),
    }
    .map_err(|e| bad(format!("{what}: {e}")))?;
    i64::try_from(secs.as_secs()).map_err(|_| bad(format!("{what} is out of range")))
}

/// A `Name` as `(short name, value)` pairs in DER order.
fn name(any: AnyRef<'_>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rdns = inner(any, Tag::Sequence, "issuer")?;
    while !rdns.is_finished() {
        let mut set = inner(next(&mut rdns, "issuer")?, Tag::Set, "issuer RDN")?;
        while !set.is_finished() {
            let mut atv = inner(next(&mut set, "issuer")?, Tag::Sequence, "issuer attribute")?;
            let oid =
                ObjectIdentifier::decode(&mut atv).map_err(|e| bad(format!("issuer: {e}")))?;
            let value = next(&mut atv, "issuer attribute value")?;
            out.push((
                attribute_name(&oid.to_string()),
                attribute_text(value.value()),
            ));
        }
    }
    Ok(out)
}

/// The short names the payment SDKs print; other types as dotted OIDs.
fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "E",
        other => other,
    }
    .to_string()
}

/// The text of a directory string attribute (UTF8String, PrintableString, IA5String…).
fn attribute_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) => s.to_string(),
        Err(_) => hex::encode(value),
    }
}

/// Decimal digits of a big-endian unsigned integer (schoolbook base-10⁹ division).
fn decimal(be: &[u8]) -> String {
    // Little-endian limbs of 10^9; each input byte: limbs = limbs * 256 + byte.
    let mut limbs: Vec<u32> = Vec::new();
    for &byte in be {
        let mut carry = u64::from(byte);
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * 256 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut out = match limbs.last() {
        Some(top) => top.to_string(),
        None => return "0".to_string(),
    };
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

impl Certificate {
    /// Parses a PEM `CERTIFICATE` block; for a chain, the first (leaf) certificate.
    pub fn parse_pem(text: &str) -> Result<Self> {
        let mut certs = Self::parse_pem_bundle(text)?;
        Ok(certs.swap_remove(0))
    }

    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let mut outer = SliceReader::new(der).map_err(bad)?;
        let cert = next(&mut outer, "Certificate")?;
        if !outer.is_finished() {
            return Err(bad("trailing bytes after the certificate"));
        }
        let mut cert = inner(cert, Tag::Sequence, "Certificate")?;
        let mut tbs = inner(
            next(&mut cert, "tbsCertificate")?,
            Tag::Sequence,
            "tbsCertificate",
        )?;
        let signature_algorithm =
            algorithm_oid(next(&mut cert, "signatureAlgorithm")?, "signatureAlgorithm")?;
        let signature = next(&mut cert, "signatureValue")?;
        if signature.tag() != Tag::BitString || !cert.is_finished() {
            return Err(bad("expected signatureValue BIT STRING at the end"));
        }

        let mut field = next(&mut tbs, "serialNumber")?;
        let version_tag = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        if field.tag() == version_tag {
            field = next(&mut tbs, "serialNumber")?;
        }
        if field.tag() != Tag::Integer || field.value().is_empty() {
            return Err(bad("serialNumber is not an INTEGER"));
        }
        let serial = field.value().to_vec();
        algorithm_oid(next(&mut tbs, "signature")?, "signature")?;
        let issuer = name(next(&mut tbs, "issuer")?)?;
        let mut validity = inner(next(&mut tbs, "validity")?, Tag::Sequence, "validity")?;
        let not_before = time(next(&mut validity, "notBefore")?, "notBefore")?;
        let not_after = time(next(&mut validity, "notAfter")?, "notAfter")?;
        let subject = next(&mut tbs, "subject")?;
        if subject.tag() != Tag::Sequence {
            return Err(bad("subject is not a Name"));
        }
        let spki = next(&mut tbs, "subjectPublicKeyInfo")?;
        let public_key_algorithm = {
            let mut r = inner(spki, Tag::Sequence, "subjectPublicKeyInfo")?;
            algorithm_oid(next(&mut r, "algorithm")?, "subjectPublicKeyInfo algorithm")?
        };
        let spki_der = spki.to_der().map_err(bad)?;
        // issuerUniqueID, subjectUniqueID, extensions: well-formed, not read.
        while !tbs.is_finished() {
            next(&mut tbs, "tbsCertificate")?;
        }
        Ok(Self {
            serial,
            issuer,
            signature_algorithm,
            public_key_algorithm,
            spki_der,
            not_before,
            not_after,
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
        let raw = &self.serial;
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
        decimal(&self.serial_bytes())
    }

    /// The issuer's attributes as `(short name, value)` pairs, in DER order
    /// (usually C, O, OU, CN). Unknown attribute types are given as dotted OIDs.
    pub fn issuer_attributes(&self) -> Vec<(String, String)> {
        self.issuer.clone()
    }

    /// The dotted OID of the certificate's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> String {
        self.signature_algorithm.clone()
    }

    /// The dotted OID of the subject public key's algorithm.
    pub fn public_key_algorithm_oid(&self) -> String {
        self.public_key_algorithm.clone()
    }

    /// True when the subject key is an RSA key.
    pub fn has_rsa_key(&self) -> bool {
        self.public_key_algorithm == RSA_ENCRYPTION
    }

    /// `notBefore` and `notAfter` as Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        (self.not_before, self.not_after)
    }

    /// The subject's `SubjectPublicKeyInfo`, DER (for WebCrypto's `importKey("spki")`),
    /// checked to be an RSA key.
    pub fn rsa_spki_der(&self) -> Result<Vec<u8>> {
        if !self.has_rsa_key() {
            return Err(Error::invalid_key(
                "certificate",
                format!(
                    "subject key algorithm is {}, not RSA",
                    self.public_key_algorithm
                ),
            ));
        }
        Ok(self.spki_der.clone())
    }

    /// The subject's RSA public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_spki_der(&self.rsa_spki_der()?)
            .map_err(|e| Error::invalid_key("certificate", format!("bad RSA subject key: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_digits() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
        assert_eq!(decimal(&[0x3b, 0x9a, 0xca, 0x00]), "1000000000");
        assert_eq!(
            decimal(&[0xff; 16]),
            "340282366920938463463374607431768211455"
        );
    }

    /// Against an independent implementation: the `rsa` crate's big integers.
    #[test]
    fn decimal_matches_biguint() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..80 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let expected = rsa::BigUint::from_bytes_be(&bytes).to_str_radix(10);
            assert_eq!(decimal(&bytes), expected, "{bytes:02x?}");
        }
    }
}
