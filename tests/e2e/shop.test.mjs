// End to end, in a real browser: the demo shop (www/) served by the gateway (wrangler dev /
// workerd) with DEMO_SHOP=1, against the upstream emulator (tests/sandbox, node:crypto — an
// independent implementation of the wire formats), driven with playwright-core and Debian's
// Chromium. The emulator's stand-in bridge.js plays WeixinJSBridge / AlipayJSBridge and shows its
// confirm sheet; every test checks what the page shows against what the emulator and the gateway
// recorded, and saves a screenshot under test-results/e2e/.
//
//   node --test tests/e2e/            (scripts/setup.sh chromium installs the browser)
//   EDGEPAY_DOC_SCREENSHOTS=1 node --test tests/e2e/   also refreshes docs/screenshots/*.png
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startEmulator } from '../sandbox/server.mjs';
import { ROOT, buildWorker, startReceiver, startGateway, api, control } from '../gateway/harness.mjs';

const SHOTS = join(ROOT, 'test-results', 'e2e');
const DOC_SHOTS = process.env.EDGEPAY_DOC_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : null;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'zh-CN' };

let emu, receiver, gw, browser, dir, products;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  buildWorker();
  dir = mkdtempSync(join(tmpdir(), 'edgepay-e2e-'));
  emu = await startEmulator({ port: 0, timeScale: 0.001, mode: 'cert' });
  receiver = await startReceiver();
  gw = await startGateway({
    emu, receiver, dir,
    // A short reconcile age, so that the slow-notify test ends through the upstream query quickly.
    env: { DEMO_SHOP: '1', DEMO_SANDBOX_URL: emu.url, WECHAT_API_VERSION: 'v3', RECONCILE_AFTER_SECONDS: '3' },
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  products = Object.fromEntries((await (await fetch(`${gw.url}/demo/products`)).json()).products.map((p) => [p.id, p]));
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await receiver?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ¥ with two decimals, computed independently of the page's formatter. */
const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;

async function newPage(t) {
  const context = await browser.newContext(PHONE); // fresh cookies: a new payer and a new cart
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => {
    await page.screenshot({ path: join(SHOTS, `${t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60)}.png`) }).catch(() => {});
    await context.close();
    assert.deepEqual(errors, [], 'no uncaught errors on the page');
  });
  return page;
}

async function openCheckout(page, productId) {
  await page.goto(`${gw.url}/`);
  await page.locator(`[data-product="${productId}"]`).click();
  await page.waitForURL(/\/checkout\?p=/);
  await page.locator('#amount').waitFor();
  // The stand-in bridge is loaded from the emulator (demo config) before a button does anything.
  await page.waitForFunction(() => !!window.WeixinJSBridge && !!window.AlipayJSBridge);
}

async function sheet(page) {
  const s = page.locator('#edgepay-sandbox-sheet');
  // The first pay click runs the OAuth round trip (gateway → emulator → callback) first: allow for a slow
  // wrangler dev on a loaded 2-core machine (one 15 s timeout was seen once in ~10 runs).
  await s.waitFor({ timeout: 30000 });
  return s;
}

/** The paid view shows real values only (no "null", "undefined", "NaN" from a missing field). */
async function assertCleanPaid(page) {
  assert.doesNotMatch(await page.locator('#paid').innerText(), /\b(null|undefined|NaN)\b/);
}

const emuOrder = async (provider, no) => (await control(emu, 'GET', `/orders/${provider}/${encodeURIComponent(no)}`)).json;
const gwOrder = async (no) => (await api(gw, 'GET', `/v1/orders/${encodeURIComponent(no)}`)).json;
const counters = async () => (await control(emu, 'GET', '/counters')).json;

test('the shop lists the products with server-side prices in ¥ with two decimals', async (t) => {
  const page = await newPage(t);
  await page.goto(`${gw.url}/`);
  const cards = page.locator('[data-product]');
  await cards.first().waitFor();
  assert.equal(await cards.count(), Object.keys(products).length);
  for (const p of Object.values(products)) {
    const text = await page.locator(`[data-product="${p.id}"]`).innerText();
    assert.ok(text.includes(p.name) && text.includes(yuan(p.amount)), `${p.id}: ${text}`);
  }
});

test('WeChat Pay (JSAPI, v3): OAuth, confirm sheet, paid state with the transaction id', async (t) => {
  const page = await newPage(t);
  const p = products.coffee;
  await openCheckout(page, p.id);
  assert.equal(await page.locator('#amount').innerText(), yuan(p.amount));
  assert.equal(await page.locator('#product-name').innerText(), p.name);
  if (DOC_SHOTS) {
    mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: join(DOC_SHOTS, 'checkout.png') });
  }
  const paidBefore = (await counters())['wechat.paid'] || 0;
  await page.locator('#pay-wechat').click();
  // No openid yet: the page goes through the gateway's OAuth (snsapi_base at the emulator) and back.
  const s = await sheet(page);
  assert.match(page.url(), /\/checkout\?p=coffee$/, 'back on the checkout after OAuth, pay= removed');
  const sheetText = await s.innerText();
  assert.ok(sheetText.includes(yuan(p.amount)), sheetText);
  const no = (await page.locator('#order-no').innerText()).trim();
  assert.ok(sheetText.includes(no), 'the sheet shows the order the page created');
  await page.locator('#edgepay-sandbox-pay').click();
  await page.locator('#paid-title').waitFor({ timeout: 30000 });

  const e = await emuOrder('wechat', no);
  assert.equal(e.state, 'SUCCESS');
  assert.equal(e.total_fee, p.amount, 'the emulator charged the server-side price');
  assert.equal(e.openid, emu.config.wechat.payer_openid, 'the openid came from OAuth');
  assert.equal(await page.locator('#transaction-id').innerText(), e.transaction_id);
  assert.equal(await page.locator('#paid-amount').innerText(), yuan(p.amount));
  await assertCleanPaid(page);
  const o = await gwOrder(no);
  assert.equal(o.status, 'SUCCESS');
  assert.equal(o.api, 'v3');
  assert.equal(o.transaction_id, e.transaction_id);
  assert.deepEqual(o.history.map((x) => x.to_status), ['SUCCESS'], 'one state change');
  assert.equal((await counters())['wechat.paid'] - paidBefore, 1, 'one charge');
  // The notify was verified and acknowledged; the merchant got a signed webhook (HMAC checked by the receiver).
  const [d] = (await control(emu, 'GET', `/notifies?out_trade_no=${no}&full=0`)).json;
  assert.ok(d.attempts.length >= 1 && d.attempts.every((a) => a.acknowledged), JSON.stringify(d.attempts));
  const ev = await receiver.waitFor((x) => x.type === 'order.paid' && x.order.out_trade_no === no);
  assert.equal(ev.order.amount, p.amount);
  if (DOC_SHOTS) await page.screenshot({ path: join(DOC_SHOTS, 'paid.png') });
});

