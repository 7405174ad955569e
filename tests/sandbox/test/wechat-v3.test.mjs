import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { start, v3Call, v3Auth, v3VerifyHeaders, gcmDecrypt, platformKey, receiver, control, waitNotify, nonceStr } from './helpers.mjs';

let emu;
let rx;
let answer = { status: 204 };
before(async () => {
  emu = await start({ mode: 'cert' });
  rx = await receiver(() => answer);
});
after(async () => {
  await emu.close();
  await rx.close();
});
const W = () => emu.config.wechat;
const jsapi = (no, extra = {}) => ({
  appid: W().appid, mchid: W().mch_id, description: '测试商品', out_trade_no: no, notify_url: rx.url,
  amount: { total: 100, currency: 'CNY' }, payer: { openid: W().payer_openid }, ...extra,
});

test('AES-256-GCM vector (wechatpay-java AeadAesCipherTest) decrypts with the test client', () => {
  assert.equal(gcmDecrypt('a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', 'uluk4a9R25RW', 'associatedData', 'ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI='), 'message');
});

test('/v3/certificates: encrypted certificate whose serial signs the answer', async () => {
  const r = await v3Call(emu, 'GET', '/v3/certificates');
  assert.equal(r.status, 200, r.text);
  const c = r.json.data[0];
  assert.match(c.serial_no, /^[0-9A-F]{40}$/);
  assert.match(c.effective_time, /\+08:00$/);
  const pem = gcmDecrypt(W().apiv3_key, c.encrypt_certificate.nonce, c.encrypt_certificate.associated_data, c.encrypt_certificate.ciphertext);
  const x = new crypto.X509Certificate(pem);
  assert.equal(x.serialNumber.toUpperCase(), c.serial_no);
  assert.equal(r.headers.get('wechatpay-serial'), c.serial_no);
  assert.equal(r.headers.get('wechatpay-signature-type'), 'WECHATPAY2-SHA256-RSA2048');
  assert.ok(v3VerifyHeaders(r.headers, r.text, x.publicKey));
});

test('JSAPI order: signed answer, prepay_id; same params → same id; other amount → 403 OUT_TRADE_NO_USED', async () => {
  const no = `V3J${Date.now()}`;
  const r = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no));
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.prepay_id, /^wx/);
  assert.ok(v3VerifyHeaders(r.headers, r.text, platformKey(emu)));
  assert.equal((await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no))).json.prepay_id, r.json.prepay_id);
  const c = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no, { amount: { total: 101 } }));
  assert.equal(c.status, 403);
  assert.equal(c.json.code, 'OUT_TRADE_NO_USED');
  assert.ok(v3VerifyHeaders(c.headers, c.text, platformKey(emu)), 'error answers are signed too');
});

test('Authorization checks: bad signature, wrong serial, 5-minute window, malformed header, body mchid', async () => {
  const body = jsapi(`V3A${Date.now()}`);
  const text = JSON.stringify(body);
  const send = (auth) => fetch(emu.url + '/v3/pay/transactions/jsapi', { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: text })
    .then(async (r) => ({ status: r.status, json: await r.json() }));
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  let r = await send(v3Auth(emu, 'POST', '/v3/pay/transactions/jsapi', text, { key: other }));
  assert.deepEqual([r.status, r.json.code], [401, 'SIGN_ERROR']);
  r = await send(v3Auth(emu, 'POST', '/v3/pay/transactions/jsapi', text, { serial: 'DEADBEEF' }));
  assert.deepEqual([r.status, r.json.code], [401, 'SIGN_ERROR']);
  assert.match(r.json.message, /序列号/);
  r = await send(v3Auth(emu, 'POST', '/v3/pay/transactions/jsapi', text, { ts: Math.floor(Date.now() / 1000) - 301 }));
  assert.deepEqual([r.status, r.json.code], [401, 'SIGN_ERROR']);
  r = await send(v3Auth(emu, 'POST', '/v3/pay/transactions/jsapi', text, { ts: Math.floor(Date.now() / 1000) - 200 }));
  assert.equal(r.status, 200, 'inside the window is fine');
  r = await send('Bearer abc');
  assert.deepEqual([r.status, r.json.code], [401, 'SIGN_ERROR']);
  // signing the body with a different text (re-serialised) fails
  r = await send(v3Auth(emu, 'POST', '/v3/pay/transactions/jsapi', JSON.stringify(body, null, 1)));
  assert.equal(r.status, 401);
  const x = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(`V3M${Date.now()}`, { mchid: '1' }));
  assert.equal(x.status, 400);
  const miss = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(`V3P${Date.now()}`, { payer: undefined }));
  assert.deepEqual([miss.status, miss.json.code], [400, 'PARAM_ERROR']);
});

