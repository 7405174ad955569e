//! Alipay verification: notifies, sync responses, certificate SNs, AES, v3.
//! Vectors: shared/vectors/alipay.json (yansongda/pay, alipay-easysdk) and the
//! yansongda/pay tests/Cert certificates; oracle: tests/oracle/alipay.mjs (node:crypto).

mod common;
use common::*;
use edgepay::alipay::notify::{notify_message, parse_form, verify_notify_params, NotifyCheck};
use edgepay::alipay::response::{extract, top_level_members};
use edgepay::alipay::v3::{verify_v3_response_headers, V3Request};
use edgepay::alipay::{self, ExpectedOrder};
use edgepay::crypto::{Certificate, PrivateKey, PublicKey};
use edgepay::params::Params;
use edgepay::Error;
use proptest::prelude::{any, prop, prop_assert, proptest, ProptestConfig};
use serde_json::{json, Value};

fn app_key_pem() -> String {
    vector_text("yansongda-app-private-key-pkcs1.pem")
}

fn app_key() -> PrivateKey {
    PrivateKey::parse(&app_key_pem()).unwrap()
}

fn app_pub() -> PublicKey {
    app_key().public_key()
}

/// The app public key as SPKI PEM (one base64 line: node:crypto reads it).
fn app_pub_pem() -> String {
    let der = app_pub().to_spki_der().unwrap();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        edgepay::crypto::encoding::b64encode(der)
    )
}

fn alipay_pub() -> PublicKey {
    PublicKey::parse(&vector_text("yansongda-alipay-public-key.pem")).unwrap()
}

fn run(cases: Vec<Value>) -> Vec<Value> {
    oracle("alipay.mjs", &json!({ "cases": cases }))["results"]
        .as_array()
        .unwrap()
        .clone()
}

fn vector_notify_params() -> serde_json::Map<String, Value> {
    vectors("alipay.json")["notify_rsa_check_v1_plus_sign"]["params"]
        .as_object()
        .unwrap()
        .clone()
}

// ---------------------------------------------------------------- notify