test('Alipay (tradePay with the order string): confirm sheet, paid state with the trade number', async (t) => {
  const page = await newPage(t);
  const p = products.tea;
  await openCheckout(page, p.id);
  await page.locator('#pay-alipay').click();
  const s = await sheet(page);
  assert.ok((await s.innerText()).includes(yuan(p.amount)));
  const no = (await page.locator('#order-no').innerText()).trim();
  await page.locator('#edgepay-sandbox-pay').click();
  await page.locator('#paid-title').waitFor({ timeout: 30000 });
  const e = await emuOrder('alipay', no);
  assert.equal(e.state, 'TRADE_SUCCESS');
  assert.equal(e.total_amount, (p.amount / 100).toFixed(2));
  assert.equal(await page.locator('#transaction-id').innerText(), e.trade_no);
  await assertCleanPaid(page);
  const o = await gwOrder(no);
  assert.equal(o.status, 'SUCCESS');
  assert.equal(o.provider, 'alipay');
  assert.equal(o.amount, p.amount);
  assert.equal(o.transaction_id, e.trade_no);
  await receiver.waitFor((x) => x.type === 'order.paid' && x.order.out_trade_no === no);
});

for (const provider of ['wechat', 'alipay']) {
  test(`${provider}: Cancel shows a clear message; the retry re-uses the order — one order, one charge`, async (t) => {
    const page = await newPage(t);
    const p = products.mooncake;
    const ordersBefore = (await control(emu, 'GET', `/orders?provider=${provider}`)).json.length;
    const paidBefore = (await counters())[`${provider}.paid`] || 0;
    await openCheckout(page, p.id);
    await page.locator(`#pay-${provider}`).click();
    await sheet(page);
    const first = (await page.locator('#order-no').innerText()).trim();
    await page.locator('#edgepay-sandbox-cancel').click();
    const msg = page.locator('#status [data-state="warn"]');
    await msg.waitFor();
    assert.match(await msg.innerText(), /Payment cancelled\..*Nothing was charged/s);
    await page.screenshot({ path: join(SHOTS, `${provider}-cancelled.png`) });
    assert.equal(await page.locator(`#pay-${provider}`).isEnabled(), true, 'the payer can retry');
    // Retry: the same order number and the same pay parameters.
    await page.locator(`#pay-${provider}`).click();
    await sheet(page);
    assert.equal((await page.locator('#order-no').innerText()).trim(), first, 'same out_trade_no');
    await page.locator('#edgepay-sandbox-pay').click();
    await page.locator('#paid-title').waitFor({ timeout: 30000 });
    assert.equal((await control(emu, 'GET', `/orders?provider=${provider}`)).json.length - ordersBefore, 1, 'one order at the emulator');
    assert.equal((await counters())[`${provider}.paid`] - paidBefore, 1, 'one charge');
    const e = await emuOrder(provider, first);
    assert.deepEqual(e.history.map((x) => x.event).filter((x) => x === 'payer-cancelled' || x === 'paid'), ['payer-cancelled', 'paid']);
    const o = await gwOrder(first);
    assert.equal(o.status, 'SUCCESS');
    assert.equal(o.amount, p.amount);
    assert.deepEqual(o.history.map((x) => x.to_status), ['SUCCESS']);
  });
}

