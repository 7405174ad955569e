//! v2 gateway request signatures: RSA2 (SHA256withRSA) or RSA (SHA1withRSA),
//! PKCS#1 v1.5, base64, over the canonical `k=v&…` string.

use crate::crypto::encoding::{b64decode, b64encode};
use crate::crypto::{RsaHash, Signer};
use crate::error::{quoted, Error, Result};
use crate::params::{canonical_string, Params};
use std::fmt;
use std::str::FromStr;

/// The `sign_type` of a v2 request or notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignType {
    /// `RSA2`: SHA256withRSA (the default and the only type for new apps).
    #[default]
    Rsa2,
    /// `RSA`: SHA1withRSA (legacy).
    Rsa,
}

impl SignType {
    /// The wire name: `RSA2` or `RSA`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Rsa2 => "RSA2",
            SignType::Rsa => "RSA",
        }
    }

    /// The hash under the RSA signature.
    pub fn hash(self) -> RsaHash {
        match self {
            SignType::Rsa2 => RsaHash::Sha256,
            SignType::Rsa => RsaHash::Sha1,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignType {
    type Err = Error;

    /// Parses `RSA2` or `RSA` (exact case, as on the wire).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "RSA2" => Ok(SignType::Rsa2),
            "RSA" => Ok(SignType::Rsa),
            other => Err(Error::invalid(
                "sign_type",
                format!("{} is not RSA2 or RSA", quoted(other)),
            )),
        }
    }
}

/// The exact string a v2 request signature covers: every parameter except
/// `sign` whose value is non-empty, sorted by key, `k=v` joined with `&`,
/// raw values. `sign_type` is included.
///
/// ```
/// let p = edgepay::params::params([("b", "2"), ("a", "x y"), ("sign", "S"), ("e", "")]);
/// assert_eq!(edgepay::alipay::string_to_sign(&p), "a=x y&b=2");
/// ```
pub fn string_to_sign(params: &Params) -> String {
    canonical_string(params, &["sign"])
}

/// Signs [`string_to_sign`]`(params)` with `sign_type`'s hash; returns base64.
///
/// The parameters are signed as given: put `sign_type` in them first (or use
/// [`sign_params`], which does).
pub fn sign(params: &Params, signer: &impl Signer, sign_type: SignType) -> Result<String> {
    let signature = signer.sign(sign_type.hash(), string_to_sign(params).as_bytes())?;
    Ok(b64encode(signature))
}

/// Step one of two-step signing: sets `sign_type`, drops any old `sign`, and
/// returns the parameters with the exact string to sign (for an async signer).
pub fn prepare_sign(mut params: Params, sign_type: SignType) -> (Params, String) {
    params.remove("sign");
    params.insert("sign_type".into(), sign_type.as_str().into());
    let text = string_to_sign(&params);
    (params, text)
}

/// Step two of two-step signing: adds a base64 `signature` (checked to be
/// base64) as `sign`.
pub fn assemble_signed(mut params: Params, signature_b64: &str) -> Result<Params> {
    b64decode("sign", signature_b64)?;
    params.insert("sign".into(), signature_b64.to_string());
    Ok(params)
}

/// Sets `sign_type`, signs, and adds `sign`: the parameters ready to send.
pub fn sign_params(params: Params, signer: &impl Signer, sign_type: SignType) -> Result<Params> {
    let (params, text) = prepare_sign(params, sign_type);
    let signature = signer.sign(sign_type.hash(), text.as_bytes())?;
    assemble_signed(params, &b64encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_type_round_trip() {
        assert_eq!("RSA2".parse::<SignType>().unwrap(), SignType::Rsa2);
        assert_eq!("RSA".parse::<SignType>().unwrap(), SignType::Rsa);
        assert_eq!(SignType::Rsa2.to_string(), "RSA2");
        assert_eq!(SignType::Rsa.hash(), RsaHash::Sha1);
        let e = "rsa2".parse::<SignType>().unwrap_err();
        assert_eq!(e.field(), Some("sign_type"));
    }

    #[test]
    fn prepare_sets_sign_type_and_drops_sign() {
        let p = crate::params::params([("a", "1"), ("sign", "old"), ("sign_type", "RSA")]);
        let (p, text) = prepare_sign(p, SignType::Rsa2);
        assert_eq!(text, "a=1&sign_type=RSA2");
        assert!(!p.contains_key("sign"));
        assert_eq!(
            assemble_signed(p, "not base64!").unwrap_err().field(),
            Some("sign")
        );
    }
}
