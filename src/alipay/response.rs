//! Synchronous gateway responses: `{"<method>_response":{…},"alipay_cert_sn":"…","sign":"…"}`.
//!
//! The signature covers the raw text of the `…_response` value exactly as it
//! came over the wire (pitfall 1: never re-serialise). This module scans the
//! top-level object itself (respecting strings and escapes) to find that raw
//! text, then checks it, then maps `code != "10000"` to [`Error::Upstream`].
//! With content encryption (`encrypt_type=AES`) the value is a JSON string of
//! the AES ciphertext: the signature covers that string as sent (quotes
//! included), and the node is decrypted after the check
//! ([`verify_encrypted_response`]).

use super::aes::aes_decrypt;
use super::sign::SignType;
use crate::crypto::encoding::b64decode;
use crate::crypto::Verifier;
use crate::error::{quoted, Error, Format, Result, UpstreamError};
use serde_json::Value;

/// The response node's name for a method: `alipay.trade.query` → `alipay_trade_query_response`.
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::malformed(Format::Json, reason)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<()> {
        self.ws();
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(malformed(format!(
                "expected '{}' at byte {}",
                b as char, self.pos
            )))
        }
    }

    /// Skips a string starting at `pos` (which must be '"'); returns its raw slice.
    fn string(&mut self) -> Result<&'a str> {
        let start = self.pos;
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(malformed(format!("expected a string at byte {start}")));
        }
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(malformed("unterminated string")),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        self.text
            .get(start..self.pos)
            .ok_or_else(|| malformed("unterminated string"))
    }

    /// Skips any value; returns its raw slice.
    fn value(&mut self) -> Result<&'a str> {
        self.ws();
        let start = self.pos;
        match self.bytes.get(self.pos) {
            None => return Err(malformed("unexpected end of input")),
            Some(b'"') => {
                self.string()?;
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.bytes.get(self.pos) {
                        None => return Err(malformed("unbalanced braces")),
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                    self.pos += 1;
                }
            }
            Some(_) => {
                while !matches!(
                    self.bytes.get(self.pos),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
            }
        }
        let raw = self
            .text
            .get(start..self.pos)
            .ok_or_else(|| malformed("value cut inside a character"))?;
        // Validate the value itself (catches mismatched brackets, bad literals).
        serde_json::from_str::<serde::de::IgnoredAny>(raw)
            .map_err(|e| malformed(format!("bad value at byte {start}: {e}")))?;
        Ok(raw)
    }
}

/// The top-level members of a JSON object, as (decoded key, raw value text), in order.
/// Errors on anything but one object, and on a repeated key.
pub fn top_level_members(raw_json: &str) -> Result<Vec<(String, &str)>> {
    let mut s = Scanner {
        text: raw_json,
        bytes: raw_json.as_bytes(),
        pos: 0,
    };
    s.expect(b'{')?;
    let mut members: Vec<(String, &str)> = Vec::new();
    // Seen keys in a set: a linear scan per member made a 10 MB body of tiny
    // members take hours (quadratic; see HOSTILE.md).
    let mut seen = std::collections::HashSet::new();
    s.ws();
    if s.bytes.get(s.pos) == Some(&b'}') {
        s.pos += 1;
    } else {
        loop {
            s.ws();
            let raw_key = s.string()?;
            let key: String =
                serde_json::from_str(raw_key).map_err(|e| malformed(format!("bad key: {e}")))?;
            s.expect(b':')?;
            let value = s.value()?;
            if !seen.insert(key.clone()) {
                return Err(malformed(format!(
                    "key {} appears more than once",
                    quoted(&key)
                )));
            }
            members.push((key, value));
            s.ws();
            match s.bytes.get(s.pos) {
                Some(b',') => s.pos += 1,
                Some(b'}') => {
                    s.pos += 1;
                    break;
                }
                _ => return Err(malformed(format!("expected ',' or '}}' at byte {}", s.pos))),
            }
        }
    }
    s.ws();
    if s.pos != s.bytes.len() {
        return Err(malformed(format!("trailing data at byte {}", s.pos)));
    }
    Ok(members)
}

/// Step one of response verification: the raw signed text and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedResponse<'a> {
    /// The node's name, e.g. `alipay_trade_query_response` or `error_response`.
    pub node: String,
    /// The node's raw JSON text: exactly what the signature covers. For an
    /// AES-encrypted answer (`encrypt_type=AES` requests) a JSON string,
    /// quotes included, as the official SDKs verify it.
    pub signed_text: &'a str,
    /// The base64 `sign`, when present.
    pub sign: Option<String>,
    /// `alipay_cert_sn` (certificate mode): which Alipay certificate signed it.
    pub alipay_cert_sn: Option<String>,
}

fn string_member(members: &[(String, &str)], name: &str) -> Result<Option<String>> {
    match members.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, raw)) => serde_json::from_str::<String>(raw)
            .map(Some)
            .map_err(|_| Error::invalid(name, "must be a JSON string")),
    }
}