test('a failure (the app refuses a tampered paySign) shows a clear message; the retry pays the same order', async (t) => {
  const page = await newPage(t);
  const p = products.tea;
  let tampered = 0;
  // Only the first checkout answer is tampered with, as a broken proxy might.
  await page.route(`${gw.url}/demo/checkout`, async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    if (body.pay_params && tampered++ === 0) body.pay_params.paySign = body.pay_params.paySign.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    await route.fulfill({ response: res, json: body });
  });
  await openCheckout(page, p.id);
  const paidBefore = (await counters())['wechat.paid'] || 0;
  await page.locator('#pay-wechat').click();
  const err = page.locator('#status [data-state="error"]');
  await err.waitFor({ timeout: 15000 });
  assert.match(await err.innerText(), /did not go through.*try again/s);
  assert.equal(await page.locator('#edgepay-sandbox-sheet').count(), 0, 'the app refused before any sheet');
  await page.screenshot({ path: join(SHOTS, 'wechat-failed.png') });
  const first = (await page.locator('#order-no').innerText()).trim();
  await page.locator('#pay-wechat').click();
  await sheet(page);
  assert.equal((await page.locator('#order-no').innerText()).trim(), first, 'same out_trade_no');
  await page.locator('#edgepay-sandbox-pay').click();
  await page.locator('#paid-title').waitFor({ timeout: 30000 });
  assert.equal((await counters())['wechat.paid'] - paidBefore, 1, 'one charge');
  assert.equal((await gwOrder(first)).status, 'SUCCESS');
});

test('a slow notify: the page still ends paid through reconciliation (upstream order query)', async (t) => {
  const page = await newPage(t);
  const p = products.tea;
  // The payer pays, but the emulator holds the notify back for two minutes.
  await page.route(`${emu.url}/_sandbox/wechat/client-pay`, async (route) => {
    const body = JSON.parse(route.request().postData() || '{}');
    if (body.action === 'pay') body.delay_ms = 120000;
    await route.continue({ postData: JSON.stringify(body) });
  });
  await openCheckout(page, p.id);
  await page.locator('#pay-wechat').click();
  await sheet(page);
  const no = (await page.locator('#order-no').innerText()).trim();
  await page.locator('#edgepay-sandbox-pay').click();
  await page.locator('#paid-title').waitFor({ timeout: 30000 });
  const [d] = (await control(emu, 'GET', `/notifies?out_trade_no=${no}&full=0`)).json;
  assert.equal(d.status, 'pending');
  assert.equal(d.attempts.length, 0, 'no notify reached the gateway');
  const o = await gwOrder(no);
  assert.equal(o.status, 'SUCCESS');
  assert.deepEqual(o.history.map((x) => [x.to_status, x.source]), [['SUCCESS', 'query']]);
  assert.equal(o.transaction_id, (await emuOrder('wechat', no)).transaction_id);
  assert.match(await page.locator('#confirmed-by').innerText(), /order query/);
  await receiver.waitFor((x) => x.type === 'order.paid' && x.order.out_trade_no === no);
});

