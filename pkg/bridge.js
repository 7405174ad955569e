// edgepay/bridge: launch WeChat Pay / Alipay from an H5 page and wait for the gateway to confirm.
// No secrets, no wasm, no dependencies. The page callback is never proof of payment: confirm with
// waitForPaid() (your backend's order status), and fulfil orders only from the verified notify.

const g = globalThis;
const SIGN_TYPES = ['MD5', 'HMAC-SHA256', 'RSA'];
const FAILED = ['CLOSED', 'PAYERROR', 'REVOKED', 'REFUND'];
// Names of secrets, compared after lower-casing and dropping `_`, `-` and spaces.
const SECRET_NAME = /^(key|(api|app|mch|merchant|partner|pay|sign|signing|secret|apiv3|apiclient|private)key|.*secret|.*privatekey|.*apikey|.*apiv3key|sessionkey|password|passwd)$/;
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function fail(code, message, extra) {
  const e = new Error(message);
  e.code = code;
  return Object.assign(e, extra);
}

const bad = (field, why) => fail('invalid_param', `edgepay/bridge: ${field} ${why}`, { field });

/**
 * Throw when `value` (an object, searched recursively) carries key material: a field named like a
 * key or secret, or a PEM private key in any string.
 */
export function assertNoKeyMaterial(value, path = '', seen = new Set()) {
  if (typeof value === 'string') {
    if (PEM_PRIVATE.test(value)) throw leak(path || 'value');
    return;
  }
  if (!value || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  for (const k of Object.keys(value)) {
    const p = path ? `${path}.${k}` : k;
    if (SECRET_NAME.test(k.toLowerCase().replace(/[-_ ]/g, ''))) throw leak(p);
    assertNoKeyMaterial(value[k], p, seen);
  }
}

function leak(field) {
  return fail(
    'key_material',
    `edgepay/bridge: refusing parameters that carry key material (${field}). ` +
      'Secrets never belong in the browser: sign on your server and send only the signed pay parameters.',
    { field },
  );
}

function str(p, f, as = f) {
  const v = p[f];
  if (v === undefined || v === null || v === '') throw bad(as, 'is required');
  if (typeof v !== 'string') throw bad(as, `must be a string, got ${typeof v}${typeof v === 'number' ? ` (use String(${as}))` : ''}`);
  return v;
}

// Validate WeChat client parameters; returns only the fields the client API takes.
function wechatParams(p, withAppId, tsName) {
  assertNoKeyMaterial(p);
  if (!p || typeof p !== 'object') throw bad('payParams', 'must be an object');
  let tsKey = 'timeStamp';
  if (tsName === 'timestamp') {
    if (p.timestamp != null && p.timeStamp != null && p.timestamp !== p.timeStamp) {
      throw bad('timestamp', 'and timeStamp are both given and differ');
    }
    if (p.timestamp != null) tsKey = 'timestamp';
  }
  const out = {};
  if (withAppId) out.appId = str(p, 'appId');
  const ts = str(p, tsKey);
  if (/^\d{13}$/.test(ts)) {
    throw bad(tsKey, `must be Unix time in seconds (10 digits); "${ts}" looks like milliseconds: use Math.floor(Date.now() / 1000)`);
  }
  if (!/^\d{10}$/.test(ts)) throw bad(tsKey, `must be Unix time in seconds as a 10-digit decimal string, got "${ts}"`);
  out[tsName] = ts;
  const nonce = (out.nonceStr = str(p, 'nonceStr'));
  if (nonce.length > 32) throw bad('nonceStr', `must be at most 32 characters, got ${nonce.length}`);
  const pkg = (out.package = str(p, 'package'));
  if (!/^prepay_id=\S+$/.test(pkg)) throw bad('package', `must look like "prepay_id=<id>", got "${pkg}"`);
  const st = (out.signType = str(p, 'signType'));
  if (!SIGN_TYPES.includes(st)) throw bad('signType', `must be one of ${SIGN_TYPES.join(', ')}, got "${st}"`);
  out.paySign = str(p, 'paySign');
  return out;
}

function ready(name, event, timeout = 10000) {
  if (g[name]) return Promise.resolve(g[name]);
  const doc = g.document;
  if (!doc) return Promise.reject(fail('bridge_unavailable', `edgepay/bridge: ${name} is not available (no document)`));
  return new Promise((resolve, reject) => {
    let timer;
    const done = () => {
      clearTimeout(timer);
      doc.removeEventListener(event, done);
      if (g[name]) resolve(g[name]);
      else reject(fail('bridge_unavailable', `edgepay/bridge: ${event} fired but ${name} is undefined`));
    };
    doc.addEventListener(event, done, false);
    if (timeout > 0 && timeout < Infinity) {
      timer = setTimeout(() => {
        doc.removeEventListener(event, done);
        reject(
          fail('bridge_timeout', `edgepay/bridge: ${name} was not ready after ${timeout} ms (${event} never fired): is this page open inside the app?`),
        );
      }, timeout);
    }
  });
}

// Shared settle logic for callbacks that report `<api>:ok|cancel|fail …`.
function settle(resolve, reject, msg, fallback) {
  const m = String(msg || fallback);
  if (/:ok$/.test(m)) resolve('ok');
  else if (/:(fail )?cancel$/.test(m)) resolve('cancel');
  else reject(fail('payment_failed', m, { errMsg: m }));
}

/** WeChat JSAPI (official-account H5 page): WeixinJSBridge.invoke('getBrandWCPayRequest'). */
export async function requestPayment(payParams, options) {
  const params = wechatParams(payParams, true, 'timeStamp');
  const bridge = await ready('WeixinJSBridge', 'WeixinJSBridgeReady', options && options.timeout);
  return new Promise((resolve, reject) => {
    bridge.invoke('getBrandWCPayRequest', params, (res) => {
      const m = res && (res.err_msg || res.errMsg);
      if (/:ok$|:cancel$/.test(m)) return settle(resolve, reject, m);
      const desc = res && res.err_desc;
      const msg = String(m || 'get_brand_wcpay_request:fail') + (desc ? ` (${desc})` : '');
      reject(fail('payment_failed', msg, { errMsg: m || 'get_brand_wcpay_request:fail', errDesc: desc }));
    });
  });
}

function wxCall(api, params, okFallback) {
  const wx = g.wx;
  if (!wx || typeof wx[api] !== 'function') {
    return Promise.reject(fail('bridge_unavailable', `edgepay/bridge: wx.${api} is not available`));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const on = (fallback) => (res) => {
      if (settled) return;
      settled = true;
      settle(resolve, reject, res && res.errMsg, fallback);
    };
    wx[api]({
      ...params,
      success: on(`${okFallback}:ok`),
      cancel: on(`${okFallback}:cancel`),
      fail: on(`${okFallback}:fail`),
      // Old clients (≤ 6.5.2) report a cancel only through complete.
      complete: (res) => setTimeout(() => on(`${okFallback}:fail`)(res), 0),
    });
  });
}