/// Finds the response node: `<method>_response` (or `error_response`) when
/// `method` is given; otherwise the single top-level key ending in `_response`.
pub fn extract<'a>(raw_json: &'a str, method: Option<&str>) -> Result<SignedResponse<'a>> {
    let members = top_level_members(raw_json)?;
    let found = match method {
        Some(m) => {
            let key = response_key(m);
            members
                .iter()
                .find(|(k, _)| *k == key)
                .or_else(|| members.iter().find(|(k, _)| k == "error_response"))
                .ok_or_else(|| Error::missing(key))?
        }
        None => {
            let mut nodes = members.iter().filter(|(k, _)| k.ends_with("_response"));
            let first = nodes.next().ok_or_else(|| Error::missing("*_response"))?;
            if nodes.next().is_some() {
                return Err(malformed("more than one *_response node"));
            }
            first
        }
    };
    if !found.1.starts_with('{') && !found.1.starts_with('"') {
        return Err(Error::invalid(
            found.0.clone(),
            "must be a JSON object (or, AES-encrypted, a JSON string)",
        ));
    }
    Ok(SignedResponse {
        node: found.0.clone(),
        signed_text: found.1,
        sign: string_member(&members, "sign")?.filter(|s| !s.is_empty()),
        alipay_cert_sn: string_member(&members, "alipay_cert_sn")?.filter(|s| !s.is_empty()),
    })
}

impl SignedResponse<'_> {
    /// Verifies the signature over [`signed_text`](Self::signed_text).
    pub fn verify(&self, verifier: &impl Verifier, sign_type: SignType) -> Result<()> {
        let sign = self.sign.as_deref().ok_or_else(|| Error::missing("sign"))?;
        let signature = b64decode("sign", sign)?;
        verifier
            .verify(sign_type.hash(), self.signed_text.as_bytes(), &signature)
            .map_err(|e| match e {
                Error::SignatureMismatch { .. } => Error::mismatch(format!(
                    "the signature over the raw {} text does not match the Alipay public key",
                    self.node
                )),
                other => other,
            })
    }

    /// Whether the node is AES-encrypted (a JSON string instead of an object).
    pub fn is_encrypted(&self) -> bool {
        self.signed_text.starts_with('"')
    }

    /// The node's JSON text: decrypted with `aes_key_b64` when it is
    /// AES-encrypted, as is otherwise (the gateway answers some errors, e.g. a
    /// bad signature, in clear even to an encrypted request). Verify first.
    pub fn node_text(&self, aes_key_b64: Option<&str>) -> Result<String> {
        if !self.is_encrypted() {
            return Ok(self.signed_text.to_string());
        }
        let Some(key) = aes_key_b64 else {
            return Err(Error::invalid(
                self.node.clone(),
                "is AES-encrypted (encrypt_type=AES): decrypt it with the app's AES key",
            ));
        };
        let ciphertext: String = serde_json::from_str(self.signed_text)
            .map_err(|_| malformed(format!("{}: not a JSON string", self.node)))?;
        aes_decrypt(key, &ciphertext)
    }

    /// Parses the node and maps `code != "10000"` to [`Error::Upstream`]. An
    /// encrypted node is an error here: use [`node_text`](Self::node_text).
    pub fn business_result(&self) -> Result<Value> {
        business_result(&self.node_text(None)?)
    }
}

/// Parses a response node's text; `code` `10000` → the node, other codes → [`Error::Upstream`].
pub fn business_result(node_text: &str) -> Result<Value> {
    let node: Value =
        serde_json::from_str(node_text).map_err(|e| malformed(format!("response node: {e}")))?;
    let text = |k: &str| node.get(k).and_then(Value::as_str).map(str::to_string);
    match text("code").as_deref() {
        Some("10000") => Ok(node),
        None => Err(Error::missing("code")),
        Some(code) => Err(Error::Upstream(UpstreamError {
            code: code.to_string(),
            message: text("msg").unwrap_or_default(),
            sub_code: text("sub_code"),
            sub_message: text("sub_msg"),
        })),
    }
}

/// Checks the signature, then the node (decrypted with `aes_key_b64` when
/// AES-encrypted) and its `code`; returns the node's JSON text and its value.
fn verify_extracted_text(
    resp: SignedResponse<'_>,
    verifier: &impl Verifier,
    sign_type: SignType,
    aes_key_b64: Option<&str>,
) -> Result<(String, Value)> {
    if resp.sign.is_none() {
        // The gateway leaves some errors (e.g. a bad app_id) unsigned: report the
        // error, but never accept an unsigned success.
        if let Err(e @ Error::Upstream(_)) = resp.business_result() {
            return Err(e);
        }
        return Err(Error::missing("sign"));
    }
    resp.verify(verifier, sign_type)?;
    let text = resp.node_text(aes_key_b64)?;
    let value = business_result(&text)?;
    Ok((text, value))
}

fn verify_extracted(
    resp: SignedResponse<'_>,
    verifier: &impl Verifier,
    sign_type: SignType,
    aes_key_b64: Option<&str>,
) -> Result<Value> {
    Ok(verify_extracted_text(resp, verifier, sign_type, aes_key_b64)?.1)
}

