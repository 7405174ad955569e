//! Alipay v2 request signing, builders, orderString and timestamps.
//! Vectors: shared/vectors/alipay.json (yansongda/pay); differential oracle:
//! tests/oracle/alipay.mjs (node:crypto + URLSearchParams).

mod common;
use common::*;
use edgepay::alipay::request::{
    trade_app_pay, trade_close, trade_page_pay, trade_query, trade_refund, trade_wap_pay,
    CommonParams, Refund, TradeOrder, TradeRef,
};
use edgepay::alipay::{self, sign::prepare_sign, SignType};
use edgepay::crypto::PrivateKey;
use edgepay::params::Params;
use serde_json::{json, Value};

fn app_key() -> PrivateKey {
    PrivateKey::parse(&vector_text("yansongda-app-private-key-pkcs1.pem")).unwrap()
}

fn app_pub_pem() -> String {
    // The SPKI PEM of the app key, for node.
    let der = app_key().public_key().to_spki_der().unwrap();
    let b64 = edgepay::crypto::encoding::b64encode(der);
    format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
}

fn to_params(v: &Value) -> Params {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn yansongda_rsa2_request_sign_vector() {
    // yansongda/pay AddPayloadSignaturePluginTest::testSignNormal
    let v = &vectors("alipay.json")["rsa2_request_sign"];
    let params = to_params(&v["params"]);
    assert_eq!(
        alipay::string_to_sign(&params),
        v["string_to_sign"].as_str().unwrap()
    );
    let sign = alipay::sign(&params, &app_key(), SignType::Rsa2).unwrap();
    assert_eq!(sign, v["sign"].as_str().unwrap());
    // sign_params sets sign_type (already RSA2) and adds the same sign
    let signed = alipay::sign_params(params.clone(), &app_key(), SignType::Rsa2).unwrap();
    assert_eq!(signed["sign"], v["sign"].as_str().unwrap());
    // a different sign_type changes the signed string and therefore the signature
    let rsa = alipay::sign_params(params, &app_key(), SignType::Rsa).unwrap();
    assert_eq!(rsa["sign_type"], "RSA");
    assert_ne!(rsa["sign"], v["sign"].as_str().unwrap());
}

#[test]
fn differential_sign_verified_by_node() {
    let mut rng = Rng::new(0xA11);
    let key = app_key();
    let public = app_pub_pem();
    let mut cases = Vec::new();
    let mut expected_canon = Vec::new();
    for i in 0..240 {
        let sign_type = if i % 3 == 0 {
            SignType::Rsa
        } else {
            SignType::Rsa2
        };
        let mut p = tricky_params(&mut rng);
        p.insert(
            "biz_content".into(),
            json!({"subject": tricky_value(&mut rng)}).to_string(),
        );
        let signed = alipay::sign_params(p, &key, sign_type).unwrap();
        expected_canon.push(alipay::string_to_sign(&signed));
        cases.push(
            json!({"op": "verify_params", "params": signed, "sign": signed["sign"],
            "sign_type": sign_type.to_string(), "public_key": public}),
        );
        cases.push(json!({"op": "canonical", "params": signed}));
    }
    let out = oracle("alipay.mjs", &json!({ "cases": cases }));
    let results = out["results"].as_array().unwrap();
    for (i, pair) in results.chunks(2).enumerate() {
        assert_eq!(pair[0], json!(true), "case {i} did not verify in node");
        assert_eq!(
            pair[1].as_str().unwrap(),
            expected_canon[i],
            "case {i} canonical"
        );
    }
}

#[test]
fn two_step_signing_matches_one_step() {
    let key = app_key();
    let p = edgepay::params::params([("app_id", "1"), ("biz_content", "{\"a\":\"+ &\"}")]);
    let (prepared, text) = prepare_sign(p.clone(), SignType::Rsa2);
    assert_eq!(text, "app_id=1&biz_content={\"a\":\"+ &\"}&sign_type=RSA2");
    // sign the text in node (an "external" signer), then assemble
    let pem = vector_text("yansongda-app-private-key-pkcs1.pem");
    let out = oracle(
        "alipay.mjs",
        &json!({"cases": [{"op": "sign_text", "text": text, "private_key": pem}]}),
    );
    let sig = out["results"][0].as_str().unwrap();
    let assembled = alipay::sign::assemble_signed(prepared, sig).unwrap();
    assert_eq!(
        assembled,
        alipay::sign_params(p, &key, SignType::Rsa2).unwrap()
    );
}

#[test]
fn beijing_timestamps_match_node() {
    let mut rng = Rng::new(7);
    let mut secs: Vec<i64> = vec![
        0,
        1_703_112_877,
        // UTC 15:59:59 / 16:00:00 around the Beijing date change, new year, leap day
        1_704_038_399,
        1_704_038_400,
        1_709_222_399,
        1_709_222_400,
        951_753_600,
        253_402_271_999 - 8 * 3600,
        -1,
        -86_400 * 365,
    ];
    for _ in 0..400 {
        secs.push((rng.next() % 4_102_444_800) as i64 - 100_000_000);
    }
    let out = oracle(
        "alipay.mjs",
        &json!({"cases": [{"op": "beijing", "secs": secs}]}),
    );
    let expected = out["results"][0].as_array().unwrap();
    for (s, e) in secs.iter().zip(expected) {
        assert_eq!(
            alipay::beijing_timestamp(*s).unwrap(),
            e.as_str().unwrap(),
            "{s}"
        );
    }
}

#[test]
fn builders_produce_expected_biz_content() {
    let common = CommonParams::new("2021000000000001", 1_703_112_877)
        .unwrap()
        .notify_url("https://m.example/n");
    let order = TradeOrder::new("NO-1", 1, "测试 + 1");
    let app = trade_app_pay(&order).unwrap().to_params(&common).unwrap();
    assert_eq!(app["method"], "alipay.trade.app.pay");
    assert_eq!(
        app["biz_content"],
        r#"{"out_trade_no":"NO-1","total_amount":"0.01","subject":"测试 + 1","product_code":"QUICK_MSECURITY_PAY"}"#
    );
    assert_eq!(app["timestamp"], "2023-12-21 06:54:37");
    assert_eq!(app["notify_url"], "https://m.example/n");
    assert!(!app.contains_key("return_url"));
    let page = trade_page_pay(&TradeOrder::new("A", 123_456, "s")).unwrap();
    assert_eq!(page.method, "alipay.trade.page.pay");
    assert!(page.biz_content.contains(
        r#""total_amount":"1234.56","subject":"s","product_code":"FAST_INSTANT_TRADE_PAY""#
    ));
    let wap = trade_wap_pay(&TradeOrder::new("A", 100, "s")).unwrap();
    assert!(wap.biz_content.contains(r#""total_amount":"1.00""#));
    assert!(wap.biz_content.contains("QUICK_WAP_WAY"));
    let q = trade_query(&TradeRef::OutTradeNo("X1".into())).unwrap();
    assert_eq!(
        (q.method.as_str(), q.biz_content.as_str()),
        ("alipay.trade.query", r#"{"out_trade_no":"X1"}"#)
    );
    let c = trade_close(&TradeRef::TradeNo("2023".into())).unwrap();
    assert_eq!(c.biz_content, r#"{"trade_no":"2023"}"#);
    let r = trade_refund(&Refund {
        trade: TradeRef::OutTradeNo("X1".into()),
        out_request_no: "R1".into(),
        refund_fen: 50,
        reason: Some("退款".into()),
    })
    .unwrap();
    assert_eq!(
        r.biz_content,
        r#"{"out_trade_no":"X1","refund_amount":"0.50","out_request_no":"R1","refund_reason":"退款"}"#
    );
    // extras are appended; repeating a standard field is refused
    let mut o = TradeOrder::new("A", 1, "s");
    o.extra.insert("timeout_express".into(), json!("30m"));
    assert!(trade_app_pay(&o)
        .unwrap()
        .biz_content
        .ends_with(r#""timeout_express":"30m"}"#));
    o.extra.insert("total_amount".into(), json!("9.99"));
    assert_eq!(trade_app_pay(&o).unwrap_err().field(), Some("total_amount"));
}

#[test]
fn builder_validation_names_the_field() {
    let cases: Vec<(TradeOrder, &str)> = vec![
        (TradeOrder::new("", 1, "s"), "out_trade_no"),
        (TradeOrder::new("x".repeat(65), 1, "s"), "out_trade_no"),
        (TradeOrder::new("a b", 1, "s"), "out_trade_no"),
        (TradeOrder::new("订单", 1, "s"), "out_trade_no"),
        (TradeOrder::new("A", 0, "s"), "total_amount"),
        (TradeOrder::new("A", 10_000_000_001, "s"), "total_amount"),
        (TradeOrder::new("A", 1, "  "), "subject"),
        (TradeOrder::new("A", 1, "x".repeat(257)), "subject"),
    ];
    for (order, field) in cases {
        assert_eq!(trade_app_pay(&order).unwrap_err().field(), Some(field));
    }
    assert!(trade_app_pay(&TradeOrder::new("x".repeat(64), 10_000_000_000, "s")).is_ok());
    let bad_refund = Refund {
        trade: TradeRef::OutTradeNo("X".into()),
        out_request_no: "".into(),
        refund_fen: 1,
        reason: None,
    };
    assert_eq!(
        trade_refund(&bad_refund).unwrap_err().field(),
        Some("out_request_no")
    );
    let zero = Refund {
        out_request_no: "R".into(),
        refund_fen: 0,
        ..bad_refund
    };
    assert_eq!(
        trade_refund(&zero).unwrap_err().field(),
        Some("refund_amount")
    );
    let common = CommonParams::new("", 0).unwrap();
    assert_eq!(
        trade_query(&TradeRef::OutTradeNo("A".into()))
            .unwrap()
            .to_params(&common)
            .unwrap_err()
            .field(),
        Some("app_id")
    );
}

#[test]
fn order_string_decodes_and_verifies_in_node() {
    let key = app_key();
    let public = app_pub_pem();
    let mut rng = Rng::new(99);
    let mut cases = Vec::new();
    let mut signed_all = Vec::new();
    for i in 0..120 {
        let subject = match i {
            0 => "yansongda+测试 - 1 & a=b%2B/?".to_string(),
            _ => tricky_value(&mut rng).chars().take(200).collect::<String>() + "x",
        };
        let mut common = CommonParams::new("9021000122682882", 1_700_000_000 + i)
            .unwrap()
            .notify_url("https://m.example/notify?a=1&b=2");
        if i % 2 == 0 {
            common = common.cert_mode("e90dd23a37c5c7b616e003970817ff82", "687b_0294");
        }
        let mut order = TradeOrder::new(format!("T{i}"), 1 + i as u64, subject);
        order
            .extra
            .insert("body".into(), json!(tricky_value(&mut rng)));
        let params = trade_app_pay(&order).unwrap().to_params(&common).unwrap();
        let s = alipay::sign_order_string(params, &key, SignType::Rsa2).unwrap();
        assert!(!s.contains(' ') && !s.contains('+'), "{s}");
        cases.push(json!({"op": "parse_query", "query": s, "public_key": public}));
        signed_all.push(s);
    }
    let out = oracle("alipay.mjs", &json!({ "cases": cases }));
    for (i, r) in out["results"].as_array().unwrap().iter().enumerate() {
        assert_eq!(r["verified"], json!(true), "case {i}: {}", signed_all[i]);
        assert_eq!(r["dup"], json!(false));
        let keys: Vec<&str> = r["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "keys come sorted");
        assert!(keys.contains(&"sign"));
    }
    // sign's + / = are escaped
    let sign_part = signed_all[0]
        .split('&')
        .find(|kv| kv.starts_with("sign="))
        .unwrap();
    assert!(!sign_part[5..].contains(['+', '/', '=']));
    assert!(out["results"][0]["params"]["biz_content"]
        .as_str()
        .unwrap()
        .contains("yansongda+测试 - 1 & a=b%2B/?"));
    // unsigned params are refused
    assert_eq!(
        alipay::order_string(&edgepay::params::params([("a", "1")]))
            .unwrap_err()
            .field(),
        Some("sign")
    );
}

#[test]
fn page_pay_form_and_url() {
    let key = app_key();
    let common = CommonParams::new("9021000122682882", 1_700_000_000)
        .unwrap()
        .return_url("https://m.example/r?x=1&y=\"2\"");
    let order = TradeOrder::new("P1", 1, "<script>alert('x')</script> & \"q\"");
    let params = trade_page_pay(&order).unwrap().to_params(&common).unwrap();
    let signed = alipay::sign_params(params, &key, SignType::Rsa2).unwrap();
    let url = alipay::page_pay_url(alipay::GATEWAY, &signed).unwrap();
    assert!(url.starts_with("https://openapi.alipay.com/gateway.do?"));
    let form = alipay::page_pay_form(alipay::GATEWAY, &signed).unwrap();
    assert!(!form.contains("<script>alert"));
    assert!(
        form.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; \\&quot;q\\&quot;")
    );
    assert!(form.contains("name=\"biz_content\""));
    assert!(form.ends_with("<script>document.forms['alipaysubmit'].submit();</script>"));
    // the action's query + the hidden inputs are the signed params: check in node
    let action = form
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let query = action.split_once('?').unwrap().1.to_string();
    let biz = &signed["biz_content"];
    let full = format!(
        "{query}&biz_content={}",
        alipay::order_string::encode_component(biz)
    );
    let out = oracle(
        "alipay.mjs",
        &json!({"cases": [
            {"op": "parse_query", "query": url.split_once('?').unwrap().1, "public_key": app_pub_pem()},
            {"op": "parse_query", "query": full, "public_key": app_pub_pem()}
        ]}),
    );
    assert_eq!(out["results"][0]["verified"], json!(true));
    assert_eq!(out["results"][1]["verified"], json!(true));
    assert_eq!(
        alipay::page_pay_url("javascript:alert(1)", &signed)
            .unwrap_err()
            .field(),
        Some("gateway")
    );
}

#[test]
fn sign_type_parses_strictly() {
    assert_eq!(
        "RSA2".parse::<SignType>().unwrap().hash(),
        edgepay::crypto::RsaHash::Sha256
    );
    for bad in ["", "rsa2", "RSA256", "SHA256withRSA"] {
        assert_eq!(
            bad.parse::<SignType>().unwrap_err().field(),
            Some("sign_type")
        );
    }
}
