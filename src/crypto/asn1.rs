//! Just enough DER for keys and certificates: walking elements and wrapping
//! contents, on the `der` crate's generic element reader ([`AnyRef`]) and
//! header encoder.
//!
//! The typed decoders of `pkcs1`, `pkcs8`, `spki` and `x509-cert` are
//! monomorphised per structure and made up a fifth of the npm package's
//! WebAssembly; keys and certificates only need their shape checked and a few
//! fields found, so they are read element by element here. The DER rules
//! themselves (tag and length forms, minimal lengths, no indefinite lengths)
//! stay the `der` crate's.

use der::asn1::AnyRef;
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag, Tagged};

/// Raw content bytes of the OID `rsaEncryption` (1.2.840.113549.1.1.1).
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// Raw content prefix of the PKCS#1 arc 1.2.840.113549.1.1 (RSA signature algorithms).
pub(crate) const PKCS1_ARC: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01];

/// Reads consecutive DER elements from a byte slice.
pub(crate) struct Elements<'a>(SliceReader<'a>);

impl<'a> Elements<'a> {
    /// The elements of `bytes` (e.g. the contents of a SEQUENCE).
    pub(crate) fn new(bytes: &'a [u8]) -> der::Result<Self> {
        SliceReader::new(bytes).map(Self)
    }

    /// True when every element has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_finished()
    }

    /// The next element, whatever its tag.
    pub(crate) fn any(&mut self) -> der::Result<AnyRef<'a>> {
        if self.0.is_finished() {
            return Err(der::ErrorKind::Incomplete {
                expected_len: self.0.input_len(),
                actual_len: self.0.position(),
            }
            .into());
        }
        AnyRef::decode(&mut self.0)
    }

    /// The contents of the next element, which must have tag `tag`.
    pub(crate) fn expect(&mut self, tag: Tag) -> der::Result<&'a [u8]> {
        let any = self.any()?;
        if any.tag() != tag {
            return Err(der::ErrorKind::TagUnexpected {
                expected: Some(tag),
                actual: any.tag(),
            }
            .into());
        }
        Ok(any.value())
    }

    /// The elements inside the next element, which must be a SEQUENCE.
    pub(crate) fn sequence(&mut self) -> der::Result<Elements<'a>> {
        Elements::new(self.expect(Tag::Sequence)?)
    }

    /// Fails unless every element has been read.
    pub(crate) fn end(&self) -> der::Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(der::ErrorKind::TrailingData {
                decoded: self.0.position(),
                remaining: self.0.remaining_len(),
            }
            .into())
        }
    }
}

/// The contents of `der`, which must be exactly one element with tag `tag`.
pub(crate) fn single(der: &[u8], tag: Tag) -> der::Result<&[u8]> {
    let mut all = Elements::new(der)?;
    let contents = all.expect(tag)?;
    all.end()?;
    Ok(contents)
}

/// One element with tag `tag` around the concatenated `parts` (already DER).
pub(crate) fn wrap(tag: Tag, parts: &[&[u8]]) -> der::Result<Vec<u8>> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Header::new(tag, Length::try_from(len)?)?.to_der()?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// `AlgorithmIdentifier { rsaEncryption, NULL }`, DER.
pub(crate) fn rsa_algorithm() -> der::Result<Vec<u8>> {
    let oid = wrap(Tag::ObjectIdentifier, &[RSA_ENCRYPTION])?;
    wrap(Tag::Sequence, &[&oid, &[0x05, 0x00]])
}

/// The OID's raw contents at the start of an `AlgorithmIdentifier`'s contents.
pub(crate) fn algorithm_oid<'a>(algorithm: &mut Elements<'a>) -> der::Result<&'a [u8]> {
    let mut alg = algorithm.sequence()?;
    alg.expect(Tag::ObjectIdentifier)
}

/// The dotted form of an OID's raw contents (for messages and the few accessors that
/// return text); `?` when malformed.
pub(crate) fn dotted(oid: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_bytes(oid)
        .map(|o| o.to_string())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants against the `der` crate's own OID encoder.
    #[test]
    fn oid_constants() {
        let rsa = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
        assert_eq!(rsa.as_bytes(), RSA_ENCRYPTION);
        assert!(RSA_ENCRYPTION.starts_with(PKCS1_ARC));
        assert_eq!(dotted(RSA_ENCRYPTION), "1.2.840.113549.1.1.1");
    }

    /// `wrap` against the `der` crate's encoder of the same structure.
    #[test]
    fn wrap_matches_der_encoding() {
        let long = vec![7u8; 300];
        let ours = wrap(Tag::OctetString, &[&long[..100], &long[100..]]).unwrap();
        let theirs = der::asn1::OctetStringRef::new(&long)
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(ours, theirs);
        let alg = spki::AlgorithmIdentifierRef {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(AnyRef::NULL),
        };
        assert_eq!(rsa_algorithm().unwrap(), alg.to_der().unwrap());
    }

    #[test]
    fn elements_refuse_short_and_trailing_input() {
        assert!(single(&[0x30, 0x03, 0x02, 0x01], Tag::Sequence).is_err());
        assert!(single(&[0x30, 0x00, 0x00], Tag::Sequence).is_err());
        assert!(single(&[0x04, 0x00], Tag::Sequence).is_err());
        assert_eq!(single(&[0x30, 0x00], Tag::Sequence).unwrap(), &[] as &[u8]);
        let mut e = Elements::new(&[]).unwrap();
        assert!(e.any().is_err());
    }
}
