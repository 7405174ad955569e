//! The "feed" functions of the fuzz targets: one per target, each handing
//! arbitrary bytes to every parser of one area of edgepay that reads outside
//! input, and checking a few invariants on what comes back.
//!
//! This file is shared: the libFuzzer targets in `fuzz_targets/` call it
//! (nightly, `cargo +nightly fuzz run <target>`), and the stable integration
//! test `tests/fuzz_corpus_replay.rs` includes it with `#[path]` and replays
//! the committed corpus through it in `make test`. It depends on nothing but
//! `edgepay`, `serde`, `serde_json` and the standard library so that both can build it.
//!
//! A feed function panics only when an invariant fails (that is a finding);
//! parser errors are the expected outcome of most inputs and are only checked
//! to be well-formed typed errors ([`check_error`]).
#![allow(dead_code)]

use edgepay::crypto::encoding::pem_blocks;
use edgepay::crypto::{Certificate, PrivateKey, PublicKey};
use edgepay::wechat::v3::{self, KeySet, SignedHeaders};
use edgepay::wechat::{v2, xml};
use edgepay::{alipay, Error};
use std::sync::OnceLock;

/// Every fuzz target, by name (the directory names under `fuzz/corpus/`).
pub const TARGETS: &[&str] = &[
    "wechat_xml",
    "wechat_v2",
    "wechat_v3_notify",
    "wechat_v3_responses",
    "alipay_notify",
    "alipay_response",
    "keys",
];

/// Runs the feed function of `target` on `data`. Unknown names panic.
pub fn feed(target: &str, data: &[u8]) {
    match target {
        "wechat_xml" => wechat_xml(data),
        "wechat_v2" => wechat_v2(data),
        "wechat_v3_notify" => wechat_v3_notify(data),
        "wechat_v3_responses" => wechat_v3_responses(data),
        "alipay_notify" => alipay_notify(data),
        "alipay_response" => alipay_response(data),
        "keys" => keys(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

// ---- fixed material ---------------------------------------------------------

/// The v2 API key the v2 targets verify with (WeChat Pay's signature doc example key).
pub const V2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// The v2 API key of the refund-notify `req_info` vector (wechatpy `tests/test_crypto.py`).
pub const V2_REFUND_KEY: &str = "OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk";

/// A 32-byte APIv3 key (wechatpay-java `TestConfig`).
pub const APIV3_KEY: &[u8; 32] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

/// The `now` the v3 targets verify at: the timestamp of the wechatpay-go notify
/// vector (`core/notify/notify_test.go`), so that seed verifies.
pub const V3_NOW: i64 = 1_624_523_846;

/// The serial the fixed v3 key set holds the wechatpay-go test key under (the
/// serial of that test's self-signed certificate).
pub const V3_SERIAL: &str = "D7CE59D1F522D701";

/// The public half of wechatpay-go's test key
/// (`core/auth/signers/sha256withrsa_signer_test.go`, stored there as a TESTING KEY).
pub const WECHATPAY_GO_TEST_PUB: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
8wIDAQAB
-----END PUBLIC KEY-----";

/// Alipay's sandbox public key of yansongda/pay (`tests/Cert/alipayPublicCert.crt`).
pub const ALIPAY_SANDBOX_PUB: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAl2PJhW04G1sClzEDwMw1
nxCjlyDTubFhn89bcEzP7GB/mFWnfIRXydM2qvDALpJggjeCIc3Orm0AobZOltic
1MGOBrFWcoOMyT7haV3X05jPa0qy6bMg5YJZy7/5mjTQL/3jPJM+TA3YTNV8wPUs
JgWINENAGFIakS4HTj3oGIuPvbMgL1z7Yd66TIYzfA4FRwa08XXaZLC/u+EJ8tUe
dhQhPjwWQBL0H+bhoqWZSIW3/xdMZrMf8RF9uM22Y3mE1DAnxseXrxjW2Kg0q/47
mOjXGBcrQUOeaAB+0SamdFu6LP9ylQOESg0bpFhgqhUWIT/QYJ1I8PQrVYy9QZkA
IwIDAQAB
-----END PUBLIC KEY-----";

fn v3_keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = KeySet::new();
        let key = PublicKey::parse(WECHATPAY_GO_TEST_PUB).expect("fixed test key parses");
        keys.insert_public_key(V3_SERIAL, key)
            .expect("fixed serial is valid");
        keys
    })
}

