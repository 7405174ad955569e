// The control API under /_sandbox/: act as the payer, read the delivery log and counters, inject faults.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaymentError, orderView } from './payments.mjs';
import { cashierPage, nodeName, parseForm, returnParams } from './alipay.mjs';
import { escapeHtml, readBody, rsaSign, rsaVerify, safeEqual, send, sendJson, wxV2Sign } from './util.mjs';
import { alipayCertSn, alipayLeafSubject, generateRsa, issueAlipayCert } from './keys.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BRIDGE_FILE = path.join(HERE, '..', 'bridge.js');

/** Fault switches consulted by the router and the notifier. */
export class Faults {
  constructor() {
    this.upstream = [];
    this.duplicates = 0;
    this._id = 0;
  }
  addUpstream({ match = '', delay_ms = 0, status = 0, body, count = 1 } = {}) {
    const rule = { id: ++this._id, match, delay_ms: Number(delay_ms) || 0, status: Number(status) || 0, body, remaining: count === null ? Infinity : Number(count) };
    this.upstream.push(rule);
    return rule;
  }
  /** The rule that applies to this upstream path, consuming one use of it. */
  takeUpstream(p) {
    const r = this.upstream.find((x) => x.remaining > 0 && p.startsWith(x.match));
    if (!r) return null;
    r.remaining--;
    this.upstream = this.upstream.filter((x) => x.remaining > 0);
    return r;
  }
  takeDuplicate() {
    if (this.duplicates > 0) {
      this.duplicates--;
      return true;
    }
    return false;
  }
  clear() {
    this.upstream = [];
    this.duplicates = 0;
  }
  view() {
    return { upstream: this.upstream.map((r) => ({ ...r, remaining: r.remaining === Infinity ? null : r.remaining })), duplicate_notifies: this.duplicates };
  }
}

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function cors(res) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Max-Age', '600');
}

