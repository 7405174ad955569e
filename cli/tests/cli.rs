//! The `edgepay` CLI, run as a user would, on the shared vectors
//! (../shared/vectors, sources in SOURCES.md) and against openssl / Python as
//! independent oracles. Checks outputs, exit codes (0 ok, 1 invalid, 2 bad
//! input) and that secrets never reach the output.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors")
}

fn vector(name: &str) -> String {
    vectors_dir().join(name).to_string_lossy().into_owned()
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(vector(name)).unwrap()).unwrap()
}

/// Runs `edgepay ARGS` with `stdin`.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgepay"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: &str) -> String {
    let out = run(args, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "edgepay {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn tmp_file(name: &str, content: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("edgepay-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().into_owned()
}

/// `openssl dgst -<hash> -verify PUB -signature SIG` over `message`: the oracle for RSA.
fn openssl_verifies(hash: &str, public_pem: &str, message: &[u8], signature_b64: &str) -> bool {
    use base64::Engine;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature_b64)
        .unwrap();
    let sig_path = tmp_file(&format!("sig-{hash}-{}", message.len()), &sig);
    let msg_path = tmp_file(&format!("msg-{hash}-{}", message.len()), message);
    let out = Command::new("openssl")
        .args([
            "dgst",
            &format!("-{hash}"),
            "-verify",
            public_pem,
            "-signature",
            &sig_path,
            &msg_path,
        ])
        .output()
        .expect("openssl is installed");
    out.status.success()
}

/// `openssl dgst -sha256 -sign KEY` over `message` → base64.
fn openssl_sign(private_pem: &str, message: &[u8]) -> String {
    use base64::Engine;
    let msg_path = tmp_file(&format!("tosign-{}", message.len()), message);
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", private_pem, &msg_path])
        .output()
        .unwrap();
    assert!(out.status.success());
    base64::engine::general_purpose::STANDARD.encode(out.stdout)
}

// ---------- WeChat v2 ----------

/// WeChat Pay v2 signature doc example (also WxJava SignUtilsTest), in all three input forms.
#[test]
fn wechat_sign_official_vector_json_xml_form() {
    let v = &json("wechat.json")["v2_sign_official"];
    let key = v["key"].as_str().unwrap();
    let json_in = v["params"].to_string();
    assert_eq!(
        ok(&["wechat", "sign", "--key", key], &json_in),
        v["md5"].as_str().unwrap()
    );
    assert_eq!(
        ok(
            &["wechat", "sign", "--key", key, "--sign-type", "HMAC-SHA256"],
            &json_in
        ),
        v["hmac_sha256"].as_str().unwrap()
    );
    let xml_in = "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id>\
        <device_info><![CDATA[1000]]></device_info><body>test</body>\
        <nonce_str>ibuaiVcKdpRxkhJA</nonce_str></xml>";
    assert_eq!(
        ok(&["wechat", "sign", "--key", key], xml_in),
        v["md5"].as_str().unwrap()
    );
    let form_in = "appid=wxd930ea5d5a258f4f&mch_id=10000100&device_info=1000&body=test&nonce_str=ibuaiVcKdpRxkhJA\n";
    assert_eq!(
        ok(&["wechat", "sign", "--key", key], form_in),
        v["md5"].as_str().unwrap()
    );
}

#[test]
fn wechat_sign_explain_prints_the_string_with_the_key_masked() {
    let v = &json("wechat.json")["v2_sign_official"];
    let key = v["key"].as_str().unwrap();
    let out = ok(
        &["wechat", "sign", "--key", key, "--explain"],
        &v["params"].to_string(),
    );
    let expected_prefix = v["string_to_sign"]
        .as_str()
        .unwrap()
        .split("&key=")
        .next()
        .unwrap();
    assert!(out.contains(expected_prefix), "{out}");
    assert!(!out.contains(key), "the API key leaked: {out}");
    assert!(out.ends_with(v["md5"].as_str().unwrap()));
}

