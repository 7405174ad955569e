//! X.509 certificates: just what payment protocols need (serial number,
//! issuer attributes, signature algorithm, subject public key, validity, and
//! the signed part with its signature, to check who issued a certificate).
//!
//! Read element by element ([`super::asn1`]) instead of decoding the whole
//! certificate into `x509-cert` types: the certificates come from the
//! merchant's configuration or from WeChat Pay's AES-GCM-authenticated
//! certificate list, only these fields are used, and the full decoder was a
//! large part of the npm package's WebAssembly. The structure up to the
//! subject key is checked strictly (DER, no trailing bytes); extensions are
//! skipped unread and the validity times are decoded when asked for.

use super::asn1::{self, Elements, PKCS1_ARC, RSA_ENCRYPTION};
use super::encoding::pem_blocks;
use super::keys::PublicKey;
use super::rsa::{RsaHash, Verifier};
use crate::error::{Error, Result};
use der::asn1::{GeneralizedTime, UtcTime};
use der::{Decode, Tag, TagNumber, Tagged};

/// A parsed X.509 certificate (the fields edgepay uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    serial: Vec<u8>,
    /// (attribute type OID contents, value contents), in DER order.
    issuer: Vec<(Vec<u8>, Vec<u8>)>,
    signature_algorithm: Vec<u8>,
    public_key_algorithm: Vec<u8>,
    spki_der: Vec<u8>,
    /// notBefore and notAfter, each as (tag, contents).
    validity: [(Tag, Vec<u8>); 2],
    /// The issuer and subject `Name`s, DER contents (compared as bytes).
    issuer_der: Vec<u8>,
    subject_der: Vec<u8>,
    /// `tbsCertificate`, DER: what the issuer signed.
    tbs_der: Vec<u8>,
    /// The signature bits (the BIT STRING without its unused-bits byte).
    signature: Vec<u8>,
}

fn bad(reason: impl std::fmt::Display) -> Error {
    Error::invalid_key("certificate", format!("not an X.509 certificate: {reason}"))
}

/// `what` names the part being read when the DER is wrong.
fn at<T>(what: &str, r: der::Result<T>) -> Result<T> {
    r.map_err(|e| bad(format!("{what}: {e}")))
}

/// A `Name`: (type, value) pairs in DER order.
fn name(contents: &[u8]) -> der::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut rdns = Elements::new(contents)?;
    while !rdns.is_empty() {
        let mut set = Elements::new(rdns.expect(Tag::Set)?)?;
        while !set.is_empty() {
            let mut atv = set.sequence()?;
            let oid = atv.expect(Tag::ObjectIdentifier)?;
            let value = atv.any()?;
            atv.end()?;
            out.push((oid.to_vec(), value.value().to_vec()));
        }
    }
    Ok(out)
}

/// The short names the payment SDKs print; other types as dotted OIDs.
fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0A] => "O".into(),
        [0x55, 0x04, 0x0B] => "OU".into(),
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01] => "E".into(),
        other => asn1::dotted(other),
    }
}

/// The text of a directory string attribute (UTF8String, PrintableString, IA5String…).
fn attribute_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) => s.to_string(),
        Err(_) => hex::encode(value),
    }
}