export function controlRoutes(ctx, { wechatApi, alipay }) {
  const { state } = ctx;
  const W = () => ctx.config.wechat;

  // ---------- client-side payment checks (what the WeChat / Alipay apps verify) ----------
  /** Verify client pay parameters the way the WeChat client does; returns the order or throws. */
  function verifyWechatClient(kind, p) {
    const fail = (desc) => {
      throw new HttpError(400, 'CLIENT_PARAMS_INVALID', desc);
    };
    if (!p || typeof p !== 'object') fail('params missing');
    let prepayId;
    let appId;
    if (kind === 'app') {
      for (const k of ['appid', 'partnerid', 'prepayid', 'package', 'noncestr', 'timestamp', 'sign']) if (!p[k]) fail(`缺少参数${k}`);
      if (p.package !== 'Sign=WXPay') fail('package必须为Sign=WXPay');
      prepayId = p.prepayid;
      appId = p.appid;
    } else {
      const ts = kind === 'jssdk' ? p.timestamp : p.timeStamp;
      for (const [k, v] of Object.entries({ nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign }))
        if (!v) fail(`缺少参数${k}`);
      if (ts === undefined) fail(`缺少参数${kind === 'jssdk' ? 'timestamp' : 'timeStamp'}`);
      if (kind === 'jsapi' && typeof ts !== 'string') fail('timeStamp必须为字符串');
      const m = /^prepay_id=(.+)$/.exec(p.package);
      if (!m) fail('package格式错误，应为prepay_id=***');
      prepayId = m[1];
      appId = p.appId;
    }
    const o = state.orderByPrepay(prepayId);
    if (!o) fail('prepay_id不存在或已失效');
    if (o.prepay_expires_at <= ctx.now()) fail('prepay_id已过期');
    if (kind === 'miniprogram') appId = o.appid; // wx.requestPayment has no appId: the mini program's own
    if (kind === 'jssdk') appId = p.appId || o.appid; // wx.config's appId
    if (appId !== o.appid) fail('appId与下单appid不一致');
    const ts = String(kind === 'app' ? p.timestamp : kind === 'jssdk' ? p.timestamp : p.timeStamp);
    if (!/^\d{1,10}$/.test(ts) || Math.abs(Number(ts) - ctx.now() / 1000) > 86400) fail('timeStamp必须是当前的Unix时间戳(秒)');
    if (kind === 'app' && p.partnerid !== W().mch_id) fail('partnerid与商户号不一致');
    let good;
    if (o.api === 'v3') {
      if (kind === 'app') good = rsaVerify(`${p.appid}\n${p.timestamp}\n${p.noncestr}\n${p.prepayid}\n`, p.sign, W().merchant_public_key);
      else {
        if (p.signType !== 'RSA') fail('APIv3下单的订单signType必须为RSA');
        good = rsaVerify(`${appId}\n${ts}\n${p.nonceStr}\n${p.package}\n`, p.paySign, W().merchant_public_key);
      }
    } else if (kind === 'app') {
      const fields = { appid: p.appid, partnerid: p.partnerid, prepayid: p.prepayid, package: p.package, noncestr: p.noncestr, timestamp: p.timestamp };
      const st = String(p.sign).length === 64 ? 'HMAC-SHA256' : 'MD5';
      good = safeEqual(wxV2Sign(fields, W().api_key, st), p.sign);
    } else {
      if (p.signType !== 'MD5' && p.signType !== 'HMAC-SHA256') fail('signType必须为MD5或HMAC-SHA256');
      const fields = { appId, timeStamp: ts, nonceStr: p.nonceStr, package: p.package, signType: p.signType };
      good = safeEqual(wxV2Sign(fields, W().api_key, p.signType), p.paySign);
    }
    if (!good) fail('支付验证签名失败');
    return o;
  }

  function wechatClientPay(body) {
    const kind = body.kind || 'jsapi';
    if (!['jsapi', 'jssdk', 'miniprogram', 'app'].includes(kind)) throw new HttpError(400, 'BAD_KIND', 'kind must be jsapi|jssdk|miniprogram|app');
    const prefix = kind === 'miniprogram' ? 'requestPayment' : kind === 'jssdk' ? 'chooseWXPay' : 'get_brand_wcpay_request';
    let o;
    try {
      o = verifyWechatClient(kind, body.params);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      state.count('wechat.client.rejected');
      return { ok: false, err_msg: `${prefix}:fail`, err_desc: e.message, errCode: -1 };
    }
    const summary = { out_trade_no: o.out_trade_no, description: o.description, total_fee: o.total_fee, state: o.state, api: o.api };
    const action = body.action || 'check';
    if (action === 'check') return { ok: true, order: summary };
    if (action === 'cancel') {
      ctx.payments.cancel('wechat', o.out_trade_no);
      return { ok: true, err_msg: `${prefix}:cancel`, errCode: -2, order: summary };
    }
    if (action !== 'pay') throw new HttpError(400, 'BAD_ACTION', 'action must be check|pay|cancel');
    try {
      const r = ctx.payments.pay('wechat', o.out_trade_no, body);
      return { ok: true, err_msg: `${prefix}:ok`, errCode: 0, order: { ...summary, state: r.order.state }, delivery: r.delivery?.id ?? null };
    } catch (e) {
      if (!(e instanceof PaymentError)) throw e;
      return { ok: false, err_msg: `${prefix}:fail`, err_desc: e.message, errCode: -1 };
    }
  }

  function alipayClientPay(body) {
    const orderStr = body.orderStr || body.order_string;
    if (!orderStr) throw new HttpError(400, 'MISSING_ORDER_STR', 'orderStr missing');
    const p = parseForm(orderStr);
    const v = alipay.verify(p);
    if (v.error) return { resultCode: '4000', memo: `${v.error.sub_code}: ${v.error.sub_msg}` };
    if (v.method !== 'alipay.trade.app.pay') return { resultCode: '4000', memo: `method must be alipay.trade.app.pay, not ${v.method}` };
    const [errNode, o] = alipay.createTrade(p, v.biz, v.method);
    if (errNode) return { resultCode: '4000', memo: `${errNode.sub_code}: ${errNode.sub_msg}` };
    const action = body.action || 'check';
    const summary = { out_trade_no: o.out_trade_no, subject: o.subject, total_amount: o.total_amount, state: o.state };
    if (action === 'check') return { resultCode: null, ok: true, order: summary };
    if (action === 'cancel') {
      ctx.payments.cancel('alipay', o.out_trade_no);
      return { resultCode: '6001', memo: '用户中途取消', order: summary };
    }
    try {
      const r = ctx.payments.pay('alipay', o.out_trade_no, body);
      const node = JSON.stringify({
        code: '10000', msg: 'Success', app_id: p.app_id, auth_app_id: p.app_id, charset: 'utf-8', timestamp: p.timestamp,
        out_trade_no: o.out_trade_no, total_amount: o.total_amount, trade_no: o.trade_no, seller_id: ctx.config.alipay.seller_id,
      });
      const sign = rsaSign(node, ctx.config.alipay.alipay_private_key, v.signType === 'RSA' ? 'sha1' : 'sha256');
      return {
        resultCode: '9000', memo: '', order: { ...summary, state: r.order.state }, delivery: r.delivery?.id ?? null,
        result: `{"${nodeName(v.method)}":${node},"sign":"${sign}","sign_type":"${v.signType}"}`,
      };
    } catch (e) {
      if (!(e instanceof PaymentError)) throw e;
      return { resultCode: '4000', memo: e.message };
    }
  }

  // ---------- fault notifies ----------
  function faultNotify(b) {
    const provider = b.provider || 'wechat';
    const o = state.getOrder(provider, b.out_trade_no);
    if (!o) throw new HttpError(404, 'NOT_FOUND', `no ${provider} order ${b.out_trade_no}`);
    const url = b.url || o.notify_url;
    if (!url) throw new HttpError(400, 'NO_URL', 'order has no notify_url; pass url');
    const P = ctx.payments;
    const type = b.type;
    const base = { probe: true, provider, out_trade_no: o.out_trade_no, url, schedule: 'none' };
    const first = [...state.deliveries.values()].find((d) => d.provider === provider && d.out_trade_no === o.out_trade_no && !d.probe);
    if (type === 'duplicate') {
      if (!first) throw new HttpError(409, 'NO_NOTIFY', 'no notify was sent for this order yet');
      return ctx.notifier.enqueue({ ...base, kind: `${first.kind}.duplicate`, event: first.event, ack: first.ack, headers: first.headers, body: first.body, signer: first.signer, meta: { ...first.meta }, expect: 'ack' });
    }
    if (type === 'signtest') {
      if (provider !== 'wechat') throw new HttpError(400, 'BAD_TYPE', 'signtest probes are WeChat Pay v3 only');
      return ctx.notifier.enqueue({ ...base, kind: 'wechat.v3.signtest', event: 'TRANSACTION.SUCCESS', ack: 'wechat-v3', headers: { 'Content-Type': 'application/json' }, signer: 'wechat-v3', meta: { signtest: true }, body: P.v3NotifyBody('TRANSACTION.SUCCESS', '支付成功', 'transaction', P.v3Transaction(o), ctx.now()), expect: 'reject' });
    }
    if (type === 'bad-signature') {
      if (provider === 'alipay') {
        const params = P.alipayNotifyParams(o);
        return ctx.notifier.enqueue({ ...base, kind: 'alipay.notify.bad-signature', event: params.trade_status, ack: 'alipay', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: P.alipayNotifyBody(o, params, { badSign: true }), expect: 'reject' });
      }
      if (o.api === 'v2') return ctx.notifier.enqueue({ ...base, kind: 'wechat.v2.pay.bad-signature', event: 'pay', ack: 'wechat-v2', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: P.v2PayNotifyXml(o, { badSign: true }), expect: 'reject' });
      return ctx.notifier.enqueue({ ...base, kind: 'wechat.v3.pay.bad-signature', event: 'TRANSACTION.SUCCESS', ack: 'wechat-v3', headers: { 'Content-Type': 'application/json' }, signer: 'wechat-v3', meta: { bad_signature: true }, body: P.v3NotifyBody('TRANSACTION.SUCCESS', '支付成功', 'transaction', P.v3Transaction(o), ctx.now()), expect: 'reject' });
    }
    if (type === 'replay') {
      if (!first) throw new HttpError(409, 'NO_NOTIFY', 'no notify was sent for this order yet');
      if (first.signer === 'wechat-v3') {
        // A captured v3 notify replayed later: same body, a correctly signed but stale timestamp.
        const age = Number(b.age_seconds ?? 600);
        return ctx.notifier.enqueue({ ...base, kind: `${first.kind}.replay`, event: first.event, ack: first.ack, headers: first.headers, body: first.body, signer: 'wechat-v3', meta: { timestamp_offset_s: -age }, expect: 'reject' });
      }
      // v2 / Alipay notifies carry no timestamp to check: a replay is a duplicate to process idempotently.
      return ctx.notifier.enqueue({ ...base, kind: `${first.kind}.replay`, event: first.event, ack: first.ack, headers: first.headers, body: first.body, expect: 'ack' });
    }
    if (type === 'wrong-amount') {
      // Correctly signed, but the amount differs from the order: the receiver must refuse it.
      const fake = { ...o, total_fee: o.total_fee + 1, total_amount: undefined };
      if (provider === 'alipay') {
        const params = P.alipayNotifyParams({ ...o }, { total_amount: (Number(o.total_amount) + 0.01).toFixed(2) });
        return ctx.notifier.enqueue({ ...base, kind: 'alipay.notify.wrong-amount', event: params.trade_status, ack: 'alipay', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: P.alipayNotifyBody(o, params), expect: 'reject' });
      }
      if (o.api === 'v2') return ctx.notifier.enqueue({ ...base, kind: 'wechat.v2.pay.wrong-amount', event: 'pay', ack: 'wechat-v2', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body: P.v2PayNotifyXml(fake), expect: 'reject' });
      return ctx.notifier.enqueue({ ...base, kind: 'wechat.v3.pay.wrong-amount', event: 'TRANSACTION.SUCCESS', ack: 'wechat-v3', headers: { 'Content-Type': 'application/json' }, signer: 'wechat-v3', body: P.v3NotifyBody('TRANSACTION.SUCCESS', '支付成功', 'transaction', P.v3Transaction(fake), ctx.now()), expect: 'reject' });
    }
    throw new HttpError(400, 'BAD_TYPE', 'type must be duplicate|signtest|bad-signature|replay|wrong-amount');
  }

  function deliveryView(d, full = true) {
    if (full) return d;
    const { body, headers, first_headers, ...rest } = d;
    return { ...rest, attempts: d.attempts.map(({ request, ...a }) => a) };
  }

  // ---------- routes ----------
  const R = [];
  const on = (method, re, fn) => R.push({ method, re, fn });

  on('GET', /^\/_sandbox\/health$/, () => ({ ok: true }));
  on('GET', /^\/_sandbox\/config$/, () => ({
    base_url: ctx.baseUrl(), mode: ctx.mode, time_scale: ctx.timeScale, wechat: W(), alipay: ctx.config.alipay,
    platform_keys: ctx.platform.publicView(),
    active_platform_serial: ctx.platform.active().serial,
    clock_skew_seconds: state.clockSkewMs / 1000,
  }));
  on('GET', /^\/_sandbox\/orders$/, (q) => [...state.orders.values()].filter((o) => !q.get('provider') || o.provider === q.get('provider')).map(orderView));
  on('GET', /^\/_sandbox\/orders\/(wechat|alipay)\/([^/]+)$/, (q, b, m) => {
    const o = state.getOrder(m[1], decodeURIComponent(m[2]));
    if (!o) throw new HttpError(404, 'NOT_FOUND', 'no such order');
    return orderView(o);
  });
  on('POST', /^\/_sandbox\/orders\/(wechat|alipay)\/([^/]+)\/(pay|cancel|fail|close|refund)$/, (q, b, m) => {
    const [provider, no, act] = [m[1], decodeURIComponent(m[2]), m[3]];
    if (act === 'pay') {
      const r = ctx.payments.pay(provider, no, { duplicates: Number(b.duplicates) || 0, delay_ms: Number(b.delay_ms) || 0 });
      return { order: r.order, delivery: r.delivery?.id ?? null };
    }
    if (act === 'cancel') return ctx.payments.cancel(provider, no);
    if (act === 'fail') return ctx.payments.fail(provider, no);
    if (act === 'close') return { order: ctx.payments.close(provider, no) };
    const o = ctx.payments.find(provider, no);
    if (provider === 'wechat') {
      const r = ctx.payments.refundWechat(o, {
        out_refund_no: b.out_refund_no || `RF${Date.now()}${Math.floor(Math.random() * 1000)}`,
        refund_fee: b.amount ?? o.total_fee - (o.refunded_fee || 0) - (o.refund_pending_fee || 0),
        notify_url: b.notify_url, reason: b.reason,
      });
      return { refund: r };
    }
    const node = alipay.refund(o, { refund_amount: b.amount_yuan ?? (b.amount !== undefined ? (b.amount / 100).toFixed(2) : o.total_amount), out_request_no: b.out_request_no });
    if (node.code !== '10000') throw new HttpError(409, node.sub_code, node.sub_msg);
    return { refund: node };
  });
  on('GET', /^\/_sandbox\/refunds$/, () => [...state.refunds.values()]);

  on('GET', /^\/_sandbox\/notifies$/, (q) => [...state.deliveries.values()]
    .filter((d) => (!q.get('out_trade_no') || d.out_trade_no === q.get('out_trade_no'))
      && (!q.get('provider') || d.provider === q.get('provider'))
      && (!q.get('status') || d.status === q.get('status'))
      && (!q.get('kind') || d.kind.startsWith(q.get('kind'))))
    .map((d) => deliveryView(d, q.get('full') !== '0')));
  on('GET', /^\/_sandbox\/notifies\/(ntf_\d+)$/, (q, b, m) => {
    const d = state.deliveries.get(m[1]);
    if (!d) throw new HttpError(404, 'NOT_FOUND', 'no such notify');
    return d;
  });
  on('GET', /^\/_sandbox\/notifies\/(ntf_\d+)\/wait$/, async (q, b, m) => {
    const want = q.get('status') || 'settled';
    const attempts = Number(q.get('attempts') || 0);
    const pred = (d) => (attempts ? d.attempts.length >= attempts : want === 'settled' ? d.status !== 'pending' : d.status === want);
    if (!state.deliveries.get(m[1])) throw new HttpError(404, 'NOT_FOUND', 'no such notify');
    try {
      return await ctx.notifier.waitFor(m[1], pred, Math.min(Number(q.get('timeout_ms') || 10000), 120000));
    } catch {
      throw new HttpError(408, 'TIMEOUT', `notify ${m[1]} did not reach ${attempts ? `${attempts} attempts` : want} in time`);
    }
  });
  on('POST', /^\/_sandbox\/notifies\/(ntf_\d+)\/resend$/, async (q, b, m) => {
    const d = await ctx.notifier.resend(m[1], { replay: !!b.replay });
    if (!d) throw new HttpError(404, 'NOT_FOUND', 'no such notify');
    return d;
  });

  on('GET', /^\/_sandbox\/faults$/, () => ctx.faults.view());
  on('DELETE', /^\/_sandbox\/faults$/, () => (ctx.faults.clear(), ctx.faults.view()));
  on('POST', /^\/_sandbox\/faults\/clear$/, () => (ctx.faults.clear(), ctx.faults.view()));
  on('POST', /^\/_sandbox\/faults\/upstream$/, (q, b) => ctx.faults.addUpstream(b));
  on('POST', /^\/_sandbox\/faults\/duplicate-notifies$/, (q, b) => {
    ctx.faults.duplicates = Number(b.count ?? 1);
    return ctx.faults.view();
  });
  on('POST', /^\/_sandbox\/faults\/notify$/, (q, b) => faultNotify(b));
  on('POST', /^\/_sandbox\/clock$/, (q, b) => {
    if (b.skew_seconds !== undefined) state.clockSkewMs = Number(b.skew_seconds) * 1000;
    if (b.advance_seconds !== undefined) state.clockSkewMs += Number(b.advance_seconds) * 1000;
    state.changed();
    return { skew_seconds: state.clockSkewMs / 1000, now: new Date(ctx.now()).toISOString() };
  });

  on('GET', /^\/_sandbox\/counters$/, () => ({ ...state.counters, quota: state.quota }));
  on('POST', /^\/_sandbox\/counters\/reset$/, () => {
    state.counters = {};
    return {};
  });
  on('GET', /^\/_sandbox\/requests$/, () => state.requests);

  on('POST', /^\/_sandbox\/wechat\/v3\/rotate$/, (q, b) => {
    const k = ctx.platform.rotate({ activate: b.activate !== false, retire_old: !!b.retire_old });
    return { serial: k.serial, active: k.active, platform_keys: ctx.platform.publicView() };
  });
  // Alipay rotates its public certificate: a new key, a new certificate from the same root with the
  // same subject; answers and notifies are signed with the new key from now on. The old certificates
  // stay downloadable (alipay.open.app.alipaycert.download).
  // `{untrusted_ca: true}`: the new certificate is signed in the root's name by another key (what a
  // forged download would deliver), for testing that clients refuse it.
  on('POST', /^\/_sandbox\/alipay\/rotate-cert$/, (q, b) => {
    const a = ctx.config.alipay;
    if (!a.root_private_key) throw new HttpError(409, 'NO_ROOT_KEY', 'the configured alipay.root_cert came without alipay.root_private_key');
    const subject = new crypto.X509Certificate(a.alipay_cert).subject.split('\n').map((kv) => kv.split('=')).find(([k]) => k === 'CN')?.[1];
    const kp = generateRsa();
    const issuerKey = b?.untrusted_ca ? generateRsa().privateKey : a.root_private_key;
    a.alipay_cert_history = [...(a.alipay_cert_history || []), a.alipay_cert];
    a.alipay_private_key = kp.privateKey;
    a.alipay_public_key = kp.publicKey;
    a.alipay_cert = issueAlipayCert({ root_private_key: issuerKey, public_key: kp.publicKey, subject: alipayLeafSubject(subject) });
    state.changed();
    return { alipay_cert_sn: alipayCertSn(a.alipay_cert), alipay_cert: a.alipay_cert, alipay_public_key: a.alipay_public_key };
  });
  on('POST', /^\/_sandbox\/wechat\/v3\/activate$/, (q, b) => {
    const k = ctx.platform.activate(b.serial);
    if (!k) throw new HttpError(404, 'NOT_FOUND', 'no such platform key');
    return { serial: k.serial, platform_keys: ctx.platform.publicView() };
  });
  on('POST', /^\/_sandbox\/wechat\/quota$/, (q, b) => {
    for (const [name, v] of Object.entries(b)) {
      const spec = typeof v === 'object' ? v : { limit: v };
      const cur = (state.quota[name] ||= { limit: 0, used: 0, day: '' });
      if (spec.limit !== undefined) cur.limit = Number(spec.limit);
      if (spec.used !== undefined) cur.used = Number(spec.used);
    }
    state.changed();
    return state.quota;
  });
  on('POST', /^\/_sandbox\/wechat\/tokens\/expire$/, () => {
    const t = Math.floor(ctx.now() / 1000);
    for (const v of state.tokens.values()) v.expires_at = Math.min(v.expires_at, t);
    for (const v of state.tickets.values()) v.expires_at = Math.min(v.expires_at, t);
    state.changed();
    return { expired: state.tokens.size + state.tickets.size };
  });
  on('POST', /^\/_sandbox\/wechat\/jscode$/, (q, b) => ({ code: wechatApi.issueJsCode(b) }));
  on('POST', /^\/_sandbox\/wechat\/client-pay$/, (q, b) => wechatClientPay(b));
  on('POST', /^\/_sandbox\/alipay\/client-pay$/, (q, b) => alipayClientPay(b));
  on('POST', /^\/_sandbox\/reset$/, () => {
    for (const k of ['orders', 'byPrepay', 'refunds', 'deliveries', 'tokens', 'tickets', 'codes']) state[k].clear();
    state.counters = {};
    state.quota = {};
    state.requests = [];
    state.clockSkewMs = 0;
    ctx.faults.clear();
    state.changed();
    return { ok: true };
  });

  // ---------- pages and the bridge script ----------
  async function pages(req, res, url) {
    const p = url.pathname;
    if (req.method === 'GET' && p === '/_sandbox/bridge.js') {
      const js = fs.readFileSync(BRIDGE_FILE, 'utf8').replace('__SANDBOX_ORIGIN__', ctx.baseUrl());
      send(res, 200, js, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      return true;
    }
    if (req.method === 'GET' && p === '/_sandbox/cashier/wechat') {
      const o = state.orderByPrepay(url.searchParams.get('prepay_id') || '');
      if (!o) return send(res, 404, '<!doctype html><meta charset="utf-8"><p>prepay_id不存在</p>', { 'Content-Type': 'text/html; charset=utf-8' }), true;
      send(res, 200, cashierPage(o, ctx, { provider: 'wechat', redirect: url.searchParams.get('redirect_url') || '' }), { 'Content-Type': 'text/html; charset=utf-8' });
      return true;
    }
    const m = /^\/_sandbox\/cashier\/(wechat|alipay)\/submit$/.exec(p);
    if (req.method === 'POST' && m) {
      const f = parseForm((await readBody(req)).toString('utf8'));
      const provider = m[1];
      const o = state.getOrder(provider, f.out_trade_no || '');
      const html = (msg) => send(res, 200, `<!doctype html><meta charset="utf-8"><title>sandbox</title><p id="result">${escapeHtml(msg)}</p>`, { 'Content-Type': 'text/html; charset=utf-8' });
      if (!o) return html('订单不存在'), true;
      if (f.action !== 'pay') {
        ctx.payments.cancel(provider, o.out_trade_no);
        return html('已取消支付'), true;
      }
      try {
        ctx.payments.pay(provider, o.out_trade_no);
      } catch (e) {
        if (!(e instanceof PaymentError)) throw e;
        return html(e.message), true;
      }
      let target = provider === 'alipay' ? o.return_url : f.redirect_url;
      if (target) {
        const u = new URL(target);
        if (provider === 'alipay') for (const [k, v] of Object.entries(returnParams(ctx, o))) u.searchParams.set(k, v);
        res.writeHead(302, { Location: u.toString(), 'Content-Length': 0 });
        res.end();
        return true;
      }
      return html('支付成功'), true;
    }
    return false;
  }

  /** Handle a /_sandbox request; false if it is not one. */
  return async function handle(req, res, url, body) {
    cors(res);
    if (req.method === 'OPTIONS') {
      send(res, 204, '');
      return true;
    }
    if (await pages(req, res, url)) return true;
    for (const r of R) {
      if (r.method !== req.method) continue;
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      let b = {};
      if (req.method === 'POST') {
        const text = (body ?? (await readBody(req))).toString('utf8');
        if (text.trim()) {
          try {
            b = JSON.parse(text);
          } catch {
            sendJson(res, 400, { error: { code: 'BAD_JSON', message: 'body must be JSON' } });
            return true;
          }
        }
      }
      try {
        sendJson(res, 200, await r.fn(url.searchParams, b, m));
      } catch (e) {
        if (e instanceof HttpError) sendJson(res, e.status, { error: { code: e.code, message: e.message } });
        else if (e instanceof PaymentError) sendJson(res, e.code === 'NOT_FOUND' ? 404 : 409, { error: { code: e.code, message: e.message } });
        else throw e;
      }
      return true;
    }
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no control route ${req.method} ${url.pathname}` } });
    return true;
  };
}


