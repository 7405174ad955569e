//! Notify parsing: verify raw bytes → parse → decrypt → typed, and the replies.
//! Payloads: the examples of the official v3 "支付通知" and "退款结果通知" pages.
//! node:crypto (tests/oracle/wechat_v3.mjs) encrypts the resource and signs the raw body,
//! so the whole chain is checked against an independent implementation.

mod common;
use common::*;
use edgepay::crypto::encoding::b64encode;
use edgepay::crypto::PublicKey;
use edgepay::wechat::v3::*;
use edgepay::Error;
use serde_json::json;

const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const PUB_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
const NOW: i64 = 1_700_000_000;

const TRANSACTION: &str = r#"{"transaction_id":"1217752501201407033233368018","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1230000109","trade_state":"SUCCESS","bank_type":"CMC","promotion_detail":[{"amount":100,"wechatpay_contribute":0,"coupon_id":"109519","scope":"GLOBAL","merchant_contribute":0,"name":"单品惠-6","other_contribute":0,"currency":"CNY","stock_id":"931386","goods_detail":[{"goods_remark":"商品备注信息","quantity":1,"discount_amount":1,"goods_id":"M1006","unit_price":100}]}],"success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"1217752501201407033233368018","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"MICROPAY","attach":"自定义数据","scene_info":{"device_id":"013467007045764"}}"#;

const REFUND: &str = r#"{"mchid":"1900000100","transaction_id":"1008450740201411110005820873","out_trade_no":"20150806125346","refund_id":"50200207182018070300011301001","out_refund_no":"7752501201407033233368018","refund_status":"SUCCESS","success_time":"2018-06-08T10:34:56+08:00","user_received_account":"招商银行信用卡0403","amount":{"total":999,"refund":999,"payer_total":999,"payer_refund":999}}"#;

fn keys() -> KeySet {
    let mut k = KeySet::new();
    k.insert_public_key(
        PUB_ID,
        PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap(),
    )
    .unwrap();
    k
}

