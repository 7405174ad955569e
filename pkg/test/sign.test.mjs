// The package against the shared vectors (../shared/vectors; sources in SOURCES.md),
// imported as a user imports it, on both backends (WebCrypto and forced pure wasm).
// Run after scripts/build-wasm.sh:  node --test pkg/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as edgepay from '../index.js';

const vec = (f) => new URL(`../../../shared/vectors/${f}`, import.meta.url);
const text = (f) => readFileSync(vec(f), 'utf8');
const W = JSON.parse(text('wechat.json'));
const A = JSON.parse(text('alipay.json'));
const wechatKey = text('wechatpay-go-test-key.pem');
const wechatPub = text('wechatpay-go-test-pub.pem');
const appKey = text('yansongda-app-private-key-pkcs1.pem');
const alipayPub = text('yansongda-alipay-public-key.pem');

const BACKENDS = ['webcrypto', 'wasm'];
async function onEach(fn) {
  for (const b of BACKENDS) {
    edgepay.setBackend(b);
    try {
      await fn(b);
    } finally {
      edgepay.setBackend('auto');
    }
  }
}

// Must run first: nothing else in this file has initialised the module yet.
test('sync functions refuse to run before init, clearly', () => {
  assert.equal(edgepay.isInitialized(), false);
  assert.throws(() => edgepay.signV2({ a: '1' }, 'k'), (e) => e instanceof edgepay.EdgepayError && e.code === 'not_initialized');
});

test('init is explicit, idempotent and shared', async () => {
  await Promise.all([edgepay.init(), edgepay.init()]);
  await edgepay.init();
  assert.equal(edgepay.isInitialized(), true);
  assert.equal(edgepay.getBackend(), 'webcrypto'); // Node 20 has crypto.subtle
});

test('WeChat v2 official vector: MD5 and HMAC-SHA256 (pay.weixin.qq.com 4_3, WxJava SignUtilsTest)', async () => {
  await edgepay.init();
  const v = W.v2_sign_official;
  assert.equal(edgepay.signV2(v.params, v.key), v.md5);
  assert.equal(edgepay.signV2(v.params, v.key, 'HMAC-SHA256'), v.hmac_sha256);
  assert.equal(edgepay.stringToSignV2(v.params), v.string_to_sign.replace(/&key=.*$/, '&key=***'));
  assert.equal(edgepay.verifyV2({ ...v.params, sign: v.md5 }, v.key), 'MD5');
  assert.equal(edgepay.verifyV2({ ...v.params, sign: v.hmac_sha256 }, v.key), 'HMAC-SHA256');
  assert.throws(() => edgepay.verifyV2({ ...v.params, body: 'test2', sign: v.md5 }, v.key), (e) => e.code === 'signature_mismatch' && e.verificationFailure === true);
  assert.throws(() => edgepay.verifyV2(v.params, v.key), (e) => e.code === 'missing_field' && e.field === 'sign');
});

test('WeChat v2 XML round trip and junk', async () => {
  await edgepay.init();
  const p = { appid: 'wx1', body: 'a<b & "c" ]]> 测试', total_fee: '1' };
  const xml = edgepay.toXml(p);
  assert.match(xml, /^<xml>/);
  assert.deepEqual(edgepay.fromXml(xml), p);
  for (const junk of ['', '<xml>', '<!DOCTYPE x [<!ENTITY a "b">]><xml><a>&a;</a></xml>', '\u0000\u0001', '<xml><a>1</b></xml>']) {
    assert.throws(() => edgepay.fromXml(junk), (e) => e instanceof edgepay.EdgepayError && typeof e.code === 'string', junk);
  }
});

test('refund req_info decrypt (wechatpy test_refund_notify_decrypt_message)', async () => {
  await edgepay.init();
  const v = W.v2_refund_req_info;
  const got = edgepay.decryptRefundReqInfo(v.req_info, v.api_key);
  const want = Object.fromEntries([...v.plaintext.matchAll(/<(\w+)><!\[CDATA\[(.*?)\]\]><\/\1>/g)].map((m) => [m[1], m[2]]));
  assert.ok(Object.keys(want).length > 5);
  assert.deepEqual(got, want);
  assert.throws(() => edgepay.decryptRefundReqInfo(v.req_info, 'wrong-key'), (e) => ['decrypt_failed', 'malformed'].includes(e.code));
  // gopay wechat/notify_test.go vector: decrypts to XML with out_refund_no
  const gopay = edgepay.decryptRefundReqInfo(text('gopay-refund-req-info.txt').trim(), 'ziR0QKsTUfMOuochC9RfCdmfHECorQAP');
  assert.ok(gopay.out_refund_no && gopay.refund_status, JSON.stringify(gopay));
});

