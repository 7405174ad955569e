// Operations through the gateway: webhook receiver down then back (nothing
// lost), token single flight under 100 concurrent requests, a restart of the
// Worker with persisted state, reconciliation of a lost notify.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, startGateway, api, control, waitNotify, orderNo, sleep } from './harness.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert' }); });
after(async () => { await s?.close(); });

async function paidOrder(prefix = 'R') {
  const no = orderNo(prefix);
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v2', out_trade_no: no, amount: 321, description: 'x', openid: s.emu.config.wechat.payer_openid });
  assert.equal(r.status, 201, r.text);
  const paid = await control(s.emu, 'POST', `/orders/wechat/${no}/pay`, {});
  await waitNotify(s.emu, paid.json.delivery, 'acknowledged');
  return { no, pay_params: r.json.pay_params };
}

test('merchant webhook down for a while: retried with backoff, delivered once it is back, same event id', async () => {
  s.receiver.down = true;
  const before = s.receiver.rejected;
  const { no } = await paidOrder('W');
  // Several failed attempts while down.
  const t0 = Date.now();
  while (s.receiver.rejected - before < 3) {
    assert.ok(Date.now() - t0 < 30000, `only ${s.receiver.rejected - before} attempts in 30 s`);
    await sleep(200);
  }
  let o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.json.events.length, 1);
  assert.equal(o.json.events[0].delivered_at, null);
  assert.ok(o.json.events[0].attempts >= 3);
  s.receiver.down = false;
  const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no, 30000);
  assert.equal(ev.id, `evt_paid_${no}`);
  await sleep(1500);
  assert.equal(s.receiver.events.filter((e) => e.order.out_trade_no === no).length, 1);
  o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.ok(o.json.events[0].delivered_at > 0);
});

function jssdkSignatureValid(cfg, url) {
  // node:crypto recomputes the wx.config signature with every ticket the emulator issued.
  for (const ticket of s.emu.state.tickets.keys()) {
    const sig = createHash('sha1').update(`jsapi_ticket=${ticket}&noncestr=${cfg.nonceStr}&timestamp=${cfg.timestamp}&url=${url}`).digest('hex');
    if (sig === cfg.signature) return true;
  }
  return false;
}

async function counters() {
  const c = (await control(s.emu, 'GET', '/counters')).json;
  const flat = c.counters || c;
  return (k) => flat[k] || 0;
}

test('100 concurrent requests with expired token and ticket → one token fetch, one ticket fetch', async () => {
  const url = 'https://shop.example/pay?x=1';
  await control(s.emu, 'POST', '/wechat/tokens/expire', {});
  assert.equal((await api(s.gateway, 'POST', '/v1/admin/tokens/expire', {})).status, 200);
  await control(s.emu, 'POST', '/counters/reset', {});
  const rs = await Promise.all(Array.from({ length: 100 }, () => api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null })));
  for (const r of rs) {
    assert.equal(r.status, 200, r.text);
    assert.ok(jssdkSignatureValid(r.json, url), 'signature made with a ticket the emulator issued');
  }
  let c = await counters();
  assert.equal(c('wechat.api.token_fetches'), 1);
  assert.equal(c('wechat.api.ticket_fetches'), 1);
  // Cached: another 100 cost nothing upstream.
  await Promise.all(Array.from({ length: 100 }, () => api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null })));
  c = await counters();
  assert.equal(c('wechat.api.token_fetches'), 1);
  assert.equal(c('wechat.api.ticket_fetches'), 1);
});

test('a token refused upstream (42001) is refreshed once for 100 concurrent requests', async () => {
  const url = 'https://shop.example/';
  await api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null });
  // WeChat invalidates the tokens; our cached access_token still looks valid; the ticket is due.
  await control(s.emu, 'POST', '/wechat/tokens/expire', {});
  assert.equal((await api(s.gateway, 'POST', '/v1/admin/tokens/expire?kind=jsapi_ticket', {})).status, 200);
  await control(s.emu, 'POST', '/counters/reset', {});
  const rs = await Promise.all(Array.from({ length: 100 }, () => api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null })));
  for (const r of rs) assert.equal(r.status, 200, r.text);
  const c = await counters();
  assert.equal(c('wechat.api.token_fetches'), 1, 'one refresh of the refused token');
  assert.equal(c('wechat.api.ticket_fetches'), 1);
});

