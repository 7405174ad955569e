//! WeChat Pay API v3 request authentication.
//! Vectors: wechatpay-go core/auth/signers/sha256withrsa_signer_test.go (key + "source"
//! signature); the official v3 signing guide's GET /v3/certificates example.
//! Differential: node:crypto (tests/oracle/wechat_v3.mjs) builds the message from the
//! URL with the WHATWG URL parser and verifies our header.

mod common;
use common::*;
use edgepay::crypto::{PrivateKey, PublicKey, RsaHash, Verifier};
use edgepay::wechat::v3::auth::canonical_url;
use edgepay::wechat::v3::*;
use proptest::prelude::{any, prop, prop_assert, proptest, ProptestConfig};
use serde_json::json;

fn key() -> PrivateKey {
    PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap()
}

#[test]
fn sign_base64_matches_wechatpay_go_vector() {
    // wechatpay-go sha256withrsa_signer_test.go: PKCS#1 v1.5 is deterministic.
    let v = &vectors("wechat.json")["v3_rsa_sign"];
    let sig = sign_base64(&key(), v["message"].as_str().unwrap()).unwrap();
    assert_eq!(sig, v["signature"].as_str().unwrap());
}

#[test]
fn official_guide_message_for_get_certificates() {
    // pay.weixin.qq.com v3 signing guide: GET /v3/certificates, empty body.
    let m = authorization_message(
        "GET",
        "https://api.mch.weixin.qq.com/v3/certificates",
        1554208460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        "",
    )
    .unwrap();
    assert_eq!(
        m,
        "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
    );
}

#[test]
fn header_layout_and_two_step_equals_one_step() {
    let v = &vectors("wechat.json")["v3_rsa_sign"];
    let creds = Credentials::new(
        v["mchid"].as_str().unwrap(),
        v["serial_no"].as_str().unwrap(),
    );
    let body = r#"{"mchid":"1234567890","out_trade_no":"x"}"#;
    let one = authorization(
        &key(),
        &creds,
        "POST",
        "https://api.mch.weixin.qq.com/v3/pay/transactions/native",
        1624523846,
        "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz",
        body,
    )
    .unwrap();
    let msg = authorization_message(
        "POST",
        "/v3/pay/transactions/native",
        1624523846,
        "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz",
        body,
    )
    .unwrap();
    let sig = sign_base64(&key(), &msg).unwrap();
    let two = authorization_header(
        "1234567890",
        "F5765756002FDD77",
        1624523846,
        "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz",
        &sig,
    )
    .unwrap();
    assert_eq!(one, two);
    let expected_prefix = "WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz\",timestamp=\"1624523846\",serial_no=\"F5765756002FDD77\",signature=\"";
    assert!(one.starts_with(expected_prefix), "{one}");
    assert!(one.ends_with("\""));
    // And the signature is node's (deterministic PKCS#1 v1.5).
    let out = oracle(
        "wechat_v3.mjs",
        &json!({"cases": [{"op": "sign", "message": msg, "key_pem": vector_text("wechatpay-go-test-key.pem")}]}),
    );
    assert_eq!(out[0]["signature"], json!(sig));
}

fn random_url(rng: &mut Rng) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut path = String::from("/v3");
    for _ in 0..rng.below(4) + 1 {
        let seg = tricky_value(rng);
        let seg = if seg.is_empty() { "x".to_string() } else { seg };
        path.push('/');
        path.push_str(&utf8_percent_encode(&seg, NON_ALPHANUMERIC).to_string());
    }
    if rng.below(2) == 0 {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in tricky_params(rng) {
            q.append_pair(&k, &v);
        }
        path.push('?');
        path.push_str(&q.finish());
    }
    if rng.below(5) == 0 {
        path.push_str("#frag");
    }
    match rng.below(3) {
        0 => format!("https://api.mch.weixin.qq.com{path}"),
        1 => format!("http://127.0.0.1:8787{path}"),
        _ => path,
    }
}

