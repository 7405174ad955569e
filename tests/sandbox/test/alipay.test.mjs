import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { start, alipayCall, alipayParams, alipaySign, alipayVerifyResponse, alipayVerifyNotify, bjTime, receiver, control, waitNotify } from './helpers.mjs';

let emu;
let rx;
before(async () => {
  emu = await start();
  rx = await receiver(() => ({ status: 200, body: 'success' }));
});
after(async () => {
  await emu.close();
  await rx.close();
});
const A = () => emu.config.alipay;

const VEC = new URL('../../../../shared/vectors/', import.meta.url);
const haveVectors = fs.existsSync(new URL('alipay.json', VEC));

test('the emulator accepts the published RSA2 request vector (yansongda/pay AddPayloadSignaturePluginTest)', { skip: !haveVectors && 'shared/vectors not present' }, async () => {
  const v = JSON.parse(fs.readFileSync(new URL('alipay.json', VEC), 'utf8')).rsa2_request_sign;
  const priv = fs.readFileSync(new URL(v.private_key_file, VEC), 'utf8');
  assert.equal(alipaySign(v.params, priv), v.sign, 'independent test client reproduces the vector');
  const pub = crypto.createPublicKey(priv).export({ type: 'spki', format: 'pem' });
  // The vector is a certificate-mode request: configure yansongda's app and root certificates.
  const certs = { app_cert: fs.readFileSync(new URL('yansongda-app-public-cert.crt', VEC), 'utf8'), root_cert: fs.readFileSync(new URL('yansongda-alipay-root-cert.crt', VEC), 'utf8') };
  const vemu = await start({ config: { ...emu.config, alipay: { ...A(), ...certs, app_id: v.params.app_id, app_public_key: pub, timestamp_window_seconds: 1e10 } } });
  try {
    const r = await fetch(`${vemu.url}/gateway.do`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...v.params, sign: v.sign }) });
    const node = JSON.parse(await r.text()).alipay_trade_query_response;
    assert.equal(node.sub_code, 'ACQ.TRADE_NOT_EXIST', 'signature accepted, trade unknown');
    const bad = { ...v.params, sign: v.sign.replace(/^F/, 'G') };
    const r2 = await fetch(`${vemu.url}/gateway.do`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(bad) });
    assert.equal(JSON.parse(await r2.text()).alipay_trade_query_response.sub_code, 'isv.invalid-signature');
  } finally {
    await vemu.close();
  }
});

function orderString(no, amount = '0.01', extra = {}, signType = 'RSA2') {
  const p = alipayParams(emu, 'alipay.trade.app.pay', { out_trade_no: no, total_amount: amount, subject: 'yansongda+测试 - 1', product_code: 'QUICK_MSECURITY_PAY' }, { notify_url: rx.url, ...extra }, { signType });
  // encode every top-level value (sign's + / = become %2B %2F %3D)
  return Object.entries(p).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

test('full Alipay APP flow: orderString → client pay → signed form notify (subject with "+"), query', async () => {
  const no = `AP${Date.now()}`;
  const os = orderString(no);
  const chk = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: os, action: 'check' });
  assert.equal(chk.json.ok, true, JSON.stringify(chk.json));
  const q0 = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no });
  assert.equal(q0.json.alipay_trade_query_response.trade_status, 'WAIT_BUYER_PAY');
  const r = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: os, action: 'pay' });
  assert.equal(r.json.resultCode, '9000', JSON.stringify(r.json));
  const d = await waitNotify(emu, r.json.delivery);
  assert.equal(d.status, 'acknowledged');
  const got = rx.got.find((g) => g.body === d.body);
  assert.match(got.headers['content-type'], /application\/x-www-form-urlencoded/);
  assert.match(got.body, /subject=yansongda%2B%E6%B5%8B%E8%AF%95\+-\+1/);
  const v = alipayVerifyNotify(got.body, A().alipay_public_key);
  assert.ok(v.ok, 'notify verifies with rsaCheckV1');
  assert.equal(v.params.trade_status, 'TRADE_SUCCESS');
  assert.equal(v.params.total_amount, '0.01');
  assert.equal(v.params.seller_id, A().seller_id);
  assert.equal(v.params.app_id, A().app_id);
  assert.match(v.params.notify_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  // decoding "+" twice breaks verification
  const twice = got.body.replace(/%2B/g, '+');
  assert.equal(alipayVerifyNotify(twice, A().alipay_public_key).ok, false);
  const q = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no });
  assert.ok(alipayVerifyResponse(q.text, 'alipay_trade_query_response', A().alipay_public_key));
  assert.equal(q.json.alipay_trade_query_response.trade_status, 'TRADE_SUCCESS');
  assert.equal(q.json.alipay_trade_query_response.trade_no, v.params.trade_no);
  const again = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: os, action: 'pay' });
  assert.equal(again.json.resultCode, '4000');
});