#[test]
fn yansongda_notify_with_plus_in_subject_verifies_from_the_raw_body() {
    // yansongda/pay CallbackPluginTest::testNotifyCallbackIncludePlus; the raw body
    // is encoded independently by node's URLSearchParams.
    let params = vector_notify_params();
    let body = run(vec![json!({"op": "form_encode", "params": params})])[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.contains("subject=yansongda%2B%E6%B5%8B%E8%AF%95+-+1"),
        "{body}"
    );
    let verified = alipay::verify_notify(body.as_bytes(), &alipay_pub()).unwrap();
    assert_eq!(verified["subject"], "yansongda+测试 - 1");
    assert_eq!(verified["total_amount"], "0.01");
    // rsaCheckV2 keeps sign_type in the string: this notify was signed without it
    assert!(alipay::verify_notify_v2(body.as_bytes(), &alipay_pub())
        .unwrap_err()
        .is_verification_failure());
    // the wrong key (the app's own) fails
    assert_eq!(
        alipay::verify_notify(body.as_bytes(), &app_pub())
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );

    // Decoding twice turns the subject's '+' into a space: verification must fail.
    let mut twice = parse_form(body.as_bytes()).unwrap();
    let subject = twice["subject"].replace('+', " ");
    assert_eq!(subject, "yansongda 测试 - 1");
    twice.insert("subject".into(), subject);
    let e = verify_notify_params(twice.clone(), &alipay_pub(), NotifyCheck::V1).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    // ...and so does a body that was re-encoded after decoding twice
    let reencoded = run(vec![json!({"op": "form_encode", "params": twice})])[0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(alipay::verify_notify(reencoded.as_bytes(), &alipay_pub()).is_err());
}

#[test]
fn check_notify_against_the_stored_order() {
    let p: Params = vector_notify_params()
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect();
    let good = ExpectedOrder {
        app_id: "9021000122682882".into(),
        out_trade_no: "1703147160".into(),
        total_fen: 1,
        seller_id: Some("2088721003899159".into()),
    };
    alipay::check_notify(&p, &good).unwrap();
    alipay::check_notify(
        &p,
        &ExpectedOrder {
            seller_id: None,
            ..good.clone()
        },
    )
    .unwrap();
    let mismatch = |e: Error| match e {
        Error::OrderMismatch { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let e = alipay::check_notify(
        &p,
        &ExpectedOrder {
            total_fen: 100,
            ..good.clone()
        },
    )
    .unwrap_err();
    assert_eq!(mismatch(e), "total_amount");
    let e = alipay::check_notify(
        &p,
        &ExpectedOrder {
            app_id: "x".into(),
            ..good.clone()
        },
    )
    .unwrap_err();
    assert_eq!(mismatch(e), "app_id");
    let e = alipay::check_notify(
        &p,
        &ExpectedOrder {
            out_trade_no: "x".into(),
            ..good.clone()
        },
    )
    .unwrap_err();
    assert_eq!(mismatch(e), "out_trade_no");
    let e = alipay::check_notify(
        &p,
        &ExpectedOrder {
            seller_id: Some("2088".into()),
            ..good.clone()
        },
    )
    .unwrap_err();
    assert_eq!(mismatch(e), "seller_id");
    for (status, ok) in [
        ("TRADE_FINISHED", true),
        ("WAIT_BUYER_PAY", false),
        ("TRADE_CLOSED", false),
    ] {
        let mut q = p.clone();
        q.insert("trade_status".into(), status.into());
        let r = alipay::check_notify(&q, &good);
        assert_eq!(r.is_ok(), ok, "{status}");
        if !ok {
            let e = r.unwrap_err();
            assert_eq!(e.field(), Some("trade_status"));
            assert!(e.to_string().contains(status));
        }
    }
    for (amount, field_err) in [
        ("0.010", "total_amount"),
        ("1e-2", "total_amount"),
        ("", "total_amount"),
    ] {
        let mut q = p.clone();
        q.insert("total_amount".into(), amount.into());
        assert_eq!(
            alipay::check_notify(&q, &good).unwrap_err().field(),
            Some(field_err)
        );
    }
    let mut q = p.clone();
    q.insert("total_amount".into(), "0.1".into());
    assert_eq!(
        mismatch(
            alipay::check_notify(
                &q,
                &ExpectedOrder {
                    total_fen: 1,
                    ..good.clone()
                }
            )
            .unwrap_err()
        ),
        "total_amount"
    );
    alipay::check_notify(
        &q,
        &ExpectedOrder {
            total_fen: 10,
            ..good
        },
    )
    .unwrap();
    assert_eq!(alipay::NOTIFY_SUCCESS.len(), 7);
    assert_eq!(alipay::NOTIFY_FAIL, "fail");
}

#[test]
fn differential_notifies_signed_in_node() {
    let mut rng = Rng::new(0x5EED);
    let pem = app_key_pem();
    let mut cases = Vec::new();
    let mut kinds = Vec::new();
    for i in 0..200 {
        let mut p = tricky_params(&mut rng);
        p.insert("subject".into(), tricky_value(&mut rng) + "+ 1");
        let sign_type = if i % 4 == 0 { "RSA" } else { "RSA2" };
        if i % 5 != 0 {
            p.insert("sign_type".into(), sign_type.into());
        }
        let v2 = i % 7 == 0 && p.contains_key("sign_type");
        let exclude = if v2 {
            json!(["sign"])
        } else {
            json!(["sign", "sign_type"])
        };
        let st = if p.contains_key("sign_type") {
            sign_type
        } else {
            "RSA2"
        };
        cases.push(json!({"op": "sign_form", "params": p, "sign_type": st, "private_key": pem, "exclude": exclude}));
        kinds.push(v2);
    }
    let bodies = run(cases);
    let key = app_pub();
    for (i, (b, v2)) in bodies.iter().zip(kinds).enumerate() {
        let body = b.as_str().unwrap();
        let r = if v2 {
            alipay::verify_notify_v2(body.as_bytes(), &key)
        } else {
            alipay::verify_notify(body.as_bytes(), &key)
        };
        let params = r.unwrap_or_else(|e| panic!("case {i}: {e}: {body}"));
        assert!(params.contains_key("sign"));
        // tamper with one value: must fail
        let tampered = body.replacen("subject=", "subject=X", 1);
        assert!(
            alipay::verify_notify(tampered.as_bytes(), &key).is_err(),
            "case {i}"
        );
    }
}

#[test]
fn diagnose_names_the_mistake() {
    use edgepay::alipay::notify::diagnose_notify;
    let params = vector_notify_params();
    let p: Params = params
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let key = alipay_pub();
    assert!(diagnose_notify(&p, &key).unwrap().contains("rsaCheckV1"));
    let mut twice = p.clone();
    twice.insert("subject".into(), "yansongda 测试 - 1".into());
    assert!(diagnose_notify(&twice, &key)
        .unwrap()
        .contains("in subject, a '+' was decoded to a space"));
    let mut other = p.clone();
    other.insert("sign_type".into(), "RSA".into());
    assert!(diagnose_notify(&other, &key).unwrap().contains("RSA2"));
    let mut changed = p.clone();
    changed.insert("total_amount".into(), "100.00".into());
    assert_eq!(diagnose_notify(&changed, &key), None);
    // a notify signed in node with sign_type kept (rsaCheckV2)
    let mut q = p.clone();
    q.remove("sign");
    let body = run(vec![
        json!({"op": "sign_form", "params": q, "sign_type": "RSA2",
        "private_key": app_key_pem(), "exclude": ["sign"]}),
    ])[0]
        .as_str()
        .unwrap()
        .to_string();
    let parsed = parse_form(body.as_bytes()).unwrap();
    assert!(alipay::verify_notify(body.as_bytes(), &app_pub()).is_err());
    assert!(diagnose_notify(&parsed, &app_pub())
        .unwrap()
        .contains("rsaCheckV2"));
    alipay::verify_notify_v2(body.as_bytes(), &app_pub()).unwrap();
}

#[test]
fn notify_two_step_message() {
    let p = edgepay::params::params([
        ("b", "2"),
        ("a", ""),
        ("sign", "c2ln"),
        ("sign_type", "RSA"),
    ]);
    let m = notify_message(&p, NotifyCheck::V1).unwrap();
    assert_eq!(m.message, "b=2");
    assert_eq!(m.hash, edgepay::crypto::RsaHash::Sha1);
    assert_eq!(m.signature, b"sig");
    assert_eq!(
        notify_message(&p, NotifyCheck::V2).unwrap().message,
        "b=2&sign_type=RSA"
    );
    let no_sign = edgepay::params::params([("b", "2")]);
    assert_eq!(
        notify_message(&no_sign, NotifyCheck::V1)
            .unwrap_err()
            .field(),
        Some("sign")
    );
    let bad_type = edgepay::params::params([("sign", "c2ln"), ("sign_type", "MD5")]);
    assert_eq!(
        notify_message(&bad_type, NotifyCheck::V1)
            .unwrap_err()
            .field(),
        Some("sign_type")
    );
}

#[test]
fn form_parser_junk() {
    for bad in [
        &b""[..],
        b"&&&",
        b"a=%",
        b"a=%2",
        b"a=%zz",
        b"a=1&a=2",
        b"=1",
        b"a=%FF",
        b"a=\xff\xfe",
        b"a=%E6%B5",
    ] {
        let e = parse_form(bad).unwrap_err();
        assert_eq!(e.code(), "malformed", "{:?}", String::from_utf8_lossy(bad));
    }
    let p = parse_form(b"a&b=&c=%2b%2B+").unwrap();
    assert_eq!(
        (p["a"].as_str(), p["b"].as_str(), p["c"].as_str()),
        ("", "", "++ ")
    );
    let mut rng = Rng::new(3);
    for n in 0..3000 {
        let len = if n == 0 { 1 << 20 } else { rng.below(200) };
        let bytes: Vec<u8> = (0..len)
            .map(|_| *rng.pick(b"ab=&%+2BFzx\xff\xe6 "))
            .collect();
        let _ = parse_form(&bytes);
        let _ = alipay::verify_notify(&bytes, &app_pub());
    }
}

// ------------------------------------------------------------- responses

fn sign_in_node(texts: &[&str]) -> Vec<String> {
    let pem = app_key_pem();
    run(texts
        .iter()
        .map(|t| json!({"op": "sign_text", "text": t, "private_key": pem}))
        .collect())
    .into_iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect()
}

#[test]
fn response_verified_over_raw_text() {
    // Odd spacing, escaped slashes and \u escapes: re-serialising would change the bytes.
    let node = "{ \"code\":\"10000\",  \"msg\":\"Success\",\"buyer_logon_id\":\"lgw***@sandbox.com\",\n\"out_trade_no\":\"1703141270\",\"subject\":\"\\u6d4b\\u8bd5 \\/ + }{\",\"total_amount\":\"0.01\",\"trade_status\":\"TRADE_SUCCESS\"}";
    let reserialised =
        serde_json::to_string(&serde_json::from_str::<Value>(node).unwrap()).unwrap();
    assert_ne!(reserialised, node);
    let cert_node =
        "{\"code\":\"10000\",\"msg\":\"Success\",\"qr_code\":\"https:\\/\\/qr.alipay.com\\/bax1\"}";
    let err_node = "{\"code\":\"40004\",\"msg\":\"Business Failed\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\",\"sub_msg\":\"\\u4ea4\\u6613\\u4e0d\\u5b58\\u5728\"}";
    let sigs = sign_in_node(&[node, cert_node, err_node, &reserialised]);
    let key = app_pub();

    let raw = format!(
        "{{\"alipay_trade_query_response\" : {node} ,\r\n \"sign\":\"{}\"}}",
        sigs[0]
    );
    let v = alipay::verify_response(&raw, "alipay.trade.query", &key).unwrap();
    assert_eq!(v["subject"], "测试 / + }{");
    let (name, v2) = alipay::verify_response_any(&raw, &key).unwrap();
    assert_eq!(name, "alipay_trade_query_response");
    assert_eq!(v, v2);
    // signed over the re-serialised text instead: does not verify the raw one
    let wrong = format!(
        "{{\"alipay_trade_query_response\":{node},\"sign\":\"{}\"}}",
        sigs[3]
    );
    assert_eq!(
        alipay::verify_response(&wrong, "alipay.trade.query", &key)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );

    // certificate mode: alipay_cert_sn between the node and sign
    let raw = format!("{{\"alipay_trade_precreate_response\":{cert_node},\"alipay_cert_sn\":\"6f1e366a31d9575cd546914add04f4af\",\"sign\":\"{}\"}}", sigs[1]);
    let r = extract(&raw, None).unwrap();
    assert_eq!(
        r.alipay_cert_sn.as_deref(),
        Some("6f1e366a31d9575cd546914add04f4af")
    );
    assert_eq!(r.signed_text, cert_node);
    let v = alipay::verify_response(&raw, "alipay.trade.precreate", &key).unwrap();
    assert_eq!(v["qr_code"], "https://qr.alipay.com/bax1");

    // a signed business error → Upstream, after verification
    let raw = format!(
        "{{\"alipay_trade_query_response\":{err_node},\"sign\":\"{}\"}}",
        sigs[2]
    );
    match alipay::verify_response(&raw, "alipay.trade.query", &key).unwrap_err() {
        Error::Upstream(u) => {
            assert_eq!(u.code, "40004");
            assert_eq!(u.sub_code.as_deref(), Some("ACQ.TRADE_NOT_EXIST"));
            assert_eq!(u.sub_message.as_deref(), Some("交易不存在"));
        }
        other => panic!("{other:?}"),
    }
    // ...a tampered error is a signature failure, not an Upstream error
    let tampered = raw.replace("40004", "40005");
    assert_eq!(
        alipay::verify_response(&tampered, "alipay.trade.query", &key)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
    // error_response (unsigned, e.g. bad app_id) for any method
    let raw = "{\"error_response\":{\"code\":\"40002\",\"msg\":\"Invalid Arguments\",\"sub_code\":\"isv.invalid-app-id\",\"sub_msg\":\"x\"}}";
    assert_eq!(
        alipay::verify_response(raw, "alipay.trade.query", &key)
            .unwrap_err()
            .code(),
        "upstream_error"
    );
    // legacy RSA (SHA1withRSA) responses
    let rsa_sig = run(vec![
        json!({"op": "sign_text", "text": node, "sign_type": "RSA", "private_key": app_key_pem()}),
    ])[0]
        .as_str()
        .unwrap()
        .to_string();
    let raw = format!("{{\"alipay_trade_query_response\":{node},\"sign\":\"{rsa_sig}\"}}");
    assert!(alipay::verify_response(&raw, "alipay.trade.query", &key).is_err());
    alipay::response::verify_response_with(&raw, None, &key, alipay::SignType::Rsa).unwrap();
    // an unsigned success is never accepted
    let raw = format!("{{\"alipay_trade_query_response\":{node}}}");
    assert_eq!(
        alipay::verify_response(&raw, "alipay.trade.query", &key)
            .unwrap_err()
            .field(),
        Some("sign")
    );
}

#[test]
fn every_changed_byte_of_a_response_fails() {
    let node = r#"{"code":"10000","msg":"Success","out_trade_no":"A1","total_amount":"88.88"}"#;
    let sig = &sign_in_node(&[node])[0];
    let raw = format!("{{\"alipay_trade_query_response\":{node},\"sign\":\"{sig}\"}}");
    let key = app_pub();
    alipay::verify_response(&raw, "alipay.trade.query", &key).unwrap();
    let start = raw.find(node).unwrap();
    for i in start..start + node.len() {
        let mut bytes = raw.clone().into_bytes();
        bytes[i] ^= 0x01;
        if let Ok(s) = String::from_utf8(bytes) {
            assert!(
                alipay::verify_response(&s, "alipay.trade.query", &key).is_err(),
                "byte {i}"
            );
        }
    }
}

#[test]
fn differential_responses_with_random_content() {
    let mut rng = Rng::new(42);
    let mut nodes = Vec::new();
    for _ in 0..60 {
        let mut p = tricky_params(&mut rng);
        p.insert("code".into(), "10000".into());
        let mut node = String::from("{");
        for (i, (k, v)) in p.iter().enumerate() {
            if i > 0 {
                node.push_str(if rng.below(2) == 0 { "," } else { " ,\n " });
            }
            node.push_str(&format!("{}:{}", json!(k), json!(v)));
        }
        node.push('}');
        nodes.push(node);
    }
    let refs: Vec<&str> = nodes.iter().map(String::as_str).collect();
    let sigs = sign_in_node(&refs);
    for (node, sig) in nodes.iter().zip(sigs) {
        let raw = format!("{{\"alipay_trade_pay_response\":{node},\"sign\":\"{sig}\"}}");
        alipay::verify_response(&raw, "alipay.trade.pay", &app_pub())
            .unwrap_or_else(|e| panic!("{e}: {raw}"));
    }
}

#[test]
fn response_parser_junk() {
    let mut rng = Rng::new(11);
    let alphabet = b"{}[]\":,\\ a_response10sign\xe6\xb5\x8b";
    for n in 0..5000 {
        let len = rng.below(120);
        let bytes: Vec<u8> = (0..len).map(|_| *rng.pick(alphabet)).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = top_level_members(&text);
        let _ = alipay::verify_response_any(&text, &app_pub());
        if n == 0 {
            let deep = "{\"a_response\":".to_string() + &"[".repeat(100_000) + "}";
            assert!(alipay::verify_response_any(&deep, &app_pub()).is_err());
            let huge = format!("{{\"a_response\":{{\"x\":\"{}\"}}}}", "y".repeat(4 << 20));
            assert!(alipay::verify_response_any(&huge, &app_pub()).is_err());
        }
    }
    // truncations of a valid response
    let raw = r#"{"alipay_trade_query_response":{"code":"10000","msg":"Success"},"sign":"c2ln"}"#;
    for i in 0..raw.len() {
        assert!(alipay::verify_response_any(&raw[..i], &app_pub()).is_err());
    }
}

// ------------------------------------------------------------- cert SN

#[test]
fn cert_sns_match_yansongda_config_and_node() {
    // alipay.json rsa2_request_sign carries yansongda's app_cert_sn and alipay_root_cert_sn
    let v = &vectors("alipay.json")["rsa2_request_sign"]["params"];
    let app = vector_text("yansongda-app-public-cert.crt");
    let public = vector_text("yansongda-alipay-public-cert.crt");
    let root = vector_text("yansongda-alipay-root-cert.crt");
    assert_eq!(
        alipay::cert_sn_pem(&app).unwrap(),
        v["app_cert_sn"].as_str().unwrap()
    );
    assert_eq!(
        alipay::root_cert_sn(&root).unwrap(),
        v["alipay_root_cert_sn"].as_str().unwrap()
    );
    // alipay_cert_sn: the first certificate of the Alipay public cert file
    // (value computed independently with Python cryptography)
    assert_eq!(
        alipay::cert_sn_pem(&public).unwrap(),
        "6f1e366a31d9575cd546914add04f4af"
    );
    let cert = Certificate::parse_pem(&public).unwrap();
    assert_eq!(
        alipay::cert_sn::issuer_dn(&cert),
        "CN=Ant Financial Certification Authority Class 2 R1 test,OU=Certification Authority test,O=Ant Financial test,C=CN"
    );
    let out = run(vec![
        json!({"op": "cert_sn", "pem": app}),
        json!({"op": "cert_sn", "pem": public}),
        json!({"op": "root_cert_sn", "pem": root}),
    ]);
    assert_eq!(out[0], json!(alipay::cert_sn_pem(&app).unwrap()));
    assert_eq!(out[1], json!(alipay::cert_sn_pem(&public).unwrap()));
    assert_eq!(out[2], json!(alipay::root_cert_sn(&root).unwrap()));
    // a bundle with no RSA-signed member, and junk
    let blocks: Vec<&str> = root.split_inclusive("-----END CERTIFICATE-----").collect();
    let sm2_only = blocks[0];
    assert_eq!(
        alipay::root_cert_sn(sm2_only).unwrap_err().code(),
        "invalid_key"
    );
    for junk in [
        "",
        "junk",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    ] {
        assert!(alipay::root_cert_sn(junk).is_err());
        assert!(alipay::cert_sn_pem(junk).is_err());
    }
}

// ------------------------------------------------------------- AES

#[test]
fn aes_vector_and_node_differential() {
    // alipay-easysdk ClientTest
    let v = &vectors("alipay.json")["aes_128_cbc_content"];
    let key = v["key_base64"].as_str().unwrap();
    assert_eq!(
        alipay::aes_encrypt(key, "test1234567").unwrap(),
        v["ciphertext_base64"].as_str().unwrap()
    );
    assert_eq!(
        alipay::aes_decrypt(key, v["ciphertext_base64"].as_str().unwrap()).unwrap(),
        "test1234567"
    );
    let mut rng = Rng::new(5);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..150 {
        let k: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
        let kb = edgepay::crypto::encoding::b64encode(&k);
        let text = tricky_value(&mut rng);
        let ct = alipay::aes_encrypt(&kb, &text).unwrap();
        cases.push(json!({"op": "aes_decrypt", "key": kb, "ct": ct}));
        cases.push(json!({"op": "aes_encrypt", "key": kb, "text": text}));
        ours.push((kb, text, ct));
    }
    let out = run(cases);
    for (i, (kb, text, ct)) in ours.iter().enumerate() {
        assert_eq!(out[2 * i], json!(text));
        assert_eq!(out[2 * i + 1], json!(ct));
        assert_eq!(&alipay::aes_decrypt(kb, ct).unwrap(), text);
    }
    let e = alipay::aes_encrypt("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "x").unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_key", Some("aes_key")));
    assert_eq!(
        alipay::aes_encrypt("%%", "x").unwrap_err().field(),
        Some("aes_key")
    );
    let wrong = alipay::aes_decrypt(
        "AAAAAAAAAAAAAAAAAAAAAA==",
        v["ciphertext_base64"].as_str().unwrap(),
    );
    assert!(wrong.is_err());
    for junk in ["", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA=", "!!"] {
        assert!(alipay::aes_decrypt(key, junk).is_err(), "{junk}");
    }
}

// ------------------------------------------------------------- v3

#[test]
fn v3_authorization_checked_in_node() {
    let key = app_key();
    let pub_pem = app_pub_pem();
    let mut cases = Vec::new();
    let bodies = ["", "{\"out_trade_no\":\"测试+1\"}", "{\"a\":\"\\n\"}\n"];
    let mut headers = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let req = V3Request {
            app_id: "2014060600164699",
            app_cert_sn: if i == 1 {
                Some("e90dd23a37c5c7b616e003970817ff82")
            } else {
                None
            },
            nonce: "5f9fba93-bbb2-40f0-b328-04d5ead3e131",
            timestamp_ms: 1_667_804_301_218,
            method: if body.is_empty() { "get" } else { "POST" },
            uri: "/v3/alipay/trade/query?x=1",
            body,
            app_auth_token: if i == 2 { Some("202312BBtoken") } else { None },
        };
        let auth = req.sign(&key).unwrap();
        cases.push(json!({"op": "v3_check", "authorization": auth, "method": req.method.to_uppercase(),
            "uri": req.uri, "body": body, "app_auth_token": req.app_auth_token, "public_key": pub_pem}));
        headers.push(auth);
    }
    let out = run(cases);
    for r in &out {
        assert_eq!(r["ok"], json!(true), "{r}");
    }
    assert_eq!(out[0]["keys"], json!(["app_id", "nonce", "timestamp"]));
    assert_eq!(
        out[1]["keys"],
        json!(["app_id", "app_cert_sn", "nonce", "timestamp"])
    );
    assert_eq!(out[1]["fields"]["timestamp"], json!("1667804301218"));
    assert!(headers[0].starts_with("ALIPAY-SHA256withRSA app_id=2014060600164699,nonce=5f9fba93-bbb2-40f0-b328-04d5ead3e131,timestamp=1667804301218,sign="));
    // validation
    assert_eq!(
        alipay::v3_auth_string("a", "n", 1_667_804_301, None)
            .unwrap_err()
            .field(),
        Some("timestamp")
    );
    assert_eq!(
        alipay::v3_auth_string("a,b", "n", 1_667_804_301_218, None)
            .unwrap_err()
            .field(),
        Some("app_id")
    );
    assert_eq!(
        alipay::v3_auth_string("a", "", 1_667_804_301_218, None)
            .unwrap_err()
            .field(),
        Some("nonce")
    );
    let bad_uri = V3Request {
        app_id: "a",
        app_cert_sn: None,
        nonce: "n",
        timestamp_ms: 1_667_804_301_218,
        method: "POST",
        uri: "https://openapi.alipay.com/v3/x",
        body: "",
        app_auth_token: None,
    };
    assert_eq!(bad_uri.message().unwrap_err().field(), Some("uri"));
}

#[test]
fn v3_response_verified_over_raw_bytes() {
    let pem = app_key_pem();
    let bodies: Vec<Vec<u8>> = vec![
        b"{\"code\":\"10000\",  \"msg\":\"\\u6210\\u529f\"}".to_vec(),
        Vec::new(),
        b"\xff\xfe not utf-8".to_vec(),
    ];
    let cases = bodies
        .iter()
        .map(|b| {
            json!({"op": "v3_response_sign", "timestamp": "1700000000000", "nonce": "abc",
            "body_b64": edgepay::crypto::encoding::b64encode(b), "private_key": pem})
        })
        .collect();
    let sigs = run(cases);
    let key = app_pub();
    for (b, s) in bodies.iter().zip(&sigs) {
        let s = s.as_str().unwrap();
        alipay::verify_v3_response("1700000000000", "abc", b, s, &key).unwrap();
        verify_v3_response_headers(
            [
                ("Alipay-Timestamp", "1700000000000"),
                ("ALIPAY-NONCE", "abc"),
                ("alipay-signature", s),
                ("x", "y"),
            ],
            b,
            &key,
        )
        .unwrap();
        let mut t = b.clone();
        t.push(b' ');
        assert_eq!(
            alipay::verify_v3_response("1700000000000", "abc", &t, s, &key)
                .unwrap_err()
                .code(),
            "signature_mismatch"
        );
        assert!(alipay::verify_v3_response("1700000000001", "abc", b, s, &key).is_err());
        assert!(alipay::verify_v3_response("1700000000000", "abd", b, s, &key).is_err());
    }
    assert_eq!(
        verify_v3_response_headers([("alipay-nonce", "n")], b"", &key)
            .unwrap_err()
            .field(),
        Some("alipay-timestamp")
    );
    assert_eq!(
        alipay::verify_v3_response("1", "n", b"", "***", &key)
            .unwrap_err()
            .field(),
        Some("alipay-signature")
    );
}

/// Regression (fuzz target `alipay_response`, fuzz/regressions/alipay_response/crash-8c8b…,
/// crash-20eb… and crash-9dc5…): a lone UTF-16 surrogate escape (`\ude24`) and a number out of
/// f64 range fit RFC 8259's grammar, so the raw scanner keeps the member; reading
/// it must then be a typed error.
#[test]
fn unrepresentable_json_values_give_typed_errors() {
    let raw =
        r#"{"alipay_trade_query_response":{"code":"10000","x":"\ude24"},"sign":"AB\ude24CD"}"#;
    let members = top_level_members(raw).unwrap();
    assert_eq!(members[1].1, r#""AB\ude24CD""#);
    let e = extract(raw, None).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("sign")));
    // In the node itself: the signature is checked over the raw text first,
    // then the node cannot be read.
    let raw = r#"{"alipay_trade_query_response":{"code":"10000","x":"\ude24"},"sign":"AAAA"}"#;
    let r = extract(raw, None).unwrap();
    assert_eq!(r.business_result().unwrap_err().code(), "malformed");
    let e = alipay::verify_response_any(raw, &alipay_pub()).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    let found = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/alipay_response/crash-8c8b40d1fa18f2e2dcac7ae3e6d4680f34ec2a58"
    ))
    .unwrap();
    let e = extract(std::str::from_utf8(&found).unwrap(), None).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("sign")));
    // A lone leading surrogate followed by other text (crash-20eb…).
    let raw = r#"{"a_response":{"code":"10000","x":"\udb24UbP"},"sign":"AAAA"}"#;
    let r = extract(raw, None).unwrap();
    assert_eq!(r.business_result().unwrap_err().code(), "malformed");
    // A number beyond f64 range inside the node.
    let raw = r#"{"a_response":{"code":"10000","y":[0,{"z":2.5e322222}]},"sign":"AAAA"}"#;
    let r = extract(raw, None).unwrap();
    assert_eq!(
        r.signed_text,
        r#"{"code":"10000","y":[0,{"z":2.5e322222}]}"#
    );
    let e = r.business_result().unwrap_err();
    assert_eq!(e.code(), "malformed");
    assert!(e.to_string().contains("out of range"), "{e}");
}

