//! Asynchronous notifications (`notify_url`): a form body POSTed by Alipay.
//!
//! The body is decoded exactly once (`+` is a space, `%2B` a plus: decoding
//! twice breaks subjects with a `+`), the signature is checked (rsaCheckV1:
//! without `sign` and `sign_type`; rsaCheckV2: keeping `sign_type`), and then
//! the notify must match the merchant's stored order ([`check_notify`]).
//! Reply exactly [`NOTIFY_SUCCESS`] once the notify is stored; anything else
//! makes Alipay retry.

use super::sign::SignType;
use super::time::yuan_to_fen;
use crate::crypto::encoding::b64decode;
use crate::crypto::{RsaHash, Verifier};
use crate::error::{quoted, Error, Format, Result};
use crate::params::{canonical_string, Params};

/// The reply that acknowledges a notify (exactly these 7 bytes).
pub const NOTIFY_SUCCESS: &str = "success";
/// A reply that makes Alipay retry later.
pub const NOTIFY_FAIL: &str = "fail";

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one form component: `+` → space, `%XX` → byte; strict about `%`.
fn decode_component(raw: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_val);
                let lo = raw.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        return Err(Error::malformed(
                            Format::Form,
                            format!("'%' at byte {i} is not followed by two hex digits"),
                        ))
                    }
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|e| {
        Error::malformed(
            Format::Form,
            format!(
                "a decoded value is not UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Decodes an `application/x-www-form-urlencoded` body exactly once, strictly:
/// `+` is a space, `%XX` a byte, a lone `%` or non-UTF-8 text is an error, a
/// repeated key is an error, an empty key is an error. Empty pairs (`&&`) are skipped.
///
/// ```
/// let p = edgepay::alipay::notify::parse_form(b"subject=a%2Bb+c&x=").unwrap();
/// assert_eq!(p["subject"], "a+b c");
/// assert_eq!(p["x"], "");
/// assert!(edgepay::alipay::notify::parse_form(b"a=1&a=2").is_err());
/// ```
pub fn parse_form(body: &[u8]) -> Result<Params> {
    let mut params = Params::new();
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        let key = decode_component(k)?;
        if key.is_empty() {
            return Err(Error::malformed(Format::Form, "a pair has an empty key"));
        }
        let value = decode_component(v)?;
        if params.contains_key(&key) {
            return Err(Error::malformed(
                Format::Form,
                format!("key {} appears more than once", quoted(&key)),
            ));
        }
        params.insert(key, value);
    }
    if params.is_empty() {
        return Err(Error::malformed(Format::Form, "the body has no parameters"));
    }
    Ok(params)
}

/// Which string a notify signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyCheck {
    /// rsaCheckV1 (payment notifies): without `sign` and `sign_type`.
    V1,
    /// rsaCheckV2 (some other notify types): without `sign` only.
    V2,
}

/// Step one of notify verification: the exact text, the signature bytes and
/// the hash (from `sign_type`, RSA2 when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyMessage {
    /// The canonical string the signature covers.
    pub message: String,
    /// The decoded `sign`.
    pub signature: Vec<u8>,
    /// The hash named by `sign_type`.
    pub hash: RsaHash,
}

/// Builds the [`NotifyMessage`] of decoded notify parameters.
pub fn notify_message(params: &Params, check: NotifyCheck) -> Result<NotifyMessage> {
    let sign = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::missing("sign"))?;
    let sign_type = match params.get("sign_type").filter(|s| !s.is_empty()) {
        Some(s) => s.parse::<SignType>()?,
        None => SignType::Rsa2,
    };
    let exclude: &[&str] = match check {
        NotifyCheck::V1 => &["sign", "sign_type"],
        NotifyCheck::V2 => &["sign"],
    };
    Ok(NotifyMessage {
        message: canonical_string(params, exclude),
        signature: b64decode("sign", sign)?,
        hash: sign_type.hash(),
    })
}

/// Verifies decoded notify parameters; returns them on success.
pub fn verify_notify_params(
    params: Params,
    verifier: &impl Verifier,
    check: NotifyCheck,
) -> Result<Params> {
    let m = notify_message(&params, check)?;
    verifier
        .verify(m.hash, m.message.as_bytes(), &m.signature)
        .map_err(|e| match e {
            Error::SignatureMismatch { .. } => Error::mismatch(
                "the notify signature does not match: check the Alipay public key (not the app key) \
                 and that the body was form-decoded exactly once",
            ),
            other => other,
        })?;
    Ok(params)
}

/// Decodes the raw notify body once and verifies it (rsaCheckV1: `sign` and
/// `sign_type` are left out of the signed string). Returns every decoded
/// parameter. Then call [`check_notify`].
pub fn verify_notify(raw_form_body: &[u8], verifier: &impl Verifier) -> Result<Params> {
    verify_notify_params(parse_form(raw_form_body)?, verifier, NotifyCheck::V1)
}

/// As [`verify_notify`], but rsaCheckV2: `sign_type` stays in the signed string.
pub fn verify_notify_v2(raw_form_body: &[u8], verifier: &impl Verifier) -> Result<Params> {
    verify_notify_params(parse_form(raw_form_body)?, verifier, NotifyCheck::V2)
}

