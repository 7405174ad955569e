// A merchant webhook that never comes back: after WEBHOOK_MAX_ATTEMPTS the
// event goes to the dead-letter queue, whose consumer marks it dead; the
// order itself is unaffected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, api, control, waitNotify, orderNo, sleep } from './harness.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert', env: { WEBHOOK_MAX_ATTEMPTS: '2' } }); });
after(async () => { await s?.close(); });

test('webhook dead-lettered after the last attempt; nothing delivered, order still SUCCESS', async () => {
  s.receiver.down = true;
  const no = orderNo('DL');
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no, amount: 88, description: 'dlq' });
  assert.equal(r.status, 201, r.text);
  const pay = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: r.json.pay_params.order_string, action: 'pay' });
  await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  const t0 = Date.now();
  let ev;
  for (;;) {
    const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
    ev = o.json.events[0];
    if (ev?.dead_at) { assert.equal(o.json.status, 'SUCCESS'); break; }
    assert.ok(Date.now() - t0 < 40000, `not dead-lettered in 40 s: ${JSON.stringify(ev)}`);
    await sleep(500);
  }
  assert.equal(ev.attempts, 2);
  assert.equal(ev.delivered_at, null);
  assert.equal(s.receiver.rejected, 2);
  assert.equal(s.receiver.events.length, 0);
});

test('Alipay H5 (wap pay) order gives a signed gateway URL; closing it closes it', async () => {
  const no = orderNo('AH');
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'alipay', channel: 'h5', out_trade_no: no, amount: 150, description: 'wap' });
  assert.equal(r.status, 201, r.text);
  const u = new URL(r.json.pay_params.h5_url);
  assert.equal(u.origin + u.pathname, `${s.emu.url}/gateway.do`);
  assert.equal(u.searchParams.get('method'), 'alipay.trade.wap.pay');
  assert.ok(u.searchParams.get('sign'));
  // The emulator's gateway accepts the signature (it answers with its cashier page, not an error).
  const page = await fetch(u);
  assert.equal(page.status, 200);
  assert.doesNotMatch(await page.text(), /invalid-signature/);
  const c = await api(s.gateway, 'POST', `/v1/orders/${no}/close`, {});
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.status, 'CLOSED');
  const bad = await api(s.gateway, 'POST', '/v1/orders', { provider: 'alipay', channel: 'jsapi', out_trade_no: orderNo('AX'), amount: 1, description: 'x' });
  assert.equal(bad.status, 400);
});