/** WeChat JS-SDK: wx.chooseWXPay (after wx.config). Accepts `timeStamp` or `timestamp`. */
export async function chooseWXPay(payParams) {
  return wxCall('chooseWXPay', wechatParams(payParams, false, 'timestamp'), 'chooseWXPay');
}

/** WeChat mini program: wx.requestPayment (appId is signed but not passed). */
export async function requestPaymentMiniProgram(payParams) {
  return wxCall('requestPayment', wechatParams(payParams, false, 'timeStamp'), 'requestPayment');
}

/** Alipay H5 inside the Alipay app: AlipayJSBridge.call('tradePay'). */
export async function alipayTradePay(payParams, options) {
  assertNoKeyMaterial(payParams);
  if (!payParams || typeof payParams !== 'object') throw bad('payParams', 'must be an object');
  const has = (k) => payParams[k] != null;
  if (has('orderStr') === has('tradeNO')) throw bad('payParams', 'needs exactly one of orderStr or tradeNO');
  const k = has('orderStr') ? 'orderStr' : 'tradeNO';
  const params = { [k]: str(payParams, k) };
  const bridge = await ready('AlipayJSBridge', 'AlipayJSBridgeReady', options && options.timeout);
  return new Promise((resolve, reject) => {
    bridge.call('tradePay', params, (res) => {
      const code = String((res && res.resultCode) ?? '');
      const memo = (res && res.memo) || '';
      if (code === '9000') resolve('ok');
      else if (code === '6001') resolve('cancel');
      else if (code === '8000' || code === '6004') resolve('pending');
      else reject(fail('payment_failed', `alipay tradePay failed: resultCode ${code || '(none)'}${memo ? ` ${memo}` : ''}`, { resultCode: code, memo }));
    });
  });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal && signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop() {
      clearTimeout(t);
      reject(aborted(signal));
    }
    signal && signal.addEventListener('abort', stop, { once: true });
  });
}