test('cancel in the cashier → 6001, trade stays WAIT_BUYER_PAY, then close', async () => {
  const no = `APC${Date.now()}`;
  const r = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: orderString(no), action: 'cancel' });
  assert.equal(r.json.resultCode, '6001');
  const c = await alipayCall(emu, 'alipay.trade.close', { out_trade_no: no });
  assert.equal(c.json.alipay_trade_close_response.code, '10000', c.text);
  assert.ok(alipayVerifyResponse(c.text, 'alipay_trade_close_response', A().alipay_public_key));
  const q = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no });
  assert.equal(q.json.alipay_trade_query_response.trade_status, 'TRADE_CLOSED');
});

test('wrong signature → 40002 isv.invalid-signature; UTC timestamp (8 h off) refused; legacy RSA (SHA1) accepted', async () => {
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const bad = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: 'x' }, {}, { key: other });
  const node = bad.json.alipay_trade_query_response;
  assert.deepEqual([node.code, node.msg, node.sub_code], ['40002', 'Invalid Arguments', 'isv.invalid-signature']);
  assert.match(node.sub_msg, /验签字符串为：app_id=/);
  const utc = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: 'x' }, { timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) });
  assert.equal(utc.json.alipay_trade_query_response.sub_code, 'isv.invalid-timestamp');
  const rsa = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: `NONE${Date.now()}` }, {}, { signType: 'RSA' });
  const n = rsa.json.alipay_trade_query_response;
  assert.deepEqual([n.code, n.sub_code, n.sub_msg], ['40004', 'ACQ.TRADE_NOT_EXIST', '交易不存在']);
  assert.ok(alipayVerifyResponse(rsa.text, 'alipay_trade_query_response', A().alipay_public_key, 'RSA'));
  const app = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: 'x' }, { app_id: '2021000000000000' });
  assert.equal(JSON.parse(app.text).error_response?.sub_code ?? app.json.alipay_trade_query_response.sub_code, 'isv.invalid-app-id');
});

