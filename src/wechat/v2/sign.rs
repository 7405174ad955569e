//! WeChat Pay v2 signatures: MD5 and HMAC-SHA256 over the canonical string.
//!
//! The string to sign is every parameter except `sign` whose value is
//! non-empty, sorted by key, joined as `k=v&k=v` with raw values, followed by
//! `&key=API_KEY`. MD5 hashes that string; HMAC-SHA256 MACs the same string
//! (still ending in `&key=…`) under the API key. Both are written in upper-case hex.
//!
//! ```
//! use edgepay::params::params;
//! use edgepay::wechat::v2::{sign, verify, SignType};
//! // The example of the official signature doc.
//! let mut p = params([
//!     ("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"),
//!     ("device_info", "1000"), ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA"),
//! ]);
//! let key = "192006250b4c09247ec02edce69f6a2d";
//! let s = sign(&p, key, SignType::Md5);
//! assert_eq!(s, "9A0A8659F005D6984697E2CA0A9CF3B7");
//! p.insert("sign".into(), s);
//! assert_eq!(verify(&p, key).unwrap(), SignType::Md5);
//! ```

use crate::crypto::digest::{constant_time_eq, hex_upper, hmac_sha256, md5};
use crate::error::{quoted, Error, Result};
use crate::params::{canonical_string, Params};
use std::fmt;
use std::str::FromStr;

/// The two signature algorithms of WeChat Pay v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignType {
    /// `MD5` (the default when `sign_type` is absent): 32 hex characters.
    #[default]
    Md5,
    /// `HMAC-SHA256`: 64 hex characters.
    HmacSha256,
}

impl SignType {
    /// The wire name: `MD5` or `HMAC-SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The length in hex characters of a signature of this type (32 or 64).
    pub fn hex_len(self) -> usize {
        match self {
            SignType::Md5 => 32,
            SignType::HmacSha256 => 64,
        }
    }

    /// The other algorithm.
    pub fn other(self) -> SignType {
        match self {
            SignType::Md5 => SignType::HmacSha256,
            SignType::HmacSha256 => SignType::Md5,
        }
    }

    /// Signs an already built string to sign (ending in `&key=…`), upper-case hex.
    pub fn sign_string(self, string_to_sign: &str, key: &str) -> String {
        match self {
            SignType::Md5 => hex_upper(&md5(string_to_sign.as_bytes())),
            SignType::HmacSha256 => {
                hex_upper(&hmac_sha256(key.as_bytes(), string_to_sign.as_bytes()))
            }
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

    /// Parses `MD5` or `HMAC-SHA256`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("MD5") {
            Ok(SignType::Md5)
        } else if s.eq_ignore_ascii_case("HMAC-SHA256") {
            Ok(SignType::HmacSha256)
        } else {
            Err(Error::invalid(
                "sign_type",
                format!("{} is not MD5 or HMAC-SHA256", quoted(s)),
            ))
        }
    }
}

/// The exact string that is hashed: canonical `k=v&…` (without `sign`, without
/// empty values) followed by `&key=KEY` (just `key=KEY` when no parameter is left).
///
/// ```
/// let p = edgepay::params::params([("b", "2"), ("a", "1"), ("c", ""), ("sign", "X")]);
/// assert_eq!(edgepay::wechat::v2::string_to_sign(&p, "K"), "a=1&b=2&key=K");
/// ```
pub fn string_to_sign(params: &Params, key: &str) -> String {
    with_key(canonical_string(params, &["sign"]), key)
}

/// [`string_to_sign`] with the key replaced by `***`, for logs and `--explain`.
pub fn string_to_sign_masked(params: &Params) -> String {
    with_key(canonical_string(params, &["sign"]), "***")
}

