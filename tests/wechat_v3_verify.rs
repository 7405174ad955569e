//! WeChat Pay API v3 response/notify verification over raw body bytes.
//!
//! Vector: wechatpay-go core/notify/notify_test.go (TestHandler_ParseNotifyRequest):
//! the raw body `wechatpay-go-notify-body.json`, headers Wechatpay-Timestamp 1624523846,
//! Wechatpay-Nonce EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz, Wechatpay-Serial D7CE59D1F522D701 and
//! the published Wechatpay-Signature below, made with the wechatpay-go test key (whose
//! self-signed certificate, serial D7CE59D1F522D701, is in that test too).
//! Oracle: node:crypto signs the raw file bytes and must reproduce the published signature.

mod common;
use common::*;
use edgepay::crypto::{Certificate, PublicKey};
use edgepay::wechat::v3::verify::{precheck, KeySource};
use edgepay::wechat::v3::*;
use edgepay::Error;
use proptest::prelude::{any, prop, prop_assert, prop_assert_eq, proptest, ProptestConfig};
use serde_json::json;

const TS: &str = "1624523846";
const TS_N: i64 = 1624523846;
const NONCE: &str = "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz";
const SERIAL: &str = "D7CE59D1F522D701";
/// Published in wechatpay-go core/notify/notify_test.go.
const PUBLISHED_SIGNATURE: &str = "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";
/// The platform certificate of that test (wechatpay-go core/notify/notify_test.go).
const GO_TEST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----";

fn raw_body() -> Vec<u8> {
    std::fs::read(vector_path("wechatpay-go-notify-body.json")).unwrap()
}

fn public() -> PublicKey {
    PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap()
}

fn keys() -> KeySet {
    let mut k = KeySet::new();
    k.insert_certificate_pem(GO_TEST_CERT).unwrap();
    k
}

fn headers(signature: &str) -> SignedHeaders {
    SignedHeaders {
        timestamp: TS.into(),
        nonce: NONCE.into(),
        signature: signature.into(),
        serial: SERIAL.into(),
        signature_type: Some("WECHATPAY2-SHA256-RSA2048".into()),
    }
}

#[test]
fn node_reproduces_the_published_signature_over_the_raw_bytes() {
    let out = oracle(
        "wechat_v3.mjs",
        &json!({"cases": [{"op": "sign_notify", "timestamp": TS, "nonce": NONCE,
            "body_b64": edgepay::crypto::encoding::b64encode(raw_body()),
            "key_pem": vector_text("wechatpay-go-test-key.pem")}]}),
    );
    assert_eq!(out[0]["signature"], json!(PUBLISHED_SIGNATURE));
}

#[test]
fn certificate_serial_is_read_from_the_certificate() {
    let mut k = KeySet::new();
    assert_eq!(k.insert_certificate_pem(GO_TEST_CERT).unwrap(), SERIAL);
    assert_eq!(k.serials(), vec![SERIAL.to_string()]);
    assert_eq!(k.get(SERIAL), Some(&public()));
    assert_eq!(k.source(SERIAL), Some(KeySource::Certificate));
}

#[test]
fn accepts_the_published_notify_inside_the_window() {
    let k = keys();
    let body = raw_body();
    for now in [TS_N, TS_N + 299, TS_N - 299] {
        verify(&k, &headers(PUBLISHED_SIGNATURE), &body, now).unwrap();
    }
    // Single-key form (the CLI's v3-verify).
    verify_with_key(&public(), &headers(PUBLISHED_SIGNATURE), &body, TS_N).unwrap();
    // The header is optional.
    let mut h = headers(PUBLISHED_SIGNATURE);
    h.signature_type = None;
    verify(&k, &h, &body, TS_N).unwrap();
}

#[test]
fn rejects_outside_the_300s_window() {
    let k = keys();
    for now in [TS_N + 300, TS_N - 300, TS_N + 86_400, i64::MIN, i64::MAX] {
        let e = verify(&k, &headers(PUBLISHED_SIGNATURE), &raw_body(), now).unwrap_err();
        assert_eq!(
            e,
            Error::TimestampOutOfWindow {
                timestamp: TS_N,
                now,
                window: 300
            }
        );
        assert!(e.is_verification_failure());
    }
}

