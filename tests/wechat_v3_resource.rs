//! AEAD_AES_256_GCM resources.
//! Vectors: wechatpay-java AeadAesCipherTest (wechat.json `v3_aes_256_gcm`) and the
//! wechatpay-java `/v3/certificates` resource (key, nonce, AAD in SOURCES.md);
//! wechatpay-go notify_test.go's resource (a 16-byte key: refused by design).
//! Differential: node:crypto createCipheriv/createDecipheriv('aes-256-gcm').

mod common;
use common::*;
use edgepay::crypto::encoding::{b64decode, b64encode};
use edgepay::crypto::symmetric::aes_256_gcm_encrypt;
use edgepay::wechat::v3::*;
use proptest::prelude::{any, prop, prop_assert_eq, proptest, ProptestConfig};
use serde_json::json;

const JAVA_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

#[test]
fn wechatpay_java_aead_vector() {
    let v = &vectors("wechat.json")["v3_aes_256_gcm"];
    let r = EncryptedResource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: v["ciphertext"].as_str().unwrap().into(),
        nonce: v["nonce"].as_str().unwrap().into(),
        associated_data: v["associated_data"].as_str().unwrap().into(),
        original_type: String::new(),
    };
    let key = v["apiv3_key"].as_str().unwrap().as_bytes();
    assert_eq!(
        decrypt_to_string(key, &r).unwrap(),
        v["plaintext"].as_str().unwrap()
    );
    // and the encrypt direction reproduces the vector (GCM is deterministic for a fixed nonce)
    let again = encrypt_resource(key, &r.nonce, &r.associated_data, "", b"message").unwrap();
    assert_eq!(again.ciphertext, r.ciphertext);
}

#[test]
fn wechatpay_java_certificate_resource() {
    // SOURCES.md: APIv3 key a7cde1…, nonce 14b16c03dc1b, associated data "certificate".
    let r = EncryptedResource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: vector_text("wechatpay-java-certificate-ciphertext.txt")
            .trim()
            .into(),
        nonce: "14b16c03dc1b".into(),
        associated_data: "certificate".into(),
        original_type: "certificate".into(),
    };
    assert_eq!(
        decrypt_to_string(JAVA_KEY, &r).unwrap(),
        vector_text("wechatpay-java-certificate.pem")
    );
    // wrong AAD / nonce / key → tag failure
    for (aad, nonce, key) in [
        ("certificatE", "14b16c03dc1b", JAVA_KEY),
        ("", "14b16c03dc1b", JAVA_KEY),
        ("certificate", "14b16c03dc1c", JAVA_KEY),
        (
            "certificate",
            "14b16c03dc1b",
            b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gc" as &[u8],
        ),
    ] {
        let mut bad = r.clone();
        bad.associated_data = aad.into();
        bad.nonce = nonce.into();
        assert_eq!(
            decrypt_resource(key, &bad).unwrap_err().code(),
            "decrypt_failed"
        );
    }
}

/// The wechatpay-go notify resource, encrypted under the 16-byte key "testMchAPIv3Key0"
/// (AES-128-GCM; wechatpay-go's aes.NewCipher accepts it, real WeChat Pay never uses it).
fn go_resource() -> EncryptedResource {
    let body = std::fs::read(vector_path("wechatpay-go-notify-body.json")).unwrap();
    NotifyEnvelope::parse(&body).unwrap().resource
}

#[test]
fn the_16_byte_wechatpay_go_key_is_refused_with_the_key_length_error() {
    let r = go_resource();
    let e = decrypt_resource(b"testMchAPIv3Key0", &r).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_key", Some("apiv3_key")));
    assert!(e.to_string().contains("32 bytes"), "{e}");
    assert!(
        !e.to_string().contains("testMchAPIv3Key0"),
        "no secret in errors"
    );
    // The vector itself is fine: node's AES-128-GCM opens it to the plaintext published in
    // notify_test.go, so the refusal is about the key length only.
    let out = oracle(
        "wechat_v3.mjs",
        &json!({"cases": [{"op": "gcm_decrypt", "key_b64": b64encode(b"testMchAPIv3Key0"),
            "nonce": r.nonce, "aad": r.associated_data, "ciphertext_b64": r.ciphertext}]}),
    );
    let pt = b64decode("pt", out[0]["plaintext_b64"].as_str().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(pt).unwrap(),
        r#"{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}"#
    );
}

