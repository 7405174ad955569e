//! Request builders and response parsers for the v3 payment endpoints.
//! Expected bodies follow the request examples of the official v3 pages (JSAPI/APP/H5/
//! Native prepay, query, close, refund); error bodies follow the documented
//! `{code, message, detail}` shape.

mod common;
use common::*;
use edgepay::crypto::PrivateKey;
use edgepay::wechat::v3::requests::{
    parse_empty_response, parse_refund_response, parse_transaction_response,
    query_by_transaction_id, query_refund, BASE_URL,
};
use edgepay::wechat::v3::*;
use edgepay::{Error, UpstreamError};
use serde_json::{json, Value};

fn order(kind: PrepayKind) -> Prepay {
    Prepay::new(
        kind,
        "wxd678efh567hg6787",
        "1230000109",
        "Image形象店-深圳腾大-QQ公仔",
        "1217752501201407033233368018",
        "https://www.weixin.qq.com/wxpay/pay.php",
        100,
    )
}

fn body(req: &HttpRequest) -> Value {
    serde_json::from_str(&req.body).unwrap()
}

#[test]
fn jsapi_prepay_body_and_path() {
    let mut o = order(PrepayKind::Jsapi);
    o.payer_openid = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
    o.attach = Some("自定义数据".into());
    o.time_expire = Some("2018-06-08T10:34:56+08:00".into());
    let req = o.build().unwrap();
    assert_eq!(
        (req.method, req.path.as_str()),
        ("POST", "/v3/pay/transactions/jsapi")
    );
    assert_eq!(
        body(&req),
        json!({
            "appid": "wxd678efh567hg6787",
            "mchid": "1230000109",
            "description": "Image形象店-深圳腾大-QQ公仔",
            "out_trade_no": "1217752501201407033233368018",
            "time_expire": "2018-06-08T10:34:56+08:00",
            "attach": "自定义数据",
            "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
            "amount": {"total": 100, "currency": "CNY"},
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
        })
    );
    assert_eq!(
        req.url(BASE_URL),
        "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi"
    );
}

