// Hostile input at the gateway (HOSTILE-gateway.md): each case must get a clear error and change
// no state (order status, state history and webhook events unchanged; nothing sent to the
// merchant). Notifies are built and signed here with node:crypto (tests/gateway/notifies.mjs), so
// a refusal is the gateway's check and not a bad signature, unless the case is about signatures.
// Cases already covered elsewhere: forged/wrong-amount/SIGNTEST probes from the emulator and stale
// v3 replays (notify.test.mjs), 200 concurrent duplicates (notify.test.mjs), same-origin OAuth
// happy path (api.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, api, control, orderNo, sleep } from './harness.mjs';
import { v2Notify, v2Fields, v3Transaction, v3Body, v3Headers, alipayParams, alipayForm } from './notifies.mjs';
import { buildXml, wxV2Sign } from '../sandbox/lib/util.mjs';

let s;
before(async () => { s = await startStack({ mode: 'cert', env: { DEMO_SHOP: '1' } }); });
after(async () => { await s?.close(); });

async function newOrder(provider, apiVersion = 'v2', amount = 500) {
  const no = orderNo(provider === 'alipay' ? 'HA' : `H${apiVersion}`);
  const body = provider === 'alipay'
    ? { provider, channel: 'app', out_trade_no: no, amount, description: 'hostile' }
    : { provider, channel: 'jsapi', api: apiVersion, out_trade_no: no, amount, description: 'hostile', openid: s.emu.config.wechat.payer_openid };
  const r = await api(s.gateway, 'POST', '/v1/orders', body);
  assert.equal(r.status, 201, r.text);
  return { no, amount };
}

/** The order is still unpaid: status, no state change, no webhook event row, nothing delivered. */
async function assertUnchanged(no, status = 'NOTPAY') {
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.status, 200, o.text);
  assert.equal(o.json.status, status, `${no} status`);
  assert.deepEqual(o.json.history, [], `${no} history`);
  assert.deepEqual(o.json.events, [], `${no} events`);
  assert.equal(o.json.transaction_id ?? null, null);
  assert.equal(s.receiver.events.filter((e) => e.order?.out_trade_no === no).length, 0, `${no} webhooks`);
  return o.json;
}

const post = async (path, headers, body) => {
  const r = await fetch(s.gateway.url + path, { method: 'POST', headers, body });
  return { status: r.status, text: await r.text() };
};
const sendV2 = (body) => post('/notify/wechat', { 'content-type': 'text/xml' }, body);
const sendV3 = (body, opts) => post('/notify/wechat/v3', v3Headers(s.emu, body, opts), body);
const sendAlipay = (body) => post('/notify/alipay', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);

/** v2 refusal: HTTP 200 with return_code FAIL and the reason code. */
function assertV2Fail(r, code) {
  assert.equal(r.status, 200);
  assert.match(r.text, /<return_code><!\[CDATA\[FAIL\]\]><\/return_code>/, r.text);
  if (code) assert.ok(r.text.includes(code), `expected ${code} in ${r.text}`);
}
/** v3 refusal: 4xx with WeChat's {"code":"FAIL","message":<reason code>}. */
function assertV3Fail(r, status, code) {
  assert.equal(r.status, status, r.text);
  const j = JSON.parse(r.text);
  assert.equal(j.code, 'FAIL', r.text);
  assert.equal(j.message, code, r.text);
}

test('OAuth return_to: absolute, scheme-relative, backslash, scheme-only and encoded variants are refused (400, no cookie, no redirect)', async () => {
  // Raw query strings, so each encoding reaches the gateway as written.
  const bad = [
    'https%3A%2F%2Fevil.com%2F', 'https://evil.com', '//evil.com', '%2F%2Fevil.com', '///evil.com', '/\\evil.com',
    '%2F%5Cevil.com', '%5C%5Cevil.com', 'https:evil.com', 'https%3Aevil.com', 'javascript:alert(1)', 'JaVaScRiPt%3Aalert(1)',
    '%252F%252Fevil.com', '/%09/evil.com', '/%0D%0ALocation:%20https://evil.com', '%20//evil.com', 'evil.com', '',
    `/${'a'.repeat(600)}`,
  ];
  for (const q of bad) {
    const r = await fetch(`${s.gateway.url}/oauth/wechat/authorize?return_to=${q}`, { redirect: 'manual' });
    const text = await r.text();
    assert.equal(r.status, 400, `return_to=${q} → ${r.status} ${r.headers.get('location')}`);
    assert.equal(JSON.parse(text).error.code, 'invalid_field', text);
    assert.match(JSON.parse(text).error.message, /return_to/);
    assert.equal(r.headers.get('location'), null, q);
    assert.equal(r.headers.get('set-cookie'), null, q);
  }
  // Percent-encoded slashes inside a path stay a same-origin path: the redirect goes to WeChat, and
  // the value kept for the callback is exactly that path (browsers do not decode %2F in a Location).
  const ok = await fetch(`${s.gateway.url}/oauth/wechat/authorize?return_to=%2F%252F%252Fevil.com`, { redirect: 'manual' });
  assert.equal(ok.status, 302);
  assert.ok(ok.headers.get('location').startsWith(`${s.emu.url}/connect/oauth2/authorize?`), ok.headers.get('location'));
});