fn alipay_key() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| PublicKey::parse(ALIPAY_SANDBOX_PUB).expect("fixed test key parses"))
}

// ---- invariants on errors ---------------------------------------------------

/// Checks that an error is a usable typed error: a stable code, a message,
/// and a field name (when there is one) that is non-empty. Returns the code.
pub fn check_error(e: &Error) -> &'static str {
    let code = e.code();
    assert!(!code.is_empty(), "error without a code: {e:?}");
    let message = e.to_string();
    assert!(!message.is_empty(), "error without a message: {e:?}");
    if let Some(field) = e.field() {
        assert!(!field.is_empty(), "error names an empty field: {e:?}");
    }
    code
}

fn ok_or_check<T>(r: edgepay::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            check_error(&e);
            None
        }
    }
}

/// Splits a fuzz input into a header block and a body at the first blank
/// line (`\n\n`); without one, all of it is the body.
fn split_headers(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (&[], data),
    }
}

/// `Name: value` lines (lossy UTF-8: HTTP stacks hand over header values as text).
fn header_pairs(block: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(block)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

// ---- WeChat Pay v2 ----------------------------------------------------------

/// `wechat::xml::decode_bytes` / `decode`; a decoded document must survive
/// `encode` → `decode` unchanged.
pub fn wechat_xml(data: &[u8]) {
    let from_bytes = ok_or_check(xml::decode_bytes(data));
    if let Ok(text) = std::str::from_utf8(data) {
        let from_text = ok_or_check(xml::decode(text));
        assert_eq!(from_bytes, from_text, "decode_bytes and decode disagree");
    } else {
        assert!(from_bytes.is_none(), "non-UTF-8 input was accepted");
    }
    if let Some(params) = from_bytes {
        let encoded = xml::encode(&params);
        match xml::decode(&encoded) {
            Ok(again) => assert_eq!(again, params, "encode/decode round trip changed values"),
            Err(e) => {
                // encode documents its limits: XML names for keys and no
                // C0 control characters other than tab/CR/LF in values.
                let representable = params.iter().all(|(k, v)| {
                    !k.contains([
                        '<', '>', '/', ' ', '\t', '\r', '\n', '"', '\'', '=', '&', '!', '?',
                    ]) && !v
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
                });
                assert!(
                    !representable,
                    "encoded params do not decode: {e} in {encoded:?}"
                );
            }
        }
    }
}

/// The v2 parsers that read XML from the network: `parse_notify`,
/// `parse_response` and the typed responses, `parse_refund_notify` (with the
/// API key of the `req_info` vector), and `decrypt_refund_req_info` on the raw
/// text. A notify that verifies must carry a `sign` that matches.
pub fn wechat_v2(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // The HTTP layer hands over text; bytes go through decode_bytes.
        ok_or_check(xml::decode_bytes(data));
        return;
    };
    if let Some(n) = ok_or_check(v2::parse_notify(text, V2_KEY)) {
        assert!(v2::verify(&n.params, V2_KEY).is_ok());
        assert_eq!(n.params.get("out_trade_no"), Some(&n.out_trade_no));
    }
    ok_or_check(v2::parse_response(text, V2_KEY));
    ok_or_check(v2::UnifiedOrderResponse::parse(text, V2_KEY));
    ok_or_check(v2::OrderQueryResponse::parse(text, V2_KEY));
    ok_or_check(v2::RefundResponse::parse(text, V2_KEY));
    ok_or_check(v2::RefundQueryResponse::parse(text, V2_KEY));
    ok_or_check(v2::parse_refund_notify(text, V2_REFUND_KEY));
    ok_or_check(v2::decrypt_refund_req_info(V2_REFUND_KEY, text));
    // Decode without verifying, then feed the typed readers directly: they see
    // verified-but-odd parameters when a sender signs garbage.
    if let Ok(params) = xml::decode(text) {
        ok_or_check(v2::UnifiedOrderResponse::from_params(params.clone()));
        ok_or_check(v2::OrderQueryResponse::from_params(params.clone()));
        ok_or_check(v2::RefundResponse::from_params(params.clone()));
        ok_or_check(v2::RefundQueryResponse::from_params(params.clone()));
        ok_or_check(v2::detect_sign_type(&params));
        let _ = v2::string_to_sign_masked(&params);
    }
}

