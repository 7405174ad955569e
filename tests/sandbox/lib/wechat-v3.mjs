// WeChat Pay API v3: JSON bodies, RSA-SHA256 Authorization, responses signed with a platform key
// (platform-certificate mode or public-key mode), notifies with AES-256-GCM resources.
import crypto from 'node:crypto';
import { newPlatformKey } from './keys.mjs';
import { PaymentError } from './payments.mjs';
import { newPrepayId } from './wechat-v2.mjs';
import { aesGcmEncrypt, nonce, rfc3339, rsaSign, rsaVerify, send } from './util.mjs';

const OUT_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;

/** The platform keys the emulator signs with; the active one signs, all listed ones verify. */
export class PlatformKeys {
  constructor(ctx) {
    this.ctx = ctx;
  }
  get list() {
    return this.ctx.state.platformKeys;
  }
  init(mode) {
    this.mode = mode;
    if (!this.list.some((k) => k.mode === mode && k.active)) this.rotate();
  }
  active() {
    return this.list.find((k) => k.mode === this.mode && k.active);
  }
  /** All keys of the current mode that merchants may still meet (active or announced). */
  published() {
    return this.list.filter((k) => k.mode === this.mode && !k.retired);
  }
  /**
   * Make a new key. activate=false only announces it (listed by /v3/certificates, not yet signing);
   * retire_old removes older keys from the listing.
   */
  rotate({ activate = true, retire_old = false } = {}) {
    const k = newPlatformKey(this.mode, this.ctx.config.wechat.mch_id);
    k.active = false;
    this.list.push(k);
    if (activate) this.activate(k.serial);
    if (retire_old) for (const o of this.list) if (o !== k && o.mode === this.mode) o.retired = true;
    this.ctx.state.changed();
    return k;
  }
  activate(serial) {
    const k = this.list.find((x) => x.serial === serial && x.mode === this.mode);
    if (!k) return null;
    for (const o of this.list) if (o.mode === this.mode) o.active = o === k;
    k.retired = false;
    this.ctx.state.changed();
    return k;
  }
  /** Wechatpay-* headers over `timestamp\nnonce\nbody\n`. */
  signHeaders(body, { timestamp, signature } = {}) {
    const k = this.active();
    const ts = String(timestamp ?? Math.floor(this.ctx.now() / 1000));
    const n = nonce(32);
    const sig = signature ?? rsaSign(`${ts}\n${n}\n${body}\n`, k.privateKey);
    return {
      'Wechatpay-Nonce': n,
      'Wechatpay-Signature': sig,
      'Wechatpay-Timestamp': ts,
      'Wechatpay-Serial': k.serial,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    };
  }
  /** Public material a merchant configures: certificates (cert mode) or public key + id (pubkey mode). */
  publicView() {
    return this.published().map((k) => ({
      serial: k.serial, mode: k.mode, active: !!k.active, public_key: k.publicKey, certificate: k.certificate,
    }));
  }
}

export function parseAuthorization(h) {
  const m = /^WECHATPAY2-SHA256-RSA2048\s+(.+)$/.exec(String(h || ''));
  if (!m) return null;
  const out = {};
  const re = /\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/gy;
  let x;
  let last = 0;
  while ((x = re.exec(m[1]))) {
    out[x[1]] = x[2];
    last = re.lastIndex;
  }
  if (last !== m[1].length) return null;
  return out;
}

