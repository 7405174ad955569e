// edgepay/bridge in headless Chromium: a tiny static server serves a test page that imports
// /bridge.js as a module; stub WeixinJSBridge / wx / AlipayJSBridge objects stand in for the apps.
// Run: node --test pkg/test/   (needs /usr/bin/chromium: scripts/setup.sh chromium)
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// A hang (a promise that never settles) must fail the test, not stall the run.
const test = (name, fn) => nodeTest(name, { timeout: 15000 }, fn);

const BRIDGE = fileURLToPath(new URL('../bridge.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const PAGE = `<!doctype html>
<meta charset="utf-8"><title>edgepay/bridge test page</title>
<body style="font:14px system-ui;margin:24px"><h1>edgepay/bridge in Chromium</h1><pre id="log"></pre>
<script>
  window.calls = [];
  const data = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'));
  // WeixinJSBridge stub: defined after \`delay\` ms (or at once), then WeixinJSBridgeReady fires.
  window.installWeixin = (res, delay) => {
    const define = () => {
      window.WeixinJSBridge = {
        invoke(name, params, cb) {
          calls.push({ api: 'WeixinJSBridge.invoke', name, params: data(params), at: performance.now() });
          setTimeout(() => cb(res), 10);
        },
      };
      window.readyAt = performance.now();
      document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    };
    delay == null ? define() : setTimeout(define, delay);
  };
  // wx.chooseWXPay / wx.requestPayment stub: calls the named callback, then complete.
  window.installWx = (api, callback, res) => {
    window.wx = window.wx || {};
    wx[api] = (o) => {
      calls.push({ api: 'wx.' + api, params: data(o), callbacks: Object.keys(o).filter((k) => typeof o[k] === 'function') });
      setTimeout(() => { if (callback) o[callback](res); o.complete && o.complete(res); }, 10);
    };
  };
  window.installAlipay = (res, delay) => {
    const define = () => {
      window.AlipayJSBridge = {
        call(name, params, cb) {
          calls.push({ api: 'AlipayJSBridge.call', name, params: data(params), at: performance.now() });
          setTimeout(() => cb(res), 10);
        },
      };
      window.readyAt = performance.now();
      document.dispatchEvent(new Event('AlipayJSBridgeReady'));
    };
    delay == null ? define() : setTimeout(define, delay);
  };
  window.run = async (fn) => {
    const t0 = performance.now();
    try {
      const value = await fn();
      return { value, ms: performance.now() - t0 };
    } catch (e) {
      const { code, field, errMsg, resultCode, memo, status, last } = e;
      return { error: { isError: e instanceof Error, message: e.message, code, field, errMsg, resultCode, memo, status, last }, ms: performance.now() - t0 };
    }
  };
  window.log = (s) => { document.getElementById('log').textContent += s + '\\n'; };
</script>
<script type="module">
  import * as bridge from '/bridge.js';
  window.bridge = bridge;
</script>`;

// waitForPaid scenarios: /status/<scenario>/<id>; every hit is counted per path.
const hits = new Map();
const SCENARIOS = {
  seq: (n) => [200, { status: n < 2 ? 'NOTPAY' : 'SUCCESS', out_trade_no: 'T1', amount: 1 }],
  closed: (n) => [200, { status: n < 1 ? 'NOTPAY' : 'CLOSED' }],
  never: () => [200, { status: 'NOTPAY' }],
  flaky: (n) => (n === 0 ? [500, 'upstream exploded'] : n === 1 ? [502, '<html>bad gateway</html>'] : [200, { status: 'SUCCESS' }]),
  missing: () => [404, { error: { code: 'not_found' } }],
};

let server;
let base;
let context;
let userDataDir;

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
    if (url.pathname === '/bridge.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(readFileSync(BRIDGE));
    }
    const m = url.pathname.match(/^\/status\/(\w+)\/[\w-]+$/);
    if (m && SCENARIOS[m[1]] && req.method === 'GET') {
      const n = hits.get(url.pathname) || 0;
      hits.set(url.pathname, n + 1);
      const [code, body] = SCENARIOS[m[1]](n);
      const json = typeof body !== 'string';
      res.writeHead(code, { 'content-type': json ? 'application/json' : 'text/html' });
      return res.end(json ? JSON.stringify(body) : body);
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    res.writeHead(404).end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;

  assert.ok(statSync(CHROMIUM, { throwIfNoEntry: false }), `${CHROMIUM} is missing: run scripts/setup.sh chromium`);
  userDataDir = mkdtempSync(join(tmpdir(), 'edgepay-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

async function openPage() {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.bridge);
  page.errors = errors;
  return page;
}

async function inPage(fn) {
  const page = await openPage();
  try {
    return await fn(page);
  } finally {
    assert.deepEqual(page.errors.map(String), [], 'no uncaught errors in the page');
    await page.close();
  }
}

const JSAPI = Object.freeze({
  appId: 'wx2421b1c4370ec43b',
  timeStamp: '1700000000',
  nonceStr: 'e61463f8efa94090b1f366cccfbbb444',
  package: 'prepay_id=wx20161110163838f231619da20804912345',
  signType: 'MD5',
  paySign: '7921E432F65EB8ED0CE9755F0E86D72F',
});

test('requestPayment waits for a late WeixinJSBridgeReady, then invokes getBrandWCPayRequest with exactly the six fields', () =>
  inPage(async (page) => {
    const r = await page.evaluate(
      async (p) => {
        installWeixin({ err_msg: 'get_brand_wcpay_request:ok' }, 300);
        const before = typeof window.WeixinJSBridge;
        const out = await run(() => bridge.requestPayment({ ...p, note: 'not for the bridge' }));
        return { ...out, before, calls, readyAt };
      },
      { ...JSAPI },
    );
    assert.equal(r.before, 'undefined', 'the bridge was not defined when requestPayment was called');
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.value, 'ok');
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0].name, 'getBrandWCPayRequest');
    assert.deepEqual(r.calls[0].params, JSAPI, 'exactly the six JSAPI fields, unchanged, nothing else');
    assert.ok(r.calls[0].at >= r.readyAt, 'invoked only after the ready event');
    assert.ok(r.ms >= 290, `waited for the bridge (${r.ms} ms)`);
  }));

test('requestPayment resolves "cancel" on get_brand_wcpay_request:cancel (bridge already present)', () =>
  inPage(async (page) => {
    const r = await page.evaluate(async (p) => {
      installWeixin({ err_msg: 'get_brand_wcpay_request:cancel' });
      return { ...(await run(() => bridge.requestPayment(p))), calls };
    }, JSAPI);
    assert.equal(r.value, 'cancel');
    assert.equal(r.calls.length, 1);
  }));

test('requestPayment rejects with the err_msg on get_brand_wcpay_request:fail', () =>
  inPage(async (page) => {
    const r = await page.evaluate(async (p) => {
      installWeixin({ err_msg: 'get_brand_wcpay_request:fail', err_desc: '签名错误' });
      return run(() => bridge.requestPayment(p));
    }, JSAPI);
    assert.equal(r.value, undefined);
    assert.equal(r.error.isError, true);
    assert.equal(r.error.code, 'payment_failed');
    assert.equal(r.error.errMsg, 'get_brand_wcpay_request:fail');
    assert.match(r.error.message, /^get_brand_wcpay_request:fail/);
    assert.match(r.error.message, /签名错误/);
  }));

test('requestPayment rejects with bridge_timeout when WeixinJSBridgeReady never fires', () =>
  inPage(async (page) => {
    const r = await page.evaluate((p) => run(() => bridge.requestPayment(p, { timeout: 250 })), JSAPI);
    assert.equal(r.error.code, 'bridge_timeout');
    assert.match(r.error.message, /WeixinJSBridge.*250 ms/);
    assert.ok(r.ms >= 240 && r.ms < 3000, `timed out after ${r.ms} ms`);
  }));

test('invalid JSAPI parameters are rejected before the bridge is invoked', () =>
  inPage(async (page) => {
    const cases = [
      [{ ...JSAPI, paySign: undefined }, 'paySign', /required/],
      [{ ...JSAPI, appId: '' }, 'appId', /required/],
      [{ ...JSAPI, timeStamp: '1700000000000' }, 'timeStamp', /milliseconds/],
      [{ ...JSAPI, timeStamp: 1700000000 }, 'timeStamp', /must be a string/],
      [{ ...JSAPI, timeStamp: '17000000x0' }, 'timeStamp', /seconds/],
      [{ ...JSAPI, package: 'wx20161110163838f231619da20804912345' }, 'package', /prepay_id=/],
      [{ ...JSAPI, package: 'prepay_id=' }, 'package', /prepay_id=/],
      [{ ...JSAPI, signType: 'SHA1' }, 'signType', /MD5, HMAC-SHA256, RSA/],
      [{ ...JSAPI, nonceStr: 'x'.repeat(33) }, 'nonceStr', /32/],
      [{ ...JSAPI, nonceStr: 42 }, 'nonceStr', /string/],
    ];
    const results = await page.evaluate(async (cs) => {
      installWeixin({ err_msg: 'get_brand_wcpay_request:ok' });
      const out = [];
      for (const [p] of cs) out.push(await run(() => bridge.requestPayment(p)));
      return { out, calls: calls.length };
    }, cases.map(([p]) => [p]));
    results.out.forEach((r, i) => {
      const [, field, re] = cases[i];
      assert.equal(r.error?.code, 'invalid_param', `case ${i}: ${JSON.stringify(r)}`);
      assert.equal(r.error.field, field, `case ${i}`);
      assert.match(r.error.message, re, `case ${i}`);
    });
    assert.equal(results.calls, 0, 'the bridge was never invoked');
  }));

test('parameters carrying key material are refused, at any depth, without invoking the bridge', () =>
  inPage(async (page) => {
    const cases = [
      [{ ...JSAPI, key: '192006250b4c09247ec02edce69f6a2d' }, 'key'],
      [{ ...JSAPI, extra: { merchant: { apiV3Key: 'x' } } }, 'extra.merchant.apiV3Key'],
      [{ ...JSAPI, APP_SECRET: 'x' }, 'APP_SECRET'],
      [{ ...JSAPI, config: [{ private_key: 'x' }] }, 'config.0.private_key'],
      [{ ...JSAPI, note: '-----BEGIN PRIVATE KEY-----\nMIIE...' }, 'note'],
    ];
    const r = await page.evaluate(async (cs) => {
      installWeixin({ err_msg: 'get_brand_wcpay_request:ok' });
      installWx('chooseWXPay', 'success', { errMsg: 'chooseWXPay:ok' });
      installAlipay({ resultCode: '9000' });
      const out = [];
      for (const [p] of cs) out.push(await run(() => bridge.requestPayment(p)));
      out.push(await run(() => bridge.chooseWXPay({ ...cs[0][0] })));
      out.push(await run(() => bridge.alipayTradePay({ tradeNO: '2024', appKey: 'x' })));
      return { out, calls: calls.length };
    }, cases);
    const fields = [...cases.map(([, f]) => f), 'key', 'appKey'];
    r.out.forEach((x, i) => {
      assert.equal(x.error?.code, 'key_material', `case ${i}: ${JSON.stringify(x)}`);
      assert.equal(x.error.field, fields[i]);
      assert.match(x.error.message, new RegExp(`\\(${fields[i].replace(/\./g, '\\.')}\\)`));
      assert.match(x.error.message, /never belong in the browser/);
    });
    assert.equal(r.calls, 0, 'no bridge was called');
  }));

test('chooseWXPay maps timeStamp to timestamp, drops appId, and follows success/cancel/fail', () =>
  inPage(async (page) => {
    const r = await page.evaluate(async (p) => {
      const out = {};
      installWx('chooseWXPay', 'success', { errMsg: 'chooseWXPay:ok' });
      out.ok = await run(() => bridge.chooseWXPay(p));
      installWx('chooseWXPay', 'cancel', { errMsg: 'chooseWXPay:cancel' });
      const { timeStamp, appId, ...rest } = p;
      out.cancel = await run(() => bridge.chooseWXPay({ ...rest, timestamp: timeStamp }));
      installWx('chooseWXPay', 'fail', { errMsg: 'chooseWXPay:fail, invalid signature' });
      out.fail = await run(() => bridge.chooseWXPay(p));
      out.bad = await run(() => bridge.chooseWXPay({ ...p, timestamp: '1700000001' }));
      return { out, calls };
    }, JSAPI);
    assert.equal(r.out.ok.value, 'ok');
    assert.equal(r.out.cancel.value, 'cancel');
    assert.equal(r.out.fail.error.code, 'payment_failed');
    assert.equal(r.out.fail.error.errMsg, 'chooseWXPay:fail, invalid signature');
    assert.equal(r.out.bad.error.code, 'invalid_param', 'timestamp and timeStamp disagree');
    assert.equal(r.calls.length, 3);
    const { appId, timeStamp, ...rest } = JSAPI;
    for (const c of r.calls) {
      assert.equal(c.api, 'wx.chooseWXPay');
      assert.deepEqual(c.params, { ...rest, timestamp: timeStamp });
      assert.deepEqual(c.callbacks.sort(), ['cancel', 'complete', 'fail', 'success']);
    }
  }));

test('requestPaymentMiniProgram passes no appId and maps "requestPayment:fail cancel" to cancel', () =>
  inPage(async (page) => {
    const r = await page.evaluate(async (p) => {
      const out = {};
      installWx('requestPayment', 'success', { errMsg: 'requestPayment:ok' });
      out.ok = await run(() => bridge.requestPaymentMiniProgram(p));
      installWx('requestPayment', 'fail', { errMsg: 'requestPayment:fail cancel' });
      out.cancel = await run(() => bridge.requestPaymentMiniProgram(p));
      installWx('requestPayment', null, { errMsg: 'requestPayment:cancel' });
      out.oldCancel = await run(() => bridge.requestPaymentMiniProgram(p));
      installWx('requestPayment', 'fail', { errMsg: 'requestPayment:fail 支付验证签名失败' });
      out.fail = await run(() => bridge.requestPaymentMiniProgram(p));
      out.ms = await run(() => bridge.requestPaymentMiniProgram({ ...p, timeStamp: String(Date.now()) }));
      return { out, calls };
    }, { ...JSAPI, signType: 'RSA' });
    assert.equal(r.out.ok.value, 'ok');
    assert.equal(r.out.cancel.value, 'cancel');
    assert.equal(r.out.oldCancel.value, 'cancel', 'old clients report cancel through complete only');
    assert.equal(r.out.fail.error.code, 'payment_failed');
    assert.equal(r.out.fail.error.message, 'requestPayment:fail 支付验证签名失败');
    assert.equal(r.out.ms.error.code, 'invalid_param');
    assert.match(r.out.ms.error.message, /milliseconds/);
    assert.equal(r.calls.length, 4);
    const { appId, ...rest } = JSAPI;
    for (const c of r.calls) assert.deepEqual(c.params, { ...rest, signType: 'RSA' });
  }));

test('alipayTradePay waits for AlipayJSBridgeReady and maps resultCode 9000/6001/8000/6004/4000/6002', () =>
  inPage(async (page) => {
    const r = await page.evaluate(async () => {
      const out = {};
      installAlipay({ resultCode: '9000', memo: '' }, 200);
      out.late = await run(() => bridge.alipayTradePay({ tradeNO: '2024112222001400000000000001' }));
      const first = { ...calls[0], readyAt };
      for (const [code, memo] of [['6001', ''], ['8000', '处理中'], ['6004', ''], ['4000', '订单支付失败'], ['6002', '网络连接出错'], [9000, '']]) {
        installAlipay({ resultCode: code, memo });
        out[code] = await run(() => bridge.alipayTradePay({ orderStr: 'app_id=2021&biz_content=%7B%7D&sign=abc%2B' }));
      }
      out.both = await run(() => bridge.alipayTradePay({ tradeNO: '1', orderStr: 'x' }));
      out.none = await run(() => bridge.alipayTradePay({}));
      window.AlipayJSBridge = undefined;
      out.timeout = await run(() => bridge.alipayTradePay({ tradeNO: '1' }, { timeout: 150 }));
      return { out, first, calls: calls.length, last: calls[calls.length - 1] };
    });
    assert.equal(r.out.late.value, 'ok');
    assert.ok(r.first.at >= r.first.readyAt);
    assert.deepEqual(r.first.params, { tradeNO: '2024112222001400000000000001' });
    assert.equal(r.first.name, 'tradePay');
    assert.equal(r.out['6001'].value, 'cancel');
    assert.equal(r.out['8000'].value, 'pending');
    assert.equal(r.out['6004'].value, 'pending');
    assert.equal(r.out['9000'].value, 'ok', 'a numeric resultCode is understood too');
    for (const code of ['4000', '6002']) {
      assert.equal(r.out[code].error.code, 'payment_failed');
      assert.equal(r.out[code].error.resultCode, code);
      assert.match(r.out[code].error.message, new RegExp(code));
    }
    assert.equal(r.out['4000'].error.memo, '订单支付失败');
    assert.match(r.out['4000'].error.message, /订单支付失败/);
    assert.deepEqual(r.last.params, { orderStr: 'app_id=2021&biz_content=%7B%7D&sign=abc%2B' });
    assert.equal(r.out.both.error.code, 'invalid_param');
    assert.equal(r.out.none.error.code, 'invalid_param');
    assert.equal(r.out.timeout.error.code, 'bridge_timeout');
    assert.equal(r.calls, 7, 'invalid calls never reached the bridge');
  }));

test('waitForPaid polls NOTPAY, NOTPAY, SUCCESS and resolves with the body', () =>
  inPage(async (page) => {
    const path = `/status/seq/${Date.now()}`;
    const r = await page.evaluate((u) => run(() => bridge.waitForPaid(u, { interval: 50, timeout: 5000 })), path);
    assert.deepEqual(r.value, { status: 'SUCCESS', out_trade_no: 'T1', amount: 1 });
    assert.equal(hits.get(path), 3);
  }));

test('waitForPaid rejects at once when the order is CLOSED', () =>
  inPage(async (page) => {
    const path = `/status/closed/${Date.now()}`;
    const r = await page.evaluate((u) => run(() => bridge.waitForPaid(u, { interval: 50, timeout: 5000 })), path);
    assert.equal(r.error.code, 'payment_failed');
    assert.equal(r.error.status, 'CLOSED');
    assert.equal(hits.get(path), 2);
  }));

test('waitForPaid rejects with status_timeout when the order stays NOTPAY', () =>
  inPage(async (page) => {
    const path = `/status/never/${Date.now()}`;
    const r = await page.evaluate((u) => run(() => bridge.waitForPaid(u, { interval: 100, timeout: 700 })), path);
    assert.equal(r.error.code, 'status_timeout');
    assert.match(r.error.message, /700 ms.*NOTPAY/);
    assert.ok(r.ms >= 650 && r.ms < 3000, `gave up after ${r.ms} ms`);
    assert.ok(hits.get(path) >= 4, `polled ${hits.get(path)} times`);
  }));

test('waitForPaid tolerates a transient 500 and a 502 HTML page', () =>
  inPage(async (page) => {
    const path = `/status/flaky/${Date.now()}`;
    const r = await page.evaluate((u) => run(() => bridge.waitForPaid(u, { interval: 50, timeout: 5000 })), path);
    assert.deepEqual(r.value, { status: 'SUCCESS' });
    assert.equal(hits.get(path), 3);
  }));

test('waitForPaid gives up at once on a 404 and stops on an aborted signal', () =>
  inPage(async (page) => {
    const p404 = `/status/missing/${Date.now()}`;
    const pAbort = `/status/never/abort-${Date.now()}`;
    const r = await page.evaluate(
      async ([a, b]) => {
        const missing = await run(() => bridge.waitForPaid(a, { interval: 50, timeout: 5000 }));
        const ctl = new AbortController();
        setTimeout(() => ctl.abort(), 200);
        const aborted = await run(() => bridge.waitForPaid(b, { interval: 50, timeout: 5000, signal: ctl.signal }));
        return { missing, aborted };
      },
      [p404, pAbort],
    );
    assert.equal(r.missing.error.code, 'status_http');
    assert.equal(r.missing.error.status, 404);
    assert.equal(hits.get(p404), 1);
    assert.equal(r.aborted.error.code, 'aborted');
    assert.ok(r.aborted.ms < 1000);
  }));

test('screenshot of a full JSAPI flow is saved under test-results/', () =>
  inPage(async (page) => {
    const path = `/status/seq/shot-${Date.now()}`;
    const summary = await page.evaluate(
      async ([p, u]) => {
        installWeixin({ err_msg: 'get_brand_wcpay_request:ok' }, 100);
        const pay = await run(() => bridge.requestPayment(p));
        log(`requestPayment → ${JSON.stringify(pay.value ?? pay.error)}`);
        const paid = await run(() => bridge.waitForPaid(u, { interval: 50, timeout: 5000 }));
        log(`waitForPaid → ${JSON.stringify(paid.value ?? paid.error)}`);
        const refused = await run(() => bridge.requestPayment({ ...p, apiKey: 'x' }));
        log(`with apiKey → ${refused.error.code}: ${refused.error.message}`);
        return document.getElementById('log').textContent;
      },
      [JSAPI, path],
    );
    assert.match(summary, /requestPayment → "ok"/);
    assert.match(summary, /"status":"SUCCESS"/);
    assert.match(summary, /key_material/);
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, 'bridge-chromium.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 1000, 'screenshot written');
  }));
