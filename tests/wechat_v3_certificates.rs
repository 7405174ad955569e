//! `/v3/certificates` and sensitive-field encryption.
//! Vector: the wechatpay-java certificate resource (APIv3 key a7cde1…, nonce
//! 14b16c03dc1b, AAD "certificate"; plaintext wechatpay-java-certificate.pem), wrapped in
//! a response of the documented shape. Sensitive fields: node:crypto privateDecrypt
//! (OAEP, SHA-1) with the wechatpay-go test key opens what we encrypt.

mod common;
use common::*;
use edgepay::crypto::{Certificate, PrivateKey, PublicKey};
use edgepay::wechat::v3::*;
use serde_json::json;

const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const JAVA_SERIAL: &str = "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC";

fn response(serial: &str) -> Vec<u8> {
    json!({"data": [{
        "serial_no": serial,
        "effective_time": "2023-09-19T23:15:58+08:00",
        "expire_time": "2028-09-17T23:15:58+08:00",
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": "14b16c03dc1b",
            "associated_data": "certificate",
            "ciphertext": vector_text("wechatpay-java-certificate-ciphertext.txt").trim()
        }
    }]})
    .to_string()
    .into_bytes()
}

#[test]
fn decrypts_checks_and_loads_the_certificate() {
    let certs = parse_certificates(APIV3_KEY, &response(JAVA_SERIAL)).unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial_no, JAVA_SERIAL);
    assert_eq!(certs[0].pem, vector_text("wechatpay-java-certificate.pem"));
    assert_eq!(certs[0].expire_time, "2028-09-17T23:15:58+08:00");
    let expected = Certificate::parse_pem(&vector_text("wechatpay-java-certificate.pem")).unwrap();
    assert_eq!(certs[0].certificate.serial_hex(), expected.serial_hex());

    // 2026-01-01: inside the certificate's validity (2023-09-19 … 2028-09-17)
    let keys = load_certificates(APIV3_KEY, &response(JAVA_SERIAL), 1_767_225_600).unwrap();
    assert_eq!(keys.serials(), vec![JAVA_SERIAL.to_string()]);
    assert_eq!(
        keys.get(&JAVA_SERIAL.to_lowercase()),
        Some(&expected.public_key().unwrap())
    );
    // 2030: expired, not loaded
    assert!(
        load_certificates(APIV3_KEY, &response(JAVA_SERIAL), 1_893_456_000)
            .unwrap()
            .is_empty()
    );
    // lower-case listing is the same serial
    assert_eq!(
        parse_certificates(APIV3_KEY, &response(&JAVA_SERIAL.to_lowercase()))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn listed_serial_must_match_the_certificate() {
    let e = parse_certificates(APIV3_KEY, &response("D7CE59D1F522D701")).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("serial_no")));
}

#[test]
fn wrong_key_and_junk() {
    let e = parse_certificates(b"0123456789abcdef0123456789abcdef", &response(JAVA_SERIAL))
        .unwrap_err();
    assert_eq!(e.code(), "decrypt_failed");
    let e = parse_certificates(APIV3_KEY, br#"{"nodata":[]}"#).unwrap_err();
    assert_eq!(e.field(), Some("data"));
    assert!(parse_certificates(APIV3_KEY, br#"{"data":[]}"#)
        .unwrap()
        .is_empty());
    // a resource that decrypts to something that is not a certificate
    let r = encrypt_resource(APIV3_KEY, "123456789012", "certificate", "", b"not a pem").unwrap();
    let body = json!({"data":[{"serial_no":"01","encrypt_certificate": r}]}).to_string();
    assert_eq!(
        parse_certificates(APIV3_KEY, body.as_bytes())
            .unwrap_err()
            .field(),
        Some("certificate")
    );
    let mut rng = Rng::new(5);
    for _ in 0..200 {
        let junk: Vec<u8> = (0..rng.below(2000)).map(|_| rng.next() as u8).collect();
        assert!(parse_certificates(APIV3_KEY, &junk).is_err());
    }
}

#[test]
fn sensitive_fields_open_in_node_with_oaep_sha1() {
    let public = PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap();
    let key_pem = vector_text("wechatpay-go-test-key.pem");
    let mut rng = Rng::new(0x0ae9);
    let mut plaintexts = vec![
        "张三".to_string(),
        "13800138000".into(),
        String::new(),
        "x".repeat(214),
    ];
    for _ in 0..60 {
        let v = tricky_value(&mut rng);
        if v.len() <= 214 {
            plaintexts.push(v);
        }
    }
    let mut cases = Vec::new();
    for p in &plaintexts {
        let ct = encrypt_sensitive(&public, p).unwrap();
        assert_ne!(
            ct,
            encrypt_sensitive(&public, p).unwrap(),
            "OAEP is randomised"
        );
        cases.push(json!({"op": "oaep_decrypt", "key_pem": key_pem, "ciphertext_b64": ct}));
    }
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    for (i, p) in plaintexts.iter().enumerate() {
        assert_eq!(out[i]["plaintext"], json!(p), "case {i}: {}", out[i]);
    }
    // too long for one OAEP block under a 2048-bit key
    let e = encrypt_sensitive(&public, &"x".repeat(215)).unwrap_err();
    assert_eq!(e.field(), Some("plaintext"));
}

#[test]
fn sensitive_fields_node_encrypts_we_decrypt() {
    let private = PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap();
    let pub_pem = vector_text("wechatpay-go-test-pub.pem");
    let words = ["张三", "110101199003071234", "a+b=c&d"];
    let cases: Vec<_> = words
        .iter()
        .map(|w| json!({"op": "oaep_encrypt", "pub_pem": pub_pem, "plaintext": w}))
        .collect();
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    for (i, w) in words.iter().enumerate() {
        assert_eq!(
            decrypt_sensitive(&private, out[i]["ciphertext"].as_str().unwrap()).unwrap(),
            *w
        );
    }
    assert_eq!(
        decrypt_sensitive(&private, "AAAA").unwrap_err().code(),
        "decrypt_failed"
    );
    assert_eq!(
        decrypt_sensitive(&private, "%%").unwrap_err().field(),
        Some("ciphertext")
    );
}