/// `Time ::= CHOICE { utcTime, generalTime }` as Unix seconds.
fn time((tag, contents): &(Tag, Vec<u8>), what: &str) -> Result<i64> {
    let der = at(what, asn1::wrap(*tag, &[contents]))?;
    let secs = match tag {
        Tag::UtcTime => at(what, UtcTime::from_der(&der).map(|t| t.to_unix_duration()))?,
        _ => at(
            what,
            GeneralizedTime::from_der(&der).map(|t| t.to_unix_duration()),
        )?,
    };
    i64::try_from(secs.as_secs()).map_err(|_| bad(format!("{what} is out of range")))
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
        let mut cert = at(
            "Certificate",
            asn1::single(der, Tag::Sequence).and_then(Elements::new),
        )?;
        let tbs_contents = at("tbsCertificate", cert.expect(Tag::Sequence))?;
        let tbs_der = at("tbsCertificate", asn1::wrap(Tag::Sequence, &[tbs_contents]))?;
        let mut tbs = at("tbsCertificate", Elements::new(tbs_contents))?;
        let signature_algorithm =
            at("signatureAlgorithm", asn1::algorithm_oid(&mut cert))?.to_vec();
        let signature = match at("signatureValue", cert.expect(Tag::BitString))? {
            [0, bits @ ..] => bits.to_vec(),
            _ => return Err(bad("signatureValue has unused bits")),
        };
        at("Certificate", cert.end())?;

        let version = Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        };
        let mut field = at("serialNumber", tbs.any())?;
        if field.tag() == version {
            field = at("serialNumber", tbs.any())?;
        }
        if field.tag() != Tag::Integer || field.value().is_empty() {
            return Err(bad("serialNumber is not an INTEGER"));
        }
        let serial = field.value().to_vec();
        at("signature", asn1::algorithm_oid(&mut tbs))?;
        let issuer_der = at("issuer", tbs.expect(Tag::Sequence))?;
        let issuer = at("issuer", name(issuer_der))?;
        let mut validity = at("validity", tbs.sequence())?;
        let mut times = Vec::with_capacity(2);
        for what in ["notBefore", "notAfter"] {
            let t = at(what, validity.any())?;
            if t.tag() != Tag::UtcTime && t.tag() != Tag::GeneralizedTime {
                return Err(bad(format!("{what} is {}, not a time", t.tag())));
            }
            times.push((t.tag(), t.value().to_vec()));
        }
        at("validity", validity.end())?;
        let subject_der = at("subject", tbs.expect(Tag::Sequence))?.to_vec();
        let spki = at("subjectPublicKeyInfo", tbs.expect(Tag::Sequence))?;
        let public_key_algorithm = at(
            "subjectPublicKeyInfo",
            Elements::new(spki).and_then(|mut e| asn1::algorithm_oid(&mut e).map(<[u8]>::to_vec)),
        )?;
        let spki_der = at("subjectPublicKeyInfo", asn1::wrap(Tag::Sequence, &[spki]))?;
        // issuerUniqueID, subjectUniqueID, extensions: well-formed elements, not read.
        while !tbs.is_empty() {
            at("tbsCertificate", tbs.any())?;
        }
        let not_after = times.pop();
        let not_before = times.pop();
        let (Some(not_before), Some(not_after)) = (not_before, not_after) else {
            return Err(bad("validity is incomplete"));
        };
        Ok(Self {
            serial,
            issuer,
            signature_algorithm,
            public_key_algorithm,
            spki_der,
            validity: [not_before, not_after],
            issuer_der: issuer_der.to_vec(),
            subject_der,
            tbs_der,
            signature,
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
        self.issuer
            .iter()
            .map(|(oid, value)| (attribute_name(oid), attribute_text(value)))
            .collect()
    }

    /// The dotted OID of the certificate's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> String {
        asn1::dotted(&self.signature_algorithm)
    }

    /// True when the certificate is signed with a PKCS#1 RSA algorithm
    /// (signature OID under 1.2.840.113549.1.1).
    pub fn is_rsa_signed(&self) -> bool {
        self.signature_algorithm.starts_with(PKCS1_ARC)
            && self.signature_algorithm.len() > PKCS1_ARC.len()
    }

    /// The dotted OID of the subject public key's algorithm.
    pub fn public_key_algorithm_oid(&self) -> String {
        asn1::dotted(&self.public_key_algorithm)
    }

    /// True when the subject key is an RSA key.
    pub fn has_rsa_key(&self) -> bool {
        self.public_key_algorithm == RSA_ENCRYPTION
    }

    /// `notBefore` and `notAfter` as Unix seconds (decoded on request: an
    /// invalid time is an error here, not when the certificate is parsed).
    pub fn validity(&self) -> Result<(i64, i64)> {
        Ok((
            time(&self.validity[0], "notBefore")?,
            time(&self.validity[1], "notAfter")?,
        ))
    }

    /// The subject's `SubjectPublicKeyInfo`, DER (for WebCrypto's `importKey("spki")`),
    /// checked to be an RSA key.
    pub fn rsa_spki_der(&self) -> Result<Vec<u8>> {
        if !self.has_rsa_key() {
            return Err(Error::invalid_key(
                "certificate",
                format!(
                    "subject key algorithm is {}, not RSA",
                    self.public_key_algorithm_oid()
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

    /// True when this certificate names `issuer`'s subject as its issuer
    /// (the two `Name`s compared as DER bytes).
    pub fn names_issuer(&self, issuer: &Certificate) -> bool {
        self.issuer_der == issuer.subject_der
    }

    /// The subject `Name`, DER contents.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// True when the certificate names itself as its issuer (a root).
    pub fn is_self_issued(&self) -> bool {
        self.issuer_der == self.subject_der
    }

    /// What the issuer signed: `(hash, tbsCertificate DER, signature)` of a
    /// PKCS#1 v1.5 signature with SHA-256 or SHA-1; other algorithms (SM2,
    /// ECDSA, RSA-PSS, SHA-384/512) are refused.
    pub fn signed_part(&self) -> Result<(RsaHash, &[u8], &[u8])> {
        const SHA1_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05];
        const SHA256_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
        let hash = match self.signature_algorithm.as_slice() {
            SHA256_RSA => RsaHash::Sha256,
            SHA1_RSA => RsaHash::Sha1,
            _ => {
                return Err(Error::invalid_key(
                    "certificate",
                    format!(
                        "signature algorithm {} is not sha256WithRSAEncryption or sha1WithRSAEncryption",
                        self.signature_algorithm_oid()
                    ),
                ))
            }
        };
        Ok((hash, &self.tbs_der, &self.signature))
    }

    /// Checks that `issuer` issued this certificate: the names match and the
    /// signature over `tbsCertificate` verifies with `verifier` (the issuer's
    /// key: [`public_key`](Self::public_key), or a host's RSA). Validity
    /// periods are the caller's to check.
    pub fn verify_issued_by(&self, issuer: &Certificate, verifier: &impl Verifier) -> Result<()> {
        if !self.names_issuer(issuer) {
            return Err(Error::mismatch(
                "the certificate's issuer is not the given issuer's subject",
            ));
        }
        let (hash, tbs, signature) = self.signed_part()?;
        verifier.verify(hash, tbs, signature).map_err(|e| match e {
            Error::SignatureMismatch { .. } => {
                Error::mismatch("the issuer's key does not verify the certificate's signature")
            }
            other => other,
        })
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