test('page.pay returns a cashier page; Pay redirects to return_url with signed return params and notifies', async () => {
  const no = `APG${Date.now()}`;
  const p = alipayParams(emu, 'alipay.trade.page.pay', { out_trade_no: no, total_amount: '12.30', subject: 'page', product_code: 'FAST_INSTANT_TRADE_PAY' }, { notify_url: rx.url, return_url: 'http://127.0.0.1:1/return' });
  const html = await fetch(`${emu.url}/gateway.do?${new URLSearchParams(p)}`).then((r) => r.text());
  assert.match(html, /¥12\.30/);
  assert.match(html, /id="pay"/);
  const r = await fetch(`${emu.url}/_sandbox/cashier/alipay/submit`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `out_trade_no=${no}&action=pay` });
  assert.equal(r.status, 302);
  const ret = new URL(r.headers.get('location'));
  assert.equal(ret.searchParams.get('method'), 'alipay.trade.page.pay.return');
  assert.ok(alipayVerifyNotify(ret.search.slice(1), A().alipay_public_key).ok);
  const list = await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}`);
  assert.equal((await waitNotify(emu, list.json[0].id)).status, 'acknowledged');
  // wap.pay via POST form works the same way
  const w = alipayParams(emu, 'alipay.trade.wap.pay', { out_trade_no: `W${no}`, total_amount: '1.00', subject: 'wap', product_code: 'QUICK_WAP_WAY' });
  const wh = await fetch(`${emu.url}/gateway.do`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(w) }).then((x) => x.text());
  assert.match(wh, /¥1\.00/);
});

test('refund: partial then full (TRADE_CLOSED), idempotent out_request_no, over-refund refused, notifies', async () => {
  const no = `APR${Date.now()}`;
  const u = await alipayCall(emu, 'alipay.trade.app.pay', { out_trade_no: no, total_amount: '1.00', subject: 'r', product_code: 'QUICK_MSECURITY_PAY' }, { notify_url: rx.url });
  assert.equal(u.json.alipay_trade_app_pay_response.code, '10000');
  const unpaid = await alipayCall(emu, 'alipay.trade.refund', { out_trade_no: no, refund_amount: '0.10' });
  assert.equal(unpaid.json.alipay_trade_refund_response.sub_code, 'ACQ.TRADE_STATUS_ERROR');
  await waitNotify(emu, (await control(emu, 'POST', `/_sandbox/orders/alipay/${no}/pay`)).json.delivery);
  const a = await alipayCall(emu, 'alipay.trade.refund', { out_trade_no: no, refund_amount: '0.40', out_request_no: 'r1' });
  assert.ok(alipayVerifyResponse(a.text, 'alipay_trade_refund_response', A().alipay_public_key));
  assert.deepEqual([a.json.alipay_trade_refund_response.fund_change, a.json.alipay_trade_refund_response.refund_fee], ['Y', '0.40']);
  const a2 = await alipayCall(emu, 'alipay.trade.refund', { out_trade_no: no, refund_amount: '0.40', out_request_no: 'r1' });
  assert.deepEqual([a2.json.alipay_trade_refund_response.fund_change, a2.json.alipay_trade_refund_response.refund_fee], ['N', '0.40']);
  const over = await alipayCall(emu, 'alipay.trade.refund', { out_trade_no: no, refund_amount: '0.70', out_request_no: 'r2' });
  assert.equal(over.json.alipay_trade_refund_response.sub_code, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
  const b = await alipayCall(emu, 'alipay.trade.refund', { out_trade_no: no, refund_amount: '0.60', out_request_no: 'r2' });
  assert.equal(b.json.alipay_trade_refund_response.refund_fee, '1.00');
  assert.equal((await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no })).json.alipay_trade_query_response.trade_status, 'TRADE_CLOSED');
  const list = (await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}`)).json;
  assert.equal(list.length, 3);
  const last = await waitNotify(emu, list[2].id);
  const v = alipayVerifyNotify(last.body, A().alipay_public_key);
  assert.ok(v.ok);
  assert.equal(v.params.trade_status, 'TRADE_CLOSED');
  assert.equal(v.params.refund_fee, '1.00');
});

test('same out_trade_no with another amount → ACQ.CONTEXT_INCONSISTENT', async () => {
  const no = `APX${Date.now()}`;
  await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: orderString(no, '1.00'), action: 'check' });
  const r = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: orderString(no, '2.00'), action: 'check' });
  assert.equal(r.json.resultCode, '4000');
  assert.match(r.json.memo, /ACQ.CONTEXT_INCONSISTENT/);
  // orderString with a tampered amount (signature no longer matches)
  const tampered = orderString(`${no}T`, '1.00').replace(/%22total_amount%22%3A%221.00%22/, '%22total_amount%22%3A%220.01%22');
  assert.notEqual(tampered, orderString(`${no}T`, '1.00'));
  const t = await control(emu, 'POST', '/_sandbox/alipay/client-pay', { orderStr: tampered, action: 'check' });
  assert.match(t.json.memo, /isv.invalid-signature/);
  void alipaySign;
  void bjTime;
});

