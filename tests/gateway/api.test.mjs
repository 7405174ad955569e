// The merchant and public HTTP contract: auth, validation, idempotency (409 on
// a different amount), close, refunds (with their notifies and webhooks),
// OAuth with the signed cookie, mini program login, errors as JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, api, control, waitNotify, orderNo, sleep } from './harness.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert' }); });
after(async () => { await s?.close(); });

const jsapi = (no, extra = {}) => ({ provider: 'wechat', channel: 'jsapi', api: 'v2', out_trade_no: no, amount: 100, description: 'd', openid: s.emu.config.wechat.payer_openid, ...extra });

test('healthz, unknown routes and errors are JSON', async () => {
  assert.equal((await api(s.gateway, 'GET', '/healthz', null, { token: null })).status, 200);
  const r = await api(s.gateway, 'POST', '/nope', {}, { token: null });
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'not_found');
});

test('merchant routes need the Bearer token', async () => {
  for (const token of [null, 'wrong', 'test-merchant-token-0123456789abcdeX']) {
    const r = await api(s.gateway, 'POST', '/v1/orders', jsapi(orderNo()), { token });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'unauthorized');
  }
  assert.equal((await api(s.gateway, 'GET', '/v1/orders/X', null, { token: null })).status, 401);
});

test('input validation: 400 with the field named', async () => {
  const cases = [
    [{ ...jsapi(orderNo()), amount: 0 }, /amount/],
    [{ ...jsapi(orderNo()), amount: 1.5 }, /amount/],
    [{ ...jsapi(orderNo()), amount: '100' }, /amount/],
    [{ ...jsapi(orderNo()), openid: undefined }, /openid/],
    [{ ...jsapi('bad no!') }, /out_trade_no/],
    [{ ...jsapi(orderNo()), provider: 'paypal' }, /provider/],
    [{ ...jsapi(orderNo()), channel: 'pos' }, /channel/],
    [{ ...jsapi(orderNo()), api: 'v4' }, /api/],
    [{ ...jsapi(orderNo()), description: '' }, /description/],
  ];
  for (const [body, re] of cases) {
    const r = await api(s.gateway, 'POST', '/v1/orders', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.text}`);
    assert.match(r.json.error.message, re);
  }
  const r = await fetch(s.gateway.url + '/v1/orders', { method: 'POST', headers: { authorization: 'Bearer test-merchant-token-0123456789abcdef' }, body: '{not json' });
  assert.equal(r.status, 400);
});

test('idempotent on out_trade_no; a different amount is 409; other differences are 409', async () => {
  const no = orderNo('I');
  const a = await api(s.gateway, 'POST', '/v1/orders', jsapi(no));
  const b = await api(s.gateway, 'POST', '/v1/orders', jsapi(no));
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.deepEqual(b.json, a.json);
  const c = await api(s.gateway, 'POST', '/v1/orders', jsapi(no, { amount: 101 }));
  assert.equal(c.status, 409);
  assert.equal(c.json.error.code, 'amount_mismatch');
  const d = await api(s.gateway, 'POST', '/v1/orders', jsapi(no, { description: 'other' }));
  assert.equal(d.status, 409);
  // Concurrent identical creates: one order, one set of parameters.
  const no2 = orderNo('J');
  const rs = await Promise.all(Array.from({ length: 10 }, () => api(s.gateway, 'POST', '/v1/orders', jsapi(no2))));
  for (const r of rs) assert.equal(r.status, 201, r.text);
  const pkgs = new Set(rs.map((r) => r.json.pay_params.package));
  assert.equal(pkgs.size, 1);
});

test('close: upstream then local, order.closed webhook; a paid order cannot be closed', async () => {
  for (const apiVersion of ['v2', 'v3']) {
    const no = orderNo('C');
    assert.equal((await api(s.gateway, 'POST', '/v1/orders', jsapi(no, { api: apiVersion }))).status, 201);
    const r = await api(s.gateway, 'POST', `/v1/orders/${no}/close`, {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'CLOSED');
    const up = await control(s.emu, 'GET', `/orders/wechat/${no}`);
    assert.equal(up.json.state, 'CLOSED');
    const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no);
    assert.equal(ev.type, 'order.closed');
  }
});

async function payViaEmulator(provider, no) {
  const paid = await control(s.emu, 'POST', `/orders/${provider}/${no}/pay`, {});
  assert.equal(paid.status, 200, JSON.stringify(paid.json));
  await waitNotify(s.emu, paid.json.delivery, 'acknowledged');
}

test('refunds: v3 (refund notify), v2 (refund notify, req_info), Alipay (synchronous) → REFUND + order.refunded', async () => {
  for (const apiVersion of ['v3', 'v2']) {
    const no = orderNo('F');
    assert.equal((await api(s.gateway, 'POST', '/v1/orders', jsapi(no, { api: apiVersion, amount: 300 }))).status, 201);
    await payViaEmulator('wechat', no);
    const over = await api(s.gateway, 'POST', `/v1/orders/${no}/refunds`, { out_refund_no: `${no}R0`.slice(0, 32), amount: 301 });
    assert.equal(over.status, 400);
    const refundNo = `R${no}`.slice(0, 32);
    const r = await api(s.gateway, 'POST', `/v1/orders/${no}/refunds`, { out_refund_no: refundNo, amount: 120, reason: 'r' });
    assert.equal(r.status, 201, r.text);
    const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no && e.type === 'order.refunded', 20000);
    assert.equal(ev.id, `evt_refund_${refundNo}`);
    assert.equal(ev.order.refunded_amount, 120);
    const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
    assert.equal(o.json.status, 'REFUND');
    assert.deepEqual(o.json.history.map((h) => h.to_status), ['SUCCESS', 'REFUND']);
  }
  const no = orderNo('G');
  const c = await api(s.gateway, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no, amount: 500, description: 'd' });
  const pay = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: c.json.pay_params.order_string, action: 'pay' });
  await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  const r = await api(s.gateway, 'POST', `/v1/orders/${no}/refunds`, { out_refund_no: `R${no}`.slice(0, 32), amount: 500 });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'SUCCESS');
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.json.status, 'REFUND');
  assert.equal(o.json.refunded_amount, 500);
  await s.receiver.waitFor((e) => e.order.out_trade_no === no && e.type === 'order.refunded');
});

test('OAuth snsapi_base: same-origin return_to only, state bound to the browser, openid in a signed HttpOnly cookie', async () => {
  for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
    const r = await fetch(`${s.gateway.url}/oauth/wechat/authorize?return_to=${encodeURIComponent(bad)}`, { redirect: 'manual' });
    assert.equal(r.status, 400, bad);
  }
  const a = await fetch(`${s.gateway.url}/oauth/wechat/authorize?return_to=${encodeURIComponent('/pay?item=1')}`, { redirect: 'manual' });
  assert.equal(a.status, 302);
  const loc = new URL(a.headers.get('location'));
  assert.equal(loc.searchParams.get('scope'), 'snsapi_base');
  assert.equal(loc.searchParams.get('redirect_uri'), `${s.gateway.url}/oauth/wechat/callback`);
  const stateCookie = a.headers.get('set-cookie');
  assert.match(stateCookie, /HttpOnly/);
  // The emulator plays WeChat: it redirects back with a code.
  const w = await fetch(loc.toString().replace(/#.*$/, ''), { redirect: 'manual' });
  assert.equal(w.status, 302);
  const back = w.headers.get('location');
  // Without the state cookie (another browser): refused.
  const forged = await fetch(back, { redirect: 'manual' });
  assert.equal(forged.status, 403);
  const cb = await fetch(back, { redirect: 'manual', headers: { cookie: stateCookie.split(';')[0] } });
  assert.equal(cb.status, 302, await cb.text());
  assert.equal(cb.headers.get('location'), '/pay?item=1');
  const cookies = cb.headers.getSetCookie();
  const openid = cookies.find((c) => c.startsWith('ep_openid='));
  assert.ok(openid, cookies.join(' | '));
  assert.match(openid, /HttpOnly/);
  assert.ok(openid.includes(s.emu.config.wechat.payer_openid));
  // A used code cannot be exchanged again.
  const again = await fetch(back, { redirect: 'manual', headers: { cookie: stateCookie.split(';')[0] } });
  assert.equal(again.status, 502);
});

test('mini program login returns the openid and never the session_key', async () => {
  const code = await control(s.emu, 'POST', '/wechat/jscode', { appid: s.emu.config.wechat.miniprogram_appid });
  const r = await api(s.gateway, 'POST', '/v1/miniprogram/login', { code: code.json.code }, { token: null });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json), ['openid']);
  assert.ok(!/session_key/.test(r.text));
  const bad = await api(s.gateway, 'POST', '/v1/miniprogram/login', { code: 'nope' }, { token: null });
  assert.equal(bad.status, 400);
  assert.ok(!/session_key/.test(bad.text));
});

test('the public status route reveals only the status', async () => {
  const no = orderNo('P');
  await api(s.gateway, 'POST', '/v1/orders', jsapi(no));
  const r = await api(s.gateway, 'GET', `/v1/public/orders/${no}/status`, null, { token: null, headers: { origin: 'https://shop.example' } });
  assert.deepEqual(r.json, { status: 'NOTPAY' });
  assert.equal(r.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal((await api(s.gateway, 'GET', '/v1/public/orders/NOSUCH/status', null, { token: null })).status, 404);
});
