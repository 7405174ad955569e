// edgepay/bridge in plain Node: the validation matrix, key-material detection and waitForPaid's
// retry rules with a scripted fetch. The same module runs in Chromium in bridge.test.mjs.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import {
  requestPayment,
  chooseWXPay,
  requestPaymentMiniProgram,
  alipayTradePay,
  waitForPaid,
  assertNoKeyMaterial,
} from '../bridge.js';

// A hang (a promise that never settles) must fail the test, not stall the run.
const test = (name, fn) => nodeTest(name, { timeout: 5000 }, fn);

const JSAPI = Object.freeze({
  appId: 'wxd930ea5d5a258f4f',
  timeStamp: '1414561699',
  nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
  package: 'prepay_id=123456789',
  signType: 'HMAC-SHA256',
  paySign: 'C380BEC2BFD727A4B6845133519F3AD6',
});

// A global WeixinJSBridge / wx stub for one call; Node has no document, so the bridge must be present.
async function withGlobals(globals, fn) {
  const saved = Object.fromEntries(Object.keys(globals).map((k) => [k, globalThis[k]]));
  Object.assign(globalThis, globals);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete globalThis[k];
      else globalThis[k] = v;
    }
  }
}

async function rejects(promise, expected) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    for (const [k, v] of Object.entries(expected)) {
      if (v instanceof RegExp) assert.match(e[k], v, k);
      else assert.equal(e[k], v, k);
    }
    return true;
  });
}

test('every required JSAPI field is checked: missing, empty, non-string', async () => {
  let invoked = 0;
  const WeixinJSBridge = { invoke: () => invoked++ };
  await withGlobals({ WeixinJSBridge }, async () => {
    for (const f of Object.keys(JSAPI)) {
      const missing = { ...JSAPI };
      delete missing[f];
      await rejects(requestPayment(missing), { code: 'invalid_param', field: f, message: /required/ });
      await rejects(requestPayment({ ...JSAPI, [f]: '' }), { code: 'invalid_param', field: f });
      await rejects(requestPayment({ ...JSAPI, [f]: 12 }), { code: 'invalid_param', field: f, message: /string/ });
      await rejects(requestPayment({ ...JSAPI, [f]: { v: 'x' } }), { code: 'invalid_param', field: f, message: /string/ });
    }
    for (const p of [null, undefined, 'prepay_id=1', 42]) {
      await rejects(requestPayment(p), { code: 'invalid_param', field: 'payParams' });
    }
  });
  assert.equal(invoked, 0);
});

test('timeStamp must be 10 decimal digits of seconds; milliseconds are named as such', async () => {
  let invoked = 0;
  await withGlobals({ WeixinJSBridge: { invoke: () => invoked++ } }, async () => {
    await rejects(requestPayment({ ...JSAPI, timeStamp: '1414561699000' }), { field: 'timeStamp', message: /milliseconds/ });
    for (const ts of ['141456169', '14145616990', ' 1414561699', '1414561699 ', '1.41456e9', '-414561699', '0x54511e23']) {
      await rejects(requestPayment({ ...JSAPI, timeStamp: ts }), { code: 'invalid_param', field: 'timeStamp', message: /seconds/ });
    }
  });
  assert.equal(invoked, 0);
});

test('package, signType and nonceStr rules', async () => {
  let invoked = 0;
  await withGlobals({ WeixinJSBridge: { invoke: () => invoked++ } }, async () => {
    for (const pkg of ['prepay_id=', 'prepay_id= x', 'prepayid=1', 'Sign=WXPay', 'PREPAY_ID=1', 'prepay_id=a b']) {
      await rejects(requestPayment({ ...JSAPI, package: pkg }), { code: 'invalid_param', field: 'package' });
    }
    for (const st of ['md5', 'SHA1', 'HMAC-SHA1', 'RSA2', 'HMAC_SHA256']) {
      await rejects(requestPayment({ ...JSAPI, signType: st }), { code: 'invalid_param', field: 'signType' });
    }
    await rejects(requestPayment({ ...JSAPI, nonceStr: 'n'.repeat(33) }), { field: 'nonceStr', message: /32/ });
  });
  assert.equal(invoked, 0);
  // the boundaries that must pass
  const seen = [];
  await withGlobals(
    { WeixinJSBridge: { invoke: (n, p, cb) => (seen.push(p), cb({ err_msg: 'get_brand_wcpay_request:ok' })) } },
    async () => {
      for (const signType of ['MD5', 'HMAC-SHA256', 'RSA']) {
        assert.equal(await requestPayment({ ...JSAPI, signType, nonceStr: 'n'.repeat(32) }), 'ok');
      }
    },
  );
  assert.deepEqual(seen.map((p) => p.signType), ['MD5', 'HMAC-SHA256', 'RSA']);
});

