//! The shared vectors inside a browser: compiled to wasm32 and run in headless
//! Chromium by `wasm-pack test --headless --chrome --mode no-install -- --features wasm-rsa`
//! (webdriver.json beside Cargo.toml). The same vectors as the native tests, so the
//! targets provably agree; plus the JS-facing bindings (errors as JS `Error`s).
//! The vector files are embedded: `../../shared/vectors/` from this file is
//! `shared/vectors/` beside the repository, as in CI.
#![cfg(target_arch = "wasm32")]

use edgepay::crypto::{PrivateKey, PublicKey, RsaHash, Signer};
use edgepay::wechat::v3::{self, KeySet, SignedHeaders};
use edgepay::wechat::{jssdk, v2};
use edgepay::{alipay, Params};
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WECHAT: &str = include_str!("../../shared/vectors/wechat.json");
const ALIPAY: &str = include_str!("../../shared/vectors/alipay.json");
const WECHAT_KEY: &str = include_str!("../../shared/vectors/wechatpay-go-test-key.pem");
const WECHAT_PUB: &str = include_str!("../../shared/vectors/wechatpay-go-test-pub.pem");
const NOTIFY_BODY: &[u8] = include_bytes!("../../shared/vectors/wechatpay-go-notify-body.json");
const CERT_CT: &str =
    include_str!("../../shared/vectors/wechatpay-java-certificate-ciphertext.txt");
const CERT_PEM: &str = include_str!("../../shared/vectors/wechatpay-java-certificate.pem");
const APP_KEY: &str = include_str!("../../shared/vectors/yansongda-app-private-key-pkcs1.pem");
const ALIPAY_PUB: &str = include_str!("../../shared/vectors/yansongda-alipay-public-key.pem");
const APP_CERT: &str = include_str!("../../shared/vectors/yansongda-app-public-cert.crt");
const ROOT_CERT: &str = include_str!("../../shared/vectors/yansongda-alipay-root-cert.crt");
const REFUND_REQ_INFO: &str = include_str!("../../shared/vectors/gopay-refund-req-info.txt");

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn params(v: &Value) -> Params {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap()
}

#[wasm_bindgen_test]
fn wechat_v2_official_vector() {
    // WeChat Pay API v2 signature rules (jsapi chapter 4_3); WxJava SignUtilsTest
    let v = &json(WECHAT)["v2_sign_official"];
    let p = params(&v["params"]);
    assert_eq!(v2::string_to_sign(&p, s(v, "key")), s(v, "string_to_sign"));
    assert_eq!(v2::sign(&p, s(v, "key"), v2::SignType::Md5), s(v, "md5"));
    assert_eq!(
        v2::sign(&p, s(v, "key"), v2::SignType::HmacSha256),
        s(v, "hmac_sha256")
    );
}

#[wasm_bindgen_test]
fn jssdk_official_vector() {
    // WeChat JS-SDK doc, appendix 1; wechatpy
    let v = &json(WECHAT)["jssdk_signature_official"];
    let ts: i64 = s(v, "timestamp").parse().unwrap();
    assert_eq!(
        jssdk::signature(s(v, "jsapi_ticket"), s(v, "noncestr"), ts, s(v, "url")),
        s(v, "signature")
    );
}

#[wasm_bindgen_test]
fn v3_rsa_sign_vector() {
    // wechatpay-go core/auth/signers/sha256withrsa_signer_test.go
    let v = &json(WECHAT)["v3_rsa_sign"];
    let key = PrivateKey::parse(WECHAT_KEY).unwrap();
    let sig = key
        .sign(RsaHash::Sha256, s(v, "message").as_bytes())
        .unwrap();
    assert_eq!(edgepay::crypto::encoding::b64encode(sig), s(v, "signature"));
}

#[wasm_bindgen_test]
fn v3_aes_gcm_vectors() {
    // wechatpay-java AeadAesCipherTest and its /v3/certificates resource
    let v = &json(WECHAT)["v3_aes_256_gcm"];
    let key = s(v, "apiv3_key").as_bytes();
    let pt = v3::decrypt(
        key,
        s(v, "nonce"),
        s(v, "associated_data"),
        s(v, "ciphertext"),
    )
    .unwrap();
    assert_eq!(pt, s(v, "plaintext").as_bytes());
    let cert = v3::decrypt(key, "14b16c03dc1b", "certificate", CERT_CT.trim()).unwrap();
    assert_eq!(String::from_utf8(cert).unwrap().trim(), CERT_PEM.trim());
    let e = v3::decrypt(key, s(v, "nonce"), "other", s(v, "ciphertext")).unwrap_err();
    assert_eq!(e.code(), "decrypt_failed");
}

