// Full payments through the gateway (wrangler dev / workerd) against the
// emulator (an independent node:crypto implementation of the upstreams):
// order → client pays → provider notify → state change → merchant webhook
// (HMAC checked by the receiver with node:crypto).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, startGateway, api, control, waitNotify, orderNo } from './harness.mjs';
import { alipayCertSn, alipayRootCertSn } from '../sandbox/lib/keys.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert' }); });
after(async () => { await s?.close(); });

export async function paidFlow(s, { channel, api: apiVersion, kind, expectKeys }) {
  const no = orderNo(`${channel[0]}${apiVersion}`);
  const body = { provider: 'wechat', channel, api: apiVersion, out_trade_no: no, amount: 1234, description: 'Coffee 咖啡', client_ip: '203.0.113.7' };
  if (channel === 'jsapi' || channel === 'miniprogram') body.openid = s.emu.config.wechat.payer_openid;
  const r = await api(s.gateway, 'POST', '/v1/orders', body);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'NOTPAY');
  assert.deepEqual(Object.keys(r.json.pay_params).sort(), [...expectKeys].sort());
  // The emulator plays the WeChat client: it checks the paySign and pays.
  const pay = await control(s.emu, 'POST', '/wechat/client-pay', { kind, params: r.json.pay_params, action: 'pay' });
  assert.equal(pay.json.ok, true, JSON.stringify(pay.json));
  const d = await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  assert.equal(d.status, 'acknowledged');
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.status, 200);
  assert.equal(o.json.status, 'SUCCESS');
  assert.equal(o.json.amount, 1234);
  assert.ok(o.json.transaction_id, 'transaction id recorded');
  assert.deepEqual(o.json.history.map((h) => h.to_status), ['SUCCESS']);
  const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no && e.type === 'order.paid');
  assert.equal(ev.id, `evt_paid_${no}`);
  assert.equal(ev.order.status, 'SUCCESS');
  assert.equal(ev.order.amount, 1234);
  assert.equal(ev.order.transaction_id, o.json.transaction_id);
  return no;
}

test('WeChat v2 JSAPI: order → getBrandWCPayRequest params → notify → SUCCESS → webhook', async () => {
  await paidFlow(s, { channel: 'jsapi', api: 'v2', kind: 'jsapi', expectKeys: ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] });
});

test('WeChat v3 JSAPI: RSA paySign (WebCrypto) → v3 notify (AES-GCM) → SUCCESS → webhook', async () => {
  await paidFlow(s, { channel: 'jsapi', api: 'v3', kind: 'jsapi', expectKeys: ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] });
});

test('WeChat mini program (v3): wx.requestPayment params → notify → webhook', async () => {
  await paidFlow(s, { channel: 'miniprogram', api: 'v3', kind: 'miniprogram', expectKeys: ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] });
});

test('WeChat mini program (v2): paySign covers appId → notify → webhook', async () => {
  await paidFlow(s, { channel: 'miniprogram', api: 'v2', kind: 'miniprogram', expectKeys: ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] });
});

test('WeChat APP (v2 and v3): OpenSDK params → notify → webhook', async () => {
  const keys = ['appid', 'partnerid', 'prepayid', 'package', 'noncestr', 'timestamp', 'sign'];
  await paidFlow(s, { channel: 'app', api: 'v2', kind: 'app', expectKeys: keys });
  await paidFlow(s, { channel: 'app', api: 'v3', kind: 'app', expectKeys: keys });
});

test('Alipay APP: orderString → the app pays → form notify → SUCCESS → webhook', async () => {
  const no = orderNo('A');
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no, amount: 990, description: 'Tea 茶' });
  assert.equal(r.status, 201, r.text);
  const orderStr = r.json.pay_params.order_string;
  assert.match(orderStr, /method=alipay\.trade\.app\.pay/);
  const pay = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr, action: 'pay' });
  assert.equal(pay.json.resultCode, '9000', JSON.stringify(pay.json));
  const d = await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  assert.equal(d.status, 'acknowledged');
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.json.status, 'SUCCESS');
  const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no);
  assert.equal(ev.type, 'order.paid');
  assert.equal(ev.order.amount, 990);
});

