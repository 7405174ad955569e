//! Client parameters (JSAPI, JS-SDK, mini program, APP; v2 and v3), the JS-SDK
//! signature and legacy 2014 APP pay — against node:crypto and published vectors.

mod common;
use common::*;
use edgepay::crypto::{PrivateKey, PublicKey, RsaHash, Verifier};
use edgepay::params::{params, Params};
use edgepay::wechat::client_params::{
    self, app_v2, jsapi_v2, miniprogram_v2, ClientKind, ClientParams, PayInput,
};
use edgepay::wechat::v2::SignType;
use edgepay::wechat::{jssdk, legacy};
use serde_json::{json, Value};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const KINDS: [(ClientKind, &str); 4] = [
    (ClientKind::Jsapi, "jsapi"),
    (ClientKind::Jssdk, "jssdk"),
    (ClientKind::MiniProgram, "miniprogram"),
    (ClientKind::App, "app"),
];

fn nonce(rng: &mut common::Rng) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..rng.below(32) + 1)
        .map(|_| A[rng.below(A.len())] as char)
        .collect()
}

fn keys_of(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Differential: v2 paySign / sign recomputed by node:crypto from the rules
/// (for every kind, both algorithms), and the exact JSON object compared.
#[test]
fn v2_differential_against_node() {
    let mut rng = common::Rng::new(11);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for i in 0..320 {
        let (kind, name) = KINDS[i % 4];
        let t = if i % 3 == 0 {
            SignType::HmacSha256
        } else {
            SignType::Md5
        };
        let appid = format!("wx{}", nonce(&mut rng));
        let prepay = format!("wx{}", nonce(&mut rng));
        let n = nonce(&mut rng);
        let partnerid = format!("{}", 1_000_000 + rng.below(9_000_000));
        let ts = 1_400_000_000 + rng.below(400_000_000) as i64;
        let key = if i % 2 == 0 {
            KEY.to_string()
        } else {
            tricky_value(&mut rng) + "K"
        };
        let input = PayInput {
            appid: &appid,
            prepay_id: &prepay,
            timestamp: ts,
            nonce: &n,
            partnerid: &partnerid,
        };
        let out = serde_json::to_value(client_params::v2(kind, &input, &key, t).unwrap()).unwrap();
        ours.push(out);
        cases.push(json!({"op": "client_v2", "kind": name, "appid": appid, "prepay_id": prepay,
            "timestamp": ts, "nonce": n, "partnerid": partnerid, "key": key, "sign_type": t.as_str()}));
    }
    let res = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    assert_eq!(res["results"].as_array().unwrap().len(), ours.len());
    for (o, r) in ours.iter().zip(res["results"].as_array().unwrap()) {
        assert_eq!(o, r);
        // Same keys in the same order as the client API documents.
        assert_eq!(keys_of(o), keys_of(r));
    }
}

#[test]
fn key_case_and_appid_rules() {
    let input = PayInput {
        appid: "wxd930ea5d5a258f4f",
        prepay_id: "wx201410272009395522657a690389285100",
        timestamp: 1414561699,
        nonce: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        partnerid: "1900000109",
    };
    let j = serde_json::to_value(
        client_params::v2(ClientKind::Jsapi, &input, KEY, SignType::Md5).unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys_of(&j),
        [
            "appId",
            "timeStamp",
            "nonceStr",
            "package",
            "signType",
            "paySign"
        ]
    );
    assert!(j["timeStamp"].is_string());
    let s = serde_json::to_value(
        client_params::v2(ClientKind::Jssdk, &input, KEY, SignType::Md5).unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys_of(&s),
        ["timestamp", "nonceStr", "package", "signType", "paySign"]
    );
    // chooseWXPay's paySign is the JSAPI one (signed with appId and timeStamp).
    assert_eq!(s["paySign"], j["paySign"]);
    let m = serde_json::to_value(
        client_params::v2(ClientKind::MiniProgram, &input, KEY, SignType::HmacSha256).unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys_of(&m),
        ["timeStamp", "nonceStr", "package", "signType", "paySign"]
    );
    // Mini program: appId absent from the output but signed (pitfall 6).
    let mut without_appid = params([
        ("timeStamp", "1414561699"),
        ("nonceStr", input.nonce),
        ("package", "prepay_id=wx201410272009395522657a690389285100"),
        ("signType", "HMAC-SHA256"),
    ]);
    assert_ne!(
        m["paySign"],
        edgepay::wechat::v2::sign(&without_appid, KEY, SignType::HmacSha256)
    );
    without_appid.insert("appId".into(), input.appid.into());
    assert_eq!(
        m["paySign"],
        edgepay::wechat::v2::sign(&without_appid, KEY, SignType::HmacSha256)
    );
    // Lower-case "timestamp" in the signed string would give another sign.
    let wrong_case: Params = params([
        ("appId", input.appid),
        ("timestamp", "1414561699"),
        ("nonceStr", input.nonce),
        ("package", "prepay_id=wx201410272009395522657a690389285100"),
        ("signType", "MD5"),
    ]);
    assert_ne!(
        j["paySign"],
        edgepay::wechat::v2::sign(&wrong_case, KEY, SignType::Md5)
    );
    let a = serde_json::to_value(
        client_params::v2(ClientKind::App, &input, KEY, SignType::Md5).unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys_of(&a),
        [
            "appid",
            "partnerid",
            "prepayid",
            "package",
            "noncestr",
            "timestamp",
            "sign"
        ]
    );
    assert_eq!(a["package"], "Sign=WXPay");
    assert_eq!(a["prepayid"], input.prepay_id);
    // Typed functions agree with the dispatcher.
    assert_eq!(
        serde_json::to_value(jsapi_v2(&input, KEY, SignType::Md5).unwrap()).unwrap(),
        j
    );
    assert_eq!(
        serde_json::to_value(miniprogram_v2(&input, KEY, SignType::HmacSha256).unwrap()).unwrap(),
        m
    );
    assert_eq!(
        serde_json::to_value(app_v2(&input, KEY, SignType::Md5).unwrap()).unwrap(),
        a
    );
}

#[test]
fn input_validation() {
    let ok = PayInput {
        appid: "wx1",
        prepay_id: "wx2",
        timestamp: 1_700_000_000,
        nonce: "n",
        partnerid: "",
    };
    let field = |i: PayInput, k: ClientKind| {
        client_params::v2(k, &i, KEY, SignType::Md5)
            .unwrap_err()
            .field()
            .map(str::to_string)
    };
    assert_eq!(
        field(PayInput { appid: "", ..ok }, ClientKind::Jsapi).as_deref(),
        Some("appid")
    );
    assert_eq!(
        field(
            PayInput {
                prepay_id: "",
                ..ok
            },
            ClientKind::Jsapi
        )
        .as_deref(),
        Some("prepay_id")
    );
    assert_eq!(
        field(
            PayInput {
                prepay_id: "prepay_id=wx2",
                ..ok
            },
            ClientKind::Jsapi
        )
        .as_deref(),
        Some("prepay_id")
    );
    // Milliseconds (pitfall 7) and negatives.
    let e = client_params::v2(
        ClientKind::Jsapi,
        &PayInput {
            timestamp: 1_700_000_000_000,
            ..ok
        },
        KEY,
        SignType::Md5,
    )
    .unwrap_err();
    assert!(e.to_string().contains("milliseconds"));
    assert_eq!(
        field(
            PayInput {
                timestamp: -1,
                ..ok
            },
            ClientKind::Jsapi
        )
        .as_deref(),
        Some("timestamp")
    );
    assert_eq!(
        field(PayInput { nonce: "", ..ok }, ClientKind::Jsapi).as_deref(),
        Some("nonce")
    );
    let long = "n".repeat(33);
    assert_eq!(
        field(PayInput { nonce: &long, ..ok }, ClientKind::Jsapi).as_deref(),
        Some("nonce")
    );
    assert_eq!(field(ok, ClientKind::App).as_deref(), Some("partnerid"));
    assert_eq!(
        client_params::v2(ClientKind::Jsapi, &ok, "", SignType::Md5)
            .unwrap_err()
            .code(),
        "invalid_key"
    );
    assert!(client_params::v3_message(ClientKind::App, &ok).is_err());
    assert_eq!(
        "MiniProgram".parse::<ClientKind>().unwrap(),
        ClientKind::MiniProgram
    );
    assert_eq!(
        "web".parse::<ClientKind>().unwrap_err().field(),
        Some("kind")
    );
    // v3 assemble rejects a signature that is not base64.
    assert_eq!(
        client_params::v3_assemble(ClientKind::Jsapi, &ok, "not base64!")
            .unwrap_err()
            .field(),
        Some("paySign")
    );
}

/// v3 RSA: signed with the wechatpay-go test key (SOURCES.md), verified by
/// node:crypto with the public key over a message node builds itself.
#[test]
fn v3_rsa_verified_by_node() {
    let key = PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap();
    let public_pem = vector_text("wechatpay-go-test-pub.pem");
    let mut rng = common::Rng::new(3);
    let mut cases = Vec::new();
    for i in 0..16 {
        let (kind, name) = KINDS[i % 4];
        let appid = format!("wx{}", nonce(&mut rng));
        let prepay = format!("wx{}", nonce(&mut rng));
        let n = nonce(&mut rng);
        let input = PayInput {
            appid: &appid,
            prepay_id: &prepay,
            timestamp: 1_554_208_460 + i as i64,
            nonce: &n,
            partnerid: "1900000109",
        };
        let out = client_params::v3(kind, &input, &key).unwrap();
        let v = serde_json::to_value(&out).unwrap();
        match &out {
            ClientParams::App(a) => {
                assert_eq!(a.package, "Sign=WXPay");
                assert_eq!(a.prepayid, prepay);
            }
            ClientParams::Jsapi(p) => assert_eq!(p.sign_type, "RSA"),
            ClientParams::Jssdk(p) => assert_eq!(p.sign_type, "RSA"),
            ClientParams::MiniProgram(p) => assert_eq!(p.sign_type, "RSA"),
        }
        cases.push(json!({"op": "client_v3_verify", "kind": name, "appid": appid, "output": v, "public_key": public_pem}));

        // Two-step form gives the same result (PKCS#1 v1.5 is deterministic).
        let msg = client_params::v3_message(kind, &input).unwrap();
        let sig = edgepay::crypto::Signer::sign(&key, RsaHash::Sha256, msg.as_bytes()).unwrap();
        let two =
            client_params::v3_assemble(kind, &input, &edgepay::crypto::encoding::b64encode(&sig))
                .unwrap();
        assert_eq!(two, out);
    }
    let res = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    for (c, r) in cases.iter().zip(res["results"].as_array().unwrap()) {
        assert_eq!(r["valid"], true, "{c} / {r}");
        let msg = r["message"].as_str().unwrap();
        assert_eq!(msg.matches('\n').count(), 4);
        if c["kind"] == "app" {
            assert!(!msg.contains("prepay_id="), "APP signs the raw prepay id");
        } else {
            assert!(msg.contains("\nprepay_id=wx"));
        }
    }
}

#[test]
fn v3_message_exact_and_tamper() {
    let input = PayInput {
        appid: "wx8888888888888888",
        prepay_id: "wx201410272009395522657a690389285100",
        timestamp: 1414561699,
        nonce: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        partnerid: "1900000109",
    };
    assert_eq!(
        client_params::v3_message(ClientKind::MiniProgram, &input).unwrap(),
        "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
    );
    assert_eq!(
        client_params::v3_message(ClientKind::App, &input).unwrap(),
        "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nwx201410272009395522657a690389285100\n"
    );
    let key = PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap();
    let public = PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap();
    let out = client_params::v3(ClientKind::Jsapi, &input, &key).unwrap();
    let ClientParams::Jsapi(p) = out else {
        panic!()
    };
    let sig = edgepay::crypto::encoding::b64decode("paySign", &p.pay_sign).unwrap();
    let other = PayInput {
        timestamp: 1414561700,
        ..input
    };
    let other_msg = client_params::v3_message(ClientKind::Jsapi, &other).unwrap();
    assert!(public
        .verify(RsaHash::Sha256, other_msg.as_bytes(), &sig)
        .is_err());
}

/// Source: WeChat JS-SDK doc appendix 1 / wechatpy test_jsapi_get_jsapi_signature.
#[test]
fn jssdk_official_vector_and_node() {
    let v = &vectors("wechat.json")["jssdk_signature_official"];
    let ticket = v["jsapi_ticket"].as_str().unwrap();
    let nonce = v["noncestr"].as_str().unwrap();
    let ts: i64 = v["timestamp"].as_str().unwrap().parse().unwrap();
    let url = v["url"].as_str().unwrap();
    assert_eq!(
        jssdk::string_to_sign(ticket, nonce, ts, url),
        v["string_to_sign"].as_str().unwrap()
    );
    assert_eq!(
        jssdk::signature(ticket, nonce, ts, url),
        v["signature"].as_str().unwrap()
    );
    // The fragment is dropped.
    assert_eq!(
        jssdk::signature(ticket, nonce, ts, &format!("{url}#/a?b=c")),
        v["signature"].as_str().unwrap()
    );
    let c = serde_json::to_value(jssdk::config("wx1", ticket, nonce, ts, url)).unwrap();
    assert_eq!(keys_of(&c), ["appId", "timestamp", "nonceStr", "signature"]);

    let mut rng = common::Rng::new(17);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..100 {
        let t = nonce_str(&mut rng);
        let n = nonce_str(&mut rng);
        let ts = 1_400_000_000 + rng.below(1_000_000) as i64;
        let url = format!(
            "https://example.com/{}?q={}#{}",
            tricky_value(&mut rng),
            tricky_value(&mut rng),
            tricky_value(&mut rng)
        );
        ours.push(jssdk::signature(&t, &n, ts, &url));
        cases.push(json!({"op": "jssdk", "ticket": t, "noncestr": n, "timestamp": ts, "url": url}));
    }
    let res = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    assert_eq!(res["results"].as_array().unwrap().len(), ours.len());
    for (o, r) in ours.iter().zip(res["results"].as_array().unwrap()) {
        assert_eq!(o, r["signature"].as_str().unwrap());
    }
}

fn nonce_str(rng: &mut common::Rng) -> String {
    nonce(rng)
}

/// Source: the 2014 APP pay / JSAPI v2 doc example, as asserted by
/// chanxuehong/wechat's pay tests (TestTenpayMD5Sign, TestWXSHA1Sign1).
#[test]
fn legacy_published_vectors() {
    let p = params([
        ("bank_type", "WX"),
        ("body", "支付测试"),
        ("fee_type", "1"),
        ("input_charset", "UTF-8"),
        ("notify_url", "http://weixin.qq.com"),
        ("out_trade_no", "7240b65810859cbf2a8d9f76a638c0a3"),
        ("partner", "1900000109"),
        ("spbill_create_ip", "196.168.1.1"),
        ("total_fee", "1"),
    ]);
    let package = "bank_type=WX&body=%E6%94%AF%E4%BB%98%E6%B5%8B%E8%AF%95&fee_type=1&input_charset=UTF-8&notify_url=http%3A%2F%2Fweixin.qq.com&out_trade_no=7240b65810859cbf2a8d9f76a638c0a3&partner=1900000109&spbill_create_ip=196.168.1.1&total_fee=1&sign=7F77B507B755B3262884291517E380F8";
    assert_eq!(
        legacy::package(&p, "8934e7d15453e97507ef794cf7b0519d"),
        package
    );
    let appkey = "L8LrMqqeGRxST5reouB0K66CaYAWpqhAVsq7ggKkxHCOastWksvuX1uvmvQclxaHoYd3ElNBrNO2DHnnzgfVG9Qs473M3DTOZug5er46FhuGofumV8H2FVR9qkjSlC5K";
    let sig_params = params([
        ("appid", "wxd930ea5d5a258f4f"),
        ("appkey", appkey),
        ("noncestr", "e7d161ac8d8a76529d39d9f5b4249ccb"),
        ("package", package),
        ("timestamp", "1399514976"),
        ("traceid", "test_1399514976"),
    ]);
    assert_eq!(
        legacy::app_signature(&sig_params),
        "8893870b9004ead28691b60db97a8d2c80dbfdc6"
    );
    // Upper-case keys are lower-cased first.
    let mut upper = Params::new();
    for (k, v) in &sig_params {
        upper.insert(k.to_uppercase(), v.clone());
    }
    assert_eq!(
        legacy::app_signature(&upper),
        "8893870b9004ead28691b60db97a8d2c80dbfdc6"
    );

    let body: Value = serde_json::from_str(&legacy::genprepay_body(
        "wxd930ea5d5a258f4f",
        appkey,
        "test_1399514976",
        "e7d161ac8d8a76529d39d9f5b4249ccb",
        package,
        1399514976,
    ))
    .unwrap();
    assert_eq!(
        body["app_signature"],
        "8893870b9004ead28691b60db97a8d2c80dbfdc6"
    );
    assert_eq!(body["sign_method"], "sha1");
    assert_eq!(body["timestamp"], 1399514976);
    assert!(body.get("appkey").is_none());
    assert!(!body.to_string().contains(appkey));
}

/// Differential: legacy package and both SHA1 signatures against node:crypto.
#[test]
fn legacy_differential_against_node() {
    let mut rng = common::Rng::new(23);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for i in 0..150 {
        let mut p = tricky_params(&mut rng);
        p.insert("partner".into(), "1900000109".into());
        let pk = format!("pk{i}");
        ours.push(json!({"package": legacy::package(&p, &pk)}));
        cases.push(json!({"op": "legacy_package", "params": p, "partner_key": pk}));
        let mut s = tricky_params(&mut rng);
        s.insert("appkey".into(), nonce(&mut rng));
        ours.push(json!({"signature": legacy::app_signature(&s)}));
        cases.push(json!({"op": "legacy_sha1", "params": s}));
    }
    // The second signature of app_pay_params, recomputed by node over the documented fields.
    let ap = legacy::app_pay_params(
        "wxd930ea5d5a258f4f",
        "appkey-secret",
        "1900000109",
        "1101000000140415649af9fc314aa427",
        "a462b76e7436e98e0ed6e13c64b4fd1c",
        1397527777,
    );
    let v = serde_json::to_value(&ap).unwrap();
    assert_eq!(
        keys_of(&v),
        [
            "appid",
            "noncestr",
            "package",
            "partnerid",
            "prepayid",
            "timestamp",
            "sign"
        ]
    );
    assert!(!v.to_string().contains("appkey-secret"));
    ours.push(json!({"signature": ap.sign}));
    cases.push(json!({"op": "legacy_sha1", "params": {"appid": "wxd930ea5d5a258f4f", "appkey": "appkey-secret", "noncestr": "a462b76e7436e98e0ed6e13c64b4fd1c", "package": "Sign=WXPay", "partnerid": "1900000109", "prepayid": "1101000000140415649af9fc314aa427", "timestamp": "1397527777"}}));
    let res = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    assert_eq!(res["results"].as_array().unwrap().len(), ours.len());
    for (o, r) in ours.iter().zip(res["results"].as_array().unwrap()) {
        assert_eq!(o, r);
    }
}