test('JS-SDK config for a foreign or lookalike origin is refused (403) and no ticket is fetched', async () => {
  const before = (await control(s.emu, 'GET', '/counters')).json;
  const bad = [
    'https://evil.example/pay', 'https://shop.example.evil.com/pay', 'https://shop.example@evil.com/pay',
    'http://shop.example/pay', 'https://shop.example:8443/pay', 'https://evil.com/?u=https://shop.example/',
    'https://shop.example.', 'https://SHOP.EXAMPLE.evil.com/',
  ];
  for (const url of bad) {
    const r = await api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null, headers: { origin: 'https://evil.example' } });
    assert.equal(r.status, 403, `${url} → ${r.status} ${r.text}`);
    assert.equal(r.json.error.code, 'forbidden', r.text);
    assert.match(r.json.error.message, /not an allowed origin/);
    assert.equal(r.json.signature, undefined);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  }
  for (const url of ['//shop.example/pay', 'javascript:alert(1)', '/pay', 'not a url']) {
    const r = await api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent(url)}`, null, { token: null });
    assert.ok(r.status === 400 || r.status === 403, `${url} → ${r.status} ${r.text}`);
    assert.equal(r.json.signature, undefined);
  }
  assert.deepEqual((await control(s.emu, 'GET', '/counters')).json, before, 'no upstream call (token/ticket) was made');
  // The allowed origin still works (so the refusals above are about the origin).
  const good = await api(s.gateway, 'GET', `/v1/jssdk/config?url=${encodeURIComponent('https://shop.example/pay?x=1#frag')}`, null, { token: null });
  assert.equal(good.status, 200, good.text);
  assert.match(good.json.signature, /^[0-9a-f]{40}$/);
});

test('amount tampering: correctly signed notifies with another amount are refused (v2, v3, Alipay)', async () => {
  const v2 = await newOrder('wechat', 'v2', 500);
  for (const total of [1, 499, 501, 50000]) {
    assertV2Fail(await sendV2(v2Notify(s.emu, v2, { total_fee: total, cash_fee: total })), 'order_mismatch');
  }
  const v3 = await newOrder('wechat', 'v3', 500);
  for (const total of [1, 499, 501]) {
    const t = v3Transaction(s.emu, v3);
    t.amount = { ...t.amount, total, payer_total: total };
    assertV3Fail(await sendV3(v3Body(s.emu, t)), 400, 'order_mismatch');
  }
  const t = v3Transaction(s.emu, v3);
  delete t.amount.total;
  const r = await sendV3(v3Body(s.emu, t));
  assert.equal(r.status, 400, r.text);
  const ali = await newOrder('alipay', 'v2', 500);
  // Other amounts, and spellings the core never parses leniently. ("5" is the same amount as
  // "5.00" and is accepted by the core's check: not tampering.)
  for (const total of ['0.01', '4.99', '5.01', '50.00', '5.001', '05.00', '+5.00', '5.00 ', '5e0', '']) {
    const p = alipayParams(s.emu, ali, { total_amount: total });
    const x = await sendAlipay(alipayForm(s.emu, Object.entries(p)));
    assert.equal(x.text, 'fail', `total_amount=${total}`);
  }
  await assertUnchanged(v2.no);
  await assertUnchanged(v3.no);
  await assertUnchanged(ali.no);
});

test("another merchant's or app's notify for our out_trade_no is refused (mch_id/appid, mchid/appid, app_id/seller_id)", async () => {
  const v2 = await newOrder('wechat', 'v2');
  assertV2Fail(await sendV2(v2Notify(s.emu, v2, { mch_id: '1900000001' })), 'order_mismatch');
  assertV2Fail(await sendV2(v2Notify(s.emu, v2, { appid: 'wx0000000000000001' })), 'order_mismatch');
  const v3 = await newOrder('wechat', 'v3');
  assertV3Fail(await sendV3(v3Body(s.emu, v3Transaction(s.emu, v3, { mchid: '1900000001' }))), 400, 'order_mismatch');
  assertV3Fail(await sendV3(v3Body(s.emu, v3Transaction(s.emu, v3, { appid: 'wx0000000000000001' }))), 400, 'order_mismatch');
  const ali = await newOrder('alipay');
  for (const over of [{ app_id: '2021000000000001' }, { seller_id: '2088000000000001' }]) {
    assert.equal((await sendAlipay(alipayForm(s.emu, Object.entries(alipayParams(s.emu, ali, over))))).text, 'fail', JSON.stringify(over));
  }
  // A WeChat notify naming an Alipay order (same gateway, other provider) is refused too.
  assertV2Fail(await sendV2(v2Notify(s.emu, ali)), 'order_mismatch');
  await assertUnchanged(v2.no);
  await assertUnchanged(v3.no);
  await assertUnchanged(ali.no);
});

test('v3 timestamps: stale, future, milliseconds and non-numeric are refused before anything else (401)', async () => {
  const o = await newOrder('wechat', 'v3');
  const body = v3Body(s.emu, v3Transaction(s.emu, o));
  const now = Math.floor(Date.now() / 1000);
  for (const ts of [now - 301, now - 86400, now + 301, now + 3600, now * 1000, 0]) {
    assertV3Fail(await sendV3(body, { timestamp: ts }), 401, 'timestamp_out_of_window');
  }
  for (const ts of ['abc', '-1', '1e9', ' 1']) {
    const r = await sendV3(body, { timestamp: ts });
    assert.equal(r.status >= 400 && r.status < 500, true, `${ts}: ${r.status} ${r.text}`);
  }
  await assertUnchanged(o.no);
  // The same body inside the window is accepted (so the refusals were about time).
  assert.equal((await sendV3(body)).status, 204);
});

test('SIGNTEST probes are refused (401 signature_probe), also with an unknown serial, and trigger no certificate fetch', async () => {
  const o = await newOrder('wechat', 'v3');
  const body = v3Body(s.emu, v3Transaction(s.emu, o));
  const valid = v3Headers(s.emu, body)['wechatpay-signature'];
  const before = (await control(s.emu, 'GET', '/counters')).json;
  for (const sig of ['WECHATPAY/SIGNTEST/', `WECHATPAY/SIGNTEST/${valid}`]) {
    assertV3Fail(await sendV3(body, { signature: sig }), 401, 'signature_probe');
    const h = { ...v3Headers(s.emu, body, { signature: sig }), 'wechatpay-serial': 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' };
    assertV3Fail(await post('/notify/wechat/v3', h, body), 401, 'signature_probe');
  }
  assert.deepEqual((await control(s.emu, 'GET', '/counters')).json, before, 'no /v3/certificates fetch');
  await assertUnchanged(o.no);
});

test('a 10 MB notify body is refused quickly on every notify route and changes nothing', async () => {
  const v2 = await newOrder('wechat', 'v2');
  const v3 = await newOrder('wechat', 'v3');
  const ali = await newOrder('alipay');
  const big = 'A'.repeat(10 * 1024 * 1024);
  const cases = [
    ['/notify/wechat', { 'content-type': 'text/xml' }, v2Notify(s.emu, v2, { attach: big }), (r) => assertV2Fail(r)],
    ['/notify/wechat/refund', { 'content-type': 'text/xml' }, v2Notify(s.emu, v2, { attach: big }), (r) => assertV2Fail(r)],
    ['/notify/alipay', {}, alipayForm(s.emu, Object.entries(alipayParams(s.emu, ali, { body: big }))), (r) => assert.equal(r.text, 'fail')],
  ];
  const v3body = v3Body(s.emu, { ...v3Transaction(s.emu, v3), attach: big });
  cases.push(['/notify/wechat/v3', null, v3body, (r) => assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`)]);
  for (const [path, headers, body, check] of cases) {
    const t0 = Date.now();
    const r = await post(path, headers ?? v3Headers(s.emu, body), body);
    const took = Date.now() - t0;
    check(r);
    assert.ok(r.text.length < 1000, 'the reply does not echo the body');
    assert.ok(took < 5000, `${path}: ${took} ms`);
  }
  await assertUnchanged(v2.no);
  await assertUnchanged(v3.no);
  await assertUnchanged(ali.no);
});