const aborted = (signal) => fail('aborted', 'edgepay/bridge: waitForPaid was aborted', { cause: signal.reason });

/**
 * Poll `statusUrl` (GET, JSON) until the order is paid (`status: "SUCCESS"`), failed for good
 * (CLOSED, PAYERROR, REVOKED, REFUND) or the timeout passes. Network errors, 5xx, 408, 429 and
 * non-JSON answers are retried.
 */
export async function waitForPaid(statusUrl, options = {}) {
  const { interval = 1500, timeout = 120000, fetch: f = g.fetch, signal } = options;
  const isPaid = options.isPaid || ((b) => b && b.status === 'SUCCESS');
  if (typeof statusUrl !== 'string' && !(statusUrl instanceof URL)) throw bad('statusUrl', 'must be a string or URL');
  if (!(interval >= 0)) throw bad('interval', 'must be a number of milliseconds ≥ 0');
  if (!(timeout > 0)) throw bad('timeout', 'must be a number of milliseconds > 0');
  if (typeof f !== 'function') throw bad('fetch', 'must be a function (no global fetch here)');
  const deadline = Date.now() + timeout;
  let last = 'no answer yet';
  for (;;) {
    if (signal && signal.aborted) throw aborted(signal);
    const ctl = new AbortController();
    const stop = () => ctl.abort();
    const timer = setTimeout(stop, Math.max(0, deadline - Date.now()));
    signal && signal.addEventListener('abort', stop, { once: true });
    try {
      const res = await f(statusUrl, { method: 'GET', headers: { accept: 'application/json' }, cache: 'no-store', signal: ctl.signal });
      if (res.ok) {
        let body;
        try {
          body = await res.json();
        } catch {
          body = undefined;
          last = 'a non-JSON answer';
        }
        if (body !== undefined) {
          if (isPaid(body)) return body;
          const s = body && body.status;
          if (FAILED.includes(s)) throw fail('payment_failed', `edgepay/bridge: order is ${s}, not paid`, { status: s, body });
          last = `status ${s}`;
        }
      } else if (res.status >= 500 || res.status === 408 || res.status === 429) {
        last = `HTTP ${res.status}`;
      } else {
        throw fail('status_http', `edgepay/bridge: ${statusUrl} answered HTTP ${res.status}`, { status: res.status });
      }
    } catch (e) {
      if (e && (e.code === 'payment_failed' || e.code === 'status_http')) throw e;
      if (signal && signal.aborted) throw aborted(signal);
      // A request cut off by the deadline keeps the last real answer in the message.
      if (!ctl.signal.aborted) last = (e && e.message) || String(e);
    } finally {
      clearTimeout(timer);
      signal && signal.removeEventListener('abort', stop);
    }
    const left = deadline - Date.now();
    if (left > 0) await sleep(Math.min(interval, left), signal);
    if (Date.now() >= deadline) {
      throw fail('status_timeout', `edgepay/bridge: order not confirmed paid within ${timeout} ms (last: ${last})`, { last });
    }
  }
}