test('full v3 JSAPI flow: RSA paySign, pay, encrypted notify with valid Wechatpay-* headers, query, close → ORDERPAID', async () => {
  const no = `V3FLOW${Date.now()}`;
  const o = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no));
  const params = { appId: W().appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: nonceStr(), package: `prepay_id=${o.json.prepay_id}`, signType: 'RSA' };
  params.paySign = crypto.createSign('RSA-SHA256').update(`${params.appId}\n${params.timeStamp}\n${params.nonceStr}\n${params.package}\n`).sign(W().merchant_private_key, 'base64');
  const wrong = { ...params, paySign: crypto.createSign('RSA-SHA256').update(`${params.appId}\n${params.timeStamp}\n${params.nonceStr}\n${o.json.prepay_id}\n`).sign(W().merchant_private_key, 'base64') };
  assert.equal((await control(emu, 'POST', '/_sandbox/wechat/client-pay', { params: wrong, action: 'check' })).json.ok, false);
  const p = await control(emu, 'POST', '/_sandbox/wechat/client-pay', { params, action: 'pay' });
  assert.equal(p.json.err_msg, 'get_brand_wcpay_request:ok', JSON.stringify(p.json));
  const d = await waitNotify(emu, p.json.delivery);
  assert.equal(d.status, 'acknowledged');
  const got = rx.got.find((g) => g.body === d.body);
  assert.equal(got.headers['wechatpay-signature-type'], 'WECHATPAY2-SHA256-RSA2048');
  assert.equal(got.headers['wechatpay-serial'], emu.ctx.platform.active().serial);
  assert.ok(Math.abs(Number(got.headers['wechatpay-timestamp']) - Date.now() / 1000) < 5);
  assert.ok(v3VerifyHeaders(got.headers, got.body, platformKey(emu)));
  const n = JSON.parse(got.body);
  assert.equal(n.event_type, 'TRANSACTION.SUCCESS');
  assert.equal(n.resource.algorithm, 'AEAD_AES_256_GCM');
  const t = JSON.parse(gcmDecrypt(W().apiv3_key, n.resource.nonce, n.resource.associated_data, n.resource.ciphertext));
  assert.equal(t.out_trade_no, no);
  assert.equal(t.trade_state, 'SUCCESS');
  assert.equal(t.amount.total, 100);
  assert.equal(t.payer.openid, W().payer_openid);
  // tampered ciphertext must fail the tag check
  const ct = Buffer.from(n.resource.ciphertext, 'base64');
  ct[0] ^= 1;
  assert.throws(() => gcmDecrypt(W().apiv3_key, n.resource.nonce, n.resource.associated_data, ct.toString('base64')));
  const q = await v3Call(emu, 'GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${W().mch_id}`);
  assert.equal(q.json.trade_state, 'SUCCESS');
  assert.equal(q.json.transaction_id, t.transaction_id);
  const byId = await v3Call(emu, 'GET', `/v3/pay/transactions/id/${t.transaction_id}?mchid=${W().mch_id}`);
  assert.equal(byId.json.out_trade_no, no);
  const c = await v3Call(emu, 'POST', `/v3/pay/transactions/out-trade-no/${no}/close`, { mchid: W().mch_id });
  assert.deepEqual([c.status, c.json.code], [400, 'ORDERPAID']);
});