test('JS-SDK signature (WeChat JS-SDK doc appendix 1, wechatpy)', async () => {
  await edgepay.init();
  const v = W.jssdk_signature_official;
  const sig = edgepay.jssdkSignature({ jsapiTicket: v.jsapi_ticket, nonceStr: v.noncestr, timestamp: Number(v.timestamp), url: v.url });
  assert.equal(sig, v.signature);
  const cfg = edgepay.jssdkConfig({ appId: 'wx1', jsapiTicket: v.jsapi_ticket, nonceStr: v.noncestr, timestamp: Number(v.timestamp), url: `${v.url}#frag` });
  assert.deepEqual(cfg, { appId: 'wx1', timestamp: Number(v.timestamp), nonceStr: v.noncestr, signature: v.signature });
  assert.throws(() => edgepay.jssdkSignature({ jsapiTicket: 't', nonceStr: 'n', timestamp: 1.5, url: 'u' }), (e) => e.field === 'timestamp');
});

test('v3 RSA signature vector (wechatpay-go sha256withrsa_signer_test.go), both backends', async () => {
  await onEach(async (b) => {
    assert.equal(await edgepay.v3Sign(W.v3_rsa_sign.message, wechatKey), W.v3_rsa_sign.signature, b);
    await assert.rejects(edgepay.v3Sign('x', 'not a key'), (e) => e.code === 'invalid_field' && e.field === 'private_key', b);
    const junkPem = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----';
    await assert.rejects(edgepay.v3Sign('x', junkPem), (e) => e.code === 'invalid_key' && e.field === 'private_key', b);
  });
});

test('v3 Authorization carries the vector signature for the vector message shape', async () => {
  await onEach(async (b) => {
    const h = await edgepay.v3Authorization({ mchid: '1900009191', serialNo: 'ABC', privateKey: wechatKey, method: 'GET', url: 'https://api.mch.weixin.qq.com/v3/certificates?x=1', timestamp: 1554208460, nonce: '593BEC0C930BF1AFEB40B4A08C8FB242' });
    assert.match(h, /^WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="ABC",signature="[A-Za-z0-9+/=]{344}"$/, b);
    await assert.rejects(edgepay.v3Authorization({ mchid: '1', serialNo: 'S"', privateKey: wechatKey, method: 'GET', url: '/x' }), (e) => e.field === 'serial_no', b);
    await assert.rejects(edgepay.v3Authorization({ mchid: '1', serialNo: 'S', privateKey: wechatKey, method: 'GET', url: '/x', body: '{}' }), (e) => e.field === 'body', b);
  });
});

test('v3 AES-GCM vector (wechatpay-java AeadAesCipherTest) and the certificate resource, both backends', async () => {
  const v = W.v3_aes_256_gcm;
  await onEach(async (b) => {
    assert.equal(await edgepay.v3Decrypt({ apiv3Key: v.apiv3_key, nonce: v.nonce, associatedData: v.associated_data, ciphertext: v.ciphertext }), v.plaintext, b);
    const cert = await edgepay.v3Decrypt({ apiv3Key: v.apiv3_key, nonce: '14b16c03dc1b', associatedData: 'certificate', ciphertext: text('wechatpay-java-certificate-ciphertext.txt').trim() });
    assert.equal(cert.trim(), text('wechatpay-java-certificate.pem').trim(), b);
    await assert.rejects(edgepay.v3Decrypt({ apiv3Key: v.apiv3_key, nonce: v.nonce, associatedData: 'other', ciphertext: v.ciphertext }), (e) => e.code === 'decrypt_failed', b);
    await assert.rejects(edgepay.v3Decrypt({ apiv3Key: 'x'.repeat(16), nonce: v.nonce, ciphertext: v.ciphertext }), (e) => e.code === 'invalid_key' && e.field === 'apiv3_key', b);
    await assert.rejects(edgepay.v3Decrypt({ apiv3Key: v.apiv3_key, nonce: 'short', ciphertext: v.ciphertext }), (e) => e.field === 'nonce', b);
    await assert.rejects(edgepay.v3Decrypt({ apiv3Key: v.apiv3_key, nonce: v.nonce, ciphertext: 'AAAA' }), (e) => e.field === 'ciphertext', b);
  });
});