test('invalid UTF-8 in a notify body is refused (v2 XML, v3 JSON signed over the raw bytes, Alipay form)', async () => {
  const v2 = await newOrder('wechat', 'v2');
  const xml = Buffer.from(v2Notify(s.emu, v2, { attach: 'XX' }), 'utf8');
  const i = xml.indexOf('XX');
  xml[i] = 0xff; xml[i + 1] = 0xfe;
  assertV2Fail(await sendV2(xml), 'malformed');
  const v3 = await newOrder('wechat', 'v3');
  // A valid signature over bytes that are not UTF-8: the signature verifies, the parse must refuse.
  const raw = Buffer.concat([Buffer.from(v3Body(s.emu, v3Transaction(s.emu, v3)).slice(0, -1) + ',"x":"'), Buffer.from([0xff, 0xc0, 0x80]), Buffer.from('"}')]);
  // (Finding: this was acknowledged and applied — serde_json skips an unknown member without
  // checking its UTF-8; the Worker now refuses a non-UTF-8 v3 body.)
  assertV3Fail(await post('/notify/wechat/v3', v3Headers(s.emu, raw), raw), 400, 'malformed');
  const ali = await newOrder('alipay');
  const form = alipayForm(s.emu, Object.entries(alipayParams(s.emu, ali, { body: 'X' }))).replace('body=X', 'body=%FF%FE');
  assert.equal((await sendAlipay(form)).text, 'fail');
  const rawForm = Buffer.concat([Buffer.from(alipayForm(s.emu, Object.entries(alipayParams(s.emu, ali))) + '&body='), Buffer.from([0xe4, 0xb8])]);
  assert.equal((await sendAlipay(rawForm)).text, 'fail');
  await assertUnchanged(v2.no);
  await assertUnchanged(v3.no);
  await assertUnchanged(ali.no);
});

