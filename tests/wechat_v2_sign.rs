//! WeChat Pay v2 signatures: the official vector, a differential test against
//! node:crypto, property tests, and the `--explain` diagnostics.

mod common;
use common::*;
use edgepay::params::{params, Params};
use edgepay::wechat::v2::{
    detect_sign_type, explain_mismatch, sign, string_to_sign, verify, verify_as, SignType,
};
use proptest::prelude::*;
use serde_json::json;

fn to_params(v: &serde_json::Value) -> Params {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// Source: WeChat Pay API v2 signature rules (official doc) / WxJava SignUtilsTest.
#[test]
fn official_vector_md5_and_hmac() {
    let v = &vectors("wechat.json")["v2_sign_official"];
    let p = to_params(&v["params"]);
    let key = v["key"].as_str().unwrap();
    assert_eq!(
        string_to_sign(&p, key),
        v["string_to_sign"].as_str().unwrap()
    );
    assert_eq!(sign(&p, key, SignType::Md5), v["md5"].as_str().unwrap());
    assert_eq!(
        sign(&p, key, SignType::HmacSha256),
        v["hmac_sha256"].as_str().unwrap()
    );

    // Both verify, the algorithm chosen by length (no sign_type in the vector).
    for (t, field) in [
        (SignType::Md5, "md5"),
        (SignType::HmacSha256, "hmac_sha256"),
    ] {
        let mut signed = p.clone();
        signed.insert("sign".into(), v[field].as_str().unwrap().into());
        assert_eq!(verify(&signed, key).unwrap(), t);
        // A lower-case hex sign is accepted (documented decision).
        signed.insert("sign".into(), v[field].as_str().unwrap().to_lowercase());
        assert_eq!(verify(&signed, key).unwrap(), t);
        // Wrong key fails.
        assert_eq!(
            verify(&signed, "192006250b4c09247ec02edce69f6a2e")
                .unwrap_err()
                .code(),
            "signature_mismatch"
        );
    }
}

#[test]
fn sign_type_in_params_is_signed_and_chooses_the_algorithm() {
    let mut p = params([("appid", "wx1"), ("sign_type", "HMAC-SHA256")]);
    let s = sign(&p, "k", SignType::HmacSha256);
    assert!(string_to_sign(&p, "k").contains("sign_type=HMAC-SHA256"));
    p.insert("sign".into(), s);
    assert_eq!(detect_sign_type(&p).unwrap(), SignType::HmacSha256);
    assert_eq!(verify(&p, "k").unwrap(), SignType::HmacSha256);
    // Forcing the wrong algorithm fails.
    assert!(verify_as(&p, "k", SignType::Md5).is_err());
    // sign_type says MD5 but the sign is 64 chars: mismatch, not a panic.
    p.insert("sign_type".into(), "MD5".into());
    assert_eq!(verify(&p, "k").unwrap_err().code(), "signature_mismatch");
    // Unknown sign_type names the field.
    p.insert("sign_type".into(), "SHA1".into());
    assert_eq!(verify(&p, "k").unwrap_err().field(), Some("sign_type"));
    // Missing sign.
    assert_eq!(
        verify(&params([("a", "1")]), "k").unwrap_err().field(),
        Some("sign")
    );
    // Non-hex garbage of the right length fails as a mismatch.
    let p = params([("a", "1"), ("sign", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")]);
    assert_eq!(verify(&p, "k").unwrap_err().code(), "signature_mismatch");
}

/// Differential: 400 generated parameter sets, canonical string and both
/// signatures recomputed independently by node:crypto.
#[test]
fn differential_against_node_crypto() {
    let mut rng = common::Rng::new(2024);
    let mut cases = Vec::new();
    let mut inputs = Vec::new();
    for i in 0..400 {
        let mut p = tricky_params(&mut rng);
        if i % 5 == 0 {
            p.insert("sign".into(), tricky_value(&mut rng)); // must be ignored
        }
        if i % 7 == 0 {
            p.insert("sign_type".into(), "HMAC-SHA256".into());
        }
        let key = match i % 3 {
            0 => "192006250b4c09247ec02edce69f6a2d".to_string(),
            1 => tricky_value(&mut rng) + "k",
            _ => "ÄÖÜ key with spaces & = +".to_string(),
        };
        cases.push(json!({"op": "v2_sign", "params": p, "key": key}));
        inputs.push((p, key));
    }
    let out = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), inputs.len());
    for ((p, key), r) in inputs.iter().zip(results) {
        assert_eq!(string_to_sign(p, key), r["string"].as_str().unwrap());
        assert_eq!(sign(p, key, SignType::Md5), r["md5"].as_str().unwrap());
        assert_eq!(
            sign(p, key, SignType::HmacSha256),
            r["hmac"].as_str().unwrap()
        );
        // The oracle's signature verifies with ours.
        let mut signed = p.clone();
        signed.insert("sign".into(), r["hmac"].as_str().unwrap().into());
        if !p.contains_key("sign_type") {
            assert_eq!(verify(&signed, key).unwrap(), SignType::HmacSha256);
        } else {
            verify(&signed, key).unwrap();
        }
    }
}

fn arb_params() -> impl Strategy<Value = Params> {
    prop::collection::btree_map("[a-z_]{1,10}", "\\PC{0,20}", 1..8).prop_map(|mut m| {
        m.remove("sign");
        m.remove("sign_type");
        m.insert("nonce_str".into(), "n".into());
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sign_verify_round_trip_and_tamper(p in arb_params(), key in "[ -~]{1,40}", hmac in any::<bool>(), idx in any::<usize>(), tweak in 1u8..255) {
        let t = if hmac { SignType::HmacSha256 } else { SignType::Md5 };
        let mut signed = p.clone();
        signed.insert("sign".into(), sign(&p, &key, t));
        prop_assert_eq!(verify(&signed, &key).unwrap(), t);
        prop_assert!(explain_mismatch(&signed, &key).is_empty());

        // Change one byte of one non-empty value: verification fails.
        let non_empty: Vec<String> = p.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| k.clone()).collect();
        let k = &non_empty[idx % non_empty.len()];
        let mut bytes = signed[k].clone().into_bytes();
        let i = idx % bytes.len();
        bytes[i] ^= tweak;
        if let Ok(changed) = String::from_utf8(bytes) {
            let mut tampered = signed.clone();
            tampered.insert(k.clone(), changed);
            prop_assert!(verify(&tampered, &key).is_err());
        }
        // Change one character of the sign: fails.
        let mut s = signed["sign"].clone().into_bytes();
        let j = idx % s.len();
        s[j] = if s[j] == b'0' { b'1' } else { b'0' };
        let mut tampered = signed.clone();
        tampered.insert("sign".into(), String::from_utf8(s).unwrap());
        prop_assert_eq!(verify(&tampered, &key).unwrap_err().code(), "signature_mismatch");
    }
}

fn signed_with(signer_view: &Params, received: &Params, key: &str, t: SignType) -> Params {
    let mut p = received.clone();
    p.insert("sign".into(), sign(signer_view, key, t));
    p
}

#[test]
fn explain_finds_each_common_mistake() {
    let key = "192006250b4c09247ec02edce69f6a2d";
    let base = params([
        ("appid", "wx1"),
        ("body", "a b"),
        ("attach", "x&y"),
        ("nonce_str", "n1"),
    ]);

    // + decoded to a space.
    let sender = params([
        ("appid", "wx1"),
        ("body", "a+b"),
        ("attach", "x&y"),
        ("nonce_str", "n1"),
    ]);
    let lines = explain_mismatch(&signed_with(&sender, &base, key, SignType::Md5), key);
    assert!(lines[0].starts_with("expected MD5 over: "), "{lines:?}");
    assert!(
        lines[0].ends_with("&key=***"),
        "key must be masked: {lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(key)),
        "no secret in output"
    );
    assert!(lines.iter().any(|l| l.contains("'+'")), "{lines:?}");

    // Empty value included by the signer.
    let mut received = base.clone();
    received.insert("device_info".into(), String::new());
    // What a signer that keeps empty values hashes: appid, attach, body, device_info=, nonce_str.
    let with_empty =
        "appid=wx1&attach=x&y&body=a b&device_info=&nonce_str=n1&key=".to_string() + key;
    assert_ne!(string_to_sign(&received, key), with_empty);
    let mut p = received.clone();
    p.insert("sign".into(), SignType::Md5.sign_string(&with_empty, key));
    let lines = explain_mismatch(&p, key);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("empty values are included")),
        "{lines:?}"
    );

    // The other algorithm (HMAC sign but sign_type says... absent here: a 32-char
    // sign that is the MD5 while sign_type claims HMAC-SHA256 cannot have the
    // right length, so test the reverse: sign_type=MD5 declared, 32-char sign made
    // with MD5 over a string WITHOUT sign_type).
    let mut received = base.clone();
    received.insert("sign_type".into(), "MD5".into());
    let lines = explain_mismatch(&signed_with(&base, &received, key, SignType::Md5), key);
    assert!(
        lines.iter().any(|l| l.contains("sign_type is left out")),
        "{lines:?}"
    );

    // Signed with sign_type=HMAC-SHA256 in the string but not sent.
    let mut sender = base.clone();
    sender.insert("sign_type".into(), "HMAC-SHA256".into());
    let lines = explain_mismatch(&signed_with(&sender, &base, key, SignType::HmacSha256), key);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("sign_type=HMAC-SHA256 is added")),
        "{lines:?}"
    );

    // Trimmed values.
    let mut received = base.clone();
    received.insert("body".into(), " a b \n".into());
    let lines = explain_mismatch(&signed_with(&base, &received, key, SignType::Md5), key);
    assert!(lines.iter().any(|l| l.contains("trimmed")), "{lines:?}");

    // HTML-escaped on the way.
    let mut received = base.clone();
    received.insert("attach".into(), "x&amp;y".into());
    let lines = explain_mismatch(&signed_with(&base, &received, key, SignType::Md5), key);
    assert!(
        lines.iter().any(|l| l.contains("HTML-unescaped")),
        "{lines:?}"
    );

    // Key case.
    let lines = explain_mismatch(
        &signed_with(&base, &base, &key.to_uppercase(), SignType::Md5),
        key,
    );
    assert!(lines.iter().any(|l| l.contains("upper-cased")), "{lines:?}");

    // Wrong key: nothing matches.
    let lines = explain_mismatch(
        &signed_with(&base, &base, "another-key", SignType::Md5),
        key,
    );
    assert!(
        lines.last().unwrap().contains("different API key"),
        "{lines:?}"
    );

    // A correct sign: nothing to explain.
    assert!(
        explain_mismatch(&signed_with(&base, &base, key, SignType::HmacSha256), key).is_empty()
    );
    // No sign at all: said so.
    assert!(explain_mismatch(&base, key)[0].contains("no sign"));
}

#[test]
fn explain_other_algorithm() {
    // A 64-char HMAC sign but sign_type=MD5 declared in the params: the algorithm
    // check fails first; explain still finds that HMAC-SHA256 would match.
    let key = "k";
    let mut p = params([("a", "1"), ("sign_type", "MD5")]);
    let s = sign(&p, key, SignType::HmacSha256);
    p.insert("sign".into(), s);
    let lines = explain_mismatch(&p, key);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("matches with HMAC-SHA256, not MD5")),
        "{lines:?}"
    );
}
