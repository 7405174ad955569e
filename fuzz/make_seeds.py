#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target to fuzz/seeds/<target>/.

Seeds come from the shared public vectors (../shared/vectors, see SOURCES.md)
and small hand-made cases; signatures and ciphertexts are made here with
Python's hashlib / cryptography (independent of edgepay), using the same fixed
keys as fuzz/src/lib.rs. The committed corpus (fuzz/corpus/) is these seeds
plus what libFuzzer found, minimised with `cargo fuzz cmin`.

Usage: python3 fuzz/make_seeds.py [VECTORS_DIR]
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization, padding as sympad
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "vectors")
OUT = os.path.join(HERE, "seeds")

V2_KEY = "192006250b4c09247ec02edce69f6a2d"
V2_REFUND_KEY = "OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk"
APIV3_KEY = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"


def vec(name, mode="r"):
    with open(os.path.join(VEC, name), mode) as f:
        return f.read()


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def xml(params):
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in params.items()) + "</xml>"


def v2_sign(params, key, kind="MD5"):
    s = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "" and k != "sign")
    s += "&key=" + key
    if kind == "MD5":
        return hashlib.md5(s.encode()).hexdigest().upper()
    return hmac.new(key.encode(), s.encode(), hashlib.sha256).hexdigest().upper()


def signed(params, kind="MD5", key=V2_KEY):
    p = dict(params)
    p["sign"] = v2_sign(p, key, kind)
    return xml(p)


wechat = json.loads(vec("wechat.json"))
alipay = json.loads(vec("alipay.json"))

# ---- wechat_xml ---------------------------------------------------------------
official = wechat["v2_sign_official"]["params"]
write("wechat_xml", "official", xml(official))
write("wechat_xml", "text-entities", "<xml><a>1 &amp; 2 &#x4e2d; &lt;</a><b/><c></c></xml>")
write("wechat_xml", "decl-comment", '<?xml version="1.0" encoding="UTF-8"?><!-- c --><xml>\n <a>x</a>\n</xml>')
write("wechat_xml", "cdata-split", "<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>")
write("wechat_xml", "xxe", '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>')
write("wechat_xml", "laughs", '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><a>&b;</a></xml>')
write("wechat_xml", "nested", "<xml><a><b>1</b></a></xml>")
write("wechat_xml", "dup", "<xml><a>1</a><a>2</a></xml>")
write("wechat_xml", "utf8-bad", b"<xml><a>\xff\xfe</a></xml>")

