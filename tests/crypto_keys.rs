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

/// The DER the package hands to WebCrypto, and the certificate fields, against
/// node:crypto (OpenSSL) on the shared vectors (wechatpay-go test key, yansongda
/// keys and certificates, wechatpay-java platform certificate).
#[test]
fn key_der_and_certificate_fields_match_node_crypto() {
    use edgepay::crypto::encoding::b64encode;
    use edgepay::crypto::keys::{private_key_pkcs8_der, public_key_spki_der};
    let keys = [
        "wechatpay-go-test-key.pem",
        "yansongda-app-private-key-pkcs1.pem",
    ];
    let public = [
        "wechatpay-go-test-pub.pem",
        "yansongda-alipay-public-key.pem",
        "yansongda-app-public-cert.crt",
        "wechatpay-java-certificate.pem",
    ];
    let certs = [
        "yansongda-app-public-cert.crt",
        "yansongda-alipay-public-cert.crt",
        "wechatpay-java-certificate.pem",
    ];
    let text = |names: &[&str]| -> Vec<String> { names.iter().map(|n| vector_text(n)).collect() };
    let want = oracle(
        "der.mjs",
        &serde_json::json!({ "keys": text(&keys), "public": text(&public), "certs": text(&certs) }),
    );
    for (i, name) in keys.iter().enumerate() {
        let ours = b64encode(private_key_pkcs8_der(&vector_text(name)).unwrap());
        assert_eq!(ours, want["pkcs8"][i], "{name}");
        // bare base64 of the DER (as the Alipay console gives keys) gives the same
        let bare = private_key_pkcs8_der(want["pkcs8"][i].as_str().unwrap()).unwrap();
        assert_eq!(b64encode(bare), want["pkcs8"][i], "{name} (bare base64)");
    }
    for (i, name) in public.iter().enumerate() {
        let ours = b64encode(public_key_spki_der(&vector_text(name)).unwrap());
        assert_eq!(ours, want["spki"][i], "{name}");
    }
    for (i, name) in certs.iter().enumerate() {
        let cert = Certificate::parse_pem(&vector_text(name)).unwrap();
        let w = &want["certs"][i];
        assert_eq!(
            cert.serial_hex(),
            w["serial"].as_str().unwrap().trim_start_matches('0'),
            "{name}"
        );
        let (nb, na) = cert.validity().unwrap();
        assert_eq!(
            (nb, na),
            (
                w["notBefore"].as_i64().unwrap(),
                w["notAfter"].as_i64().unwrap()
            ),
            "{name}"
        );
        let issuer: Vec<String> = cert
            .issuer_attributes()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(issuer.join("\n"), w["issuer"], "{name}");
        assert_eq!(b64encode(cert.rsa_spki_der().unwrap()), w["spki"], "{name}");
    }
    // A PKCS#1 public key wrapped into SPKI: node exports the same SPKI.
    let pkcs1_pub = "-----BEGIN RSA PUBLIC KEY-----\n".to_string()
        + &b64encode(node_pkcs1_public(&vector_text("wechatpay-go-test-pub.pem")))
        + "\n-----END RSA PUBLIC KEY-----\n";
    assert_eq!(
        b64encode(public_key_spki_der(&pkcs1_pub).unwrap()),
        want["spki"][0]
    );
}

/// The PKCS#1 `RSAPublicKey` inside an SPKI PEM, read with the `pkcs1`/`spki` crates' typed
/// decoders (a second, independent reader of the same structure).
fn node_pkcs1_public(spki_pem: &str) -> Vec<u8> {
    use spki::der::Decode;
    let der = edgepay::crypto::encoding::pem_blocks("k", spki_pem)
        .unwrap()
        .swap_remove(0)
        .der;
    let info = spki::SubjectPublicKeyInfoRef::from_der(&der).unwrap();
    info.subject_public_key.raw_bytes().to_vec()
}