#[test]
fn differential_against_node_crypto() {
    let key = key();
    let pub_pem = vector_text("wechatpay-go-test-pub.pem");
    let mut rng = Rng::new(0x7633);
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "post"];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for i in 0..250 {
        let method = *rng.pick(&methods);
        let url = random_url(&mut rng);
        let timestamp = (rng.next() % 4_000_000_000) as i64;
        let nonce: String = (0..rng.below(32) + 1)
            .map(|_| {
                let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                a[rng.below(a.len())] as char
            })
            .collect();
        let body = if method == "GET" {
            String::new()
        } else {
            json!({ "k": tricky_value(&mut rng), "i": i }).to_string()
        };
        let creds = Credentials::new(format!("{}", 1_000_000_000 + i), "F5765756002FDD77");
        let header = authorization(&key, &creds, method, &url, timestamp, &nonce, &body).unwrap();
        let message = authorization_message(method, &url, timestamp, &nonce, &body).unwrap();
        cases.push(
            json!({"op": "verify_auth_header", "header": header, "pub_pem": pub_pem,
            "method": method, "url": url, "body": body}),
        );
        cases.push(json!({"op": "auth_message", "method": method, "url": url,
            "timestamp": timestamp, "nonce": nonce, "body": body}));
        ours.push((message, creds, nonce, timestamp));
    }
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    for (i, (message, creds, nonce, timestamp)) in ours.iter().enumerate() {
        let verified = &out[2 * i];
        assert_eq!(verified["ok"], json!(true), "case {i}: {verified}");
        assert_eq!(verified["mchid"], json!(creds.mchid));
        assert_eq!(verified["serial_no"], json!(creds.serial_no));
        assert_eq!(verified["nonce_str"], json!(nonce));
        assert_eq!(verified["timestamp"], json!(timestamp.to_string()));
        assert_eq!(out[2 * i + 1]["message"], json!(message), "case {i}");
    }
}

#[test]
fn canonical_url_matches_go_request_uri_rules() {
    // Go's URL.RequestURI (what wechatpay-go signs): escaped path + "?" + raw query,
    // "/" for an empty path, no fragment.
    assert_eq!(
        canonical_url(
            "https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/a%7Cb?mchid=1"
        )
        .unwrap(),
        "/v3/pay/transactions/out-trade-no/a%7Cb?mchid=1"
    );
    assert_eq!(canonical_url("https://api.mch.weixin.qq.com").unwrap(), "/");
    assert_eq!(canonical_url("https://h/p?").unwrap(), "/p?");
}

#[test]
fn invalid_inputs_name_their_field() {
    let k = key();
    let c = Credentials::new("1900009191", "SERIAL");
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        // (method, url, nonce, body, field)
        ("", "/v3/x", "n", "", "method"),
        ("G\"ET", "/v3/x", "n", "", "method"),
        ("GET", "", "n", "", "url"),
        ("GET", "v3/x", "n", "", "url"),
        ("GET", "/v3/x y", "n", "", "url"),
        ("GET", "/v3/x", "", "", "nonce"),
        ("GET", "/v3/x", "a\"b", "", "nonce"),
        ("GET", "/v3/x", "a\nb", "", "nonce"),
        ("GET", "/v3/x", "n", "{}", "body"),
    ];
    for (method, url, nonce, body, field) in cases {
        let e = authorization(&k, &c, method, url, 1, nonce, body).unwrap_err();
        assert_eq!(e.field(), Some(field), "{method:?} {url:?} {nonce:?}: {e}");
    }
    let e = authorization(&k, &Credentials::new("", "S"), "GET", "/x", 1, "n", "").unwrap_err();
    assert_eq!((e.code(), e.field()), ("missing_field", Some("mchid")));
    let e = authorization(&k, &Credentials::new("1", "S\""), "GET", "/x", 1, "n", "").unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("serial_no")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// sign → verify round trip through the header, and any changed body byte fails.
    #[test]
    fn header_signature_verifies_and_changed_body_fails(
        body in "[ -~\u{4e00}-\u{4e10}]{1,80}",
        nonce in "[A-Za-z0-9]{1,32}",
        ts in 0i64..4_000_000_000,
        flip in any::<prop::sample::Index>(),
    ) {
        let key = key();
        let public: PublicKey = key.public_key();
        let header = authorization(&key, &Credentials::new("1", "S"), "POST", "/v3/x", ts, &nonce, &body).unwrap();
        let sig_b64 = header.rsplit("signature=\"").next().unwrap().trim_end_matches('"');
        let sig = edgepay::crypto::encoding::b64decode("signature", sig_b64).unwrap();
        let message = authorization_message("POST", "/v3/x", ts, &nonce, &body).unwrap();
        prop_assert!(public.verify(RsaHash::Sha256, message.as_bytes(), &sig).is_ok());
        let mut bytes = message.clone().into_bytes();
        let i = flip.index(bytes.len());
        bytes[i] ^= 0x01;
        prop_assert!(public.verify(RsaHash::Sha256, &bytes, &sig).is_err());
    }

    /// The URL handling never panics, and what it accepts is a path.
    #[test]
    fn canonical_url_never_panics(url in ".{0,64}") {
        if let Ok(p) = canonical_url(&url) {
            prop_assert!(p.starts_with('/'));
            prop_assert!(!p.contains('#'));
        }
    }
}