// ---- WeChat Pay v3 ----------------------------------------------------------

/// Headers (`Name: value` lines), a blank line, then the body:
/// `SignedHeaders::from_headers`, `v3::parse_notify` with the fixed key set at
/// [`V3_NOW`], `NotifyEnvelope::parse` + `decrypt_notify` with [`APIV3_KEY`],
/// `parse_certificates`; and the body encrypted under [`APIV3_KEY`] as the
/// resource of each event kind, so the typed payload parsers see it too.
pub fn wechat_v3_notify(data: &[u8]) {
    let (head, body) = split_headers(data);
    let pairs = header_pairs(head);
    if let Some(h) = ok_or_check(SignedHeaders::from_headers(pairs.iter().cloned())) {
        let probe = h.is_probe();
        let r = v3::parse_notify(v3_keys(), &h, body, APIV3_KEY, V3_NOW);
        if probe {
            assert!(
                matches!(r, Err(Error::SignatureProbe)),
                "a SIGNTEST probe was not refused as such: {r:?}"
            );
        }
        ok_or_check(r);
        ok_or_check(v3::verify(v3_keys(), &h, body, V3_NOW));
    }
    if let Some(env) = ok_or_check(v3::NotifyEnvelope::parse(body)) {
        ok_or_check(v3::decrypt_notify(env, APIV3_KEY));
    }
    ok_or_check(v3::parse_certificates(APIV3_KEY, body));
    // The payload parsers, past the AEAD.
    for event in ["TRANSACTION.SUCCESS", "REFUND.SUCCESS", "OTHER.EVENT"] {
        let Ok(resource) =
            v3::encrypt_resource(APIV3_KEY, "0123456789ab", "transaction", "t", body)
        else {
            panic!("encrypting a resource under a 32-byte key failed");
        };
        let env = v3::NotifyEnvelope {
            id: "id".into(),
            create_time: "2021-06-24T16:37:26+08:00".into(),
            event_type: event.into(),
            resource_type: "encrypt-resource".into(),
            summary: String::new(),
            resource,
        };
        if let Some(n) = ok_or_check(v3::decrypt_notify(env, APIV3_KEY)) {
            assert_eq!(
                n.plaintext.as_bytes(),
                body,
                "decrypted text differs from the plaintext"
            );
            if let v3::NotifyEvent::Transaction(t) = &n.event {
                let _ = t.check(&v3::ExpectedOrder {
                    appid: "wx",
                    mchid: "1",
                    out_trade_no: "A",
                    total: 1,
                });
            }
        }
    }
}

/// The v3 response parsers (`v3::requests`): the first two bytes are the HTTP
/// status (big-endian), the rest the body.
pub fn wechat_v3_responses(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (200, data),
    };
    let r = v3::check_response(status, body);
    assert_eq!(r.is_ok(), (200..300).contains(&status));
    ok_or_check(r);
    for kind in [
        v3::PrepayKind::Jsapi,
        v3::PrepayKind::App,
        v3::PrepayKind::Native,
        v3::PrepayKind::H5,
    ] {
        ok_or_check(v3::parse_prepay_response(kind, status, body));
    }
    ok_or_check(v3::parse_transaction_response(status, body));
    ok_or_check(v3::parse_refund_response(status, body));
    ok_or_check(v3::parse_empty_response(status, body));
}

// ---- Alipay -----------------------------------------------------------------