# ---- wechat_v2 -----------------------------------------------------------------
notify = {
    "return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx2421b1c4370ec43b",
    "mch_id": "10000100", "out_trade_no": "1409811653", "transaction_id": "1004400740201409030005092168",
    "total_fee": "1", "cash_fee": "1", "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "trade_type": "JSAPI",
    "time_end": "20140903131540", "nonce_str": "5d2b6c2a8db53831f7eda20af46e531c", "bank_type": "CFT",
    "fee_type": "CNY", "is_subscribe": "Y",
}
write("wechat_v2", "notify-md5", signed(notify))
write("wechat_v2", "notify-hmac", signed(notify, "HMAC-SHA256"))
write("wechat_v2", "notify-sign-upper-key", xml({**notify, "SIGN": v2_sign(notify, V2_KEY)}))
uo = {"return_code": "SUCCESS", "return_msg": "OK", "appid": "wx2421b1c4370ec43b", "mch_id": "10000100",
      "nonce_str": "IITRi8Iabbblz1Jc", "result_code": "SUCCESS", "prepay_id": "wx201411101639507cbf6ffd8b0779950874",
      "trade_type": "NATIVE", "code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}
write("wechat_v2", "unifiedorder", signed(uo))
oq = {"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx2421b1c4370ec43b", "mch_id": "10000100",
      "nonce_str": "n", "out_trade_no": "1415757673", "trade_state": "SUCCESS", "total_fee": "1",
      "transaction_id": "1008450740201411110005820873"}
write("wechat_v2", "orderquery", signed(oq, "HMAC-SHA256"))
rq = {"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx", "mch_id": "1", "nonce_str": "n",
      "transaction_id": "t", "out_trade_no": "o", "total_fee": "100", "refund_count": "2",
      "out_refund_no_0": "r0", "refund_id_0": "i0", "refund_fee_0": "50", "refund_status_0": "SUCCESS",
      "out_refund_no_1": "r1", "refund_id_1": "i1", "refund_fee_1": "50", "refund_status_1": "PROCESSING"}
write("wechat_v2", "refundquery", signed(rq))
rf = {"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx", "mch_id": "1", "nonce_str": "n",
      "transaction_id": "t", "out_trade_no": "o", "out_refund_no": "r", "refund_id": "i", "refund_fee": "1",
      "total_fee": "1"}
write("wechat_v2", "refund", signed(rf))
write("wechat_v2", "fail", xml({"return_code": "FAIL", "return_msg": "签名错误"}))
write("wechat_v2", "biz-fail", signed({"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "ORDERPAID",
                                        "err_code_des": "paid", "nonce_str": "n"}))
req_info = wechat["v2_refund_req_info"]["req_info"]
write("wechat_v2", "refund-notify-wechatpy", xml({"return_code": "SUCCESS", "appid": "wx", "mch_id": "1",
                                                  "nonce_str": "n", "req_info": req_info}))
write("wechat_v2", "req-info-bare", req_info)
# A refund notify made here: AES-256-ECB with key = hex(md5(api key)).
info = ("<root><out_refund_no><![CDATA[r1]]></out_refund_no><out_trade_no><![CDATA[o1]]></out_trade_no>"
        "<refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account><refund_fee><![CDATA[1]]></refund_fee>"
        "<refund_id><![CDATA[50000]]></refund_id><refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout>"
        "<refund_status><![CDATA[SUCCESS]]></refund_status><settlement_refund_fee><![CDATA[1]]></settlement_refund_fee>"
        "<settlement_total_fee><![CDATA[1]]></settlement_total_fee><success_time><![CDATA[2018-11-26 12:26:00]]></success_time>"
        "<total_fee><![CDATA[1]]></total_fee><transaction_id><![CDATA[4200]]></transaction_id></root>")
padder = sympad.PKCS7(128).padder()
pt = padder.update(info.encode()) + padder.finalize()
enc = Cipher(algorithms.AES(hashlib.md5(V2_REFUND_KEY.encode()).hexdigest().encode()), modes.ECB()).encryptor()
ct = base64.b64encode(enc.update(pt) + enc.finalize()).decode()
write("wechat_v2", "refund-notify-made", xml({"return_code": "SUCCESS", "appid": "wx", "mch_id": "1",
                                              "nonce_str": "n", "req_info": ct}))

# ---- wechat_v3_notify ------------------------------------------------------------
go_key = serialization.load_pem_private_key(vec("wechatpay-go-test-key.pem", "rb"), None)


def v3_sign(ts, nonce, body):
    msg = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return base64.b64encode(go_key.sign(msg, padding.PKCS1v15(), hashes.SHA256())).decode()


def v3_input(ts, nonce, body, serial="D7CE59D1F522D701", sig=None):
    sig = sig or v3_sign(ts, nonce, body)
    head = (f"Wechatpay-Timestamp: {ts}\nWechatpay-Nonce: {nonce}\nWechatpay-Signature: {sig}\n"
            f"Wechatpay-Serial: {serial}\nWechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\n\n")
    return head.encode() + body


go_body = vec("wechatpay-go-notify-body.json", "rb")
write("wechat_v3_notify", "go-vector", v3_input("1624523846", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz", go_body))
transaction = json.dumps({
    "transaction_id": "1217752501201407033233368018", "amount": {"payer_total": 100, "total": 100, "currency": "CNY",
    "payer_currency": "CNY"}, "mchid": "1230000109", "trade_state": "SUCCESS", "bank_type": "CMC",
    "success_time": "2018-06-08T10:34:56+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "out_trade_no": "1217752501201407033233368018", "appid": "wxd678efh567hg6787", "trade_state_desc": "支付成功",
    "trade_type": "JSAPI", "attach": "自定义数据"}, ensure_ascii=False, separators=(",", ":")).encode()
refund = json.dumps({"mchid": "1900000100", "transaction_id": "1008450740201411110005820873",
    "out_trade_no": "20150806125346", "refund_id": "50200207182018070300011301001",
    "out_refund_no": "7752501201407033233368018", "refund_status": "SUCCESS",
    "success_time": "2018-06-08T10:34:56+08:00", "user_received_account": "招商银行信用卡0403",
    "amount": {"total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999}},
    ensure_ascii=False, separators=(",", ":")).encode()


def envelope(event, original_type, plaintext, nonce="fdasflkja484"):
    ct = AESGCM(APIV3_KEY).encrypt(nonce.encode(), plaintext, original_type.encode())
    return json.dumps({"id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource", "event_type": event, "summary": "支付成功",
        "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(ct).decode(), "associated_data": original_type,
                     "nonce": nonce}}, ensure_ascii=False).encode()


write("wechat_v3_notify", "transaction", v3_input("1624523800", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                                                  envelope("TRANSACTION.SUCCESS", "transaction", transaction)))
write("wechat_v3_notify", "refund", v3_input("1624523846", "n2", envelope("REFUND.SUCCESS", "refund", refund)))
write("wechat_v3_notify", "probe", v3_input("1624523846", "n", b"{}", sig="WECHATPAY/SIGNTEST/AAAA"))
write("wechat_v3_notify", "plain-transaction", transaction)
write("wechat_v3_notify", "plain-refund", refund)
cert_ct = vec("wechatpay-java-certificate-ciphertext.txt").strip()
write("wechat_v3_notify", "certificates-java", json.dumps({"data": [{
    "serial_no": "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC", "effective_time": "2018-03-26T11:39:50+08:00",
    "expire_time": "2023-03-25T11:39:50+08:00", "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM",
    "nonce": "14b16c03dc1b", "associated_data": "certificate", "ciphertext": cert_ct}}]}))

# ---- wechat_v3_responses ---------------------------------------------------------
def status(code, body):
    return code.to_bytes(2, "big") + (body.encode() if isinstance(body, str) else body)


write("wechat_v3_responses", "prepay", status(200, '{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}'))
write("wechat_v3_responses", "native", status(200, '{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'))
write("wechat_v3_responses", "h5", status(200, '{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx"}'))
write("wechat_v3_responses", "error", status(400, '{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","value":0,"issue":"must be > 0","location":"body"}}'))
write("wechat_v3_responses", "error-html", status(502, "<html>bad gateway</html>"))
write("wechat_v3_responses", "transaction", status(200, transaction))
write("wechat_v3_responses", "refund", status(200, json.dumps({"refund_id": "50000000382019052709732678859",
    "out_refund_no": "1217752501201407033233368018", "transaction_id": "1217752501201407033233368018",
    "out_trade_no": "1217752501201407033233368018", "channel": "ORIGINAL", "user_received_account": "招商银行信用卡0403",
    "success_time": "2020-12-01T16:18:12+08:00", "create_time": "2020-12-01T16:18:12+08:00", "status": "SUCCESS",
    "amount": {"total": 100, "refund": 100, "payer_total": 90, "payer_refund": 90, "currency": "CNY"}}, ensure_ascii=False)))
write("wechat_v3_responses", "closed", status(204, ""))

# ---- alipay_notify -----------------------------------------------------------------
ap = alipay["notify_rsa_check_v1_plus_sign"]["params"]
write("alipay_notify", "yansongda-plus", urllib.parse.urlencode(ap))
write("alipay_notify", "small", "a=1&b=x+y%2Bz&c=&&d")
write("alipay_notify", "dup", "a=1&a=2")
write("alipay_notify", "bad-percent", "a=%zz&b=%e4%b8")
write("alipay_notify", "sign-upper", "app_id=1&out_trade_no=A1&total_amount=0.01&SIGN=abc&trade_status=TRADE_SUCCESS")

# ---- alipay_response ---------------------------------------------------------------
app_key = serialization.load_pem_private_key(vec("yansongda-app-private-key-pkcs1.pem", "rb"), None)
node = ('{"code":"10000","msg":"Success","buyer_logon_id":"ghd***@sandbox.com","buyer_pay_amount":"0.00",'
        '"buyer_user_id":"2088102174698127","invoice_amount":"0.00","out_trade_no":"1514027114","point_amount":"0.00",'
        '"receipt_amount":"0.00","total_amount":"0.01","trade_no":"2017122321001004120200285346","trade_status":"TRADE_SUCCESS"}')
sig = base64.b64encode(app_key.sign(node.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
write("alipay_response", "query", '{"alipay_trade_query_response":' + node + ',"alipay_cert_sn":"28bd0a0e2ecd9c5c2a53fc4e56d5ab9a","sign":"' + sig + '"}')
write("alipay_response", "error-unsigned", '{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}}')
write("alipay_response", "escapes", ' {"a_response" : {"x":"}\\"{\\u4e2d","y":[1,{"z":2.5e3}],"n":null,"t":true} , "sign" :"c2ln" } ')
write("alipay_response", "biz-fail", '{"alipay_trade_query_response":{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"},"sign":"AAAA"}')

# ---- keys --------------------------------------------------------------------------
for name in ["wechatpay-go-test-key.pem", "wechatpay-go-test-pub.pem", "wechatpay-java-certificate.pem",
             "yansongda-alipay-public-cert.crt", "yansongda-alipay-public-key.pem", "yansongda-alipay-root-cert.crt",
             "yansongda-app-private-key-pkcs1.pem", "yansongda-app-public-cert.crt"]:
    write("keys", name, vec(name, "rb"))
pkcs1 = vec("yansongda-app-private-key-pkcs1.pem")
bare = "".join(l for l in pkcs1.splitlines() if not l.startswith("-----"))
write("keys", "bare-private-base64", bare)
der = base64.b64decode("".join(l for l in vec("yansongda-app-public-cert.crt").splitlines() if not l.startswith("-----")))
write("keys", "cert-der", der)
write("keys", "truncated-base64", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC\n-----END PUBLIC KEY-----")
write("keys", "proc-type", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----")
print("seeds written to", OUT)