fn with_key(mut s: String, key: &str) -> String {
    if !s.is_empty() {
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(key);
    s
}

/// Signs `params` (any `sign` among them is ignored). Upper-case hex.
///
/// Note that `sign_type` takes part in the signature like every other
/// parameter: when it is sent, put it in `params` before signing.
pub fn sign(params: &Params, key: &str, sign_type: SignType) -> String {
    sign_type.sign_string(&string_to_sign(params, key), key)
}

/// Chooses the algorithm that a signed parameter set claims: `sign_type` when
/// present, otherwise the length of `sign` (32 hex = MD5, 64 hex = HMAC-SHA256),
/// since notifies often omit `sign_type` even for HMAC-SHA256 orders.
pub fn detect_sign_type(params: &Params) -> Result<SignType> {
    let sig = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("sign"))?;
    let by_len = match sig.len() {
        32 => Some(SignType::Md5),
        64 => Some(SignType::HmacSha256),
        _ => None,
    };
    match params.get("sign_type").filter(|s| !s.is_empty()) {
        Some(declared) => {
            let declared: SignType = declared.parse()?;
            if by_len.is_some_and(|l| l != declared) || by_len.is_none() {
                return Err(Error::mismatch(format!(
                    "sign_type is {declared} but the sign has {} characters (expected {})",
                    sig.len(),
                    declared.hex_len()
                )));
            }
            Ok(declared)
        }
        None => by_len.ok_or_else(|| {
            Error::invalid(
                "sign",
                format!(
                    "{} characters: expected 32 (MD5) or 64 (HMAC-SHA256) hex characters",
                    sig.len()
                ),
            )
        }),
    }
}

/// Verifies the `sign` of `params`, choosing the algorithm with
/// [`detect_sign_type`]; returns the algorithm that matched.
///
/// The comparison is constant-time and case-insensitive: a lower-case hex
/// `sign` is accepted (it is upper-cased before comparing), because some
/// senders lower-case their hex and the MAC is the same value.
pub fn verify(params: &Params, key: &str) -> Result<SignType> {
    let sign_type = detect_sign_type(params)?;
    verify_as(params, key, sign_type)?;
    Ok(sign_type)
}

/// Verifies the `sign` of `params` with a given algorithm (for merchants who
/// know which one they configured).
pub fn verify_as(params: &Params, key: &str, sign_type: SignType) -> Result<()> {
    let given = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("sign"))?;
    let expected = sign(params, key, sign_type);
    if constant_time_eq(given.to_ascii_uppercase().as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Error::mismatch(format!(
            "the {sign_type} sign does not match the parameters and key"
        )))
    }
}