test('v3 verify: wechatpay-go notify body (raw bytes), window, SIGNTEST, serial map', async () => {
  // wechatpay-go core/notify/notify_test.go: signed at 1624523846 with the test key.
  const body = readFileSync(vec('wechatpay-go-notify-body.json'));
  const headers = {
    'Wechatpay-Timestamp': '1624523846',
    'Wechatpay-Nonce': 'EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz',
    'Wechatpay-Signature': 'tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==',
    'Wechatpay-Serial': 'D7CE59D1F522D701',
  };
  const now = 1624523846;
  await onEach(async (backend) => {
  assert.equal(await edgepay.v3Verify({ headers, body, publicKey: wechatPub, now }), true, backend);
  assert.equal(await edgepay.v3Verify({ headers: new Headers(headers), body: body.toString('utf8'), publicKey: { D7CE59D1F522D701: wechatPub }, now: now + 299 }), true);
  await assert.rejects(edgepay.v3Verify({ headers, body, publicKey: { OTHER: wechatPub }, now }), (e) => e.code === 'unknown_serial');
  await assert.rejects(edgepay.v3Verify({ headers, body, publicKey: wechatPub, now: now + 300 }), (e) => e.code === 'timestamp_out_of_window');
  await assert.rejects(edgepay.v3Verify({ headers: { ...headers, 'Wechatpay-Signature': `WECHATPAY/SIGNTEST/${headers['Wechatpay-Signature']}` }, body, publicKey: wechatPub, now }), (e) => e.code === 'signature_probe');
  const tampered = Buffer.from(body);
  tampered[tampered.length - 3] ^= 1;
  await assert.rejects(edgepay.v3Verify({ headers, body: tampered, publicKey: wechatPub, now }), (e) => e.code === 'signature_mismatch' && e.verificationFailure);
  const { 'Wechatpay-Nonce': _, ...noNonce } = headers;
  await assert.rejects(edgepay.v3Verify({ headers: noNonce, body, publicKey: wechatPub, now }), (e) => e.code === 'missing_field' && e.field === 'Wechatpay-Nonce');
  // The serial map: matched like the core's KeySet (case-insensitive hex, leading zeros).
  assert.equal(await edgepay.v3Verify({ headers, body, publicKey: { OTHER: alipayPub, '00d7ce59d1f522d701': wechatPub }, now }), true, backend);
  // The right serial with the wrong key: a mismatch with the core's own message on both backends.
  await assert.rejects(edgepay.v3Verify({ headers, body, publicKey: { D7CE59D1F522D701: alipayPub }, now }),
    (e) => e instanceof edgepay.EdgepayError && e.code === 'signature_mismatch' && e.verificationFailure && /does not match TIMESTAMP/.test(e.message), backend);
  await assert.rejects(edgepay.v3Verify({ headers, body, publicKey: 'not a key', now }), (e) => e.field === 'public_key', backend);
  });
  // The notify verifies, then its 16-byte APIv3 key ("testMchAPIv3Key0") is refused.
  await onEach(async (b) => {
    await assert.rejects(edgepay.v3ParseNotify({ headers, body, publicKey: wechatPub, apiv3Key: 'testMchAPIv3Key0', now }), (e) => e.code === 'invalid_key' && e.field === 'apiv3_key', b);
  });
});

test('Alipay RSA2 request signature (yansongda AddPayloadSignaturePluginTest::testSignNormal), both backends', async () => {
  const v = A.rsa2_request_sign;
  await onEach(async (b) => {
    await edgepay.init();
    assert.equal(edgepay.alipayStringToSign(v.params), v.string_to_sign, b);
    const signed = await edgepay.alipaySign(v.params, appKey, 'RSA2');
    assert.equal(signed.sign, v.sign, b);
    assert.equal(signed.sign_type, 'RSA2');
    const os = await edgepay.alipayOrderString(v.params, appKey);
    const back = Object.fromEntries(new URLSearchParams(os));
    assert.deepEqual(back, signed, b);
    await assert.rejects(edgepay.alipaySign(v.params, appKey, 'rsa2'), (e) => e.field === 'sign_type', b);
  });
});