#[test]
fn field_errors() {
    let good = encrypt_resource(JAVA_KEY, "123456789012", "ad", "t", b"x").unwrap();
    let mut r = good.clone();
    r.algorithm = "AEAD_AES_128_GCM".into();
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().field(),
        Some("algorithm")
    );
    for key in [&b""[..], &[0u8; 31][..], &[0u8; 33][..], &[0u8; 16][..]] {
        assert_eq!(
            decrypt_resource(key, &good).unwrap_err().field(),
            Some("apiv3_key")
        );
    }
    let mut r = good.clone();
    r.nonce = "short".into();
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().field(),
        Some("nonce")
    );
    r.nonce = String::new();
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().code(),
        "missing_field"
    );
    let mut r = good.clone();
    r.ciphertext = "%%%".into();
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().field(),
        Some("ciphertext")
    );
    r.ciphertext = b64encode([0u8; 15]); // shorter than the tag
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().field(),
        Some("ciphertext")
    );
    r.ciphertext = String::new();
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().code(),
        "missing_field"
    );
    // truncated tag: the last byte dropped
    let mut ct = b64decode("c", &good.ciphertext).unwrap();
    ct.pop();
    let mut r = good.clone();
    r.ciphertext = b64encode(ct);
    assert_eq!(
        decrypt_resource(JAVA_KEY, &r).unwrap_err().code(),
        "decrypt_failed"
    );
    // invalid UTF-8 plaintext: decrypts, but not to a string
    let r = encrypt_resource(JAVA_KEY, "123456789012", "", "", b"\xff\xfe").unwrap();
    assert_eq!(decrypt_resource(JAVA_KEY, &r).unwrap(), b"\xff\xfe");
    assert_eq!(
        decrypt_to_string(JAVA_KEY, &r).unwrap_err().field(),
        Some("plaintext")
    );
    // serde: associated_data and original_type may be absent
    let r: EncryptedResource = serde_json::from_str(
        r#"{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AA==","nonce":"123456789012"}"#,
    )
    .unwrap();
    assert_eq!(r.associated_data, "");
}

fn random_ascii(rng: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n).map(|_| A[rng.below(A.len())] as char).collect()
}

#[test]
fn differential_node_encrypts_we_decrypt_and_back() {
    let mut rng = Rng::new(0x6c3);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for i in 0..200 {
        let key = random_ascii(&mut rng, 32);
        let nonce = random_ascii(&mut rng, 12);
        let aad = if i % 5 == 0 {
            String::new()
        } else {
            tricky_value(&mut rng)
        };
        let plaintext: Vec<u8> = if i % 4 == 0 {
            (0..rng.below(2000)).map(|_| rng.next() as u8).collect()
        } else {
            tricky_value(&mut rng).into_bytes()
        };
        // node encrypts …
        cases.push(
            json!({"op": "gcm_encrypt", "key_b64": b64encode(&key), "nonce": nonce,
            "aad": aad, "plaintext_b64": b64encode(&plaintext)}),
        );
        // … and decrypts what we encrypt
        let ct = aes_256_gcm_encrypt(key.as_bytes(), nonce.as_bytes(), aad.as_bytes(), &plaintext)
            .unwrap();
        cases.push(
            json!({"op": "gcm_decrypt", "key_b64": b64encode(&key), "nonce": nonce,
            "aad": aad, "ciphertext_b64": b64encode(&ct)}),
        );
        ours.push((key, nonce, aad, plaintext));
    }
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    for (i, (key, nonce, aad, plaintext)) in ours.into_iter().enumerate() {
        let r = EncryptedResource {
            algorithm: "AEAD_AES_256_GCM".into(),
            ciphertext: out[2 * i]["ciphertext"].as_str().unwrap().into(),
            nonce: nonce.clone(),
            associated_data: aad,
            original_type: "transaction".into(),
        };
        assert_eq!(
            decrypt_resource(key.as_bytes(), &r).unwrap(),
            plaintext,
            "case {i}"
        );
        let back = b64decode("pt", out[2 * i + 1]["plaintext_b64"].as_str().unwrap_or(""))
            .unwrap_or_default();
        assert_eq!(
            back, plaintext,
            "case {i}: node could not open our ciphertext"
        );
    }
}

#[test]
fn junk_resources_never_panic() {
    let mut rng = Rng::new(99);
    for _ in 0..300 {
        let junk: Vec<u8> = (0..rng.below(400)).map(|_| rng.next() as u8).collect();
        let _ = serde_json::from_slice::<EncryptedResource>(&junk);
        let r = EncryptedResource {
            algorithm: "AEAD_AES_256_GCM".into(),
            ciphertext: String::from_utf8_lossy(&junk).into_owned(),
            nonce: tricky_value(&mut rng),
            associated_data: tricky_value(&mut rng),
            original_type: String::new(),
        };
        assert!(decrypt_resource(JAVA_KEY, &r).is_err());
        let r = EncryptedResource {
            ciphertext: b64encode(&junk),
            nonce: "123456789012".into(),
            ..r
        };
        assert!(decrypt_resource(JAVA_KEY, &r).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// The tag is always checked: any flipped byte of ciphertext‖tag fails.
    #[test]
    fn any_flipped_ciphertext_byte_fails(pt in prop::collection::vec(any::<u8>(), 0..200),
                                         idx in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let r = encrypt_resource(JAVA_KEY, "0123456789ab", "transaction", "", &pt).unwrap();
        prop_assert_eq!(decrypt_resource(JAVA_KEY, &r).unwrap(), pt);
        let mut ct = b64decode("c", &r.ciphertext).unwrap();
        let i = idx.index(ct.len());
        ct[i] ^= mask;
        let bad = EncryptedResource { ciphertext: b64encode(ct), ..r };
        prop_assert_eq!(decrypt_resource(JAVA_KEY, &bad).unwrap_err().code(), "decrypt_failed");
    }
}