test('query unknown → 404 ORDER_NOT_EXIST; close → 204 (signed empty body) then 400 ORDER_CLOSED', async () => {
  const q = await v3Call(emu, 'GET', `/v3/pay/transactions/out-trade-no/NOPE${Date.now()}?mchid=${W().mch_id}`);
  assert.deepEqual([q.status, q.json.code], [404, 'ORDER_NOT_EXIST']);
  const no = `V3CL${Date.now()}`;
  await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no));
  const c = await v3Call(emu, 'POST', `/v3/pay/transactions/out-trade-no/${no}/close`, { mchid: W().mch_id });
  assert.equal(c.status, 204);
  assert.equal(c.text, '');
  assert.ok(v3VerifyHeaders(c.headers, '', platformKey(emu)));
  const again = await v3Call(emu, 'POST', `/v3/pay/transactions/out-trade-no/${no}/close`, { mchid: W().mch_id });
  assert.deepEqual([again.status, again.json.code], [400, 'ORDER_CLOSED']);
  assert.equal((await v3Call(emu, 'GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${W().mch_id}`)).json.trade_state, 'CLOSED');
});

test('APP, H5 and Native orders; APP client sign over appid/timestamp/noncestr/prepayid', async () => {
  const app = await v3Call(emu, 'POST', '/v3/pay/transactions/app', { ...jsapi(`V3APP${Date.now()}`), payer: undefined });
  assert.equal(app.status, 200, app.text);
  const ap = { appid: W().appid, partnerid: W().mch_id, prepayid: app.json.prepay_id, package: 'Sign=WXPay', noncestr: nonceStr(), timestamp: String(Math.floor(Date.now() / 1000)) };
  const withPrefix = crypto.createSign('RSA-SHA256').update(`${ap.appid}\n${ap.timestamp}\n${ap.noncestr}\nprepay_id=${ap.prepayid}\n`).sign(W().merchant_private_key, 'base64');
  assert.equal((await control(emu, 'POST', '/_sandbox/wechat/client-pay', { kind: 'app', params: { ...ap, sign: withPrefix }, action: 'check' })).json.ok, false);
  ap.sign = crypto.createSign('RSA-SHA256').update(`${ap.appid}\n${ap.timestamp}\n${ap.noncestr}\n${ap.prepayid}\n`).sign(W().merchant_private_key, 'base64');
  const paid = await control(emu, 'POST', '/_sandbox/wechat/client-pay', { kind: 'app', params: ap, action: 'pay' });
  assert.equal(paid.json.errCode, 0, JSON.stringify(paid.json));
  assert.equal((await waitNotify(emu, paid.json.delivery)).status, 'acknowledged');
  const h5 = await v3Call(emu, 'POST', '/v3/pay/transactions/h5', { ...jsapi(`V3H5${Date.now()}`), payer: undefined, scene_info: { payer_client_ip: '1.2.3.4', h5_info: { type: 'Wap' } } });
  assert.match(h5.json.h5_url, /prepay_id=wx/);
  const nat = await v3Call(emu, 'POST', '/v3/pay/transactions/native', { ...jsapi(`V3NAT${Date.now()}`), payer: undefined });
  assert.match(nat.json.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
});

test('refund: 200 PROCESSING, then REFUND.SUCCESS notify; over-refund refused', async () => {
  const no = `V3RF${Date.now()}`;
  await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', jsapi(no));
  const early = await v3Call(emu, 'POST', '/v3/refund/domestic/refunds', { out_trade_no: no, out_refund_no: `R${no}`, amount: { refund: 10, total: 100, currency: 'CNY' } });
  assert.equal(early.status, 400);
  await waitNotify(emu, (await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`)).json.delivery);
  const r = await v3Call(emu, 'POST', '/v3/refund/domestic/refunds', { out_trade_no: no, out_refund_no: `R${no}`, notify_url: rx.url, amount: { refund: 40, total: 100, currency: 'CNY' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'PROCESSING');
  assert.equal(r.json.amount.refund, 40);
  const over = await v3Call(emu, 'POST', '/v3/refund/domestic/refunds', { out_trade_no: no, out_refund_no: `R2${no}`, amount: { refund: 70, total: 100, currency: 'CNY' } });
  assert.equal(over.status, 400);
  let d;
  for (let i = 0; i < 200 && !d; i++) {
    d = (await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}&kind=wechat.v3.refund`)).json[0];
    if (!d) await new Promise((s) => setTimeout(s, 10));
  }
  d = await waitNotify(emu, d.id);
  const n = JSON.parse(d.body);
  assert.equal(n.event_type, 'REFUND.SUCCESS');
  const plain = JSON.parse(gcmDecrypt(W().apiv3_key, n.resource.nonce, n.resource.associated_data, n.resource.ciphertext));
  assert.equal(plain.refund_status, 'SUCCESS');
  assert.equal(plain.amount.refund, 40);
  const q = await v3Call(emu, 'GET', `/v3/refund/domestic/refunds/R${no}`);
  assert.equal(q.json.status, 'SUCCESS');
});

test('platform key rotation: new serial signs, /v3/certificates lists both', async () => {
  const before = emu.ctx.platform.active().serial;
  const r = await control(emu, 'POST', '/_sandbox/wechat/v3/rotate', {});
  assert.notEqual(r.json.serial, before);
  const c = await v3Call(emu, 'GET', '/v3/certificates');
  assert.deepEqual(c.json.data.map((x) => x.serial_no).sort(), [before, r.json.serial].sort());
  assert.equal(c.headers.get('wechatpay-serial'), r.json.serial);
  const newPem = gcmDecrypt(W().apiv3_key, ...(() => { const e = c.json.data.find((x) => x.serial_no === r.json.serial).encrypt_certificate; return [e.nonce, e.associated_data, e.ciphertext]; })());
  assert.ok(v3VerifyHeaders(c.headers, c.text, new crypto.X509Certificate(newPem).publicKey));
});

test('public-key mode: PUB_KEY_ID_ serial, responses verify with the public key, no certificates', async () => {
  const pk = await start({ mode: 'pubkey', config: emu.config });
  try {
    const r = await v3Call(pk, 'POST', '/v3/pay/transactions/native', { ...jsapi(`V3PK${Date.now()}`), payer: undefined });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('wechatpay-serial'), /^PUB_KEY_ID_\d+$/);
    const cfg = (await control(pk, 'GET', '/_sandbox/config')).json;
    const key = cfg.platform_keys.find((k) => k.serial === r.headers.get('wechatpay-serial')).public_key;
    assert.ok(v3VerifyHeaders(r.headers, r.text, key));
    assert.equal((await v3Call(pk, 'GET', '/v3/certificates')).status, 404);
  } finally {
    await pk.close();
  }
});