// ------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn notify_round_trip_and_tamper(values in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{0,12}", 1..6), flip in any::<prop::sample::Index>()) {
        let key = app_key();
        let mut p: Params = values.into_iter().filter(|(k, _)| k != "sign" && k != "sign_type").collect();
        p.insert("out_trade_no".into(), "A1".into());
        let signed_str = alipay::string_to_sign(&p);
        let sig = alipay::sign(&p, &key, alipay::SignType::Rsa2).unwrap();
        p.insert("sign".into(), sig);
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(p.iter()).finish();
        prop_assert!(alipay::verify_notify(body.as_bytes(), &app_pub()).is_ok());
        // change one byte of one signed value: must fail
        let signed: Vec<(String, String)> = p.iter().filter(|(k, v)| *k != "sign" && !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
        let (k, v) = &signed[flip.index(signed.len())];
        let mut bytes = v.clone().into_bytes();
        bytes[0] = if bytes[0] == b'x' { b'y' } else { b'x' };
        let mut changed = p.clone();
        changed.insert(k.clone(), String::from_utf8_lossy(&bytes).into_owned());
        prop_assert!(!signed_str.is_empty());
        if changed != p {
            let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(changed.iter()).finish();
            prop_assert!(alipay::verify_notify(body.as_bytes(), &app_pub()).is_err());
        }
    }
}