#[test]
fn rejects_a_changed_byte() {
    let mut body = raw_body();
    let i = body.iter().position(|&b| b == b'P').unwrap(); // PAYSCORE → QAYSCORE
    body[i] = b'Q';
    let e = verify(&keys(), &headers(PUBLISHED_SIGNATURE), &body, TS_N).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    // a trailing newline is a changed body too
    let mut body = raw_body();
    body.push(b'\n');
    assert_eq!(
        verify(&keys(), &headers(PUBLISHED_SIGNATURE), &body, TS_N)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
}

#[test]
fn rejects_a_reserialised_body() {
    // The classic mistake: parse into a struct, serialise again, verify that.
    let raw = raw_body();
    let typed = NotifyEnvelope::parse(&raw).unwrap();
    let reserialised = serde_json::to_vec(&typed).unwrap();
    assert_ne!(reserialised, raw, "a typed round trip changes the bytes");
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&raw).unwrap())
            .unwrap();
    for body in [reserialised, pretty] {
        let e = verify(&keys(), &headers(PUBLISHED_SIGNATURE), &body, TS_N).unwrap_err();
        assert_eq!(e.code(), "signature_mismatch");
    }
}

#[test]
fn signtest_probes_fail_before_any_crypto_or_lookup() {
    let probe = format!("WECHATPAY/SIGNTEST/{PUBLISHED_SIGNATURE}");
    assert_eq!(
        verify(&keys(), &headers(&probe), &raw_body(), TS_N).unwrap_err(),
        Error::SignatureProbe
    );
    // Even with no keys, a stale timestamp, an unknown serial and a garbage body.
    let mut h = headers("WECHATPAY/SIGNTEST/not base64 at all");
    h.serial = "UNKNOWN".into();
    h.timestamp = "nope".into();
    assert_eq!(
        verify(&KeySet::new(), &h, b"\xff\xfe", 0).unwrap_err(),
        Error::SignatureProbe
    );
    assert!(h.is_probe());
}

#[test]
fn header_errors_name_the_header() {
    let body = raw_body();
    let mut h = headers(PUBLISHED_SIGNATURE);
    h.signature_type = Some("WECHATPAY2-SHA256-RSA4096".into());
    let e = verify(&keys(), &h, &body, TS_N).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_field", Some("Wechatpay-Signature-Type"))
    );

    for bad in [
        "",
        "16245238460x",
        "1624523846.0",
        " 1624523846",
        "-1624523846",
    ] {
        let mut h = headers(PUBLISHED_SIGNATURE);
        h.timestamp = bad.into();
        let e = verify(&keys(), &h, &body, TS_N).unwrap_err();
        assert_eq!(e.field(), Some("Wechatpay-Timestamp"), "{bad:?}");
    }

    let mut h = headers("!!!notbase64");
    h.serial = SERIAL.into();
    let e = verify(&keys(), &h, &body, TS_N).unwrap_err();
    assert_eq!(e.field(), Some("Wechatpay-Signature"));
}

#[test]
fn unknown_serial_and_refresh_hook() {
    let body = raw_body();
    let mut empty = KeySet::new();
    let e = verify(&empty, &headers(PUBLISHED_SIGNATURE), &body, TS_N).unwrap_err();
    assert_eq!(
        e,
        Error::UnknownSerial {
            serial: SERIAL.into()
        }
    );
    assert!(empty.needs_refresh(SERIAL));
    assert!(!empty.needs_refresh("PUB_KEY_ID_0000"));

    let mut asked = Vec::new();
    empty
        .verify_or_refresh(&headers(PUBLISHED_SIGNATURE), &body, TS_N, |serial| {
            asked.push(serial.to_string());
            Ok(keys())
        })
        .unwrap();
    assert_eq!(asked, vec![SERIAL.to_string()]);
    assert_eq!(empty.len(), 1);

    // The refresh hook is not called for a stale notify (cheap checks first).
    let mut k = KeySet::new();
    let e = k
        .verify_or_refresh(&headers(PUBLISHED_SIGNATURE), &body, TS_N + 301, |_| {
            panic!("refresh must not be called")
        })
        .unwrap_err();
    assert_eq!(e.code(), "timestamp_out_of_window");
    // A refresh that does not bring the serial still fails as unknown.
    let e = k
        .verify_or_refresh(&headers(PUBLISHED_SIGNATURE), &body, TS_N, |_| {
            Ok(KeySet::new())
        })
        .unwrap_err();
    assert_eq!(e.code(), "unknown_serial");
}