test('requestPayment settles from err_msg (and errMsg), and passes err_desc along', async () => {
  const run = (res) =>
    withGlobals({ WeixinJSBridge: { invoke: (n, p, cb) => setTimeout(() => cb(res), 1) } }, () => requestPayment(JSAPI));
  assert.equal(await run({ err_msg: 'get_brand_wcpay_request:ok' }), 'ok');
  assert.equal(await run({ err_msg: 'get_brand_wcpay_request:cancel' }), 'cancel');
  assert.equal(await run({ errMsg: 'get_brand_wcpay_request:ok' }), 'ok');
  await rejects(run({ err_msg: 'get_brand_wcpay_request:fail_invalid appid' }), {
    code: 'payment_failed',
    errMsg: 'get_brand_wcpay_request:fail_invalid appid',
    message: 'get_brand_wcpay_request:fail_invalid appid',
  });
  await rejects(run({ err_msg: 'get_brand_wcpay_request:fail', err_desc: 'system busy' }), {
    errMsg: 'get_brand_wcpay_request:fail',
    message: 'get_brand_wcpay_request:fail (system busy)',
  });
  await rejects(run(undefined), { code: 'payment_failed', errMsg: 'get_brand_wcpay_request:fail' });
});

test('without a document and without the bridge, requestPayment and alipayTradePay say the bridge is unavailable', async () => {
  assert.equal(globalThis.document, undefined);
  await rejects(requestPayment(JSAPI), { code: 'bridge_unavailable', message: /WeixinJSBridge/ });
  await rejects(alipayTradePay({ tradeNO: '1' }), { code: 'bridge_unavailable', message: /AlipayJSBridge/ });
  await rejects(chooseWXPay(JSAPI), { code: 'bridge_unavailable', message: /wx\.chooseWXPay/ });
  await rejects(requestPaymentMiniProgram(JSAPI), { code: 'bridge_unavailable', message: /wx\.requestPayment/ });
});

test('chooseWXPay accepts timestamp or timeStamp and validates whichever is given', async () => {
  const seen = [];
  const wx = { chooseWXPay: (o) => (seen.push(o), o.success({ errMsg: 'chooseWXPay:ok' })) };
  const { appId, timeStamp, ...rest } = JSAPI;
  await withGlobals({ wx }, async () => {
    assert.equal(await chooseWXPay({ ...rest, timestamp: timeStamp }), 'ok');
    assert.equal(await chooseWXPay({ ...rest, timestamp: timeStamp, timeStamp }), 'ok');
    await rejects(chooseWXPay({ ...rest, timestamp: '1414561699123' }), { field: 'timestamp', message: /milliseconds/ });
    await rejects(chooseWXPay(rest), { field: 'timeStamp', message: /required/ });
  });
  assert.equal(seen.length, 2);
  for (const o of seen) {
    assert.equal(o.timestamp, timeStamp);
    assert.ok(!('timeStamp' in o) && !('appId' in o));
  }
});

test('a wx callback that fires twice (fail, then complete) settles once', async () => {
  let calls = 0;
  const wx = {
    requestPayment: (o) => {
      calls++;
      o.fail({ errMsg: 'requestPayment:fail cancel' });
      o.complete({ errMsg: 'requestPayment:fail cancel' });
      o.success({ errMsg: 'requestPayment:ok' });
    },
  };
  await withGlobals({ wx }, async () => {
    assert.equal(await requestPaymentMiniProgram(JSAPI), 'cancel');
  });
  assert.equal(calls, 1);
});

test('key material: names that are refused, names that are not', () => {
  const refused = [
    'key', 'KEY', 'apiKey', 'api_key', 'API-KEY', 'appkey', 'appKey', 'app_key', 'secret', 'appSecret',
    'app_secret', 'client_secret', 'private_key', 'privateKey', 'merchantPrivateKey', 'apiv3_key', 'apiV3Key',
    'mch_key', 'mchKey', 'partnerKey', 'partner_key', 'sign_key', 'session_key', 'password', 'alipayPrivateKey',
  ];
  for (const k of refused) {
    assert.throws(() => assertNoKeyMaterial({ ...JSAPI, [k]: 'x' }), (e) => e.code === 'key_material' && e.field === k, k);
    assert.throws(() => assertNoKeyMaterial({ a: [{ b: { [k]: 0 } }] }), (e) => e.field === `a.0.b.${k}`, `nested ${k}`);
  }
  const allowed = [
    'appId', 'timeStamp', 'timestamp', 'nonceStr', 'package', 'signType', 'paySign', 'orderStr', 'tradeNO',
    'publicKey', 'keyword', 'monkey', 'keys', 'prepay_id', 'sign', 'out_trade_no', 'openid',
  ];
  for (const k of allowed) assert.doesNotThrow(() => assertNoKeyMaterial({ [k]: 'x' }), k);
  assert.throws(() => assertNoKeyMaterial({ pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow' }), { code: 'key_material', field: 'pem' });
  assert.doesNotThrow(() => assertNoKeyMaterial({ pem: '-----BEGIN PUBLIC KEY-----\nMIIB' }));
  const cyclic = { ...JSAPI };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => assertNoKeyMaterial(cyclic));
});

// waitForPaid with a scripted fetch: each step is a Response, an Error to throw, or a function making
// a fresh Response (the last step repeats, and a Response body can be read only once).
function script(steps) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url: String(url), init });
    const step = steps[Math.min(requests.length - 1, steps.length - 1)];
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? step(init) : step;
  };
  return { fetch, requests };
}
const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