test('Alipay notify with + in the subject verifies from the raw body (yansongda CallbackPluginTest)', async () => {
  const params = A.notify_rsa_check_v1_plus_sign.params;
  const body = new URLSearchParams(params).toString(); // independent form encoding
  assert.match(body, /subject=yansongda%2B%E6%B5%8B%E8%AF%95\+-\+1/);
  await onEach(async (backend) => {
    const got = await edgepay.alipayVerifyNotify(body, alipayPub);
    assert.equal(got.subject, 'yansongda+测试 - 1', backend);
    assert.deepEqual(got, params);
    await assert.rejects(edgepay.alipayVerifyNotify(body, alipayPub, { checkV2: true }), (e) => e.verificationFailure, backend);
    // decoded twice: '+' became a space; the core's specific message on both backends
    await assert.rejects(edgepay.alipayVerifyNotify(body.replace('%2B', '+'), alipayPub),
      (e) => e.code === 'signature_mismatch' && /form-decoded exactly once/.test(e.message), backend);
    await assert.rejects(edgepay.alipayVerifyNotify('%zz', alipayPub), (e) => e.code === 'malformed', backend);
    // the app's own public key is not Alipay's
    await assert.rejects(edgepay.alipayVerifyNotify(body, text('yansongda-app-public-cert.crt')), (e) => e.code === 'signature_mismatch', backend);
  });
});

test('Alipay cert SNs (yansongda config values) and AES (alipay-easysdk ClientTest)', async () => {
  await edgepay.init();
  const p = A.rsa2_request_sign.params;
  assert.equal(edgepay.alipayCertSn(text('yansongda-app-public-cert.crt')), p.app_cert_sn);
  assert.equal(edgepay.alipayRootCertSn(text('yansongda-alipay-root-cert.crt')), p.alipay_root_cert_sn);
  assert.throws(() => edgepay.alipayCertSn('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'), (e) => e instanceof edgepay.EdgepayError);
  const a = A.aes_128_cbc_content;
  assert.equal(edgepay.alipayAesEncrypt(a.key_base64, a.plaintext), a.ciphertext_base64);
  assert.equal(edgepay.alipayAesDecrypt(a.key_base64, a.ciphertext_base64), a.plaintext);
});