#[test]
fn serials_compare_case_insensitively_and_public_key_ids_exactly() {
    let body = raw_body();
    for serial in ["d7ce59d1f522d701", "00D7CE59D1F522D701", "D7ce59D1F522d701"] {
        let mut h = headers(PUBLISHED_SIGNATURE);
        h.serial = serial.into();
        verify(&keys(), &h, &body, TS_N).unwrap();
    }
    let mut k = KeySet::new();
    k.insert_public_key("PUB_KEY_ID_0114232134912410000000000000", public())
        .unwrap();
    assert_eq!(
        k.source("PUB_KEY_ID_0114232134912410000000000000"),
        Some(KeySource::PublicKey)
    );
    let mut h = headers(PUBLISHED_SIGNATURE);
    h.serial = "PUB_KEY_ID_0114232134912410000000000000".into();
    verify(&k, &h, &body, TS_N).unwrap();
    h.serial = "pub_key_id_0114232134912410000000000000".into();
    assert_eq!(
        verify(&k, &h, &body, TS_N).unwrap_err().code(),
        "unknown_serial"
    );
    assert!(k.remove("PUB_KEY_ID_0114232134912410000000000000"));
    assert!(k.is_empty());
    assert_eq!(
        k.insert_public_key(" ", public()).unwrap_err().field(),
        Some("serial")
    );
}

#[test]
fn from_headers_is_case_insensitive_and_names_missing_headers() {
    let all = [
        ("wechatpay-timestamp", TS),
        ("WECHATPAY-NONCE", NONCE),
        ("Wechatpay-Signature", PUBLISHED_SIGNATURE),
        ("wechatpay-serial", SERIAL),
        ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048"),
        ("Request-ID", "08F78BB5AF0610A4"),
    ];
    let h = SignedHeaders::from_headers(all).unwrap();
    assert_eq!(h, headers(PUBLISHED_SIGNATURE));
    verify(&keys(), &h, &raw_body(), TS_N).unwrap();
    for (i, name) in [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
    ]
    .iter()
    .enumerate()
    {
        let partial: Vec<_> = all
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| *p)
            .collect();
        let e = SignedHeaders::from_headers(partial).unwrap_err();
        assert_eq!((e.code(), e.field()), ("missing_field", Some(*name)));
        // an empty value counts as missing
        let emptied: Vec<_> = all
            .iter()
            .enumerate()
            .map(|(j, (k, v))| (*k, if j == i { "" } else { *v }))
            .collect();
        assert_eq!(
            SignedHeaders::from_headers(emptied).unwrap_err().field(),
            Some(*name)
        );
    }
    // Signature-Type is optional.
    let h = SignedHeaders::from_headers(
        all[..4]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(h.signature_type, None);
}