#[wasm_bindgen_test]
fn v3_notify_vector_verifies_over_raw_bytes() {
    // wechatpay-go core/notify/notify_test.go (signed at 1624523846)
    let mut keys = KeySet::new();
    keys.insert_public_key("D7CE59D1F522D701", PublicKey::parse(WECHAT_PUB).unwrap())
        .unwrap();
    let headers = SignedHeaders {
        timestamp: "1624523846".into(),
        nonce: "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz".into(),
        signature: "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==".into(),
        serial: "D7CE59D1F522D701".into(),
        signature_type: None,
    };
    v3::verify(&keys, &headers, NOTIFY_BODY, 1_624_523_846).unwrap();
    let e = v3::verify(&keys, &headers, NOTIFY_BODY, 1_624_523_846 + 300).unwrap_err();
    assert_eq!(e.code(), "timestamp_out_of_window");
    let mut tampered = NOTIFY_BODY.to_vec();
    tampered[10] ^= 1;
    let e = v3::verify(&keys, &headers, &tampered, 1_624_523_846).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
}

#[wasm_bindgen_test]
fn refund_req_info_vectors() {
    // wechatpy tests/test_crypto.py::test_refund_notify_decrypt_message
    let v = &json(WECHAT)["v2_refund_req_info"];
    let text = v2::decrypt_refund_req_info_text(s(v, "api_key"), s(v, "req_info")).unwrap();
    assert_eq!(text, s(v, "plaintext"));
    // go-pay/gopay wechat/notify_test.go
    let p = v2::decrypt_refund_req_info("ziR0QKsTUfMOuochC9RfCdmfHECorQAP", REFUND_REQ_INFO.trim())
        .unwrap();
    assert!(p.contains_key("out_refund_no"));
}

#[wasm_bindgen_test]
fn alipay_vectors() {
    // yansongda/pay AddPayloadSignaturePluginTest::testSignNormal
    let a = json(ALIPAY);
    let v = &a["rsa2_request_sign"];
    let p = params(&v["params"]);
    assert_eq!(alipay::string_to_sign(&p), s(v, "string_to_sign"));
    let key = PrivateKey::parse(APP_KEY).unwrap();
    assert_eq!(
        alipay::sign(&p, &key, alipay::SignType::Rsa2).unwrap(),
        s(v, "sign")
    );
    // yansongda/pay CallbackPluginTest::testNotifyCallbackIncludePlus, verified as decoded params
    let n = params(&a["notify_rsa_check_v1_plus_sign"]["params"]);
    let pubkey = PublicKey::parse(ALIPAY_PUB).unwrap();
    alipay::notify::verify_notify_params(n.clone(), &pubkey, alipay::notify::NotifyCheck::V1)
        .unwrap();
    let mut changed = n;
    changed.insert("total_amount".into(), "0.02".into());
    assert!(alipay::notify::verify_notify_params(
        changed,
        &pubkey,
        alipay::notify::NotifyCheck::V1
    )
    .is_err());
    // cert SNs from yansongda's config
    assert_eq!(
        alipay::cert_sn_pem(APP_CERT).unwrap(),
        s(&v["params"], "app_cert_sn")
    );
    assert_eq!(
        alipay::root_cert_sn(ROOT_CERT).unwrap(),
        s(&v["params"], "alipay_root_cert_sn")
    );
    // alipay-easysdk ClientTest
    let aes = &a["aes_128_cbc_content"];
    assert_eq!(
        alipay::aes_encrypt(s(aes, "key_base64"), s(aes, "plaintext")).unwrap(),
        s(aes, "ciphertext_base64")
    );
}

#[cfg(feature = "wasm")]
mod bindings {
    use super::*;
    use edgepay::wasm;
    use wasm_bindgen::{JsCast, JsValue};

    fn obj(pairs: &[(&str, &str)]) -> JsValue {
        let o = js_sys::Object::new();
        for (k, v) in pairs {
            js_sys::Reflect::set(&o, &(*k).into(), &(*v).into()).unwrap();
        }
        o.into()
    }

