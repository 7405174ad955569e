//! Key and certificate loading on the shared vectors (sources: wechatpay-go
//! signer test key; yansongda/pay tests/Cert).

mod common;
use common::*;
use edgepay::crypto::{Certificate, PrivateKey, PublicKey, RsaHash, Signer, Verifier};

#[test]
fn wechatpay_go_test_key_signs_the_published_vector() {
    // wechatpay-go core/auth/signers/sha256withrsa_signer_test.go: sign("source")
    let v = &vectors("wechat.json")["v3_rsa_sign"];
    let key = PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap();
    let sig = key.sign(RsaHash::Sha256, b"source").unwrap();
    assert_eq!(
        edgepay::crypto::encoding::b64encode(&sig),
        v["signature"].as_str().unwrap()
    );
    let public = PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap();
    assert_eq!(public, key.public_key());
    public.verify(RsaHash::Sha256, b"source", &sig).unwrap();
    assert_eq!(
        public
            .verify(RsaHash::Sha256, b"sourcf", &sig)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
}

#[test]
fn pkcs1_pem_and_bare_base64_load_the_same_key() {
    // yansongda/pay tests/Cert/alipayAppSecretCert.pem (PKCS#1)
    let pem = vector_text("yansongda-app-private-key-pkcs1.pem");
    let from_pem = PrivateKey::parse(&pem).unwrap();
    let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let from_bare = PrivateKey::parse(&bare).unwrap();
    assert_eq!(from_pem.public_key(), from_bare.public_key());
    // and through PKCS#8 DER, re-encoded
    let pkcs8 = from_pem.to_pkcs8_der().unwrap();
    assert_eq!(
        PrivateKey::from_der(&pkcs8).unwrap().public_key(),
        from_pem.public_key()
    );
}

#[test]
fn public_key_from_certificate_matches_spki() {
    let from_cert = PublicKey::parse(&vector_text("yansongda-alipay-public-cert.crt")).unwrap();
    let spki = PublicKey::parse(&vector_text("yansongda-alipay-public-key.pem")).unwrap();
    assert_eq!(from_cert, spki);
    let bare: String = vector_text("yansongda-alipay-public-key.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_eq!(PublicKey::parse(&bare).unwrap(), spki);
}

#[test]
fn root_bundle_parses_every_member() {
    let certs =
        Certificate::parse_pem_bundle(&vector_text("yansongda-alipay-root-cert.crt")).unwrap();
    assert!(
        certs.len() >= 2,
        "the Alipay root bundle has several members"
    );
    assert!(certs.iter().any(|c| c.has_rsa_key()));
}

#[test]
fn key_errors_name_the_field() {
    let e = PrivateKey::parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
        .unwrap_err();
    assert_eq!(e.field(), Some("private_key"));
    let e = PrivateKey::parse("bm90IGEga2V5").unwrap_err();
    assert_eq!(e.code(), "invalid_key");
    let e = PublicKey::parse("%%%").unwrap_err();
    assert_eq!(e.field(), Some("public_key"));
    assert!(PublicKey::parse(&vector_text("wechatpay-go-test-key.pem")).is_err());
}