export function v3Routes(ctx) {
  const { state } = ctx;
  const cfg = () => ctx.config.wechat;

  function reply(res, status, obj, extraHeaders = {}) {
    const body = obj === null ? '' : JSON.stringify(obj);
    const headers = {
      'Request-ID': crypto.randomUUID().replace(/-/g, '').toUpperCase().slice(0, 32),
      ...ctx.platform.signHeaders(body),
      ...extraHeaders,
    };
    if (body) headers['Content-Type'] = 'application/json; charset=utf-8';
    send(res, status, body, headers);
  }
  const err = (res, status, code, message, detail) => reply(res, status, { code, message, ...(detail ? { detail } : {}) });
  const required = (field, path) => `输入源“${path}”映射到值字段“${field}”必填性规则校验失败，此字段为必填项`;

  /** Check the Authorization header; returns the parsed fields or null after answering 401. */
  function authenticate(req, res, bodyText) {
    const a = parseAuthorization(req.headers.authorization);
    if (!a || !a.mchid || !a.nonce_str || !a.timestamp || !a.serial_no || !a.signature) {
      state.count('wechat.v3.auth_errors');
      return err(res, 401, 'SIGN_ERROR', 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》'), null;
    }
    if (a.mchid !== cfg().mch_id) return err(res, 400, 'MCH_NOT_EXISTS', '商户号不存在'), null;
    if (a.serial_no.toUpperCase() !== String(cfg().merchant_serial).toUpperCase()) {
      state.count('wechat.v3.auth_errors');
      return err(res, 401, 'SIGN_ERROR', '商户证书序列号有误。请使用签名私钥匹配的证书序列号'), null;
    }
    const ts = Number(a.timestamp);
    if (!/^\d{1,12}$/.test(a.timestamp) || Math.abs(ctx.now() / 1000 - ts) >= 300) {
      state.count('wechat.v3.auth_errors');
      return err(res, 401, 'SIGN_ERROR', '请求时间戳与微信支付服务器时间相差超过5分钟'), null;
    }
    const message = `${req.method}\n${req.url}\n${a.timestamp}\n${a.nonce_str}\n${bodyText}\n`;
    if (!rsaVerify(message, a.signature, cfg().merchant_public_key)) {
      state.count('wechat.v3.auth_errors');
      return err(res, 401, 'SIGN_ERROR', '错误的签名，验签失败'), null;
    }
    const ws = req.headers['wechatpay-serial'];
    if (ws && !ctx.platform.published().some((k) => k.serial === ws))
      return err(res, 400, 'PARAM_ERROR', '平台证书序列号Wechatpay-Serial错误'), null;
    return a;
  }

  function parseJson(res, text) {
    try {
      const v = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
    } catch {}
    err(res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    return null;
  }

  function createOrder(kind) {
    const tradeType = { jsapi: 'JSAPI', app: 'APP', h5: 'MWEB', native: 'NATIVE' }[kind];
    return (req, res, b, auth) => {
      const p = parseJson(res, b);
      if (!p) return;
      for (const k of ['appid', 'mchid', 'description', 'out_trade_no', 'notify_url'])
        if (typeof p[k] !== 'string' || !p[k]) return err(res, 400, 'PARAM_ERROR', required(k, `/body/${k}`));
      if (!p.amount || !Number.isInteger(p.amount.total)) return err(res, 400, 'PARAM_ERROR', required('total', '/body/amount/total'));
      if (p.amount.total <= 0) return err(res, 400, 'PARAM_ERROR', '订单金额必须大于0');
      if (p.amount.currency && p.amount.currency !== 'CNY') return err(res, 400, 'PARAM_ERROR', '境内商户号仅支持人民币');
      if (kind === 'jsapi' && !p.payer?.openid) return err(res, 400, 'PARAM_ERROR', required('openid', '/body/payer/openid'));
      if (kind === 'h5' && (!p.scene_info?.payer_client_ip || !p.scene_info?.h5_info?.type))
        return err(res, 400, 'PARAM_ERROR', required('h5_info', '/body/scene_info/h5_info'));
      if (!OUT_NO.test(p.out_trade_no)) return err(res, 400, 'PARAM_ERROR', 'out_trade_no参数格式错误');
      if (!/^https:\/\/|^http:\/\//.test(p.notify_url)) return err(res, 400, 'PARAM_ERROR', 'notify_url参数格式错误');
      if (p.mchid !== auth.mchid) return err(res, 400, 'PARAM_ERROR', 'mchid与Authorization中的商户号不一致');
      if (p.appid !== cfg().appid && p.appid !== cfg().miniprogram_appid)
        return err(res, 400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
      const total = p.amount.total;
      const openid = p.payer?.openid || '';
      const fingerprint = JSON.stringify([total, p.description, tradeType, openid]);
      const now = ctx.now();
      let o = state.getOrder('wechat', p.out_trade_no);
      if (o) {
        if (o.state === 'SUCCESS' || o.state === 'REFUND') return err(res, 400, 'ORDERPAID', '订单已支付');
        if (o.state === 'CLOSED') return err(res, 400, 'ORDER_CLOSED', '订单已关闭');
        if (o.fingerprint !== fingerprint) return err(res, 403, 'OUT_TRADE_NO_USED', '商户订单号重复');
        if (o.prepay_expires_at <= now) {
          o.prepay_id = newPrepayId(now);
          o.prepay_expires_at = now + 2 * 3600 * 1000;
        }
        o.notify_url = p.notify_url;
      } else {
        o = {
          provider: 'wechat', api: 'v3', out_trade_no: p.out_trade_no, trade_type: tradeType, total_fee: total,
          description: p.description, attach: p.attach, notify_url: p.notify_url, appid: p.appid, mch_id: p.mchid,
          openid, prepay_id: newPrepayId(now), prepay_expires_at: now + 2 * 3600 * 1000, state: 'NOTPAY',
          fingerprint, created_at: now, time_expire: p.time_expire, history: [{ at: now, event: 'created' }],
        };
      }
      state.putOrder(o);
      state.count(`wechat.v3.${kind}`);
      if (kind === 'native') {
        o.code_url ||= `weixin://wxpay/bizpayurl?pr=${nonce(7)}`;
        return reply(res, 200, { code_url: o.code_url });
      }
      if (kind === 'h5') return reply(res, 200, { h5_url: `${ctx.baseUrl()}/_sandbox/cashier/wechat?prepay_id=${o.prepay_id}` });
      return reply(res, 200, { prepay_id: o.prepay_id });
    };
  }

  function checkMchidQuery(req, res, auth) {
    const q = new URL(req.url, 'http://x').searchParams;
    if (!q.get('mchid')) return err(res, 400, 'PARAM_ERROR', required('mchid', '/query/mchid')), false;
    if (q.get('mchid') !== auth.mchid) return err(res, 400, 'PARAM_ERROR', 'mchid与Authorization中的商户号不一致'), false;
    return true;
  }

  function refundView(r) {
    const o = state.getOrder('wechat', r.out_trade_no);
    return JSON.parse(JSON.stringify({
      refund_id: r.refund_id, out_refund_no: r.out_refund_no, transaction_id: r.transaction_id, out_trade_no: r.out_trade_no,
      channel: 'ORIGINAL', user_received_account: '支付用户零钱', success_time: r.success_at ? rfc3339(r.success_at) : undefined,
      create_time: rfc3339(r.created_at), status: r.status, funds_account: 'AVAILABLE',
      amount: {
        total: o.total_fee, refund: r.refund_fee, payer_total: o.total_fee, payer_refund: r.refund_fee,
        settlement_refund: r.refund_fee, settlement_total: o.total_fee, discount_refund: 0, currency: 'CNY',
      },
    }));
  }

  // [method, regex, handler(req, res, bodyText, auth, match)]
  return [
    ['POST', /^\/v3\/pay\/transactions\/(jsapi|app|h5|native)$/, (req, res, b, a, m) => createOrder(m[1])(req, res, b, a)],
    ['GET', /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)$/, (req, res, b, a, m) => {
      if (!checkMchidQuery(req, res, a)) return;
      state.count('wechat.v3.query');
      const o = state.getOrder('wechat', decodeURIComponent(m[1]));
      if (!o) return err(res, 404, 'ORDER_NOT_EXIST', '订单不存在');
      reply(res, 200, ctx.payments.v3Transaction(o));
    }],
    ['GET', /^\/v3\/pay\/transactions\/id\/([^/?]+)$/, (req, res, b, a, m) => {
      if (!checkMchidQuery(req, res, a)) return;
      state.count('wechat.v3.query');
      const o = state.orderByTransaction('wechat', decodeURIComponent(m[1]));
      if (!o) return err(res, 404, 'ORDER_NOT_EXIST', '订单不存在');
      reply(res, 200, ctx.payments.v3Transaction(o));
    }],
    ['POST', /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)\/close$/, (req, res, b, a, m) => {
      const p = parseJson(res, b);
      if (!p) return;
      if (!p.mchid) return err(res, 400, 'PARAM_ERROR', required('mchid', '/body/mchid'));
      if (p.mchid !== a.mchid) return err(res, 400, 'PARAM_ERROR', 'mchid与Authorization中的商户号不一致');
      state.count('wechat.v3.close');
      const no = decodeURIComponent(m[1]);
      if (!state.getOrder('wechat', no)) return err(res, 404, 'ORDER_NOT_EXIST', '订单不存在');
      try {
        ctx.payments.close('wechat', no);
      } catch (e) {
        if (!(e instanceof PaymentError)) throw e;
        if (e.code === 'ORDERPAID') return err(res, 400, 'ORDERPAID', '订单已支付');
        return err(res, 400, 'ORDER_CLOSED', '订单已关闭');
      }
      reply(res, 204, null);
    }],
    ['POST', /^\/v3\/refund\/domestic\/refunds$/, (req, res, b) => {
      const p = parseJson(res, b);
      if (!p) return;
      if (!p.out_refund_no) return err(res, 400, 'PARAM_ERROR', required('out_refund_no', '/body/out_refund_no'));
      if (!p.transaction_id && !p.out_trade_no) return err(res, 400, 'PARAM_ERROR', required('out_trade_no', '/body/out_trade_no'));
      if (!p.amount || !Number.isInteger(p.amount.refund) || !Number.isInteger(p.amount.total))
        return err(res, 400, 'PARAM_ERROR', required('refund', '/body/amount/refund'));
      const o = p.transaction_id ? state.orderByTransaction('wechat', p.transaction_id) : state.getOrder('wechat', p.out_trade_no);
      state.count('wechat.v3.refund');
      if (!o) return err(res, 404, 'RESOURCE_NOT_EXISTS', '订单不存在');
      try {
        const r = ctx.payments.refundWechat(o, {
          out_refund_no: p.out_refund_no, refund_fee: p.amount.refund, total_fee: p.amount.total, reason: p.reason,
          notify_url: p.notify_url, api: 'v3',
        });
        reply(res, 200, refundView(r));
      } catch (e) {
        if (!(e instanceof PaymentError)) throw e;
        const map = { TRADE_STATE_ERROR: [400, 'INVALID_REQUEST', '订单未支付，不能发起退款'], NOT_ENOUGH: [400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额'] };
        const [s, c, msg] = map[e.code] || [400, e.code === 'PARAM_ERROR' ? 'PARAM_ERROR' : 'INVALID_REQUEST', e.message];
        err(res, s, c, msg);
      }
    }],
    ['GET', /^\/v3\/refund\/domestic\/refunds\/([^/?]+)$/, (req, res, b, a, m) => {
      const r = state.refunds.get(`wechat:${decodeURIComponent(m[1])}`);
      if (!r) return err(res, 404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
      reply(res, 200, refundView(r));
    }],
    ['GET', /^\/v3\/certificates$/, (req, res) => {
      state.count('wechat.v3.certificates');
      if (ctx.platform.mode !== 'cert')
        return err(res, 404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书，请使用微信支付公钥验签');
      const data = ctx.platform.published().map((k) => {
        const n = nonce(12);
        return {
          serial_no: k.serial, effective_time: rfc3339(Date.parse(k.effective_time)), expire_time: rfc3339(Date.parse(k.expire_time)),
          encrypt_certificate: {
            algorithm: 'AEAD_AES_256_GCM', nonce: n, associated_data: 'certificate',
            ciphertext: aesGcmEncrypt(k.certificate, cfg().apiv3_key, n, 'certificate'),
          },
        };
      });
      reply(res, 200, { data });
    }],
  ].map(([method, re, h]) => ({ method, re, handler: h, auth: authenticate, reply, err }));
}

/** Per-attempt signer for v3 notifies: fresh timestamp and nonce, signed by the active platform key. */
export function v3NotifySigner(ctx) {
  return (d) => {
    const h = ctx.platform.signHeaders(d.body, d.meta.timestamp_offset_s
      ? { timestamp: Math.floor(ctx.now() / 1000) + d.meta.timestamp_offset_s } : {});
    if (d.meta.signtest) h['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${crypto.randomBytes(24).toString('base64')}`;
    if (d.meta.bad_signature) h['Wechatpay-Signature'] = flip(h['Wechatpay-Signature']);
    return h;
  };
}
function flip(s) {
  return (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
}
