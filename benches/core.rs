//! Core, native: the operations a payment backend runs per request.
//!
//! `cargo bench --bench core` (or `scripts/bench-core.sh`, which runs these
//! next to `openssl speed` and node:crypto doing the same operations:
//! `scripts/bench-node-anchor.mjs`). Keys: the wechatpay-go test key
//! (`core/auth/signers/sha256withrsa_signer_test.go`) for WeChat Pay v3, the
//! yansongda/pay sandbox app key (`tests/Cert/alipayAppSecretCert.pem`) for
//! Alipay; APIv3 key of wechatpay-java's `TestConfig`.

use criterion::{criterion_group, criterion_main, Criterion};
use edgepay::alipay;
use edgepay::crypto::encoding::b64encode;
use edgepay::crypto::{PrivateKey, RsaHash, Signer};
use edgepay::params::{params, Params};
use edgepay::wechat::v2::{self, SignType};
use edgepay::wechat::v3::{self, Credentials, KeySet, SignedHeaders};
use std::hint::black_box;
use std::path::PathBuf;

const V2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const NOW: i64 = 1_700_000_000;

fn vector(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in ["../shared/vectors", "shared/vectors"] {
        if let Ok(text) = std::fs::read_to_string(root.join(dir).join(name)) {
            return text;
        }
    }
    panic!("vector {name} not found");
}

/// A typical 12-field v2 JSAPI unified order (the fields WeChat Pay's doc example sends).
fn v2_order() -> Params {
    params([
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ("body", "腾讯充值中心-QQ会员充值"),
        ("attach", "深圳分店"),
        ("out_trade_no", "20150806125346"),
        ("total_fee", "88"),
        ("spbill_create_ip", "123.12.12.123"),
        ("notify_url", "https://pay.example.com/notify/wechat"),
        ("trade_type", "JSAPI"),
        ("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        ("time_expire", "20261122180000"),
    ])
}

/// The v3 JSAPI prepay body that is signed into the Authorization header.
const V3_BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;

/// The official v3 payment-notify resource plaintext.
const V3_TRANSACTION: &str = r#"{"transaction_id":"1217752501201407033233368018","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1230000109","trade_state":"SUCCESS","bank_type":"CMC","success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"1217752501201407033233368018","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"JSAPI","attach":"自定义数据"}"#;

/// A realistic signed v3 notify: (raw body, headers).
fn v3_notify(key: &PrivateKey) -> (Vec<u8>, SignedHeaders) {
    let resource = v3::encrypt_resource(
        APIV3_KEY,
        "fdasflkja484",
        "transaction",
        "transaction",
        V3_TRANSACTION.as_bytes(),
    )
    .unwrap();
    let body = serde_json::json!({
        "id": "EV-2018022511223320873",
        "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": resource,
    })
    .to_string()
    .into_bytes();
    let ts = NOW.to_string();
    let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let message = v3::verification_message(&ts, nonce, &body);
    let sig = b64encode(key.sign(RsaHash::Sha256, &message).unwrap());
    let headers = SignedHeaders::from_headers([
        ("Wechatpay-Timestamp", ts.as_str()),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Signature", sig.as_str()),
        (
            "Wechatpay-Serial",
            "PUB_KEY_ID_0114232134912410000000000000",
        ),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ])
    .unwrap();
    (body, headers)
}

/// A typical `alipay.trade.app.pay` request's parameters.
fn alipay_request() -> Params {
    params([
        ("app_id", "9021000122682882"),
        ("method", "alipay.trade.app.pay"),
        ("format", "JSON"),
        ("charset", "utf-8"),
        ("sign_type", "RSA2"),
        ("timestamp", "2026-11-22 18:00:00"),
        ("version", "1.0"),
        ("notify_url", "https://pay.example.com/notify/alipay"),
        (
            "biz_content",
            r#"{"out_trade_no":"20150320010101001","total_amount":"88.88","subject":"Iphone6 16G","product_code":"QUICK_MSECURITY_PAY"}"#,
        ),
    ])
}

fn benches(c: &mut Criterion) {
    let order = v2_order();
    c.bench_function("v2_sign_md5_12_fields", |b| {
        b.iter(|| v2::sign(black_box(&order), V2_KEY, SignType::Md5))
    });
    c.bench_function("v2_sign_hmac_sha256_12_fields", |b| {
        b.iter(|| v2::sign(black_box(&order), V2_KEY, SignType::HmacSha256))
    });

    let wechat_key = PrivateKey::parse(&vector("wechatpay-go-test-key.pem")).unwrap();
    let creds = Credentials::new("1230000109", "F5765756002FDD77");
    c.bench_function("v3_authorization_rsa2048", |b| {
        b.iter(|| {
            v3::authorization(
                &wechat_key,
                &creds,
                "POST",
                "/v3/pay/transactions/jsapi",
                NOW,
                "593BEC0C930BF1AFEB40B4A08C8FB242",
                black_box(V3_BODY),
            )
            .unwrap()
        })
    });

    let mut keys = KeySet::new();
    keys.insert_public_key(
        "PUB_KEY_ID_0114232134912410000000000000",
        wechat_key.public_key(),
    )
    .unwrap();
    let (body, headers) = v3_notify(&wechat_key);
    c.bench_function("v3_notify_verify_decrypt", |b| {
        b.iter(|| v3::parse_notify(&keys, &headers, black_box(&body), APIV3_KEY, NOW).unwrap())
    });

    let app_key = PrivateKey::parse(&vector("yansongda-app-private-key-pkcs1.pem")).unwrap();
    let req = alipay_request();
    c.bench_function("alipay_rsa2_sign", |b| {
        b.iter(|| alipay::sign(black_box(&req), &app_key, alipay::SignType::Rsa2).unwrap())
    });
    // Verify: a notify-shaped form body signed with the app key, checked with its public half.
    let app_pub = app_key.public_key();
    let mut notify = alipay_request();
    notify.remove("method");
    notify.remove("sign_type"); // rsaCheckV1: sign_type is not signed in notifies
    let sign = alipay::sign(&notify, &app_key, alipay::SignType::Rsa2).unwrap();
    notify.insert("sign".into(), sign);
    notify.insert("sign_type".into(), "RSA2".into());
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(notify.iter())
        .finish();
    c.bench_function("alipay_rsa2_verify_notify", |b| {
        b.iter(|| alipay::verify_notify(black_box(form.as_bytes()), &app_pub).unwrap())
    });
}

criterion_group! {
    name = core;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(core);