test('content encryption (encrypt_type=AES): encrypted biz_content accepted, the answer node encrypted and signed with its quotes', async () => {
  const aes = (text) => { const c = crypto.createCipheriv('aes-128-cbc', Buffer.from(A().aes_key, 'base64'), Buffer.alloc(16)); return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64'); };
  const unaes = (b64) => { const d = crypto.createDecipheriv('aes-128-cbc', Buffer.from(A().aes_key, 'base64'), Buffer.alloc(16)); return Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]).toString('utf8'); };
  const no = `ENC${Date.now()}`;
  const r = await alipayCall(emu, 'alipay.trade.query', {}, { encrypt_type: 'AES', biz_content: aes(JSON.stringify({ out_trade_no: no })) });
  const m = /^\{"alipay_trade_query_response":("[^"]+"),"sign":"([^"]+)"\}$/.exec(r.text);
  assert.ok(m, r.text);
  assert.ok(crypto.createVerify('RSA-SHA256').update(m[1]).verify(A().alipay_public_key, m[2], 'base64'), 'signature over the quoted ciphertext');
  const node = JSON.parse(unaes(JSON.parse(m[1])));
  assert.deepEqual([node.code, node.sub_code, node.out_trade_no], ['40004', 'ACQ.TRADE_NOT_EXIST', no]);
  // A biz_content encrypted with another key: refused in clear, nothing created.
  const other = crypto.randomBytes(16);
  const c = crypto.createCipheriv('aes-128-cbc', other, Buffer.alloc(16));
  const wrong = Buffer.concat([c.update(JSON.stringify({ out_trade_no: no, total_amount: '1.00', subject: 'x' })), c.final()]).toString('base64');
  const bad = await alipayCall(emu, 'alipay.trade.app.pay', {}, { encrypt_type: 'AES', biz_content: wrong });
  const n = bad.json.alipay_trade_app_pay_response;
  assert.ok(n && typeof n === 'object', bad.text);
  assert.deepEqual([n.code, n.sub_code], ['40002', 'isv.decryption-error']);
  const bogus = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no }, { encrypt_type: 'DES' });
  assert.equal(bogus.json.alipay_trade_query_response.sub_code, 'isv.invalid-encrypt-type');
});

test('certificate mode: SNs as the SDKs compute them (yansongda vectors), requests checked, answers carry alipay_cert_sn', async () => {
  const { alipayCertSn, alipayRootCertSn } = await import('../lib/keys.mjs');
  if (haveVectors) {
    // yansongda/pay tests/Cert: the SNs its config uses.
    const v = (f) => fs.readFileSync(new URL(f, VEC), 'utf8');
    assert.equal(alipayCertSn(v('yansongda-app-public-cert.crt')), 'e90dd23a37c5c7b616e003970817ff82');
    assert.equal(alipayRootCertSn(v('yansongda-alipay-root-cert.crt')), '687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6');
  }
  // The configured chain: the app and Alipay certificates are issued by the root and hold the configured keys.
  const root = new crypto.X509Certificate(A().root_cert);
  for (const [pem, key] of [[A().app_cert, A().app_public_key], [A().alipay_cert, A().alipay_public_key]]) {
    const x = new crypto.X509Certificate(pem);
    assert.ok(x.checkIssued(root) && x.verify(root.publicKey));
    assert.equal(x.publicKey.export({ type: 'spki', format: 'pem' }), crypto.createPublicKey(key).export({ type: 'spki', format: 'pem' }));
  }
  const sn = { app_cert_sn: alipayCertSn(A().app_cert), alipay_root_cert_sn: alipayRootCertSn(A().root_cert) };
  const no = `CERT${Date.now()}`;
  const r = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no }, sn);
  const m = /^\{"alipay_trade_query_response":(\{.*\}),"alipay_cert_sn":"([0-9a-f]{32})","sign":"([^"]+)"\}$/.exec(r.text);
  assert.ok(m, r.text);
  assert.equal(m[2], alipayCertSn(A().alipay_cert));
  assert.ok(crypto.createVerify('RSA-SHA256').update(m[1]).verify(new crypto.X509Certificate(A().alipay_cert).publicKey, m[3], 'base64'));
  assert.equal(JSON.parse(m[1]).sub_code, 'ACQ.TRADE_NOT_EXIST');
  const badApp = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no }, { ...sn, app_cert_sn: '0'.repeat(32) });
  assert.deepEqual([badApp.json.alipay_trade_query_response.code, badApp.json.alipay_trade_query_response.sub_code], ['40002', 'isv.app-cert-not-exist']);
  const badRoot = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no }, { ...sn, alipay_root_cert_sn: sn.alipay_root_cert_sn.slice(1) });
  assert.equal(badRoot.json.alipay_trade_query_response.sub_code, 'isv.invalid-alipay-root-cert-sn');
  // Key mode (no SNs) still works on the same emulator, without alipay_cert_sn.
  const plain = await alipayCall(emu, 'alipay.trade.query', { out_trade_no: no });
  assert.ok(!('alipay_cert_sn' in plain.json), plain.text);
});