test('client parameters: shapes and named errors', async () => {
  await edgepay.init();
  const input = { appid: 'wxd930ea5d5a258f4f', prepayId: 'wx201410272009395522657a690389285100', timestamp: 1414561699, nonce: 'e61463f8efa94090b1f366cccfbbb444' };
  const jsapi = edgepay.payParamsV2('jsapi', input, '192006250b4c09247ec02edce69f6a2d');
  assert.deepEqual(Object.keys(jsapi), ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']);
  assert.equal(jsapi.package, `prepay_id=${input.prepayId}`);
  assert.equal(jsapi.timeStamp, '1414561699');
  assert.deepEqual(Object.keys(edgepay.payParamsV2('jssdk', input, 'k')), ['timestamp', 'nonceStr', 'package', 'signType', 'paySign']);
  assert.deepEqual(Object.keys(edgepay.payParamsV2('miniprogram', input, 'k')), ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign']);
  assert.throws(() => edgepay.payParamsV2('app', input, 'k'), (e) => e.code === 'missing_field' && e.field === 'partnerid');
  assert.throws(() => edgepay.payParamsV2('jsapi', { ...input, timestamp: 1414561699000 }, 'k'), (e) => e.field === 'timestamp');
  assert.throws(() => edgepay.payParamsV2('jsapi', { ...input, prepayId: 'prepay_id=x' }, 'k'), (e) => e.field === 'prepay_id');
  assert.throws(() => edgepay.payParamsV2('web', input, 'k'), (e) => e.field === 'kind');
  await onEach(async (b) => {
    const v3 = await edgepay.payParamsV3('app', { ...input, partnerid: '1900000109' }, wechatKey);
    assert.equal(v3.package, 'Sign=WXPay', b);
    assert.match(v3.sign, /^[A-Za-z0-9+/]{342}==$/, b);
  });
});

test('bad argument types are EdgepayErrors naming the argument', async () => {
  await edgepay.init();
  assert.throws(() => edgepay.signV2('a=1', 'k'), (e) => e.code === 'invalid_field' && e.field === 'params');
  assert.throws(() => edgepay.signV2({ a: true }, 'k'), (e) => e.field === 'a');
  assert.throws(() => edgepay.signV2({ a: '1' }, 42), (e) => e.field === 'key');
  assert.throws(() => edgepay.signV2({ a: '1' }, ''), (e) => e.code === 'invalid_key');
  assert.equal(edgepay.signV2({ a: 1, b: null, c: undefined }, 'k'), edgepay.signV2({ a: '1' }, 'k'));
  await assert.rejects(edgepay.v3Verify({ headers: {}, body: 'x', publicKey: wechatPub }), (e) => e.code === 'missing_field');
  await assert.rejects(edgepay.v3Verify({ headers: { a: '1' }, body: 42, publicKey: wechatPub }), (e) => e.field === 'body');
  assert.throws(() => edgepay.setBackend('fast'), (e) => e.field === 'backend');
});

test('index.d.ts declares every export of index.js', async () => {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  const declared = new Set([...dts.matchAll(/^export (?:function|class|const) (\w+)/gm)].map((m) => m[1]));
  const missing = Object.keys(edgepay).filter((k) => !declared.has(k));
  assert.deepEqual(missing, []);
});

test('junk into every parser gives EdgepayErrors, never a wasm trap', async () => {
  await edgepay.init();
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const junkBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const junkText = (n) => String.fromCharCode(...Array.from({ length: n }, () => Math.floor(rand() * 0xd7ff)));
  const samples = [];
  for (let i = 0; i < 60; i++) samples.push(junkBytes(Math.floor(rand() * 300)), junkText(Math.floor(rand() * 300)));
  samples.push(new Uint8Array([0xff, 0xfe, 0x80]), 'x'.repeat(2_000_000), '', '<xml>' + '<a>'.repeat(10000), '{"a":' .repeat(5000));
  const expectEdgepay = async (what, fn) => {
    try {
      await fn();
    } catch (e) {
      assert.ok(e instanceof edgepay.EdgepayError, `${what}: ${e?.name}: ${e?.message}`);
    }
  };
  const headers = { 'Wechatpay-Timestamp': '1', 'Wechatpay-Nonce': 'n', 'Wechatpay-Signature': 'c2ln', 'Wechatpay-Serial': 's' };
  for (const j of samples) {
    const t = typeof j === 'string' ? j : new TextDecoder().decode(j);
    await expectEdgepay('fromXml', () => edgepay.fromXml(t));
    await expectEdgepay('alipayVerifyNotify', () => edgepay.alipayVerifyNotify(j, alipayPub));
    await expectEdgepay('alipayVerifyResponse', () => edgepay.alipayVerifyResponse(t, alipayPub));
    await expectEdgepay('v3Verify', () => edgepay.v3Verify({ headers, body: j, publicKey: wechatPub, now: 1 }));
    await expectEdgepay('v3ParseNotify', () => edgepay.v3ParseNotify({ headers: { ...headers, 'Wechatpay-Signature': t.slice(0, 50) || 'x' }, body: j, publicKey: wechatPub, apiv3Key: 'x'.repeat(32), now: 1 }));
    await expectEdgepay('decryptRefundReqInfo', () => edgepay.decryptRefundReqInfo(t, 'k'));
    await expectEdgepay('alipayCertSn', () => edgepay.alipayCertSn(t));
    await expectEdgepay('v3Sign key', () => edgepay.v3Sign('m', t));
    await expectEdgepay('v3Decrypt', () => edgepay.v3Decrypt({ apiv3Key: 'x'.repeat(32), nonce: '123456789012', ciphertext: t }));
    await expectEdgepay('alipayAesDecrypt', () => edgepay.alipayAesDecrypt('aa4BtZ4tspm2wnXLb1ThQA==', t));
  }
  for (const input of [null, 1, 'x', [], { appid: {} }, { appid: 'a', prepayId: 'p', timestamp: 'soon' }, { appid: 'a', prepayId: 'p', timestamp: Infinity }]) {
    await expectEdgepay('payParamsV2', () => edgepay.payParamsV2('jsapi', input, 'k'));
    await expectEdgepay('payParamsV3', () => edgepay.payParamsV3('jsapi', input, wechatKey));
  }
  // the module still works afterwards (no trap left it poisoned)
  const v = W.v2_sign_official;
  assert.equal(edgepay.signV2(v.params, v.key), v.md5);
});
