//! WeChat Pay v2 requests, responses, notifies and refund notifies.

mod common;
use common::*;
use edgepay::params::{params, Params};
use edgepay::wechat::v2::{
    self, decrypt_refund_req_info, parse_notify, parse_refund_notify, parse_response, reply_fail,
    reply_success, CloseOrder, ExpectedOrder, OrderQuery, OrderQueryResponse, Refund, RefundQuery,
    RefundQueryResponse, RefundResponse, SignType, TradeState, TradeType, UnifiedOrder,
    UnifiedOrderResponse,
};
use edgepay::wechat::xml;
use edgepay::Error;
use serde_json::json;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn order() -> UnifiedOrder {
    UnifiedOrder {
        appid: "wxd930ea5d5a258f4f".into(),
        mch_id: "10000100".into(),
        out_trade_no: "A-1_b|c*2".into(),
        total_fee: 888,
        body: "腾讯充值中心-QQ会员充值".into(),
        notify_url: "https://example.com/notify/wechat".into(),
        trade_type: TradeType::Jsapi,
        openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
        spbill_create_ip: "203.0.113.7".into(),
        product_id: None,
        extra: params([("attach", "a+b c&d")]),
    }
}

/// Checks a request's sign with the node:crypto oracle (independent canonical string + hash).
fn oracle_signs(bodies: &[(Params, SignType)]) {
    let cases: Vec<_> = bodies
        .iter()
        .map(|(p, _)| json!({"op": "v2_sign", "params": p, "key": KEY}))
        .collect();
    let out = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    for ((p, t), r) in bodies.iter().zip(out["results"].as_array().unwrap()) {
        let want = match t {
            SignType::Md5 => r["md5"].as_str().unwrap(),
            SignType::HmacSha256 => r["hmac"].as_str().unwrap(),
        };
        assert_eq!(p["sign"], want, "sign of {p:?}");
    }
}