test('duplicate keys in an Alipay notify form are refused, even when the whole form is signed', async () => {
  const ali = await newOrder('alipay', 'v2', 500);
  const other = await newOrder('alipay', 'v2', 1);
  const base = Object.entries(alipayParams(s.emu, ali));
  const forms = [
    alipayForm(s.emu, [...base, ['total_amount', '0.01']]),
    alipayForm(s.emu, [...base, ['out_trade_no', other.no]]),
    alipayForm(s.emu, [...base, ['trade_status', 'TRADE_SUCCESS']]),
    alipayForm(s.emu, base) + '&sign=AAAA',
    alipayForm(s.emu, base).replace('total_amount=', '%74otal_amount=5.00&total_amount='),
  ];
  for (const f of forms) assert.equal((await sendAlipay(f)).text, 'fail', f.slice(0, 120));
  // Two <total_fee> in a signed v2 notify too.
  const v2 = await newOrder('wechat', 'v2');
  const f = v2Fields(s.emu, v2);
  f.sign = wxV2Sign(f, s.emu.config.wechat.api_key, 'HMAC-SHA256');
  const doubled = buildXml(f).replace('</xml>', '<total_fee>1</total_fee></xml>');
  assertV2Fail(await sendV2(doubled), 'malformed');
  await assertUnchanged(ali.no);
  await assertUnchanged(other.no);
  await assertUnchanged(v2.no);
});

test('demo checkout: an amount sent by the browser is ignored; the catalogue price is charged', async () => {
  const r = await fetch(`${s.gateway.url}/demo/checkout`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product_id: 'tea', provider: 'alipay', amount: 1, total_amount: '0.01', price: 1, total_fee: 1 }),
  });
  const j = await r.json();
  assert.equal(r.status, 200, JSON.stringify(j));
  const o = await api(s.gateway, 'GET', `/v1/orders/${j.out_trade_no}`);
  assert.equal(o.json.amount, 1250);
  assert.match(decodeURIComponent(j.pay_params.order_string), /"total_amount":"12\.50"/);
  // An unknown product is refused with the field named, and creates nothing.
  const bad = await fetch(`${s.gateway.url}/demo/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ product_id: 'free', provider: 'alipay', amount: 1 }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /product_id/);
  await sleep(10);
});