/// A notify as WeChat Pay would send it, built by node:crypto: (raw body, headers).
fn node_notify(
    event_type: &str,
    original_type: &str,
    plaintext: &str,
    ts: &str,
) -> (Vec<u8>, SignedHeaders) {
    let nonce = "fdasflkja484";
    let enc = oracle(
        "wechat_v3.mjs",
        &json!({"cases": [{"op": "gcm_encrypt", "key_b64": b64encode(APIV3_KEY), "nonce": nonce,
            "aad": original_type, "plaintext_b64": b64encode(plaintext)}]}),
    );
    let ciphertext = enc[0]["ciphertext"].as_str().unwrap();
    // Hand-written body with the spacing and key order of the official example.
    let body = format!(
        "{{\n    \"id\": \"EV-2018022511223320873\",\n    \"create_time\": \"2015-05-20T13:29:35+08:00\",\n    \"resource_type\": \"encrypt-resource\",\n    \"event_type\": \"{event_type}\",\n    \"summary\": \"支付成功\",\n    \"resource\": {{\n        \"original_type\": \"{original_type}\",\n        \"algorithm\": \"AEAD_AES_256_GCM\",\n        \"ciphertext\": \"{ciphertext}\",\n        \"associated_data\": \"{original_type}\",\n        \"nonce\": \"{nonce}\"\n    }}\n}}"
    )
    .into_bytes();
    let sig = oracle(
        "wechat_v3.mjs",
        &json!({"cases": [{"op": "sign_notify", "timestamp": ts, "nonce": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            "body_b64": b64encode(&body), "key_pem": vector_text("wechatpay-go-test-key.pem")}]}),
    );
    let headers = SignedHeaders::from_headers([
        ("Wechatpay-Timestamp", ts),
        ("Wechatpay-Nonce", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("Wechatpay-Signature", sig[0]["signature"].as_str().unwrap()),
        ("Wechatpay-Serial", PUB_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ])
    .unwrap();
    (body, headers)
}

fn expected() -> ExpectedOrder<'static> {
    ExpectedOrder {
        appid: "wxd678efh567hg6787",
        mchid: "1230000109",
        out_trade_no: "1217752501201407033233368018",
        total: 100,
    }
}

#[test]
fn transaction_notify_end_to_end() {
    let (body, headers) = node_notify(
        "TRANSACTION.SUCCESS",
        "transaction",
        TRANSACTION,
        "1700000000",
    );
    let n = parse_notify(&keys(), &headers, &body, APIV3_KEY, NOW + 5).unwrap();
    assert_eq!(n.envelope.id, "EV-2018022511223320873");
    assert_eq!(n.envelope.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(n.envelope.summary, "支付成功");
    assert_eq!(n.plaintext, TRANSACTION);
    let NotifyEvent::Transaction(t) = n.event else {
        panic!("expected a transaction")
    };
    assert!(t.is_paid());
    assert_eq!(t.appid, "wxd678efh567hg6787");
    assert_eq!(t.mchid, "1230000109");
    assert_eq!(
        t.transaction_id.as_deref(),
        Some("1217752501201407033233368018")
    );
    assert_eq!(t.trade_type.as_deref(), Some("MICROPAY"));
    assert_eq!(t.trade_state_desc.as_deref(), Some("支付成功"));
    assert_eq!(t.bank_type.as_deref(), Some("CMC"));
    assert_eq!(t.attach.as_deref(), Some("自定义数据"));
    assert_eq!(t.success_time.as_deref(), Some("2018-06-08T10:34:56+08:00"));
    assert_eq!(
        t.payer.as_ref().unwrap().openid,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    );
    let a = t.amount.as_ref().unwrap();
    assert_eq!((a.total, a.payer_total), (100, Some(100)));
    assert_eq!(
        (a.currency.as_deref(), a.payer_currency.as_deref()),
        (Some("CNY"), Some("CNY"))
    );
    t.check(&expected()).unwrap();
}

#[test]
fn check_names_the_first_mismatching_field() {
    let t: Transaction = serde_json::from_str(TRANSACTION).unwrap();
    let cases = [
        (
            ExpectedOrder {
                appid: "wx0000000000000000",
                ..expected()
            },
            "appid",
            "wx0000000000000000",
            "wxd678efh567hg6787",
        ),
        (
            ExpectedOrder {
                mchid: "1230000110",
                ..expected()
            },
            "mchid",
            "1230000110",
            "1230000109",
        ),
        (
            ExpectedOrder {
                out_trade_no: "other",
                ..expected()
            },
            "out_trade_no",
            "other",
            "1217752501201407033233368018",
        ),
        (
            ExpectedOrder {
                total: 1,
                ..expected()
            },
            "amount.total",
            "1",
            "100",
        ),
    ];
    for (exp, field, e, a) in cases {
        assert_eq!(
            t.check(&exp).unwrap_err(),
            Error::OrderMismatch {
                field: field.into(),
                expected: e.into(),
                actual: a.into()
            }
        );
    }
    let mut no_amount = t.clone();
    no_amount.amount = None;
    assert_eq!(
        no_amount.check(&expected()).unwrap_err().field(),
        Some("amount.total")
    );
}

#[test]
fn refund_notify_end_to_end() {
    let (body, headers) = node_notify("REFUND.SUCCESS", "refund", REFUND, "1700000000");
    let n = parse_notify(&keys(), &headers, &body, APIV3_KEY, NOW).unwrap();
    let NotifyEvent::Refund(r) = n.event else {
        panic!("expected a refund")
    };
    assert_eq!(r.mchid, "1900000100");
    assert_eq!(r.out_trade_no, "20150806125346");
    assert_eq!(r.transaction_id, "1008450740201411110005820873");
    assert_eq!(r.out_refund_no, "7752501201407033233368018");
    assert_eq!(r.refund_id, "50200207182018070300011301001");
    assert_eq!(r.refund_status, "SUCCESS");
    assert_eq!(r.success_time.as_deref(), Some("2018-06-08T10:34:56+08:00"));
    assert_eq!(
        r.user_received_account.as_deref(),
        Some("招商银行信用卡0403")
    );
    assert_eq!(
        (
            r.amount.total,
            r.amount.refund,
            r.amount.payer_total,
            r.amount.payer_refund
        ),
        (999, 999, Some(999), Some(999))
    );
}

#[test]
fn unknown_event_types_give_raw_json() {
    let plain = r#"{"mchid":"1234567890","out_contract_code":"x","extra":[1,2]}"#;
    let (body, headers) = node_notify(
        "PAYSCORE.USER_OPEN_SERVICE",
        "payscore",
        plain,
        "1700000000",
    );
    let n = parse_notify(&keys(), &headers, &body, APIV3_KEY, NOW).unwrap();
    assert_eq!(
        n.event,
        NotifyEvent::Other(serde_json::from_str(plain).unwrap())
    );
}

#[test]
fn verification_comes_first() {
    let (body, headers) = node_notify(
        "TRANSACTION.SUCCESS",
        "transaction",
        TRANSACTION,
        "1700000000",
    );
    // With the wrong APIv3 key the signature still verifies, then decryption fails.
    let e = parse_notify(
        &keys(),
        &headers,
        &body,
        b"0123456789abcdef0123456789abcdef",
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.code(), "decrypt_failed");
    // A tampered body fails at the signature, whatever the key.
    let mut tampered = body.clone();
    tampered.insert(1, b' ');
    let e = parse_notify(&keys(), &headers, &tampered, b"short", NOW).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    // Stale: out of window before any decryption.
    let e = parse_notify(&keys(), &headers, &body, APIV3_KEY, NOW + 300).unwrap_err();
    assert_eq!(e.code(), "timestamp_out_of_window");
    // Probe.
    let mut probe = headers.clone();
    probe.signature = format!("WECHATPAY/SIGNTEST/{}", headers.signature);
    assert_eq!(
        parse_notify(&keys(), &probe, &body, APIV3_KEY, NOW).unwrap_err(),
        Error::SignatureProbe
    );
}

#[test]
fn wechatpay_go_notify_verifies_then_its_16_byte_key_is_refused() {
    // wechatpay-go core/notify/notify_test.go: signed with the test key (certificate serial
    // D7CE59D1F522D701); its APIv3 key "testMchAPIv3Key0" is 16 bytes.
    let body = std::fs::read(vector_path("wechatpay-go-notify-body.json")).unwrap();
    let mut k = KeySet::new();
    k.insert_public_key(
        "D7CE59D1F522D701",
        PublicKey::parse(&vector_text("wechatpay-go-test-pub.pem")).unwrap(),
    )
    .unwrap();
    let headers = SignedHeaders {
        timestamp: "1624523846".into(),
        nonce: "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz".into(),
        signature: "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==".into(),
        serial: "D7CE59D1F522D701".into(),
        signature_type: None,
    };
    let e = parse_notify(&k, &headers, &body, b"testMchAPIv3Key0", 1624523846).unwrap_err();
    assert_eq!((e.code(), e.field()), ("invalid_key", Some("apiv3_key")));
    let env = NotifyEnvelope::parse(&body).unwrap();
    assert_eq!(env.id, "3119dfba-e649-5eec-ab1e-3412bc4d2e17");
    assert_eq!(env.summary, "签约成功");
    assert_eq!(env.resource.original_type, "payscore");
}

#[test]
fn replies() {
    let ok = NotifyReply::success();
    assert_eq!((ok.status, ok.body.as_str()), (204, ""));
    let fail = NotifyReply::failure("验签失败 \"quoted\"");
    assert_eq!(fail.status, 500);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&fail.body).unwrap(),
        json!({"code": "FAIL", "message": "验签失败 \"quoted\""})
    );
    assert!(fail.body.starts_with(r#"{"code":"FAIL","message":"#));
    assert_eq!(NotifyReply::failure_with_status(400, "x").status, 400);
    assert_eq!(NotifyReply::failure_with_status(200, "x").status, 500);
}

#[test]
fn missing_fields_are_named() {
    let e = NotifyEnvelope::parse(
        br#"{"id":"1","create_time":"t","event_type":"E","resource_type":"r"}"#,
    )
    .unwrap_err();
    assert_eq!((e.code(), e.field()), ("missing_field", Some("resource")));
    let e = serde_json::from_str::<Transaction>("{}")
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("missing field"));
    // through decrypt_notify: a TRANSACTION payload without trade_state
    let r = encrypt_resource(
        APIV3_KEY,
        "123456789012",
        "transaction",
        "transaction",
        br#"{"appid":"a","mchid":"m","out_trade_no":"o"}"#,
    )
    .unwrap();
    let env = NotifyEnvelope {
        id: "1".into(),
        create_time: "t".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        resource_type: "encrypt-resource".into(),
        summary: String::new(),
        resource: r,
    };
    let e = decrypt_notify(env, APIV3_KEY).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("missing_field", Some("trade_state"))
    );
}