#[test]
fn wechat_verify_valid_invalid_and_explained() {
    let v = &json("wechat.json")["v2_sign_official"];
    let key = v["key"].as_str().unwrap();
    let mut p = v["params"].as_object().unwrap().clone();
    p.insert("sign".into(), v["hmac_sha256"].clone());
    // No sign_type: the algorithm comes from the sign's length (64 hex = HMAC-SHA256).
    let out = ok(
        &["wechat", "verify", "--key", key],
        &serde_json::Value::Object(p.clone()).to_string(),
    );
    assert!(out.starts_with("valid"), "{out}");
    assert!(out.contains("HMAC-SHA256"));

    // An empty value the merchant wrongly included in its signed string.
    let mut with_empty = v["params"].as_object().unwrap().clone();
    with_empty.insert("attach".into(), "".into());
    let wrong = python_md5_upper(&format!(
        "{}&key={key}",
        "appid=wxd930ea5d5a258f4f&attach=&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
    ));
    with_empty.insert("sign".into(), wrong.into());
    let out = run(
        &["wechat", "verify", "--key", key],
        &serde_json::Value::Object(with_empty).to_string(),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(text.starts_with("invalid"), "{text}");
    assert!(text.contains("empty"), "names the likely cause: {text}");
    assert!(!text.contains(&key.to_lowercase()));

    // Wrong key: invalid, exit 1.
    let out = run(
        &["wechat", "verify", "--key", "x"],
        &serde_json::Value::Object(p).to_string(),
    );
    assert_eq!(out.status.code(), Some(1));
}

fn python_md5_upper(s: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys;print(hashlib.md5(sys.argv[1].encode()).hexdigest().upper())",
            s,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// JSAPI paySign, recomputed independently with Python's hashlib.
#[test]
fn wechat_pay_params_jsapi_v2_matches_python() {
    let out = ok(
        &[
            "wechat",
            "pay-params",
            "--kind",
            "jsapi",
            "--appid",
            "wx2421b1c4370ec43b",
            "--prepay-id",
            "wx201410272009395522657a690389285100",
            "--key",
            "192006250b4c09247ec02edce69f6a2d",
            "--timestamp",
            "1414561699",
            "--nonce",
            "e61463f8efa94090b1f366cccfbbb444",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "appId",
            "timeStamp",
            "nonceStr",
            "package",
            "signType",
            "paySign"
        ]
    );
    let s = "appId=wx2421b1c4370ec43b&nonceStr=e61463f8efa94090b1f366cccfbbb444&package=prepay_id=wx201410272009395522657a690389285100&signType=MD5&timeStamp=1414561699&key=192006250b4c09247ec02edce69f6a2d";
    assert_eq!(v["paySign"], python_md5_upper(s));
    assert_eq!(v["timeStamp"], "1414561699");
}

/// v3 RSA paySign, verified by openssl with the public half of the wechatpay-go test key.
#[test]
fn wechat_pay_params_v3_rsa_verified_by_openssl() {
    let out = ok(
        &[
            "wechat",
            "pay-params",
            "--kind",
            "miniprogram",
            "--appid",
            "wxd678efh567hg6787",
            "--prepay-id",
            "wx2017033010242291fcfe0db70013231072",
            "--private-key",
            &vector("wechatpay-go-test-key.pem"),
            "--timestamp",
            "1490840662",
            "--nonce",
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signType"], "RSA");
    assert!(
        v.get("appId").is_none(),
        "the mini program call takes no appId"
    );
    let msg = "wxd678efh567hg6787\n1490840662\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx2017033010242291fcfe0db70013231072\n";
    assert!(openssl_verifies(
        "sha256",
        &vector("wechatpay-go-test-pub.pem"),
        msg.as_bytes(),
        v["paySign"].as_str().unwrap()
    ));
}

#[test]
fn wechat_pay_params_app_requires_mchid() {
    let out = run(
        &[
            "wechat",
            "pay-params",
            "--kind",
            "app",
            "--appid",
            "wx1",
            "--prepay-id",
            "p1",
            "--key",
            "k",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mchid"));
}

/// JS-SDK doc appendix 1 (also wechatpy test_jsapi_get_jsapi_signature).
#[test]
fn wechat_jssdk_signature_official_vector() {
    let v = &json("wechat.json")["jssdk_signature_official"];
    let out = ok(
        &[
            "wechat",
            "jssdk-signature",
            "--ticket",
            v["jsapi_ticket"].as_str().unwrap(),
            "--noncestr",
            v["noncestr"].as_str().unwrap(),
            "--timestamp",
            v["timestamp"].as_str().unwrap(),
            "--url",
            &format!("{}#fragment", v["url"].as_str().unwrap()),
        ],
        "",
    );
    assert_eq!(out, v["signature"].as_str().unwrap());
}

/// The Authorization header's signature verifies with openssl over the documented message.
#[test]
fn wechat_v3_authorization_verified_by_openssl() {
    let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#;
    let body_path = tmp_file("v3body.json", body.as_bytes());
    let out = ok(
        &[
            "wechat",
            "v3-authorization",
            "--mchid",
            "1234567890",
            "--serial",
            "F5765756002FDD77",
            "--private-key",
            &vector("wechatpay-go-test-key.pem"),
            "--method",
            "POST",
            "--url",
            "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi?x=1",
            "--body",
            &body_path,
            "--timestamp",
            "1554208460",
            "--nonce",
            "593BEC0C930BF1AFEB40B4A08C8FB242",
        ],
        "",
    );
    assert!(out.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",timestamp=\"1554208460\",serial_no=\"F5765756002FDD77\",signature=\""), "{out}");
    let sig = out
        .rsplit("signature=\"")
        .next()
        .unwrap()
        .trim_end_matches('"');
    let msg = format!("POST\n/v3/pay/transactions/jsapi?x=1\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{body}\n");
    assert!(openssl_verifies(
        "sha256",
        &vector("wechatpay-go-test-pub.pem"),
        msg.as_bytes(),
        sig
    ));
}

/// wechatpay-go core/notify/notify_test.go: the published notify signature over the raw body.
#[test]
fn wechat_v3_verify_published_notify() {
    const SIG: &str = "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";
    let body = vector("wechatpay-go-notify-body.json");
    let args = |now: &'static str| {
        vec![
            "wechat".to_string(),
            "v3-verify".into(),
            "--public-key".into(),
            vector("wechatpay-go-test-pub.pem"),
            "--timestamp".into(),
            "1624523846".into(),
            "--nonce".into(),
            "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz".into(),
            "--signature".into(),
            SIG.into(),
            "--body".into(),
            body.clone(),
            "--now".into(),
            now.into(),
        ]
    };
    let a = args("1624523900");
    assert_eq!(
        ok(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ""),
        "valid"
    );
    // 300 s later: outside the window, exit 1.
    let a = args("1624524146");
    let out = run(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("window"));
    // A re-serialised body does not verify.
    let reser: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&body).unwrap()).unwrap();
    let pretty = tmp_file(
        "pretty.json",
        serde_json::to_string_pretty(&reser).unwrap().as_bytes(),
    );
    let mut a = args("1624523900");
    let i = a.iter().position(|s| s == &body).unwrap();
    a[i] = pretty;
    let out = run(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn wechat_v3_verify_rejects_signtest_probe() {
    let out = run(
        &[
            "wechat",
            "v3-verify",
            "--public-key",
            &vector("wechatpay-go-test-pub.pem"),
            "--timestamp",
            "1624523846",
            "--nonce",
            "n",
            "--signature",
            "WECHATPAY/SIGNTEST/abc",
            "--now",
            "1624523846",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SIGNTEST"));
}

/// wechatpay-java AeadAesCipherTest.
#[test]
fn wechat_v3_decrypt_vector_and_short_key() {
    let v = &json("wechat.json")["v3_aes_256_gcm"];
    let out = ok(
        &[
            "wechat",
            "v3-decrypt",
            "--apiv3-key",
            v["apiv3_key"].as_str().unwrap(),
            "--nonce",
            v["nonce"].as_str().unwrap(),
            "--associated-data",
            v["associated_data"].as_str().unwrap(),
            "--ciphertext",
            v["ciphertext"].as_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out, v["plaintext"].as_str().unwrap());
    let out = run(
        &[
            "wechat",
            "v3-decrypt",
            "--apiv3-key",
            "0123456789abcdef",
            "--nonce",
            "uluk4a9R25RW",
            "--ciphertext",
            v["ciphertext"].as_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apiv3_key") && err.contains("32"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one clear line: {err}");
}

/// wechatpy tests/test_crypto.py::test_refund_notify_decrypt_message.
#[test]
fn wechat_refund_decrypt_vector() {
    let v = &json("wechat.json")["v2_refund_req_info"];
    let out = ok(
        &[
            "wechat",
            "refund-decrypt",
            "--key",
            v["api_key"].as_str().unwrap(),
            "--req-info",
            v["req_info"].as_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out, v["plaintext"].as_str().unwrap());
}

/// 2014 APP pay doc example, as asserted by chanxuehong/wechat (TestTenpayMD5Sign, TestWXSHA1Sign1).
#[test]
fn wechat_legacy_package_and_signature() {
    let params = r#"{"bank_type":"WX","body":"支付测试","fee_type":"1","input_charset":"UTF-8","notify_url":"http://weixin.qq.com","out_trade_no":"7240b65810859cbf2a8d9f76a638c0a3","partner":"1900000109","spbill_create_ip":"196.168.1.1","total_fee":"1"}"#;
    let package = "bank_type=WX&body=%E6%94%AF%E4%BB%98%E6%B5%8B%E8%AF%95&fee_type=1&input_charset=UTF-8&notify_url=http%3A%2F%2Fweixin.qq.com&out_trade_no=7240b65810859cbf2a8d9f76a638c0a3&partner=1900000109&spbill_create_ip=196.168.1.1&total_fee=1&sign=7F77B507B755B3262884291517E380F8";
    assert_eq!(
        ok(
            &[
                "wechat",
                "legacy-package",
                "--partner-key",
                "8934e7d15453e97507ef794cf7b0519d"
            ],
            params
        ),
        package
    );
    let sig_in = serde_json::json!({
        "appid": "wxd930ea5d5a258f4f",
        "appkey": "L8LrMqqeGRxST5reouB0K66CaYAWpqhAVsq7ggKkxHCOastWksvuX1uvmvQclxaHoYd3ElNBrNO2DHnnzgfVG9Qs473M3DTOZug5er46FhuGofumV8H2FVR9qkjSlC5K",
        "noncestr": "e7d161ac8d8a76529d39d9f5b4249ccb",
        "package": package,
        "timestamp": "1399514976",
        "traceid": "test_1399514976"
    });
    assert_eq!(
        ok(&["wechat", "legacy-signature"], &sig_in.to_string()),
        "8893870b9004ead28691b60db97a8d2c80dbfdc6"
    );
}

// ---------- Alipay ----------

/// yansongda/pay AddPayloadSignaturePluginTest::testSignNormal.
#[test]
fn alipay_sign_vector_and_explain() {
    let v = &json("alipay.json")["rsa2_request_sign"];
    let key = vector("yansongda-app-private-key-pkcs1.pem");
    let params = v["params"].to_string();
    assert_eq!(
        ok(&["alipay", "sign", "--private-key", &key], &params),
        v["sign"].as_str().unwrap()
    );
    let out = ok(
        &["alipay", "sign", "--private-key", &key, "--explain"],
        &params,
    );
    assert!(out.contains(v["string_to_sign"].as_str().unwrap()));
    // A bare base64 key works too.
    let bare: String = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let bare_path = tmp_file("bare.key", bare.as_bytes());
    assert_eq!(
        ok(&["alipay", "sign", "--private-key", &bare_path], &params),
        v["sign"].as_str().unwrap()
    );
    // Contradicting sign types are refused.
    let out = run(
        &[
            "alipay",
            "sign",
            "--private-key",
            &key,
            "--sign-type",
            "RSA",
        ],
        &params,
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The orderString decodes (Python urllib, an independent decoder) to the vector's sign.
#[test]
fn alipay_order_string_decodes_to_the_vector_sign() {
    let v = &json("alipay.json")["rsa2_request_sign"];
    let out = ok(
        &[
            "alipay",
            "order-string",
            "--private-key",
            &vector("yansongda-app-private-key-pkcs1.pem"),
        ],
        &v["params"].to_string(),
    );
    assert!(out.contains("sign="));
    let decoded = Command::new("python3")
        .args(["-c", "import sys,urllib.parse as u,json;print(json.dumps(dict(u.parse_qsl(sys.argv[1],keep_blank_values=True))))", &out])
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(d["sign"], v["sign"]);
    assert_eq!(d["biz_content"], v["params"]["biz_content"]);
    assert!(!out.contains('+') || !out.split("sign=").nth(1).unwrap().contains('+'));
}

/// yansongda/pay CallbackPluginTest::testNotifyCallbackIncludePlus, encoded by Python's urlencode.
#[test]
fn alipay_verify_notify_raw_body_and_double_decoding() {
    let v = &json("alipay.json")["notify_rsa_check_v1_plus_sign"];
    let body = Command::new("python3")
        .args([
            "-c",
            "import sys,json,urllib.parse as u;print(u.urlencode(json.loads(sys.argv[1])),end='')",
            &v["params"].to_string(),
        ])
        .output()
        .unwrap();
    let body = String::from_utf8(body.stdout).unwrap();
    assert!(body.contains("yansongda%2B%E6%B5%8B%E8%AF%95+-+1"));
    let pk = vector("yansongda-alipay-public-key.pem");
    let out = ok(&["alipay", "verify-notify", "--public-key", &pk], &body);
    assert!(out.starts_with("valid"), "{out}");
    // Decoded twice: the '+' in the subject became a space.
    let broken = body.replace("yansongda%2B", "yansongda+");
    let out = run(&["alipay", "verify-notify", "--public-key", &pk], &broken);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("invalid"), "{text}");
    assert!(
        text.contains("subject"),
        "names the field whose + was decoded: {text}"
    );
}

/// A response signed by openssl over a raw node with odd spacing verifies only over the raw text.
#[test]
fn alipay_verify_response_over_raw_text() {
    let node = r#"{"code":"10000","msg":"Success","out_trade_no":"T1", "total_amount" : "0.01","subject":"\u6d4b\u8bd5"}"#;
    let sign = openssl_sign(
        &vector("yansongda-app-private-key-pkcs1.pem"),
        node.as_bytes(),
    );
    let raw = format!(r#"{{"alipay_trade_query_response":{node},"sign":"{sign}"}}"#);
    let cert = vector("yansongda-app-public-cert.crt");
    let out = ok(&["alipay", "verify-response", "--public-key", &cert], &raw);
    assert!(
        out.starts_with("valid (alipay_trade_query_response)"),
        "{out}"
    );
    let tampered = raw.replace("0.01", "0.02");
    let out = run(
        &["alipay", "verify-response", "--public-key", &cert],
        &tampered,
    );
    assert_eq!(out.status.code(), Some(1));
}

/// An encrypted answer (encrypt_type=AES): ciphertext from `openssl enc`, signature from
/// openssl over the ciphertext string with its quotes (what the official SDKs verify).
#[test]
fn alipay_verify_encrypted_response_with_openssl() {
    let node = r#"{"code":"10000","msg":"Success","out_trade_no":"T9","total_amount":"0.01"}"#;
    let aes = "aa4BtZ4tspm2wnXLb1ThQA=="; // alipay-easysdk ClientTest key
    let key_hex: String = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(aes)
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let plain = tmp_file("enc-node", node.as_bytes());
    let out = Command::new("openssl")
        .args([
            "enc",
            "-aes-128-cbc",
            "-K",
            &key_hex,
            "-iv",
            "00000000000000000000000000000000",
            "-base64",
            "-A",
            "-in",
            &plain,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ct = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let quoted = format!("\"{ct}\"");
    let sign = openssl_sign(
        &vector("yansongda-app-private-key-pkcs1.pem"),
        quoted.as_bytes(),
    );
    let raw = format!(r#"{{"alipay_trade_query_response":{quoted},"sign":"{sign}"}}"#);
    let cert = vector("yansongda-app-public-cert.crt");
    let with_key = [
        "alipay",
        "verify-response",
        "--public-key",
        &cert,
        "--aes-key",
        aes,
    ];
    let out = ok(&with_key, &raw);
    assert!(
        out.starts_with("valid (alipay_trade_query_response)"),
        "{out}"
    );
    assert!(out.contains(r#""out_trade_no": "T9""#), "{out}");
    // Without the key: bad input (exit 2), naming the encrypted node.
    let out = run(&["alipay", "verify-response", "--public-key", &cert], &raw);
    assert_eq!(out.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("AES-encrypted"), "{text}");
    assert!(text.contains("alipay_trade_query_response"), "{text}");
    // The ciphertext changed: the signature no longer holds (exit 1), nothing decrypted.
    let tampered = raw.replacen(
        &ct[..4],
        if ct.starts_with("AAAA") {
            "BBBB"
        } else {
            "AAAA"
        },
        1,
    );
    let out = run(&with_key, &tampered);
    assert_eq!(out.status.code(), Some(1));
}

/// `alipay cert-verify`: a leaf issued by a root made here with openssl is trusted (openssl
/// agrees); yansongda's sandbox certificate does not chain to the production root bundle.
#[test]
fn alipay_cert_verify_against_openssl_made_chain_and_sandbox_vectors() {
    let dir = std::path::PathBuf::from(tmp_file("chain-marker", b""))
        .parent()
        .unwrap()
        .to_path_buf();
    let sh = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "cv-root.key",
        "-out",
        "cv-root.pem",
        "-subj",
        "/C=CN/O=Test/CN=Test Root",
        "-days",
        "30",
        "-sha256",
    ]);
    sh(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "cv-leaf.key",
        "-out",
        "cv-leaf.csr",
        "-subj",
        "/C=CN/O=Test/OU=Alipay/CN=Alipay leaf",
    ]);
    sh(&[
        "x509",
        "-req",
        "-in",
        "cv-leaf.csr",
        "-CA",
        "cv-root.pem",
        "-CAkey",
        "cv-root.key",
        "-set_serial",
        "77",
        "-out",
        "cv-leaf.pem",
        "-days",
        "10",
        "-sha256",
    ]);
    sh(&["verify", "-CAfile", "cv-root.pem", "cv-leaf.pem"]);
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let (leaf, root) = (path("cv-leaf.pem"), path("cv-root.pem"));
    let verify = ["alipay", "cert-verify", "--cert", &leaf, "--root", &root];
    let out = ok(&verify, "");
    let sn = ok(&["alipay", "cert-sn", "--cert", &leaf], "");
    assert_eq!(out, format!("trusted (alipay_cert_sn {sn})"));
    // After the leaf's 10 days: bad input (exit 2) naming the validity period.
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 20 * 86400)
        .to_string();
    let out = run(&[&verify[..], &["--at", &later]].concat(), "");
    assert_eq!(out.status.code(), Some(2));
    // The sandbox chain's root is not in the production bundle: not trusted (exit 1).
    let out = run(
        &[
            "alipay",
            "cert-verify",
            "--cert",
            &vector("yansongda-alipay-public-cert.crt"),
            "--root",
            &vector("yansongda-alipay-root-cert.crt"),
            "--at",
            "1690000000",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Ant Financial Certification Authority R1 test"),
        "{text}"
    );
}

/// yansongda/pay tests/Cert: the SNs its test config uses.
#[test]
fn alipay_cert_sn_vectors() {
    assert_eq!(
        ok(
            &[
                "alipay",
                "cert-sn",
                "--cert",
                &vector("yansongda-app-public-cert.crt")
            ],
            ""
        ),
        "e90dd23a37c5c7b616e003970817ff82"
    );
    assert_eq!(
        ok(
            &[
                "alipay",
                "cert-sn",
                "--root",
                "--cert",
                &vector("yansongda-alipay-root-cert.crt")
            ],
            ""
        ),
        "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
    );
}

/// alipay-easysdk ClientTest (AES).
#[test]
fn alipay_aes_vector_both_ways() {
    let v = &json("alipay.json")["aes_128_cbc_content"];
    let key = v["key_base64"].as_str().unwrap();
    assert_eq!(
        ok(
            &["alipay", "aes-encrypt", "--key", key],
            v["plaintext"].as_str().unwrap()
        ),
        v["ciphertext_base64"].as_str().unwrap()
    );
    assert_eq!(
        ok(
            &["alipay", "aes-decrypt", "--key", key],
            v["ciphertext_base64"].as_str().unwrap()
        ),
        v["plaintext"].as_str().unwrap()
    );
    let out = run(&["alipay", "aes-encrypt", "--key", "c2hvcnQ="], "x");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn alipay_v3_authorization_verified_by_openssl() {
    let body_path = tmp_file("alipay-v3.json", br#"{"out_trade_no":"T1"}"#);
    let out = ok(
        &[
            "alipay",
            "v3-authorization",
            "--app-id",
            "2014060600164699",
            "--private-key",
            &vector("yansongda-app-private-key-pkcs1.pem"),
            "--method",
            "POST",
            "--url",
            "/v3/alipay/trade/query",
            "--body",
            &body_path,
            "--timestamp-ms",
            "1687850216000",
            "--nonce",
            "9a8a6e7d-0c7f",
        ],
        "",
    );
    let auth = "app_id=2014060600164699,nonce=9a8a6e7d-0c7f,timestamp=1687850216000";
    assert!(
        out.starts_with(&format!("ALIPAY-SHA256withRSA {auth},sign=")),
        "{out}"
    );
    let sig = out.split(",sign=").nth(1).unwrap();
    let msg = format!("{auth}\nPOST\n/v3/alipay/trade/query\n{{\"out_trade_no\":\"T1\"}}\n");
    // openssl dgst -verify wants a public key, not a certificate: extract it with openssl.
    let pubkey = Command::new("openssl")
        .args([
            "x509",
            "-pubkey",
            "-noout",
            "-in",
            &vector("yansongda-app-public-cert.crt"),
        ])
        .output()
        .unwrap();
    let p = tmp_file("app-pub.pem", &pubkey.stdout);
    assert!(openssl_verifies("sha256", &p, msg.as_bytes(), sig));
}

// ---------- exit codes and bad input ----------

#[test]
fn bad_input_is_exit_2_with_one_line() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["wechat", "sign", "--key", "k"], "{not json"),
        (vec!["wechat", "sign", "--key", "k"], "<xml><a>1</a>"),
        (vec!["wechat", "sign", "--key", "k"], ""),
        (
            vec!["wechat", "sign", "--key", "k", "--sign-type", "SHA1"],
            "{\"a\":\"1\"}",
        ),
        (vec!["wechat", "verify", "--key", "k"], "{\"a\":\"1\"}"),
        (
            vec![
                "wechat",
                "jssdk-signature",
                "--ticket",
                "t",
                "--noncestr",
                "n",
                "--timestamp",
                "soon",
                "--url",
                "u",
            ],
            "",
        ),
        (
            vec!["alipay", "sign", "--private-key", "/nonexistent/key.pem"],
            "{\"a\":\"1\"}",
        ),
        (
            vec!["alipay", "verify-notify", "--public-key", "/etc/hostname"],
            "a=1",
        ),
        (
            vec!["wechat", "sign", "--key", "k"],
            "<!DOCTYPE x [<!ENTITY a \"b\">]><xml><a>&a;</a></xml>",
        ),
        (vec!["wechat", "nonsense"], ""),
    ];
    for (args, stdin) in cases {
        let out = run(&args, stdin);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} <<< {stdin:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}: says why on stderr");
        if args[1] != "nonsense" {
            assert_eq!(
                err.trim_end().lines().count(),
                1,
                "{args:?}: one line: {err}"
            );
        }
    }
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "sign",
        "verify",
        "pay-params",
        "jssdk-signature",
        "v3-authorization",
        "v3-verify",
        "v3-decrypt",
        "refund-decrypt",
        "legacy-package",
        "legacy-signature",
    ] {
        let out = ok(&["wechat", cmd, "--help"], "");
        assert!(out.contains("Usage: edgepay wechat"), "{cmd}: {out}");
    }
    for cmd in [
        "sign",
        "order-string",
        "verify-notify",
        "verify-response",
        "cert-sn",
        "aes-encrypt",
        "aes-decrypt",
        "v3-authorization",
    ] {
        let out = ok(&["alipay", cmd, "--help"], "");
        assert!(out.contains("Usage: edgepay alipay"), "{cmd}: {out}");
    }
}