#[test]
fn requests_are_signed_and_shaped() {
    let mut signed = Vec::new();
    for t in [SignType::Md5, SignType::HmacSha256] {
        let req = order()
            .to_request(KEY, t, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
            .unwrap();
        assert_eq!(req.path, "/pay/unifiedorder");
        assert!(req
            .body
            .starts_with("<xml><appid><![CDATA[wxd930ea5d5a258f4f]]></appid>"));
        let p = xml::decode(&req.body).unwrap();
        assert_eq!(p["trade_type"], "JSAPI");
        assert_eq!(p["total_fee"], "888");
        assert_eq!(p["attach"], "a+b c&d");
        assert_eq!(p["sign_type"], t.as_str());
        assert_eq!(p["nonce_str"], "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
        assert_eq!(p.len(), 13);
        signed.push((p, t));
    }
    let mut native = order();
    native.trade_type = TradeType::Native;
    native.openid = None;
    native.product_id = Some("12235413214070356458058".into());
    let req = native.to_request(KEY, SignType::Md5, "n").unwrap();
    signed.push((xml::decode(&req.body).unwrap(), SignType::Md5));

    let q = OrderQuery {
        appid: "wx1".into(),
        mch_id: "10000100".into(),
        transaction_id: Some("1009660380201506130728806387".into()),
        out_trade_no: None,
    };
    let req = q.to_request(KEY, SignType::HmacSha256, "n").unwrap();
    assert_eq!(req.path, "/pay/orderquery");
    signed.push((xml::decode(&req.body).unwrap(), SignType::HmacSha256));

    let c = CloseOrder {
        appid: "wx1".into(),
        mch_id: "1".into(),
        out_trade_no: "A1".into(),
    };
    let req = c.to_request(KEY, SignType::Md5, "n").unwrap();
    assert_eq!(req.path, "/pay/closeorder");
    signed.push((xml::decode(&req.body).unwrap(), SignType::Md5));

    let r = Refund {
        appid: "wx1".into(),
        mch_id: "1".into(),
        out_trade_no: Some("A1".into()),
        out_refund_no: "R1@x".into(),
        total_fee: 100,
        refund_fee: 40,
        refund_desc: Some("退款".into()),
        ..Default::default()
    };
    let req = r.to_request(KEY, SignType::Md5, "n").unwrap();
    assert_eq!(req.path, "/secapi/pay/refund");
    let p = xml::decode(&req.body).unwrap();
    assert_eq!(
        (p["refund_fee"].as_str(), p["total_fee"].as_str()),
        ("40", "100")
    );
    signed.push((p, SignType::Md5));

    let rq = RefundQuery {
        appid: "wx1".into(),
        mch_id: "1".into(),
        out_refund_no: Some("R1".into()),
        ..Default::default()
    };
    let req = rq.to_request(KEY, SignType::Md5, "n").unwrap();
    assert_eq!(req.path, "/pay/refundquery");
    signed.push((xml::decode(&req.body).unwrap(), SignType::Md5));

    oracle_signs(&signed);
}

fn field_of(r: edgepay::Result<v2::Request>) -> String {
    let e = r.unwrap_err();
    e.field().unwrap_or("<none>").to_string()
}

#[test]
fn validation_names_the_field() {
    type Mutation = fn(&mut UnifiedOrder);
    let cases: Vec<(Mutation, &str)> = vec![
        (|o| o.appid.clear(), "appid"),
        (|o| o.mch_id.clear(), "mch_id"),
        (|o| o.out_trade_no = "x".repeat(33), "out_trade_no"),
        (|o| o.out_trade_no = "订单1".into(), "out_trade_no"),
        (|o| o.out_trade_no = "a b".into(), "out_trade_no"),
        (|o| o.out_trade_no.clear(), "out_trade_no"),
        (|o| o.total_fee = 0, "total_fee"),
        (|o| o.body.clear(), "body"),
        (|o| o.body = "x".repeat(129), "body"),
        (|o| o.notify_url = "example.com/notify".into(), "notify_url"),
        (
            |o| o.notify_url = "https://example.com/n?x=1".into(),
            "notify_url",
        ),
        (|o| o.notify_url.clear(), "notify_url"),
        (|o| o.openid = None, "openid"),
        (|o| o.openid = Some(String::new()), "openid"),
        (|o| o.spbill_create_ip.clear(), "spbill_create_ip"),
        (
            |o| {
                o.trade_type = TradeType::Native;
            },
            "product_id",
        ),
        (
            |o| {
                o.extra.insert("total_fee".into(), "1".into());
            },
            "total_fee",
        ),
        (
            |o| {
                o.extra.insert("sign".into(), "1".into());
            },
            "sign",
        ),
    ];
    for (mutate, field) in cases {
        let mut o = order();
        mutate(&mut o);
        assert_eq!(
            field_of(o.to_request(KEY, SignType::Md5, "n")),
            field,
            "{o:?}"
        );
    }
    assert_eq!(
        field_of(order().to_request(KEY, SignType::Md5, &"n".repeat(33))),
        "nonce_str"
    );
    assert_eq!(
        field_of(order().to_request(KEY, SignType::Md5, "")),
        "nonce_str"
    );
    assert_eq!(
        order()
            .to_request("", SignType::Md5, "n")
            .unwrap_err()
            .code(),
        "invalid_key"
    );
    // APP and MWEB need no openid.
    for t in [TradeType::App, TradeType::Mweb] {
        let mut o = order();
        o.trade_type = t;
        o.openid = None;
        o.to_request(KEY, SignType::Md5, "n").unwrap();
    }
    let q = OrderQuery {
        appid: "wx1".into(),
        mch_id: "1".into(),
        ..Default::default()
    };
    assert_eq!(
        field_of(q.to_request(KEY, SignType::Md5, "n")),
        "out_trade_no"
    );
    let mut r = Refund {
        appid: "wx1".into(),
        mch_id: "1".into(),
        out_trade_no: Some("A".into()),
        out_refund_no: "R".into(),
        total_fee: 10,
        refund_fee: 11,
        ..Default::default()
    };
    assert_eq!(
        field_of(r.to_request(KEY, SignType::Md5, "n")),
        "refund_fee"
    );
    r.refund_fee = 0;
    assert_eq!(
        field_of(r.to_request(KEY, SignType::Md5, "n")),
        "refund_fee"
    );
    r.refund_fee = 5;
    r.out_trade_no = None;
    assert_eq!(
        field_of(r.to_request(KEY, SignType::Md5, "n")),
        "out_trade_no"
    );
    r.out_trade_no = Some("A".into());
    r.out_refund_no = "R#1".into();
    assert_eq!(
        field_of(r.to_request(KEY, SignType::Md5, "n")),
        "out_refund_no"
    );
    let rq = RefundQuery {
        appid: "wx1".into(),
        mch_id: "1".into(),
        ..Default::default()
    };
    assert_eq!(
        field_of(rq.to_request(KEY, SignType::Md5, "n")),
        "out_refund_no"
    );
    assert_eq!("jsapi".parse::<TradeType>().unwrap(), TradeType::Jsapi);
    assert_eq!(
        "H5".parse::<TradeType>().unwrap_err().field(),
        Some("trade_type")
    );
}

fn signed_xml(mut p: Params, t: SignType) -> String {
    let s = v2::sign(&p, KEY, t);
    p.insert("sign".into(), s);
    xml::encode(&p)
}

#[test]
fn unified_order_response() {
    // Shape of the official unified order response example.
    let ok = params([
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", "10000100"),
        ("nonce_str", "IITRi8Iabbblz1Jc"),
        ("result_code", "SUCCESS"),
        ("prepay_id", "wx201411101639507cbf6ffd8b0779950874"),
        ("trade_type", "NATIVE"),
        ("code_url", "weixin://wxpay/bizpayurl?pr=abc"),
    ]);
    let r = UnifiedOrderResponse::parse(&signed_xml(ok.clone(), SignType::Md5), KEY).unwrap();
    assert_eq!(r.prepay_id, "wx201411101639507cbf6ffd8b0779950874");
    assert_eq!(r.trade_type, TradeType::Native);
    assert_eq!(
        r.code_url.as_deref(),
        Some("weixin://wxpay/bizpayurl?pr=abc")
    );
    assert_eq!(r.mweb_url, None);

    // A tampered value fails the signature.
    let tampered = signed_xml(ok.clone(), SignType::HmacSha256).replace("NATIVE", "JSAPI");
    assert_eq!(
        parse_response(&tampered, KEY).unwrap_err().code(),
        "signature_mismatch"
    );
    // Unsigned SUCCESS response: sign is required.
    assert_eq!(
        parse_response(&xml::encode(&ok), KEY).unwrap_err().field(),
        Some("sign")
    );

    // return_code FAIL: Upstream, unsigned.
    let fail = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误]]></return_msg></xml>";
    match parse_response(fail, KEY).unwrap_err() {
        Error::Upstream(u) => {
            assert_eq!(u.code, "FAIL");
            assert_eq!(u.message, "签名错误");
            assert_eq!(u.sub_code, None);
        }
        e => panic!("{e:?}"),
    }
    // result_code FAIL: Upstream with err_code, after verifying the sign.
    let biz = params([
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("result_code", "FAIL"),
        ("err_code", "ORDERPAID"),
        ("err_code_des", "该订单已支付"),
        ("nonce_str", "x"),
    ]);
    match parse_response(&signed_xml(biz.clone(), SignType::Md5), KEY).unwrap_err() {
        Error::Upstream(u) => {
            assert_eq!(u.code, "FAIL");
            assert_eq!(u.sub_code.as_deref(), Some("ORDERPAID"));
            assert_eq!(u.sub_message.as_deref(), Some("该订单已支付"));
        }
        e => panic!("{e:?}"),
    }
    // ... a forged business error (bad sign) is a signature error, not Upstream.
    let mut forged = biz;
    forged.insert("sign".into(), "0".repeat(32));
    assert_eq!(
        parse_response(&xml::encode(&forged), KEY)
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
    // Missing return_code.
    assert_eq!(
        parse_response("<xml><a>1</a></xml>", KEY)
            .unwrap_err()
            .field(),
        Some("return_code")
    );
    // Missing prepay_id in a successful answer.
    let mut no_prepay = ok;
    no_prepay.remove("prepay_id");
    assert_eq!(
        UnifiedOrderResponse::parse(&signed_xml(no_prepay, SignType::Md5), KEY)
            .unwrap_err()
            .field(),
        Some("prepay_id")
    );
}

#[test]
fn order_query_and_refund_responses() {
    let q = params([
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("nonce_str", "n"),
        ("trade_state", "SUCCESS"),
        ("out_trade_no", "A1"),
        ("transaction_id", "42000"),
        ("total_fee", "101"),
        ("cash_fee", "101"),
        ("time_end", "20141030133525"),
        ("openid", "o1"),
        ("trade_type", "JSAPI"),
    ]);
    let r = OrderQueryResponse::parse(&signed_xml(q.clone(), SignType::HmacSha256), KEY).unwrap();
    assert_eq!(r.trade_state, TradeState::Success);
    assert_eq!(r.total_fee, Some(101));
    assert_eq!(r.time_end.as_deref(), Some("20141030133525"));
    let mut notpay = q.clone();
    notpay.insert("trade_state".into(), "NOTPAY".into());
    notpay.remove("total_fee");
    let r = OrderQueryResponse::parse(&signed_xml(notpay, SignType::Md5), KEY).unwrap();
    assert_eq!(r.trade_state.as_str(), "NOTPAY");
    assert_eq!(r.total_fee, None);
    let mut bad = q;
    bad.insert("total_fee".into(), "1.00".into());
    assert_eq!(
        OrderQueryResponse::parse(&signed_xml(bad, SignType::Md5), KEY)
            .unwrap_err()
            .field(),
        Some("total_fee")
    );

    let rf = params([
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("nonce_str", "n"),
        ("transaction_id", "42000"),
        ("out_trade_no", "A1"),
        ("out_refund_no", "R1"),
        ("refund_id", "50000"),
        ("refund_fee", "40"),
        ("total_fee", "100"),
        ("cash_fee", "100"),
    ]);
    let r = RefundResponse::parse(&signed_xml(rf, SignType::Md5), KEY).unwrap();
    assert_eq!(
        (r.refund_fee, r.total_fee, r.cash_fee),
        (40, 100, Some(100))
    );

    let rq = params([
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("nonce_str", "n"),
        ("transaction_id", "42000"),
        ("out_trade_no", "A1"),
        ("total_fee", "100"),
        ("refund_count", "2"),
        ("out_refund_no_0", "R1"),
        ("refund_id_0", "5001"),
        ("refund_fee_0", "40"),
        ("refund_status_0", "SUCCESS"),
        ("refund_success_time_0", "2020-01-04 18:34:24"),
        ("refund_recv_accout_0", "支付用户的零钱"),
        ("out_refund_no_1", "R2"),
        ("refund_id_1", "5002"),
        ("refund_fee_1", "60"),
        ("refund_status_1", "PROCESSING"),
    ]);
    let r = RefundQueryResponse::parse(&signed_xml(rq.clone(), SignType::Md5), KEY).unwrap();
    assert_eq!(r.refunds.len(), 2);
    assert_eq!(
        r.refunds[0].success_time.as_deref(),
        Some("2020-01-04 18:34:24")
    );
    assert_eq!(r.refunds[1].refund_fee, 60);
    assert_eq!(r.refunds[1].refund_status, "PROCESSING");
    let mut missing = rq;
    missing.insert("refund_count".into(), "3".into());
    assert_eq!(
        RefundQueryResponse::parse(&signed_xml(missing, SignType::Md5), KEY)
            .unwrap_err()
            .field(),
        Some("out_refund_no_2")
    );
}

fn notify_params() -> Params {
    // Shape of the official payment notify example.
    params([
        ("appid", "wx2421b1c4370ec43b"),
        ("attach", "支付测试"),
        ("bank_type", "CFT"),
        ("fee_type", "CNY"),
        ("is_subscribe", "Y"),
        ("mch_id", "10000100"),
        ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
        ("out_trade_no", "1409811653"),
        ("result_code", "SUCCESS"),
        ("return_code", "SUCCESS"),
        ("time_end", "20140903131540"),
        ("total_fee", "1"),
        ("cash_fee", "1"),
        ("trade_type", "JSAPI"),
        ("transaction_id", "1004400740201409030005092168"),
    ])
}

#[test]
fn pay_notify_verify_and_check() {
    let expected = ExpectedOrder {
        appid: "wx2421b1c4370ec43b",
        mch_id: "10000100",
        out_trade_no: "1409811653",
        total_fee: 1,
    };
    // HMAC without sign_type (pitfall 4), MD5 without, HMAC with sign_type.
    for (t, with_type) in [
        (SignType::HmacSha256, false),
        (SignType::Md5, false),
        (SignType::HmacSha256, true),
    ] {
        let mut p = notify_params();
        if with_type {
            p.insert("sign_type".into(), t.as_str().into());
        }
        let n = parse_notify(&signed_xml(p, t), KEY).unwrap();
        assert_eq!(n.sign_type, t);
        assert!(n.is_paid());
        assert_eq!(n.total_fee, 1);
        n.check(&expected).unwrap();
    }
    let n = parse_notify(&signed_xml(notify_params(), SignType::Md5), KEY).unwrap();
    for (field, exp) in [
        (
            "appid",
            ExpectedOrder {
                appid: "wx-other",
                ..expected
            },
        ),
        (
            "mch_id",
            ExpectedOrder {
                mch_id: "1",
                ..expected
            },
        ),
        (
            "out_trade_no",
            ExpectedOrder {
                out_trade_no: "X",
                ..expected
            },
        ),
        (
            "total_fee",
            ExpectedOrder {
                total_fee: 100,
                ..expected
            },
        ),
    ] {
        let e = n.check(&exp).unwrap_err();
        assert_eq!(e.code(), "order_mismatch");
        assert_eq!(e.field(), Some(field));
    }
    // Amount changed after signing: signature fails.
    let forged = signed_xml(notify_params(), SignType::Md5)
        .replace("<total_fee><![CDATA[1]]>", "<total_fee><![CDATA[100]]>");
    assert_eq!(
        parse_notify(&forged, KEY).unwrap_err().code(),
        "signature_mismatch"
    );
    // Non-numeric total_fee (signed): invalid_field.
    let mut p = notify_params();
    p.insert("total_fee".into(), "1元".into());
    let e = parse_notify(&signed_xml(p, SignType::Md5), KEY).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_field", Some("total_fee")));
    // result_code FAIL parses; not paid.
    let mut p = notify_params();
    p.insert("result_code".into(), "FAIL".into());
    assert!(!parse_notify(&signed_xml(p, SignType::Md5), KEY)
        .unwrap()
        .is_paid());
    // Replies, exactly.
    assert_eq!(
        reply_success(),
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    );
    assert_eq!(
        reply_fail("签名失败]]>"),
        "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]]]><![CDATA[>]]></return_msg></xml>"
    );
    assert_eq!(
        xml::decode(&reply_fail("a]]>b")).unwrap()["return_msg"],
        "a]]>b"
    );
}

/// Source: wechatpy tests/test_crypto.py::test_refund_notify_decrypt_message.
#[test]
fn refund_req_info_wechatpy_vector() {
    let v = &vectors("wechat.json")["v2_refund_req_info"];
    let api_key = v["api_key"].as_str().unwrap();
    assert_eq!(
        edgepay::crypto::digest::hex_lower(&edgepay::crypto::digest::md5(api_key.as_bytes())),
        v["aes_key_is_lower_hex_md5_of_api_key"].as_str().unwrap()
    );
    let info = decrypt_refund_req_info(api_key, v["req_info"].as_str().unwrap()).unwrap();
    assert_eq!(info, xml::decode(v["plaintext"].as_str().unwrap()).unwrap());
    assert_eq!(info["refund_recv_accout"], "招商银行信用卡8915");
    assert_eq!(info["out_trade_no"], "2020010418301551404339261814");

    let outer = xml::encode(&params([
        ("return_code", "SUCCESS"),
        ("appid", "wx1"),
        ("mch_id", "10000100"),
        ("nonce_str", "n"),
        ("req_info", v["req_info"].as_str().unwrap()),
    ]));
    let n = parse_refund_notify(&outer, api_key).unwrap();
    assert_eq!(
        (n.total_fee, n.refund_fee, n.settlement_refund_fee),
        (1, 1, Some(1))
    );
    assert_eq!(n.refund_id, "50300103182020010413419046597");
    assert!(n.is_success());
    assert_eq!(n.appid, "wx1");
    // Wrong key: decryption fails (never garbage parameters).
    let e = parse_refund_notify(&outer, "OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEK").unwrap_err();
    assert!(
        e.is_verification_failure() || e.code() == "malformed",
        "{e:?}"
    );
    // FAIL outer.
    let fail = "<xml><return_code>FAIL</return_code><return_msg>x</return_msg></xml>";
    assert_eq!(
        parse_refund_notify(fail, api_key).unwrap_err().code(),
        "upstream_error"
    );
}

/// Source: go-pay/gopay wechat/notify_test.go (API key in SOURCES.md). The
/// plaintext is unknown: node:crypto decrypts it independently and we compare.
#[test]
fn refund_req_info_gopay_vector_against_node() {
    let req_info = vector_text("gopay-refund-req-info.txt");
    let api_key = "ziR0QKsTUfMOuochC9RfCdmfHECorQAP";
    let ours = decrypt_refund_req_info(api_key, req_info.trim()).unwrap();
    let out = oracle(
        "wechat_v2.mjs",
        &json!({"cases": [{"op": "refund_decrypt", "api_key": api_key, "req_info": req_info.trim()}]}),
    );
    let plain = out["results"][0]["plaintext"].as_str().unwrap();
    assert!(plain.starts_with("<root>"), "{plain}");
    // Compare with the node plaintext, field by field (values located by plain text search).
    assert!(ours.len() >= 10, "{ours:?}");
    for (k, v) in &ours {
        assert!(
            plain.contains(&format!("<{k}><![CDATA[{v}]]></{k}>"))
                || plain.contains(&format!("<{k}>{v}</{k}>")),
            "{k}={v} not in {plain}"
        );
    }
    assert!(ours.contains_key("out_refund_no") && ours.contains_key("refund_fee"));
}

/// Differential: node encrypts random req_info documents; we decrypt them.
#[test]
fn refund_req_info_node_encrypted() {
    let mut rng = common::Rng::new(99);
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for i in 0..60 {
        let mut p = tricky_params(&mut rng);
        p.retain(|_, v| !v.contains('\t'));
        let key = format!("api-key-{i}-{}", tricky_value(&mut rng));
        let doc = xml::encode(&p)
            .replace("<xml>", "<root>")
            .replace("</xml>", "</root>");
        cases.push(json!({"op": "refund_encrypt", "api_key": key, "plaintext": doc}));
        expected.push((key, p));
    }
    let out = oracle("wechat_v2.mjs", &json!({ "cases": cases }));
    for ((key, p), r) in expected.iter().zip(out["results"].as_array().unwrap()) {
        let got = decrypt_refund_req_info(key, r["req_info"].as_str().unwrap()).unwrap();
        assert_eq!(&got, p);
    }
}

#[test]
fn junk_to_every_parser() {
    let mut rng = common::Rng::new(5);
    let good_notify = signed_xml(notify_params(), SignType::Md5);
    for i in 0..1500 {
        let text: String = match i % 3 {
            0 => (0..rng.below(80))
                .map(|_| char::from(rng.next() as u8 & 0x7f))
                .collect(),
            1 => String::from_utf8_lossy(&good_notify.as_bytes()[..rng.below(good_notify.len())])
                .into_owned(),
            _ => {
                let mut b = good_notify.clone().into_bytes();
                let j = rng.below(b.len());
                b[j] = b' ' + (rng.next() as u8 % 90);
                String::from_utf8_lossy(&b).into_owned()
            }
        };
        let _ = parse_notify(&text, KEY);
        let _ = parse_response(&text, KEY);
        let _ = UnifiedOrderResponse::parse(&text, KEY);
        let _ = OrderQueryResponse::parse(&text, KEY);
        let _ = RefundQueryResponse::parse(&text, KEY);
        let _ = parse_refund_notify(&text, KEY);
        let _ = decrypt_refund_req_info(KEY, &text);
    }
    // Base64 that is not whole AES blocks, empty, not base64.
    assert_eq!(
        decrypt_refund_req_info(KEY, "AAAA").unwrap_err().field(),
        Some("req_info")
    );
    assert_eq!(
        decrypt_refund_req_info(KEY, "").unwrap_err().field(),
        Some("req_info")
    );
    assert_eq!(
        decrypt_refund_req_info(KEY, "!!!").unwrap_err().field(),
        Some("req_info")
    );
    assert_eq!(
        decrypt_refund_req_info("", "AAAA").unwrap_err().code(),
        "invalid_key"
    );
    // 16 random bytes: bad padding (or, rarely, non-XML) — an error either way.
    let e =
        decrypt_refund_req_info(KEY, &edgepay::crypto::encoding::b64encode([7u8; 16])).unwrap_err();
    assert!(matches!(e.code(), "decrypt_failed" | "malformed"), "{e:?}");
    // Huge refund_count.
    let mut p = params([
        ("return_code", "SUCCESS"),
        ("transaction_id", "1"),
        ("out_trade_no", "A"),
        ("total_fee", "1"),
        ("refund_count", "99999999999"),
    ]);
    let s = v2::sign(&p, KEY, SignType::Md5);
    p.insert("sign".into(), s);
    assert_eq!(
        RefundQueryResponse::parse(&xml::encode(&p), KEY)
            .unwrap_err()
            .field(),
        Some("refund_count")
    );
}