#[test]
fn differential_node_signs_random_bodies_we_verify() {
    // Bodies of arbitrary bytes (including invalid UTF-8): verification is over bytes.
    let key_pem = vector_text("wechatpay-go-test-key.pem");
    let pub_pem = vector_text("wechatpay-go-test-pub.pem");
    let mut rng = Rng::new(0x5e11);
    let mut bodies = Vec::new();
    let mut cases = Vec::new();
    for i in 0..200 {
        let body: Vec<u8> = match i % 3 {
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            1 => json!({"id": tricky_value(&mut rng), "summary": tricky_value(&mut rng)})
                .to_string()
                .into_bytes(),
            _ => tricky_value(&mut rng).into_bytes(),
        };
        let ts = (1_700_000_000 + i).to_string();
        let nonce = format!("n{}", rng.next());
        cases.push(json!({"op": "sign_notify", "timestamp": ts, "nonce": nonce,
            "body_b64": edgepay::crypto::encoding::b64encode(&body), "key_pem": key_pem}));
        bodies.push((body, ts, nonce));
    }
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    let mut k = KeySet::new();
    k.insert_public_key("PUB_KEY_ID_X", public()).unwrap();
    let mut check = Vec::new();
    for (i, (body, ts, nonce)) in bodies.iter().enumerate() {
        let sig = out[i]["signature"].as_str().unwrap();
        let h = SignedHeaders {
            timestamp: ts.clone(),
            nonce: nonce.clone(),
            signature: sig.into(),
            serial: "PUB_KEY_ID_X".into(),
            signature_type: None,
        };
        let now: i64 = ts.parse().unwrap();
        verify(&k, &h, body, now + 10).unwrap();
        // our message, node's verify
        let msg = verification_message(ts, nonce, body);
        check.push(json!({"op": "verify_notify", "timestamp": ts, "nonce": nonce,
            "body_b64": edgepay::crypto::encoding::b64encode(&msg[ts.len() + nonce.len() + 2..msg.len() - 1]),
            "signature": sig, "pub_pem": pub_pem}));
        let mut other = body.clone();
        other.push(b' ');
        assert_eq!(
            verify(&k, &h, &other, now).unwrap_err().code(),
            "signature_mismatch"
        );
    }
    let out = oracle("wechat_v3.mjs", &json!({ "cases": check }));
    for (i, r) in out.as_array().unwrap().iter().enumerate() {
        assert_eq!(r["ok"], json!(true), "case {i}");
    }
}

#[test]
fn junk_headers_and_bodies_never_panic() {
    let mut rng = Rng::new(0x1u64 << 40);
    let k = keys();
    for _ in 0..300 {
        let junk = |rng: &mut Rng| -> String {
            match rng.below(4) {
                0 => String::new(),
                1 => tricky_value(rng),
                2 => (0..rng.below(600))
                    .map(|_| char::from(rng.next() as u8 % 128))
                    .collect(),
                _ => format!("WECHATPAY/SIGNTEST/{}", tricky_value(rng)),
            }
        };
        let h = SignedHeaders {
            timestamp: if rng.below(2) == 0 {
                TS.into()
            } else {
                junk(&mut rng)
            },
            nonce: junk(&mut rng),
            signature: junk(&mut rng),
            serial: if rng.below(2) == 0 {
                SERIAL.into()
            } else {
                junk(&mut rng)
            },
            signature_type: None,
        };
        let body: Vec<u8> = (0..rng.below(5000)).map(|_| rng.next() as u8).collect();
        let r = verify(&k, &h, &body, TS_N);
        assert!(r.is_err());
        let _ = precheck(&h, TS_N);
        let _ = SignedHeaders::from_headers([("Wechatpay-Serial", h.serial.as_str())]);
    }
    // huge body
    let big = vec![b'{'; 4 << 20];
    assert_eq!(
        verify(&k, &headers(PUBLISHED_SIGNATURE), &big, TS_N)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
}

#[test]
fn a_certificate_from_another_issuer_does_not_verify() {
    // The wechatpay-java platform certificate (a different key) under the same serial.
    let other = Certificate::parse_pem(&vector_text("wechatpay-java-certificate.pem")).unwrap();
    let mut k = KeySet::new();
    k.insert_public_key(SERIAL, other.public_key().unwrap())
        .unwrap();
    assert_eq!(
        verify(&k, &headers(PUBLISHED_SIGNATURE), &raw_body(), TS_N)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Any single flipped byte of the raw body fails verification.
    #[test]
    fn any_flipped_body_byte_fails(idx in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let mut body = raw_body();
        let i = idx.index(body.len());
        body[i] ^= mask;
        let e = verify(&keys(), &headers(PUBLISHED_SIGNATURE), &body, TS_N).unwrap_err();
        prop_assert_eq!(e.code(), "signature_mismatch");
    }

    /// Any single flipped byte of the decoded signature fails too.
    #[test]
    fn any_flipped_signature_byte_fails(idx in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let mut sig = edgepay::crypto::encoding::b64decode("s", PUBLISHED_SIGNATURE).unwrap();
        let i = idx.index(sig.len());
        sig[i] ^= mask;
        let h = headers(&edgepay::crypto::encoding::b64encode(&sig));
        prop_assert!(verify(&keys(), &h, &raw_body(), TS_N).is_err());
    }
}