// --------------------------------------------- AES content encryption, end to end

/// `encrypt_type=AES`: the request's `biz_content` is the AES ciphertext and
/// the whole request is signed after encrypting; the answer's node is the
/// ciphertext as a JSON string and the signature covers that string *with its
/// quotes* (official PHP SDK `AopClient::parserJSONSource`, Java
/// `JsonConverter.parseSignSourceData`: the text between `…_response":` and
/// `,"sign"`). Every ciphertext and signature on the other side comes from
/// node:crypto (tests/oracle/alipay.mjs).
#[test]
fn encrypted_request_and_answer_against_node() {
    let v = &vectors("alipay.json")["aes_128_cbc_content"];
    let aes = v["key_base64"].as_str().unwrap();
    let key = app_key();
    let req =
        alipay::request::trade_query(&alipay::request::TradeRef::OutTradeNo("ORDER-enc-1".into()))
            .unwrap();
    let common = alipay::request::CommonParams::new("2021000000000001", 1_700_000_000).unwrap();
    let params = req.to_encrypted_params(&common, aes).unwrap();
    let signed = alipay::sign_params(params.clone(), &key, alipay::SignType::Rsa2).unwrap();
    let as_json =
        |p: &Params| -> Value { json!(p.iter().collect::<std::collections::BTreeMap<_, _>>()) };

    let node_ok = r#"{"code":"10000","msg":"Success","out_trade_no":"ORDER-enc-1","subject":"测试 / +","trade_status":"TRADE_SUCCESS","total_amount":"0.01"}"#;
    let node_err = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#;
    let cases = vec![
        json!({"op": "aes_decrypt", "key": aes, "ct": params.get("biz_content").unwrap()}),
        json!({"op": "verify_params", "params": as_json(&signed), "sign": signed.get("sign").unwrap(),
               "sign_type": "RSA2", "exclude": ["sign"], "public_key": app_pub_pem()}),
        json!({"op": "aes_encrypt", "key": aes, "text": node_ok}),
        json!({"op": "aes_encrypt", "key": aes, "text": node_err}),
    ];
    let pre = run(cases);
    // The request: biz_content decrypts (in node) to the builder's JSON; encrypt_type signed.
    assert_eq!(pre[0], json!(req.biz_content));
    assert_eq!(params.get("encrypt_type").map(String::as_str), Some("AES"));
    assert_eq!(
        pre[1],
        json!(true),
        "node:crypto rejects the signature of the encrypted request"
    );

    let (ct_ok, ct_err) = (pre[2].as_str().unwrap(), pre[3].as_str().unwrap());
    let quoted = |ct: &str| format!("\"{ct}\"");
    let sigs = sign_in_node(&[&quoted(ct_ok), &quoted(ct_err), ct_ok]);
    let pubkey = app_pub();
    let answer = |ct: &str, sig: &str| {
        format!("{{\"alipay_trade_query_response\":\"{ct}\",\"sign\":\"{sig}\"}}")
    };
    let verify = |raw: &str, k: &str| {
        alipay::verify_encrypted_response(
            raw,
            Some("alipay.trade.query"),
            &pubkey,
            alipay::SignType::Rsa2,
            k,
        )
    };

    // Verified over the quoted ciphertext, then decrypted.
    let got = verify(&answer(ct_ok, &sigs[0]), aes).unwrap();
    assert_eq!(got["trade_status"], "TRADE_SUCCESS");
    assert_eq!(got["out_trade_no"], "ORDER-enc-1");
    assert_eq!(got["subject"], "测试 / +");
    // An encrypted business error: signature checked, then the Upstream error.
    match verify(&answer(ct_err, &sigs[1]), aes).unwrap_err() {
        Error::Upstream(u) => assert_eq!(u.sub_code.as_deref(), Some("ACQ.TRADE_NOT_EXIST")),
        other => panic!("{other:?}"),
    }
    // Signed over the ciphertext without quotes: not what Alipay signs.
    assert!(verify(&answer(ct_ok, &sigs[2]), aes)
        .unwrap_err()
        .is_verification_failure());
    // Another answer's signature, or a changed ciphertext: mismatch before any decryption.
    assert!(verify(&answer(ct_ok, &sigs[1]), aes)
        .unwrap_err()
        .is_verification_failure());
    let mut tampered = ct_ok.to_string();
    tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
    assert!(verify(&answer(&tampered, &sigs[0]), aes)
        .unwrap_err()
        .is_verification_failure());
    // The right signature with the wrong AES key: a decryption error, never a result.
    let wrong = edgepay::crypto::encoding::b64encode([7u8; 16]);
    let e = verify(&answer(ct_ok, &sigs[0]), &wrong).unwrap_err();
    assert!(
        matches!(e, Error::DecryptFailed { .. }) || e.field() == Some("plaintext"),
        "{e:?}"
    );
    // Without the key: a clear error naming the node, not a parse failure.
    let e = alipay::verify_response(&answer(ct_ok, &sigs[0]), "alipay.trade.query", &pubkey)
        .unwrap_err();
    assert_eq!(e.field(), Some("alipay_trade_query_response"));
    assert!(e.to_string().contains("AES-encrypted"), "{e}");
    // A gateway error in clear (no encryption) is still read with the key set.
    let clear = sign_in_node(&[node_err]);
    let raw = format!(
        "{{\"alipay_trade_query_response\":{node_err},\"sign\":\"{}\"}}",
        clear[0]
    );
    assert!(matches!(verify(&raw, aes).unwrap_err(), Error::Upstream(_)));
}