#[test]
fn junk_notify_bodies_never_panic() {
    let mut rng = Rng::new(0xbad);
    for i in 0..400 {
        let body: Vec<u8> = match i % 4 {
            0 => (0..rng.below(3000)).map(|_| rng.next() as u8).collect(),
            1 => tricky_value(&mut rng).into_bytes(),
            2 => {
                let full = TRANSACTION.as_bytes();
                full[..rng.below(full.len())].to_vec() // truncated
            }
            _ => "[".repeat(rng.below(100_000)).into_bytes(), // deep nesting
        };
        assert!(NotifyEnvelope::parse(&body).is_err());
        assert!(serde_json::from_slice::<Transaction>(&body).is_err());
        // a validly encrypted junk plaintext
        let r = encrypt_resource(APIV3_KEY, "123456789012", "", "", &body).unwrap();
        for event in ["TRANSACTION.SUCCESS", "REFUND.SUCCESS", "OTHER"] {
            let env = NotifyEnvelope {
                id: "1".into(),
                create_time: "t".into(),
                event_type: event.into(),
                resource_type: "encrypt-resource".into(),
                summary: String::new(),
                resource: r.clone(),
            };
            let r = decrypt_notify(env, APIV3_KEY);
            // junk can be valid JSON (e.g. "9"): only the typed events must refuse it
            if event != "OTHER" {
                assert!(r.is_err());
            }
        }
    }
}