/// What the merchant's stored order says, to check a notify against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedOrder {
    /// The merchant's `app_id`.
    pub app_id: String,
    /// The order's `out_trade_no`.
    pub out_trade_no: String,
    /// The stored amount in fen; `total_amount` must equal it exactly.
    pub total_fen: u64,
    /// The merchant's `seller_id` (PID, `2088…`), when known: checked if `Some`.
    pub seller_id: Option<String>,
}

fn expect_eq(params: &Params, field: &str, expected: &str) -> Result<()> {
    let actual = params
        .get(field)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing(field))?;
    if actual != expected {
        return Err(Error::OrderMismatch {
            field: field.into(),
            expected: expected.into(),
            actual: actual.clone(),
        });
    }
    Ok(())
}

/// Checks a verified notify against the stored order: `app_id`,
/// `out_trade_no`, `total_amount` (decimal yuan compared exactly with the
/// stored fen; malformed amounts are rejected), `seller_id` when expected,
/// and `trade_status` `TRADE_SUCCESS` or `TRADE_FINISHED`.
pub fn check_notify(params: &Params, expected: &ExpectedOrder) -> Result<()> {
    expect_eq(params, "app_id", &expected.app_id)?;
    expect_eq(params, "out_trade_no", &expected.out_trade_no)?;
    let amount = params
        .get("total_amount")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing("total_amount"))?;
    let fen = yuan_to_fen("total_amount", amount)?;
    if fen != expected.total_fen {
        return Err(Error::OrderMismatch {
            field: "total_amount".into(),
            expected: super::time::fen_to_yuan(expected.total_fen),
            actual: amount.clone(),
        });
    }
    if let Some(seller) = &expected.seller_id {
        expect_eq(params, "seller_id", seller)?;
    }
    match params.get("trade_status").map(String::as_str) {
        Some("TRADE_SUCCESS") | Some("TRADE_FINISHED") => Ok(()),
        None | Some("") => Err(Error::missing("trade_status")),
        Some(other) => Err(Error::invalid(
            "trade_status",
            format!(
                "{} is not a paid state (TRADE_SUCCESS or TRADE_FINISHED)",
                quoted(other)
            ),
        )),
    }
}

/// For `--explain`: when a notify does not verify, tries the usual mistakes
/// and says which one makes the signature match, or `None` when none does
/// (wrong key, or the content really was changed).
///
/// Tried: rsaCheckV2 (`sign_type` kept) instead of V1 and vice versa; the
/// other hash (RSA vs RSA2); spaces put back to `+` in one value (the body
/// was form-decoded twice before it reached the verifier; up to 10 spaces per
/// value are tried); empty values signed.
pub fn diagnose_notify(params: &Params, verifier: &impl Verifier) -> Option<String> {
    let sign = params.get("sign")?;
    let signature = b64decode("sign", sign).ok()?;
    let declared = params
        .get("sign_type")
        .and_then(|s| s.parse::<SignType>().ok())
        .unwrap_or_default();
    let other = match declared {
        SignType::Rsa2 => SignType::Rsa,
        SignType::Rsa => SignType::Rsa2,
    };
    let ok = |text: &str, st: SignType| {
        verifier
            .verify(st.hash(), text.as_bytes(), &signature)
            .is_ok()
    };
    let v1 = canonical_string(params, &["sign", "sign_type"]);
    let v2 = canonical_string(params, &["sign"]);
    if ok(&v1, declared) {
        return Some("the signature matches rsaCheckV1 (without sign and sign_type)".into());
    }
    if ok(&v2, declared) {
        return Some("the signature covers sign_type too: verify with rsaCheckV2".into());
    }
    if ok(&v1, other) || ok(&v2, other) {
        return Some(format!(
            "the signature was made with {other}, but sign_type says {declared}"
        ));
    }
    // A value decoded twice lost its '+' signs to spaces: for each value with
    // a few spaces, try putting '+' back at each subset of them.
    for (key, value) in params.iter().filter(|(k, _)| *k != "sign") {
        let spaces: Vec<usize> = value.match_indices(' ').map(|(i, _)| i).collect();
        if spaces.is_empty() || spaces.len() > 10 {
            continue;
        }
        for mask in 1u32..(1 << spaces.len()) {
            let mut bytes = value.clone().into_bytes();
            for (bit, &at) in spaces.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    bytes[at] = b'+';
                }
            }
            let mut fixed = params.clone();
            fixed.insert(key.clone(), String::from_utf8_lossy(&bytes).into_owned());
            if ok(&canonical_string(&fixed, &["sign", "sign_type"]), declared)
                || ok(&canonical_string(&fixed, &["sign"]), declared)
            {
                return Some(format!(
                    "in {key}, a '+' was decoded to a space: the body was form-decoded twice; \
                     pass the raw body"
                ));
            }
        }
    }
    let with_empty: String = params
        .iter()
        .filter(|(k, _)| *k != "sign" && *k != "sign_type")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    if ok(&with_empty, declared) {
        return Some("the signer included empty values, which the protocol leaves out".into());
    }
    None
}