test('waitForPaid: GET with accept JSON, retries network errors, 5xx, 408, 429 and non-JSON', async () => {
  const { fetch, requests } = script([
    new TypeError('fetch failed'),
    json({}, 503),
    new Response('', { status: 408 }),
    new Response('', { status: 429 }),
    new Response('<html>', { status: 200 }),
    json({ status: 'USERPAYING' }),
    json({ status: 'SUCCESS', transaction_id: '42' }),
  ]);
  const body = await waitForPaid('https://shop.example/api/orders/T1/status', { interval: 1, timeout: 5000, fetch });
  assert.deepEqual(body, { status: 'SUCCESS', transaction_id: '42' });
  assert.equal(requests.length, 7);
  assert.equal(requests[0].init.method, 'GET');
  assert.equal(requests[0].init.headers.accept, 'application/json');
  assert.equal(requests[0].url, 'https://shop.example/api/orders/T1/status');
});

test('waitForPaid: terminal statuses reject with payment_failed and the body', async () => {
  for (const status of ['CLOSED', 'PAYERROR', 'REVOKED', 'REFUND']) {
    const { fetch, requests } = script([json({ status: 'NOTPAY' }), json({ status, out_trade_no: 'T' })]);
    await rejects(waitForPaid('/s', { interval: 1, fetch }), { code: 'payment_failed', status, message: new RegExp(status) });
    assert.equal(requests.length, 2);
  }
});

test('waitForPaid: a 4xx other than 408/429 is not retried', async () => {
  for (const code of [400, 401, 403, 404]) {
    const { fetch, requests } = script([json({ error: {} }, code)]);
    await rejects(waitForPaid('/s', { interval: 1, fetch }), { code: 'status_http', status: code });
    assert.equal(requests.length, 1);
  }
});

test('waitForPaid: custom isPaid', async () => {
  const { fetch } = script([json({ order: { state: 'WAIT' } }), json({ order: { state: 'PAID' } })]);
  const body = await waitForPaid('/s', { interval: 1, fetch, isPaid: (b) => b.order.state === 'PAID' });
  assert.equal(body.order.state, 'PAID');
});

test('waitForPaid: times out with the last status, even when the server hangs', async () => {
  const { fetch } = script([() => json({ status: 'NOTPAY' })]);
  const t0 = Date.now();
  await rejects(waitForPaid('/s', { interval: 20, timeout: 150, fetch }), {
    code: 'status_timeout',
    last: 'status NOTPAY',
    message: /150 ms/,
  });
  assert.ok(Date.now() - t0 >= 140);

  // a fetch that only ends when its signal aborts
  const hang = (url, init) =>
    new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  const t1 = Date.now();
  await rejects(waitForPaid('/s', { interval: 20, timeout: 120, fetch: hang }), { code: 'status_timeout', last: 'no answer yet' });
  const took = Date.now() - t1;
  assert.ok(took >= 110 && took < 1000, `${took} ms`);
});

test('waitForPaid: abort signal stops polling, before and during', async () => {
  const { fetch, requests } = script([() => json({ status: 'NOTPAY' })]);
  const pre = AbortSignal.abort();
  await rejects(waitForPaid('/s', { fetch, signal: pre }), { code: 'aborted' });
  assert.equal(requests.length, 0);
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 50);
  const t0 = Date.now();
  await rejects(waitForPaid('/s', { interval: 10000, fetch, signal: ctl.signal }), { code: 'aborted' });
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(requests.length, 1);
});

test('waitForPaid: bad arguments', async () => {
  await rejects(waitForPaid(undefined), { code: 'invalid_param', field: 'statusUrl' });
  await rejects(waitForPaid('/s', { interval: -1 }), { field: 'interval' });
  await rejects(waitForPaid('/s', { timeout: 0 }), { field: 'timeout' });
  await rejects(waitForPaid('/s', { timeout: NaN }), { field: 'timeout' });
  await rejects(waitForPaid('/s', { fetch: 'nope' }), { field: 'fetch' });
});

test('alipayTradePay treats both codes as strings and reports memo', async () => {
  const run = (res) =>
    withGlobals({ AlipayJSBridge: { call: (n, p, cb) => cb(res) } }, () => alipayTradePay({ tradeNO: 'T' }));
  assert.equal(await run({ resultCode: 9000 }), 'ok');
  assert.equal(await run({ resultCode: '6001' }), 'cancel');
  assert.equal(await run({ resultCode: '8000' }), 'pending');
  await rejects(run({ resultCode: '99', memo: 'forgot password' }), { resultCode: '99', memo: 'forgot password' });
  await rejects(run({}), { code: 'payment_failed', resultCode: '', message: /\(none\)/ });
  await rejects(run(undefined), { code: 'payment_failed' });
  await rejects(alipayTradePay({ tradeNO: 5 }), { code: 'invalid_param', field: 'tradeNO' });
});