test('paid, yet the app said "cancel": the retry shows the paid order and never charges again', async (t) => {
  const page = await newPage(t);
  const p = products.coffee;
  await openCheckout(page, p.id);
  const paidBefore = (await counters())['wechat.paid'] || 0;
  await page.locator('#pay-wechat').click();
  await sheet(page);
  const no = (await page.locator('#order-no').innerText()).trim();
  // The payment goes through (its notify is held back), but the page hears "cancel".
  const r = await control(emu, 'POST', `/orders/wechat/${no}/pay`, { delay_ms: 120000 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await page.locator('#edgepay-sandbox-cancel').click();
  await page.locator('#status [data-state="warn"]').waitFor();
  // Past the reconcile age (3 s), the retry finds the order paid through the upstream query.
  await new Promise((res) => setTimeout(res, 3500));
  await page.locator('#pay-wechat').click();
  await page.locator('#paid-title').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#paid-note').innerText(), /already paid: you were not charged again/);
  assert.equal(await page.locator('#edgepay-sandbox-sheet').count(), 0, 'no second payment sheet');
  assert.equal((await counters())['wechat.paid'] - paidBefore, 1, 'one charge');
  const o = await gwOrder(no);
  assert.deepEqual(o.history.map((x) => [x.to_status, x.source]), [['SUCCESS', 'query']]);
  assert.equal(await page.locator('#transaction-id').innerText(), (await emuOrder('wechat', no)).transaction_id);
});

test('the browser cannot choose the amount; the panel shows orders, notifies and webhooks', async (t) => {
  const r = await fetch(`${gw.url}/demo/checkout`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product_id: 'tea', provider: 'alipay', amount: 1, price: 1 }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.amount, products.tea.amount);
  assert.equal((await gwOrder(body.out_trade_no)).amount, products.tea.amount);
  assert.equal((await fetch(`${gw.url}/demo/checkout`, { method: 'POST', body: '{"product_id":"gold","provider":"alipay"}' })).status, 400);
  const wx = await fetch(`${gw.url}/demo/checkout`, { method: 'POST', body: '{"product_id":"tea","provider":"wechat"}' });
  assert.equal(wx.status, 401, 'WeChat JSAPI without the OAuth cookie');
  assert.match((await wx.json()).error.authorize_url, /^\/oauth\/wechat\/authorize\?return_to=/);

  const page = await newPage(t);
  await page.goto(`${gw.url}/panel`);
  await page.locator('[data-order]').first().waitFor();
  const panel = await (await fetch(`${gw.url}/demo/panel`)).json();
  const paid = panel.orders.filter((o) => o.status === 'SUCCESS');
  assert.ok(paid.length >= 6, 'the paid orders of the tests above');
  assert.ok(panel.notifications.length >= 4 && panel.notifications.every((n) => n.verified));
  assert.ok(panel.events.some((e) => e.type === 'order.paid' && e.delivered_at));
  assert.ok(await page.locator(`[data-order="${paid[0].out_trade_no}"]`).isVisible());
  await page.locator('#sandbox-card:not([hidden])').waitFor();
});

test('without DEMO_SHOP=1 the /demo routes do not exist', async () => {
  const plainDir = mkdtempSync(join(tmpdir(), 'edgepay-e2e-plain-'));
  const plain = await startGateway({ emu, receiver, dir: plainDir });
  try {
    assert.equal((await fetch(`${plain.url}/healthz`)).status, 200);
    for (const path of ['/demo/products', '/demo/panel', '/demo/config']) assert.equal((await fetch(plain.url + path)).status, 404, path);
    assert.equal((await fetch(`${plain.url}/demo/checkout`, { method: 'POST', body: '{"product_id":"tea","provider":"alipay"}' })).status, 404);
  } finally {
    await plain.stop();
    rmSync(plainDir, { recursive: true, force: true });
  }
});