/// The checks of [`verify_response_with`] (and, with `aes_key_b64`, of
/// [`verify_encrypted_response`]), returning the business node's JSON text
/// (decrypted) instead of a parsed value: for bindings that hand the text on.
pub fn verified_node_text(
    raw_json: &str,
    method: Option<&str>,
    verifier: &impl Verifier,
    sign_type: SignType,
    aes_key_b64: Option<&str>,
) -> Result<String> {
    Ok(verify_extracted_text(extract(raw_json, method)?, verifier, sign_type, aes_key_b64)?.0)
}

/// Verifies a raw gateway response for `method` (RSA2) and returns its
/// `…_response` node; business errors become [`Error::Upstream`].
///
/// An `error_response` without `sign` yields its [`Error::Upstream`]
/// unverified; a success without `sign` is an error.
pub fn verify_response(raw_json: &str, method: &str, verifier: &impl Verifier) -> Result<Value> {
    verify_extracted(
        extract(raw_json, Some(method))?,
        verifier,
        SignType::Rsa2,
        None,
    )
}

/// As [`verify_response`], without knowing the method: the single
/// `*_response` node is used. Returns the node's name too.
pub fn verify_response_any(raw_json: &str, verifier: &impl Verifier) -> Result<(String, Value)> {
    let resp = extract(raw_json, None)?;
    let node = resp.node.clone();
    Ok((
        node,
        verify_extracted(resp, verifier, SignType::Rsa2, None)?,
    ))
}

/// The general form: `method` optional (as in [`verify_response_any`]) and
/// the sign type of the app (legacy `RSA` apps get SHA1withRSA responses).
pub fn verify_response_with(
    raw_json: &str,
    method: Option<&str>,
    verifier: &impl Verifier,
    sign_type: SignType,
) -> Result<Value> {
    verify_extracted(extract(raw_json, method)?, verifier, sign_type, None)
}

/// Verifies the answer to a request sent with content encryption
/// ([`BizRequest::to_encrypted_params`](super::request::BizRequest::to_encrypted_params)):
/// the signature over the node's raw text (for an encrypted node the JSON
/// string, quotes included), then the node decrypted with `aes_key_b64`
/// (AES-128-CBC) and its `code` checked. A node in clear (gateway errors) is
/// accepted as in [`verify_response_with`].
pub fn verify_encrypted_response(
    raw_json: &str,
    method: Option<&str>,
    verifier: &impl Verifier,
    sign_type: SignType,
    aes_key_b64: &str,
) -> Result<Value> {
    verify_extracted(
        extract(raw_json, method)?,
        verifier,
        sign_type,
        Some(aes_key_b64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_raw_text() {
        let raw = r#" { "a_response" : {"x":"}\"{","y":[1,{"z":2}]} , "alipay_cert_sn":"sn","sign" :"c2ln" } "#;
        let m = top_level_members(raw).unwrap();
        assert_eq!(m[0].0, "a_response");
        assert_eq!(m[0].1, r#"{"x":"}\"{","y":[1,{"z":2}]}"#);
        let r = extract(raw, None).unwrap();
        assert_eq!(r.sign.as_deref(), Some("c2ln"));
        assert_eq!(r.alipay_cert_sn.as_deref(), Some("sn"));
        assert_eq!(extract(raw, Some("a")).unwrap().node, "a_response");
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "[]",
            "{",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{\"a\":1,\"a\":2}",
            "{\"a_response\":{\"b\":]}}",
            "{\"a\":tru}",
            "{\"a\":\"\\",
            "\"x\"",
        ] {
            assert!(top_level_members(bad).is_err(), "{bad:?}");
        }
        assert!(extract(r#"{"a_response":{},"b_response":{}}"#, None).is_err());
        assert!(extract(r#"{"a_response":1,"sign":"s"}"#, None).is_err());
        // A string node is an AES-encrypted answer: found, but not readable without the key.
        let enc = extract(r#"{"a_response":"x","sign":"s"}"#, None).unwrap();
        assert!(enc.is_encrypted());
        assert_eq!(enc.signed_text, "\"x\"");
        let e = enc.business_result().unwrap_err();
        assert_eq!(e.field(), Some("a_response"));
        assert!(e.to_string().contains("AES-encrypted"), "{e}");
        assert_eq!(
            extract(r#"{"x":1}"#, Some("alipay.trade.query"))
                .unwrap_err()
                .field(),
            Some("alipay_trade_query_response")
        );
    }

    #[test]
    fn codes() {
        assert!(business_result(r#"{"code":"10000","msg":"Success"}"#).is_ok());
        let e = business_result(r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"no"}"#).unwrap_err();
        match e {
            Error::Upstream(u) => {
                assert_eq!(u.code, "40004");
                assert_eq!(u.sub_code.as_deref(), Some("ACQ.TRADE_NOT_EXIST"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(business_result("{}").unwrap_err().field(), Some("code"));
    }
}