/// `alipay::notify::parse_form`, `verify_notify` / `verify_notify_v2` with the
/// sandbox public key, `check_notify` on whatever parsed.
pub fn alipay_notify(data: &[u8]) {
    if let Some(params) = ok_or_check(alipay::notify::parse_form(data)) {
        assert!(!params.is_empty());
        assert!(params.keys().all(|k| !k.is_empty()), "empty key accepted");
        let expected = alipay::notify::ExpectedOrder {
            app_id: "9021000122682882".into(),
            out_trade_no: "1703147160".into(),
            total_fen: 1,
            seller_id: Some("2088721003899159".into()),
        };
        ok_or_check(alipay::notify::check_notify(&params, &expected));
        for check in [
            alipay::notify::NotifyCheck::V1,
            alipay::notify::NotifyCheck::V2,
        ] {
            ok_or_check(alipay::notify::notify_message(&params, check));
        }
    }
    ok_or_check(alipay::notify::verify_notify(data, alipay_key()));
    ok_or_check(alipay::notify::verify_notify_v2(data, alipay_key()));
}

/// `alipay::response::extract` / `top_level_members` / `verify_response_any`
/// / `verify_response` on the raw text; every raw member value must be a slice
/// of the input that is itself valid JSON.
pub fn alipay_response(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // The API takes &str: the caller has already refused non-UTF-8.
    };
    if let Some(members) = ok_or_check(alipay::response::top_level_members(text)) {
        for (_, raw) in &members {
            assert!(is_slice_of(raw, text));
            assert!(
                serde_json_ok(raw),
                "a member's raw text is not a JSON value: {raw:?}"
            );
        }
    }
    if let Some(r) = ok_or_check(alipay::response::extract(text, None)) {
        assert!(is_slice_of(r.signed_text, text));
        ok_or_check(r.business_result());
    }
    ok_or_check(alipay::response::extract(text, Some("alipay.trade.query")));
    ok_or_check(alipay::verify_response_any(text, alipay_key()));
    ok_or_check(alipay::verify_response(
        text,
        "alipay.trade.query",
        alipay_key(),
    ));
}

/// True when `raw` is one JSON value. Two kinds of values match RFC 8259's
/// grammar, so the raw-text scanner keeps them, but cannot be represented: a
/// lone UTF-16 surrogate escape (`"\ude24"`, `"\udb24x"`) and a number out of `f64` range
/// (`2.5e322222`). Reading such a value later gives a typed error (fuzz
/// findings, see fuzz/README.md), so they are allowed here when the text is
/// otherwise syntactically one JSON value.
fn serde_json_ok(raw: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(_) => true,
        Err(e) => {
            let why = e.to_string();
            // A lone leading surrogate not followed by `\u…` reads as
            // "unexpected end of hex escape".
            (why.contains("surrogate")
                || why.contains("hex escape")
                || why.contains("number out of range"))
                && serde_json::from_str::<serde::de::IgnoredAny>(raw).is_ok()
        }
    }
}

/// True when `part` is a sub-slice of `whole` (not merely equal text).
fn is_slice_of(part: &str, whole: &str) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

// ---- keys -------------------------------------------------------------------

/// PEM / base64 / DER key material: `PrivateKey::parse`, `PublicKey::parse`,
/// `Certificate::parse_pem_bundle`, `pem_blocks`, and the `from_der` forms on
/// the raw bytes.
pub fn keys(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(blocks) = ok_or_check(pem_blocks("key", text)) {
            assert!(!blocks.is_empty());
        }
        ok_or_check(PrivateKey::parse(text));
        if let Some(k) = ok_or_check(PublicKey::parse(text)) {
            assert!(k.bits() > 0);
        }
        if let Some(certs) = ok_or_check(Certificate::parse_pem_bundle(text)) {
            assert!(!certs.is_empty());
            for c in &certs {
                let _ = (c.serial_hex(), c.serial_decimal(), c.issuer_attributes());
                let _ = (c.validity(), c.signature_algorithm_oid());
                ok_or_check(c.public_key());
                let _ = alipay::cert_sn(c);
            }
        }
        ok_or_check(alipay::root_cert_sn(text));
    }
    ok_or_check(PrivateKey::from_der(data));
    ok_or_check(PublicKey::from_der(data));
    if let Some(c) = ok_or_check(Certificate::from_der(data)) {
        let _ = (
            c.serial_hex(),
            c.serial_decimal(),
            c.issuer_attributes(),
            c.validity(),
        );
        ok_or_check(c.public_key());
    }
}
