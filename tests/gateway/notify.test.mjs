// Notify hardening through the gateway: forged, SIGNTEST, replayed and
// amount-mismatched notifies are refused with the state unchanged; 200
// concurrent duplicates change the state once and emit one webhook event.
// The probes come from the emulator (signed with its own node:crypto keys).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, randomBytes } from 'node:crypto';
import { startStack, api, control, waitNotify, orderNo, sleep } from './harness.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert' }); });
after(async () => { await s?.close(); });

async function newOrder(provider, apiVersion = 'v2') {
  const no = orderNo(provider === 'alipay' ? 'NA' : `N${apiVersion}`);
  const body = provider === 'alipay'
    ? { provider, channel: 'app', out_trade_no: no, amount: 500, description: 'probe' }
    : { provider, channel: 'jsapi', api: apiVersion, out_trade_no: no, amount: 500, description: 'probe', openid: s.emu.config.wechat.payer_openid };
  const r = await api(s.gateway, 'POST', '/v1/orders', body);
  assert.equal(r.status, 201, r.text);
  if (provider === 'alipay') {
    // The Alipay app registers the trade when it opens the orderString.
    const c = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: r.json.pay_params.order_string, action: 'check' });
    assert.equal(c.json.ok, true, JSON.stringify(c.json));
  }
  return { no, pay_params: r.json.pay_params };
}

async function probe(provider, no, type, extra = {}) {
  const f = await control(s.emu, 'POST', '/faults/notify', { provider, out_trade_no: no, type, ...extra });
  assert.equal(f.status, 200, JSON.stringify(f.json));
  const d = await waitNotify(s.emu, f.json.id);
  return d;
}

async function assertUnchanged(no, status = 'NOTPAY', transitions = []) {
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.json.status, status);
  assert.deepEqual(o.json.history.map((h) => h.to_status), transitions);
  return o.json;
}

for (const [provider, apiVersion, types] of [
  ['wechat', 'v2', ['bad-signature', 'wrong-amount']],
  ['wechat', 'v3', ['bad-signature', 'wrong-amount', 'signtest']],
  ['alipay', 'v2', ['bad-signature', 'wrong-amount']],
]) {
  test(`${provider} ${apiVersion}: ${types.join(', ')} notifies are refused and change nothing`, async () => {
    const { no } = await newOrder(provider, apiVersion);
    for (const type of types) {
      const d = await probe(provider, no, type);
      assert.equal(d.expect, 'reject');
      assert.equal(d.as_expected, true, `${type}: ${JSON.stringify(d.attempts.at(-1))}`);
      assert.notEqual(d.status, 'acknowledged', type);
    }
    const o = await assertUnchanged(no);
    assert.deepEqual(o.events, []);
    assert.equal(s.receiver.events.filter((e) => e.order.out_trade_no === no).length, 0);
  });
}

test('replays: v2 and Alipay replays are acknowledged idempotently; a stale v3 replay is refused', async () => {
  for (const [provider, apiVersion] of [['wechat', 'v2'], ['wechat', 'v3'], ['alipay', 'v2']]) {
    const { no } = await newOrder(provider, apiVersion);
    const paid = await control(s.emu, 'POST', `/orders/${provider}/${no}/pay`, {});
    assert.equal(paid.status, 200, JSON.stringify(paid.json));
    await waitNotify(s.emu, paid.json.delivery, 'acknowledged');
    await s.receiver.waitFor((e) => e.order.out_trade_no === no);
    const d = await probe(provider, no, 'replay');
    assert.equal(d.as_expected, true, `${provider} ${apiVersion}: ${JSON.stringify(d.attempts.at(-1))}`);
    await assertUnchanged(no, 'SUCCESS', ['SUCCESS']);
    await sleep(300);
    assert.equal(s.receiver.events.filter((e) => e.order.out_trade_no === no).length, 1);
  }
});

function v3Headers(body) {
  const k = s.emu.ctx.platform.active();
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const sig = createSign('RSA-SHA256').update(`${ts}\n${nonce}\n${body}\n`).sign(k.privateKey, 'base64');
  return { 'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce, 'wechatpay-signature': sig, 'wechatpay-serial': k.serial, 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048' };
}

for (const apiVersion of ['v2', 'v3']) {
  test(`200 concurrent duplicate ${apiVersion} notifies → exactly one state change and one webhook event`, async () => {
    const { no } = await newOrder('wechat', apiVersion);
    // Pay with the emulator's own delivery held back, take the signed notify body, and fire it 200 times at once.
    const paid = await control(s.emu, 'POST', `/orders/wechat/${no}/pay`, { delay_ms: 4000 });
    const d = (await control(s.emu, 'GET', `/notifies/${paid.json.delivery}`)).json;
    const path = apiVersion === 'v2' ? '/notify/wechat' : '/notify/wechat/v3';
    const replies = await Promise.all(Array.from({ length: 200 }, async () => {
      // Like WeChat Pay, resend what was not acknowledged: wrangler dev's local proxy answers a
      // few of 200 simultaneous requests with 503 "restarted mid-request" or drops the
      // connection under load (a dev-server limit).
      for (let attempt = 0; ; attempt++) {
        const headers = apiVersion === 'v2' ? { 'content-type': 'text/xml' } : v3Headers(d.body);
        let out;
        try {
          const r = await fetch(s.gateway.url + path, { method: 'POST', headers, body: d.body });
          out = { status: r.status, body: await r.text() };
        } catch (e) {
          out = { status: 0, body: String(e) }; // connection dropped by the dev proxy: resend
        }
        if ((out.status !== 503 && out.status !== 0) || attempt >= 3) return out;
        await sleep(200 + Math.random() * 300);
      }
    }));
    for (const r of replies) {
      if (apiVersion === 'v2') {
        assert.equal(r.status, 200);
        assert.match(r.body, /<return_code><!\[CDATA\[SUCCESS\]\]><\/return_code>/);
      } else {
        assert.equal(r.status, 204, r.body);
      }
    }
    const o = await assertUnchanged(no, 'SUCCESS', ['SUCCESS']);
    assert.equal(o.events.length, 1);
    await s.receiver.waitFor((e) => e.order.out_trade_no === no);
    await waitNotify(s.emu, d.id, 'acknowledged'); // the held-back original: one more duplicate
    await sleep(1500);
    const got = s.receiver.events.filter((e) => e.order.out_trade_no === no);
    assert.equal(got.length, 1, `webhook deliveries: ${got.length}`);
    assert.equal(got[0].id, `evt_paid_${no}`);
  });
}

test('a notify for an unknown order, garbage bodies and oversized bodies are refused', async () => {
  const r1 = await fetch(s.gateway.url + '/notify/wechat', { method: 'POST', body: '<xml><return_code>SUCCESS' });
  assert.match(await r1.text(), /FAIL/);
  const r2 = await fetch(s.gateway.url + '/notify/wechat/v3', { method: 'POST', body: randomBytes(300) });
  assert.ok(r2.status >= 400);
  const r3 = await fetch(s.gateway.url + '/notify/alipay', { method: 'POST', body: 'a=%ZZ&sign=%%%' });
  assert.equal(await r3.text(), 'fail');
  const r4 = await fetch(s.gateway.url + '/notify/wechat', { method: 'POST', body: Buffer.alloc(300 * 1024, 0x41) });
  assert.match(await r4.text(), /FAIL/);
});