#[test]
fn other_kinds() {
    let req = order(PrepayKind::Native).build().unwrap();
    assert_eq!(req.path, "/v3/pay/transactions/native");
    assert!(body(&req).get("payer").is_none());
    assert!(body(&req).get("scene_info").is_none());

    let mut app = order(PrepayKind::App);
    app.currency = String::new(); // empty → CNY
    app.scene_info = Some(SceneInfo {
        payer_client_ip: "14.23.150.211".into(),
        h5_type: None,
    });
    let req = app.build().unwrap();
    assert_eq!(req.path, "/v3/pay/transactions/app");
    assert_eq!(
        body(&req)["amount"],
        json!({"total": 100, "currency": "CNY"})
    );
    assert_eq!(
        body(&req)["scene_info"],
        json!({"payer_client_ip": "14.23.150.211"})
    );

    let mut h5 = order(PrepayKind::H5);
    assert_eq!(
        h5.build().unwrap_err().field(),
        Some("scene_info.payer_client_ip")
    );
    h5.scene_info = Some(SceneInfo {
        payer_client_ip: "14.23.150.211".into(),
        h5_type: None,
    });
    assert_eq!(
        h5.build().unwrap_err().field(),
        Some("scene_info.h5_info.type")
    );
    h5.scene_info = Some(SceneInfo {
        payer_client_ip: "14.23.150.211".into(),
        h5_type: Some("Wap".into()),
    });
    let req = h5.build().unwrap();
    assert_eq!(req.path, "/v3/pay/transactions/h5");
    assert_eq!(
        body(&req)["scene_info"],
        json!({"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}})
    );
}

#[test]
fn prepay_validation_names_fields() {
    type Edit = fn(&mut Prepay);
    let cases: Vec<(Edit, &str)> = vec![
        (|o| o.appid.clear(), "appid"),
        (|o| o.appid = "wx 1".into(), "appid"),
        (|o| o.mchid.clear(), "mchid"),
        (|o| o.description.clear(), "description"),
        (|o| o.description = "x".repeat(128), "description"),
        (|o| o.out_trade_no.clear(), "out_trade_no"),
        (|o| o.out_trade_no = "12345".into(), "out_trade_no"),
        (|o| o.out_trade_no = "1".repeat(33), "out_trade_no"),
        (|o| o.out_trade_no = "order/123".into(), "out_trade_no"),
        (|o| o.out_trade_no = "订单123456".into(), "out_trade_no"),
        (|o| o.notify_url.clear(), "notify_url"),
        (|o| o.notify_url = "ftp://x/y".into(), "notify_url"),
        (|o| o.notify_url = "https://x/y?a=1".into(), "notify_url"),
        (|o| o.amount_total = 0, "amount.total"),
        (|o| o.currency = "cny".into(), "amount.currency"),
        (|o| o.attach = Some("x".repeat(129)), "attach"),
        (
            |o| o.time_expire = Some("20180608103456".into()),
            "time_expire",
        ),
        (|o| o.payer_openid = None, "payer.openid"),
        (|o| o.payer_openid = Some("o u".into()), "payer.openid"),
    ];
    for (i, (edit, field)) in cases.into_iter().enumerate() {
        let mut o = order(PrepayKind::Jsapi);
        o.payer_openid = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
        edit(&mut o);
        let e = o.build().unwrap_err();
        assert_eq!(e.field(), Some(field), "case {i}: {e}");
    }
}

#[test]
fn query_close_paths_escape_the_number() {
    let q = query_by_out_trade_no("1217752501201407033233368018", "1230000109").unwrap();
    assert_eq!(
        (q.method, q.path.as_str(), q.body.as_str()),
        (
            "GET",
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
            ""
        )
    );
    // `|` and `*` are escaped as Go's url.PathEscape (wechatpay-go) escapes them.
    let q = query_by_out_trade_no("a_b-c|d*e", "1230000109").unwrap();
    assert_eq!(
        q.path,
        "/v3/pay/transactions/out-trade-no/a_b-c%7Cd%2Ae?mchid=1230000109"
    );
    assert_eq!(
        query_by_out_trade_no("a/b/../c", "1").unwrap_err().field(),
        Some("out_trade_no")
    );
    assert_eq!(
        query_by_out_trade_no("123456", "").unwrap_err().field(),
        Some("mchid")
    );

    let q = query_by_transaction_id("1217752501201407033233368018", "1230000109").unwrap();
    assert_eq!(
        q.path,
        "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109"
    );

    let c = close("1217752501201407033233368018", "1230000109").unwrap();
    assert_eq!(c.method, "POST");
    assert_eq!(
        c.path,
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close"
    );
    assert_eq!(c.body, r#"{"mchid":"1230000109"}"#);
}

#[test]
fn refund_request() {
    let mut r = Refund::new(
        RefundTarget::TransactionId("1217752501201407033233368018".into()),
        "1217752501201407033233368018",
        1,
        2,
    );
    r.reason = Some("商品已售完".into());
    r.notify_url = Some("https://weixin.qq.com".into());
    let req = r.build().unwrap();
    assert_eq!(
        (req.method, req.path.as_str()),
        ("POST", "/v3/refund/domestic/refunds")
    );
    assert_eq!(
        body(&req),
        json!({
            "transaction_id": "1217752501201407033233368018",
            "out_refund_no": "1217752501201407033233368018",
            "reason": "商品已售完",
            "notify_url": "https://weixin.qq.com",
            "amount": {"refund": 1, "total": 2, "currency": "CNY"}
        })
    );
    let r = Refund::new(
        RefundTarget::OutTradeNo("1217752501201407033233368018".into()),
        "R1",
        100,
        100,
    );
    assert_eq!(
        body(&r.build().unwrap())["out_trade_no"],
        json!("1217752501201407033233368018")
    );

    type Edit = fn(&mut Refund);
    let cases: Vec<(Edit, &str)> = vec![
        (|r| r.refund = 0, "amount.refund"),
        (|r| r.refund = 101, "amount.refund"),
        (|r| r.total = 0, "amount.total"),
        (|r| r.out_refund_no.clear(), "out_refund_no"),
        (|r| r.out_refund_no = "R 1".into(), "out_refund_no"),
        (
            |r| r.target = RefundTarget::OutTradeNo("1".into()),
            "out_trade_no",
        ),
        (
            |r| r.target = RefundTarget::TransactionId(String::new()),
            "transaction_id",
        ),
        (|r| r.reason = Some("x".repeat(81)), "reason"),
        (
            |r| r.notify_url = Some("weixin.qq.com".into()),
            "notify_url",
        ),
        (|r| r.currency = "RMB1".into(), "amount.currency"),
    ];
    for (i, (edit, field)) in cases.into_iter().enumerate() {
        let mut r = Refund::new(RefundTarget::OutTradeNo("123456".into()), "R1", 100, 100);
        edit(&mut r);
        assert_eq!(r.build().unwrap_err().field(), Some(field), "case {i}");
    }
    assert_eq!(
        query_refund("R|1").unwrap().path,
        "/v3/refund/domestic/refunds/R%7C1"
    );
}

#[test]
fn signing_a_built_request_verifies_in_node() {
    let key = PrivateKey::parse(&vector_text("wechatpay-go-test-key.pem")).unwrap();
    let creds = Credentials::new("1230000109", "F5765756002FDD77");
    let q = query_by_out_trade_no("a_b-c|d*e", "1230000109").unwrap();
    let mut o = order(PrepayKind::Jsapi);
    o.payer_openid = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into());
    let p = o.build().unwrap();
    let cases: Vec<_> = [q, p]
        .iter()
        .map(|r| {
            let header = r.authorization(&key, &creds, 1700000000, "n0nce").unwrap();
            json!({"op": "verify_auth_header", "header": header, "pub_pem": vector_text("wechatpay-go-test-pub.pem"),
                "method": r.method, "url": r.url(BASE_URL), "body": r.body})
        })
        .collect();
    let out = oracle("wechat_v3.mjs", &json!({ "cases": cases }));
    assert_eq!(out[0]["ok"], json!(true), "{}", out[0]);
    assert_eq!(out[1]["ok"], json!(true), "{}", out[1]);
}

#[test]
fn prepay_responses() {
    assert_eq!(
        parse_prepay_response(
            PrepayKind::Jsapi,
            200,
            br#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#
        )
        .unwrap(),
        PrepayResponse::PrepayId("wx26112221580621e9b071c00d9e093b0000".into())
    );
    assert_eq!(
        parse_prepay_response(PrepayKind::App, 200, br#"{"prepay_id":"wx1"}"#).unwrap(),
        PrepayResponse::PrepayId("wx1".into())
    );
    assert_eq!(
        parse_prepay_response(PrepayKind::H5, 200, br#"{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2016121516420242444321ca0631331346&package=1405458241"}"#).unwrap(),
        PrepayResponse::H5Url("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2016121516420242444321ca0631331346&package=1405458241".into())
    );
    // the field for the kind must be there
    let e = parse_prepay_response(PrepayKind::Native, 200, br#"{"prepay_id":"wx1"}"#).unwrap_err();
    assert_eq!((e.code(), e.field()), ("missing_field", Some("code_url")));
    let e = parse_prepay_response(PrepayKind::Jsapi, 200, br#"{"prepay_id":7}"#).unwrap_err();
    assert_eq!(e.field(), Some("prepay_id"));
}

#[test]
fn error_responses_become_upstream_errors() {
    let e = parse_prepay_response(
        PrepayKind::Jsapi,
        400,
        r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","value":0,"issue":"must be greater than 0","location":"body"}}"#.as_bytes(),
    )
    .unwrap_err();
    let Error::Upstream(UpstreamError {
        code,
        message,
        sub_code,
        sub_message,
    }) = e
    else {
        panic!("expected Upstream")
    };
    assert_eq!(
        (code.as_str(), message.as_str(), sub_code),
        ("PARAM_ERROR", "参数错误", None)
    );
    let sub = sub_message.unwrap();
    assert!(sub.starts_with("HTTP 400: "), "{sub}");
    assert!(sub.contains("/amount/total"));

    let e = check_response(403, br#"{"code":"NO_AUTH","message":"no auth"}"#).unwrap_err();
    assert_eq!(
        e,
        Error::Upstream(UpstreamError {
            code: "NO_AUTH".into(),
            message: "no auth".into(),
            sub_code: None,
            sub_message: Some("HTTP 403".into())
        })
    );
    let e = check_response(502, b"<html>Bad Gateway</html>").unwrap_err();
    let Error::Upstream(u) = e else { panic!() };
    assert_eq!(
        (u.code.as_str(), u.message.as_str()),
        ("HTTP_502", "<html>Bad Gateway</html>")
    );
    assert!(check_response(204, b"").is_ok());
    assert!(parse_empty_response(204, b"").is_ok());
    assert_eq!(
        parse_empty_response(
            404,
            r#"{"code":"ORDER_NOT_EXIST","message":"订单不存在"}"#.as_bytes()
        )
        .unwrap_err()
        .code(),
        "upstream_error"
    );
}

#[test]
fn query_and_refund_responses() {
    let t = parse_transaction_response(
        200,
        br#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"NOTPAY","trade_state_desc":"not paid","amount":{"total":100,"currency":"CNY"}}"#,
    )
    .unwrap();
    assert!(!t.is_paid());
    assert_eq!(t.transaction_id, None);
    assert_eq!(t.amount.unwrap().payer_total, None);

    let r = parse_refund_response(
        200,
        r#"{"refund_id":"50000000382019052709732678859","out_refund_no":"1217752501201407033233368018","transaction_id":"1217752501201407033233368018","out_trade_no":"1217752501201407033233368018","channel":"ORIGINAL","user_received_account":"招商银行信用卡0403","success_time":"2020-12-01T16:18:12+08:00","create_time":"2020-12-01T16:18:12+08:00","status":"SUCCESS","funds_account":"UNSETTLED","amount":{"total":100,"refund":100,"payer_total":90,"payer_refund":90,"settlement_refund":100,"settlement_total":100,"discount_refund":10,"currency":"CNY"}}"#.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, "SUCCESS");
    assert_eq!(
        (r.amount.total, r.amount.refund, r.amount.payer_refund),
        (100, 100, Some(90))
    );
    let e = parse_refund_response(200, br#"{"refund_id":"1"}"#).unwrap_err();
    assert_eq!(e.code(), "missing_field");
}

#[test]
fn junk_responses_never_panic() {
    let mut rng = Rng::new(0x7e57);
    for i in 0..400 {
        let body: Vec<u8> = match i % 3 {
            0 => (0..rng.below(2000)).map(|_| rng.next() as u8).collect(),
            1 => tricky_value(&mut rng).into_bytes(),
            _ => br#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000","code_url":"weixin://x"}"#
                [..rng.below(70)]
                .to_vec(),
        };
        let status = *rng.pick(&[200u16, 204, 400, 401, 404, 500, 502, 0, 999]);
        for kind in [
            PrepayKind::Jsapi,
            PrepayKind::App,
            PrepayKind::H5,
            PrepayKind::Native,
        ] {
            let _ = parse_prepay_response(kind, status, &body);
        }
        let _ = parse_transaction_response(status, &body);
        let _ = parse_refund_response(status, &body);
        let _ = check_response(status, &body);
    }
    // a huge error body is truncated in the message
    let big = vec![b'x'; 1 << 20];
    let Error::Upstream(u) = check_response(500, &big).unwrap_err() else {
        panic!()
    };
    assert_eq!(u.message.len(), 200);
}