/// Explains why `params` do not verify under `key`, for the CLI's `--explain`.
///
/// Returns an empty list when the signature verifies. Otherwise the first line
/// says what was expected (with the key masked), and each following line names
/// a common mistake that reproduces the received `sign` exactly: an empty
/// value that the signer included, the other algorithm, a `+` decoded to a
/// space, trimmed or HTML-escaped values, `sign_type` left out of (or added to)
/// the string, the key's case. When none of them does, the last line says so
/// (most likely a different API key, or a value changed in transit).
///
/// ```
/// use edgepay::params::params;
/// use edgepay::wechat::v2::{explain_mismatch, sign, SignType};
/// let mut p = params([("a", "1 2"), ("b", "x")]);
/// // The sender signed "1+2", but a form decoder turned the `+` into a space.
/// let sent = sign(&params([("a", "1+2"), ("b", "x")]), "K", SignType::Md5);
/// p.insert("sign".into(), sent);
/// let lines = explain_mismatch(&p, "K");
/// assert!(lines.iter().any(|l| l.contains("'+'")));
/// ```
pub fn explain_mismatch(params: &Params, key: &str) -> Vec<String> {
    if verify(params, key).is_ok() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let Some(given) = params.get("sign").filter(|s| !s.is_empty()) else {
        lines.push("there is no sign parameter to verify".to_string());
        return lines;
    };
    let given = given.to_ascii_uppercase();
    let declared = match detect_sign_type(params) {
        Ok(t) => t,
        Err(e) => {
            lines.push(format!("cannot choose the algorithm: {e}"));
            // Prefer what sign_type claims, else what the length suggests.
            match params.get("sign_type").map(|t| t.parse::<SignType>()) {
                Some(Ok(t)) => t,
                _ if given.len() == 64 => SignType::HmacSha256,
                _ => SignType::Md5,
            }
        }
    };
    lines.push(format!(
        "expected {declared} over: {}",
        string_to_sign_masked(params)
    ));

    let mut found = false;
    let mut try_string = |what: &str, s: &str, k: &str| {
        for t in [declared, declared.other()] {
            if constant_time_eq(t.sign_string(s, k).as_bytes(), given.as_bytes()) {
                lines.push(if t == declared {
                    format!("the sign matches if {what}")
                } else if what.is_empty() {
                    format!("the sign matches with {t}, not {declared}: the algorithm differs from the one declared")
                } else {
                    format!("the sign matches if {what}, with {t} instead of {declared}")
                });
                found = true;
                return;
            }
        }
    };

    // 1. Only the algorithm differs.
    let base = string_to_sign(params, key);
    try_string("", &base, key);

    let variants: Vec<(&str, Params)> = vec![
        (
            "the values are trimmed of surrounding whitespace",
            map_values(params, |v| v.trim().to_string()),
        ),
        (
            "every space is a '+' (a '+' was decoded to a space, e.g. by a form decoder)",
            map_values(params, |v| v.replace(' ', "+")),
        ),
        (
            "the values are HTML-unescaped (&amp; → &)",
            map_values(params, html_unescape),
        ),
        (
            "the values are HTML-escaped (& → &amp;)",
            map_values(params, html_escape),
        ),
        (
            "the values are URL-decoded",
            map_values(params, |v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            }),
        ),
    ];
    for (what, p) in &variants {
        if p != params {
            try_string(what, &string_to_sign(p, key), key);
        }
    }

    // Empty values included.
    if params.iter().any(|(k, v)| k != "sign" && v.is_empty()) {
        let mut s = String::new();
        for (k, v) in params.iter().filter(|(k, _)| k.as_str() != "sign") {
            if !s.is_empty() {
                s.push('&');
            }
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        try_string(
            "empty values are included in the string (the signer did not skip empty parameters)",
            &with_key(s, key),
            key,
        );
    }

    // sign_type left out of the string, or added to it.
    if params.contains_key("sign_type") {
        let mut p = params.clone();
        p.remove("sign_type");
        try_string(
            "sign_type is left out of the signed string (it must take part)",
            &string_to_sign(&p, key),
            key,
        );
    } else {
        for t in [SignType::Md5, SignType::HmacSha256] {
            let mut p = params.clone();
            p.insert("sign_type".into(), t.as_str().into());
            try_string(
                &format!("sign_type={t} is added to the string (it was signed but not sent)"),
                &string_to_sign(&p, key),
                key,
            );
        }
    }

    // Key case and whitespace.
    for (what, k) in [
        ("the API key is upper-cased", key.to_uppercase()),
        ("the API key is lower-cased", key.to_lowercase()),
        (
            "the API key is trimmed of whitespace",
            key.trim().to_string(),
        ),
    ] {
        if k != key {
            try_string(what, &string_to_sign(params, &k), &k);
        }
    }

    if !found {
        lines.push(
            "no common mistake reproduces the sign: most likely a different API key, or a value changed in transit"
                .to_string(),
        );
    }
    lines
}

fn map_values(params: &Params, f: impl Fn(&str) -> String) -> Params {
    params
        .iter()
        .map(|(k, v)| {
            if k == "sign" {
                (k.clone(), v.clone())
            } else {
                (k.clone(), f(v))
            }
        })
        .collect()
}

fn html_unescape(v: &str) -> String {
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn html_escape(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::params;

    #[test]
    fn sign_type_parse_display() {
        assert_eq!("md5".parse::<SignType>().unwrap(), SignType::Md5);
        assert_eq!(
            "hmac-sha256".parse::<SignType>().unwrap(),
            SignType::HmacSha256
        );
        assert_eq!(SignType::HmacSha256.to_string(), "HMAC-SHA256");
        assert_eq!(
            "SHA256".parse::<SignType>().unwrap_err().field(),
            Some("sign_type")
        );
    }

    #[test]
    fn empty_params_string() {
        assert_eq!(string_to_sign(&Params::new(), "K"), "key=K");
        assert_eq!(string_to_sign_masked(&params([("a", "1")])), "a=1&key=***");
    }

    #[test]
    fn declared_type_must_match_length() {
        let p = params([("a", "1"), ("sign_type", "MD5"), ("sign", &"A".repeat(64))]);
        assert_eq!(
            detect_sign_type(&p).unwrap_err().code(),
            "signature_mismatch"
        );
        let p = params([("a", "1"), ("sign", "ABC")]);
        assert_eq!(detect_sign_type(&p).unwrap_err().field(), Some("sign"));
    }
}