    fn prop(v: &JsValue, k: &str) -> JsValue {
        js_sys::Reflect::get(v, &k.into()).unwrap()
    }

    #[wasm_bindgen_test]
    fn v2_sign_through_the_binding() {
        let v = &json(WECHAT)["v2_sign_official"];
        let flat: Vec<String> = v["params"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(k, x)| [k.clone(), x.as_str().unwrap().to_string()])
            .collect();
        let got = wasm::wechat_v2_sign(flat, s(v, "key"), "MD5").unwrap();
        assert_eq!(got, s(v, "md5"));
    }

    #[wasm_bindgen_test]
    fn errors_are_js_errors_with_code_and_field() {
        let e = wasm::wechat_v2_verify(vec!["a".into(), "1".into()], "k").unwrap_err();
        assert!(e.is_instance_of::<js_sys::Error>());
        assert_eq!(prop(&e, "name"), "EdgepayError");
        assert_eq!(prop(&e, "code"), "missing_field");
        assert_eq!(prop(&e, "field"), "sign");
        let e = wasm::wechat_v3_decrypt("short", "123456789012", "", "AAAA").unwrap_err();
        assert_eq!(prop(&e, "code"), "invalid_key");
        assert_eq!(prop(&e, "field"), "apiv3_key");
        let e = wasm::wechat_v3_decrypt_input("k", "n", "c").unwrap_err();
        assert_eq!(prop(&e, "field"), "apiv3_key");
        let e = wasm::wechat_xml_decode("<xml><a>").unwrap_err();
        assert_eq!(prop(&e, "code"), "malformed");
        assert_eq!(prop(&e, "field"), JsValue::UNDEFINED);
    }

    #[wasm_bindgen_test]
    fn two_step_v3_client_params_match_one_step() {
        let input: Vec<String> = ["wx1", "p1", "n", ""].map(String::from).to_vec();
        let msg = wasm::wechat_pay_params_v3_message("jsapi", input.clone(), 1.0).unwrap();
        assert_eq!(msg, "wx1\n1\nn\nprepay_id=p1\n");
        let sig = wasm::rsa_sign(WECHAT_KEY, "SHA256", msg.as_bytes()).unwrap();
        let out = wasm::wechat_pay_params_v3_assemble("jsapi", input, 1.0, &sig).unwrap();
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["paySign"], sig.as_str());
        assert_eq!(out["signType"], "RSA");
        // and it verifies under the vector's public key
        use edgepay::crypto::Verifier;
        let raw = edgepay::crypto::encoding::b64decode("sig", &sig).unwrap();
        PublicKey::parse(WECHAT_PUB)
            .unwrap()
            .verify(RsaHash::Sha256, msg.as_bytes(), &raw)
            .unwrap();
    }

    /// The deferred check hands the host exactly the v3 message and signature of the
    /// wechatpay-go notify vector (core/notify/notify_test.go); the pure-Rust key accepts
    /// them, and a host's "no" turns into the core's own mismatch error.
    #[wasm_bindgen_test]
    fn v3_check_hands_over_the_vector_message() {
        let headers: Vec<String> = [
            "Wechatpay-Timestamp",
            "1624523846",
            "Wechatpay-Nonce",
            "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz",
            "Wechatpay-Signature",
            "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==",
            "Wechatpay-Serial",
            "D7CE59D1F522D701",
        ]
        .map(String::from)
        .to_vec();
        let now = 1_624_523_846.0;
        let out = wasm::wechat_v3_check(headers.clone(), NOTIFY_BODY, vec![], now, false).unwrap();
        let bytes = |k: &str| js_sys::Uint8Array::new(&prop(&out, k)).to_vec();
        assert_eq!(prop(&out, "hash"), "SHA-256");
        assert_eq!(prop(&out, "index"), 0.0);
        use edgepay::crypto::Verifier;
        PublicKey::parse(WECHAT_PUB)
            .unwrap()
            .verify(RsaHash::Sha256, &bytes("message"), &bytes("signature"))
            .unwrap();
        let e = wasm::wechat_v3_check(headers, NOTIFY_BODY, vec![], now, true).unwrap_err();
        assert_eq!(prop(&e, "code"), "signature_mismatch");
    }
}