test('native and H5 orders return code_url / h5_url', async () => {
  for (const apiVersion of ['v2', 'v3']) {
    const n = await api(s.gateway, 'POST', '/v1/orders', { provider: 'wechat', channel: 'native', api: apiVersion, out_trade_no: orderNo('N'), amount: 1, description: 'x' });
    assert.equal(n.status, 201, n.text);
    assert.match(n.json.pay_params.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    const h = await api(s.gateway, 'POST', '/v1/orders', { provider: 'wechat', channel: 'h5', api: apiVersion, out_trade_no: orderNo('H'), amount: 1, description: 'x', client_ip: '203.0.113.9' });
    assert.equal(h.status, 201, h.text);
    assert.match(h.json.pay_params.h5_url, /^https?:\/\//);
  }
});

async function certificateFetches() {
  const r = await control(s.emu, 'GET', '/requests');
  return r.json.filter((x) => x.path === '/v3/certificates').length;
}

test('v3 platform key rotation: an unknown Wechatpay-Serial triggers one certificate refresh', async () => {
  const before = await certificateFetches();
  const rot = await control(s.emu, 'POST', '/wechat/v3/rotate', { activate: true });
  assert.equal(rot.status, 200, JSON.stringify(rot.json));
  await new Promise((r) => setTimeout(r, 1100)); // PLATFORM_CERT_REFRESH_MIN_SECONDS=1 in the test config
  await paidFlow(s, { channel: 'jsapi', api: 'v3', kind: 'jsapi', expectKeys: ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] });
  const after = await certificateFetches();
  assert.equal(after - before, 1, 'one /v3/certificates fetch for the new serial');
});

/** An emulator counter. */
async function counter(k) {
  const c = (await control(s.emu, 'GET', '/counters')).json;
  return (c.counters || c)[k] || 0;
}

/** A second gateway on the same emulator with its own state and extra env; `stop()` removes its state. */
async function extraGateway(env) {
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-gw-extra-'));
  const gw = await startGateway({ emu: s.emu, receiver: s.receiver, dir, env });
  return { ...gw, stop: async () => { await gw.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** An Alipay APP order through `gw`, paid in the emulator, its notify acknowledged; returns the order and its create answer. */
async function paidAlipayOrder(gw, prefix, amount, description = 'x') {
  const no = orderNo(prefix);
  const c = await api(gw, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no, amount, description });
  assert.equal(c.status, 201, c.text);
  const pay = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: c.json.pay_params.order_string, action: 'pay' });
  assert.equal(pay.json.resultCode, '9000', JSON.stringify(pay.json));
  await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  return { no, created: c.json };
}

test('Alipay content encryption (ALIPAY_AES_KEY): refund and close go encrypt_type=AES, encrypted answers verified then decrypted', async () => {
  const gw = await extraGateway({ ALIPAY_AES_KEY: s.emu.config.alipay.aes_key });
  try {
    const before = { enc: await counter('alipay.encrypted_requests'), bad: await counter('alipay.decrypt_errors') };
    const { no } = await paidAlipayOrder(gw, 'E', 700, '加密 enc');
    const r = await api(gw, 'POST', `/v1/orders/${no}/refunds`, { out_refund_no: `R${no}`.slice(0, 32), amount: 300 });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'SUCCESS');
    const o = await api(gw, 'GET', `/v1/orders/${no}`);
    assert.equal(o.json.status, 'REFUND');
    assert.equal(o.json.refunded_amount, 300);
    // Close of an unpaid order the app registered (cancelled in the cashier): an encrypted success.
    const no2 = orderNo('E');
    const c2 = await api(gw, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no2, amount: 5, description: 'x' });
    assert.equal(c2.status, 201, c2.text);
    await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: c2.json.pay_params.order_string, action: 'cancel' });
    const closed = await api(gw, 'POST', `/v1/orders/${no2}/close`);
    assert.equal(closed.status, 200, closed.text);
    assert.equal(closed.json.status, 'CLOSED');
    assert.equal((await control(s.emu, 'GET', `/orders/alipay/${no2}`)).json.state, 'TRADE_CLOSED');
    assert.equal(await counter('alipay.encrypted_requests') - before.enc, 2, 'refund and close, each encrypted');
    assert.equal(await counter('alipay.decrypt_errors'), before.bad);
  } finally {
    await gw.stop();
  }
});

// A rotation of Alipay's certificate: tests/gateway/alipay-rotation.test.mjs (its own emulator).
test('Alipay certificate mode (ALIPAY_APP_CERT, ALIPAY_PUBLIC_CERT, ALIPAY_ROOT_CERT): order, notify and refund', async () => {
  const a = s.emu.config.alipay;
  const certEnv = { ALIPAY_APP_CERT: a.app_cert, ALIPAY_PUBLIC_CERT: a.alipay_cert, ALIPAY_ROOT_CERT: a.root_cert, ALIPAY_PUBLIC_KEY: '' };
  const gw = await extraGateway(certEnv);
  try {
    const before = await counter('alipay.cert_mode_requests');
    // The notify is verified with the key of ALIPAY_PUBLIC_CERT (ALIPAY_PUBLIC_KEY is empty).
    const { no, created } = await paidAlipayOrder(gw, 'C', 880, '证书 cert');
    const q = new URLSearchParams(created.pay_params.order_string);
    assert.equal(q.get('app_cert_sn'), alipayCertSn(a.app_cert));
    assert.equal(q.get('alipay_root_cert_sn'), alipayRootCertSn(a.root_cert));
    const r = await api(gw, 'POST', `/v1/orders/${no}/refunds`, { out_refund_no: `R${no}`.slice(0, 32), amount: 80 });
    assert.equal(r.status, 201, r.text);
    const o = await api(gw, 'GET', `/v1/orders/${no}`);
    assert.deepEqual([o.json.status, o.json.refunded_amount], ['REFUND', 80]);
    assert.equal(await counter('alipay.cert_mode_requests') - before, 2, 'the orderString and the refund named the certificates');
  } finally {
    await gw.stop();
  }
});