test('jssdk config refuses a page outside the allowed origins', async () => {
  const r = await api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent('https://evil.example/')}`, null, { token: null });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'forbidden');
});

test('a lost notify: a stale NOTPAY order is reconciled by an upstream query when read', async () => {
  const no = orderNo('Q');
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: no, amount: 777, description: 'x', openid: s.emu.config.wechat.payer_openid });
  assert.equal(r.status, 201, r.text);
  await control(s.emu, 'POST', `/orders/wechat/${no}/pay`, { delay_ms: 600000 }); // the notify never comes in time
  await sleep(1200); // RECONCILE_AFTER_SECONDS=1 in the test config
  const pub = await api(s.gateway, 'GET', `/v1/public/orders/${no}/status`, null, { token: null });
  assert.deepEqual(pub.json, { status: 'SUCCESS' });
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.deepEqual(o.json.history.map((h) => [h.to_status, h.source]), [['SUCCESS', 'query']]);
  const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no);
  assert.equal(ev.type, 'order.paid');
});

test('restart of the Worker (state persisted): no order lost, idempotency kept', async () => {
  const paid = await paidOrder('S');
  const unpaid = orderNo('U');
  const body = { provider: 'wechat', channel: 'native', api: 'v2', out_trade_no: unpaid, amount: 42, description: 'y' };
  const first = await api(s.gateway, 'POST', '/v1/orders', body);
  assert.equal(first.status, 201);
  const port = s.gateway.port;
  await s.gateway.stop();
  s.gateway = await startGateway({ emu: s.emu, receiver: s.receiver, dir: s.dir, port });
  const a = await api(s.gateway, 'GET', `/v1/orders/${paid.no}`);
  assert.equal(a.json.status, 'SUCCESS');
  const again = await api(s.gateway, 'POST', '/v1/orders', body);
  assert.equal(again.status, 201);
  assert.deepEqual(again.json.pay_params, first.json.pay_params);
  const b = await api(s.gateway, 'GET', `/v1/orders/${unpaid}`);
  assert.equal(b.json.amount, 42);
});

test('an upstream that does not answer within UPSTREAM_TIMEOUT_MS: 502 naming the time-out, the order kept, the retry succeeds', async () => {
  // A second gateway (own state) with a 700 ms time-out; the emulator holds the next
  // unifiedorder for 4 s.
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-gw-timeout-'));
  const gw = await startGateway({ emu: s.emu, receiver: s.receiver, dir, env: { UPSTREAM_TIMEOUT_MS: '700' } });
  try {
    await control(s.emu, 'POST', '/faults/upstream', { match: '/pay/unifiedorder', delay_ms: 4000, count: 1 });
    const body = { provider: 'wechat', channel: 'jsapi', api: 'v2', out_trade_no: orderNo('TO'), amount: 77, description: 'slow', openid: s.emu.config.wechat.payer_openid };
    const t0 = Date.now();
    const r = await api(gw, 'POST', '/v1/orders', body);
    const took = Date.now() - t0;
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'upstream_error');
    assert.equal(r.json.error.message, 'upstream timed out after 700 ms');
    assert.ok(took >= 650 && took < 3500, `answered after ${took} ms`);
    // The order is kept, unpaid, without payment parameters; the same request again completes it.
    const kept = await api(gw, 'GET', `/v1/orders/${body.out_trade_no}`);
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.json.status, 'NOTPAY');
    assert.equal(kept.json.amount, 77);
    const again = await api(gw, 'POST', '/v1/orders', body);
    assert.equal(again.status, 201, again.text);
    assert.match(again.json.pay_params.package, /^prepay_id=/);
  } finally {
    await control(s.emu, 'POST', '/faults/clear', {});
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
