// What a payer (or the merchant platform) does to an order, and the notifies that follow.
import crypto from 'node:crypto';
import {
  aesGcmEncrypt, alipayTime, buildXml, canonical, digits, fenToYuan, nonce, refundReqInfoEncrypt,
  rfc3339, rsaSign, wxV2Sign, wxV2Time,
} from './util.mjs';

export class PaymentError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function ymd(ms) {
  return wxV2Time(ms).slice(0, 8);
}
export function newTransactionId(ms) {
  return `4200${digits(6)}${ymd(ms)}${digits(10)}`; // 28 digits, like 4200000483202001042069747825
}
export function newRefundId() {
  return `503${digits(26)}`; // 29 digits
}
export function newAlipayTradeNo(ms) {
  return `${ymd(ms)}22001${digits(15)}`; // 28 digits
}
export function newNotifyId(ms) {
  return `${ymd(ms)}${digits(26)}`;
}

/** Public view of an order for the control API. */
export function orderView(o) {
  return structuredClone(o);
}

export class Payments {
  constructor(ctx) {
    this.ctx = ctx;
  }
  get state() {
    return this.ctx.state;
  }
  get cfg() {
    return this.ctx.config;
  }

  find(provider, outTradeNo) {
    const o = this.state.getOrder(provider, outTradeNo);
    if (!o) throw new PaymentError('NOT_FOUND', `no ${provider} order ${outTradeNo}`);
    return o;
  }

  // ---------------- payer actions ----------------
  /** The payer pays: the order becomes SUCCESS and its notify is queued. */
  pay(provider, outTradeNo, { duplicates = 0, delay_ms = 0 } = {}) {
    const o = this.find(provider, outTradeNo);
    const now = this.ctx.now();
    if (provider === 'wechat') {
      if (o.state === 'SUCCESS' || o.state === 'REFUND') throw new PaymentError('ORDERPAID', '该订单已支付');
      if (o.state === 'CLOSED') throw new PaymentError('ORDERCLOSED', '订单已关闭');
      o.state = 'SUCCESS';
      o.transaction_id = newTransactionId(now);
      o.paid_at = now;
      o.openid ||= this.cfg.wechat.payer_openid;
    } else {
      if (o.state === 'TRADE_SUCCESS' || o.state === 'TRADE_FINISHED') throw new PaymentError('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
      if (o.state === 'TRADE_CLOSED') throw new PaymentError('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
      o.state = 'TRADE_SUCCESS';
      o.paid_at = now;
      o.buyer_id = this.cfg.alipay.buyer_id;
      o.buyer_logon_id = this.cfg.alipay.buyer_logon_id;
    }
    o.history.push({ at: now, event: 'paid' });
    this.state.putOrder(o);
    this.state.count(`${provider}.paid`);
    const d = this.notifyPaid(o, { duplicates, delay_ms });
    return { order: o, delivery: d };
  }

  /** The payer dismisses the cashier: nothing changes upstream (the order stays unpaid). */
  cancel(provider, outTradeNo) {
    const o = this.find(provider, outTradeNo);
    o.history.push({ at: this.ctx.now(), event: 'payer-cancelled' });
    this.state.putOrder(o);
    return { order: o };
  }

  /** Payment fails at the bank (WeChat PAYERROR). */
  fail(provider, outTradeNo) {
    const o = this.find(provider, outTradeNo);
    if (provider !== 'wechat') throw new PaymentError('UNSUPPORTED', 'only WeChat orders have PAYERROR');
    if (o.state !== 'NOTPAY' && o.state !== 'USERPAYING') throw new PaymentError('TRADE_STATE_ERROR', `order is ${o.state}`);
    o.state = 'PAYERROR';
    o.history.push({ at: this.ctx.now(), event: 'payerror' });
    this.state.putOrder(o);
    return { order: o };
  }

  /** Close an order (merchant close API). */
  close(provider, outTradeNo) {
    const o = this.find(provider, outTradeNo);
    const now = this.ctx.now();
    if (provider === 'wechat') {
      if (o.state === 'SUCCESS' || o.state === 'REFUND') throw new PaymentError('ORDERPAID', '订单已支付，不能发起关单');
      if (o.state === 'CLOSED') throw new PaymentError('ORDERCLOSED', '订单已关闭，无法重复关闭');
      o.state = 'CLOSED';
    } else {
      if (o.state !== 'WAIT_BUYER_PAY') throw new PaymentError('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
      o.state = 'TRADE_CLOSED';
    }
    o.closed_at = now;
    o.history.push({ at: now, event: 'closed' });
    this.state.putOrder(o);
    return o;
  }

  // ---------------- refunds ----------------
  /**
   * Create a WeChat refund (v2 or v3 request, or the control API). Same out_refund_no again returns the
   * existing refund. Refunds complete after `refund_delay_seconds` (scaled) and send a refund notify when a
   * notify_url is known.
   */
  refundWechat(o, { out_refund_no, refund_fee, total_fee, reason, notify_url, api }) {
    const key = `wechat:${out_refund_no}`;
    const existing = this.state.refunds.get(key);
    if (existing) {
      if (existing.out_trade_no !== o.out_trade_no || existing.refund_fee !== refund_fee)
        throw new PaymentError('INVALID_REQUEST', '退款单号已存在，且与原请求参数不一致');
      return existing;
    }
    if (o.state !== 'SUCCESS' && o.state !== 'REFUND') throw new PaymentError('TRADE_STATE_ERROR', '订单状态错误');
    if (total_fee !== undefined && total_fee !== o.total_fee) throw new PaymentError('INVALID_REQUEST', '订单金额或退款金额与之前请求不一致，请核实后再试');
    if (!(refund_fee > 0)) throw new PaymentError('PARAM_ERROR', '退款金额必须大于0');
    const already = (o.refunded_fee || 0) + (o.refund_pending_fee || 0);
    if (already + refund_fee > o.total_fee) throw new PaymentError('NOT_ENOUGH', '退款金额超过订单可退金额');
    const now = this.ctx.now();
    const r = {
      provider: 'wechat',
      api: api || o.api,
      out_refund_no,
      refund_id: newRefundId(),
      out_trade_no: o.out_trade_no,
      transaction_id: o.transaction_id,
      refund_fee,
      total_fee: o.total_fee,
      reason: reason || '',
      notify_url: notify_url || this.cfg.wechat.refund_notify_url || '',
      status: 'PROCESSING',
      created_at: now,
    };
    o.refund_pending_fee = (o.refund_pending_fee || 0) + refund_fee;
    o.refunds = [...(o.refunds || []), out_refund_no];
    this.state.refunds.set(key, r);
    this.state.putOrder(o);
    this.state.count('wechat.refunds');
    const delay = Math.round((this.cfg.refund_delay_seconds ?? 1) * 1000 * this.ctx.timeScale);
    const t = setTimeout(() => this.completeWechatRefund(key), delay);
    t.unref?.();
    return r;
  }

  completeWechatRefund(key, status = 'SUCCESS') {
    const r = this.state.refunds.get(key);
    if (!r || r.status !== 'PROCESSING' || this.ctx.closed) return r;
    const o = this.find('wechat', r.out_trade_no);
    const now = this.ctx.now();
    r.status = status;
    o.refund_pending_fee -= r.refund_fee;
    if (status === 'SUCCESS') {
      r.success_at = now;
      o.refunded_fee = (o.refunded_fee || 0) + r.refund_fee;
      o.state = 'REFUND';
      o.history.push({ at: now, event: 'refunded', out_refund_no: r.out_refund_no, refund_fee: r.refund_fee });
    }
    this.state.putOrder(o);
    if (r.notify_url) r.delivery = this.notifyRefund(o, r).id;
    this.state.changed();
    return r;
  }

  // ---------------- notifies ----------------
  notifyPaid(o, extra = {}) {
    if (!o.notify_url) return null;
    if (o.provider === 'alipay') return this.enqueueAlipay(o, this.alipayNotifyParams(o), extra);
    if (o.api === 'v2') {
      return this.ctx.notifier.enqueue({
        kind: 'wechat.v2.pay', event: 'pay', ack: 'wechat-v2', schedule: 'wechat', provider: 'wechat',
        out_trade_no: o.out_trade_no, url: o.notify_url,
        headers: { 'Content-Type': 'text/xml; charset=utf-8' },
        body: this.v2PayNotifyXml(o), ...extra,
      });
    }
    return this.enqueueV3(o, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', this.v3Transaction(o), extra);
  }

  notifyRefund(o, r, extra = {}) {
    if (r.api === 'v2') {
      return this.ctx.notifier.enqueue({
        kind: 'wechat.v2.refund', event: 'refund', ack: 'wechat-v2', schedule: 'wechat', provider: 'wechat',
        out_trade_no: o.out_trade_no, out_refund_no: r.out_refund_no, url: r.notify_url,
        headers: { 'Content-Type': 'text/xml; charset=utf-8' },
        body: this.v2RefundNotifyXml(o, r), ...extra,
      });
    }
    const ev = r.status === 'SUCCESS' ? 'REFUND.SUCCESS' : r.status === 'CLOSED' ? 'REFUND.CLOSED' : 'REFUND.ABNORMAL';
    const summary = r.status === 'SUCCESS' ? '退款成功' : r.status === 'CLOSED' ? '退款关闭' : '退款异常';
    return this.enqueueV3(o, ev, summary, 'refund', this.v3RefundResource(o, r), { out_refund_no: r.out_refund_no, ...extra });
  }

  v2PayNotifyFields(o) {
    const w = this.cfg.wechat;
    const f = {
      appid: o.appid, attach: o.attach || undefined, bank_type: 'OTHERS', cash_fee: o.total_fee, fee_type: 'CNY',
      is_subscribe: 'N', mch_id: w.mch_id, nonce_str: nonce(32), openid: o.openid, out_trade_no: o.out_trade_no,
      result_code: 'SUCCESS', return_code: 'SUCCESS', time_end: wxV2Time(o.paid_at), total_fee: o.total_fee,
      trade_type: o.trade_type, transaction_id: o.transaction_id,
    };
    for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
    return f;
  }

  /** v2 pay notify: signed with the order's sign type, and (as WeChat often does) without sign_type. */
  v2PayNotifyXml(o, { badSign = false } = {}) {
    const f = this.v2PayNotifyFields(o);
    f.sign = wxV2Sign(f, this.cfg.wechat.api_key, o.sign_type || 'MD5');
    if (badSign) f.sign = flipHex(f.sign);
    return buildXml(f);
  }

  v2RefundNotifyXml(o, r) {
    const w = this.cfg.wechat;
    const inner = {
      out_refund_no: r.out_refund_no, out_trade_no: o.out_trade_no, refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
      refund_fee: r.refund_fee, refund_id: r.refund_id, refund_recv_accout: '支付用户的零钱',
      refund_request_source: 'API', refund_status: r.status, settlement_refund_fee: r.refund_fee,
      settlement_total_fee: o.total_fee, success_time: r.success_at ? alipayTime(r.success_at) : undefined,
      total_fee: o.total_fee, transaction_id: o.transaction_id,
    };
    for (const k of Object.keys(inner)) if (inner[k] === undefined) delete inner[k];
    const reqInfo = refundReqInfoEncrypt(buildXml(inner, 'root'), w.api_key);
    return buildXml({ return_code: 'SUCCESS', appid: o.appid, mch_id: w.mch_id, nonce_str: nonce(32), req_info: reqInfo });
  }

  v3Transaction(o) {
    const t = {
      appid: o.appid, mchid: this.cfg.wechat.mch_id, out_trade_no: o.out_trade_no,
      transaction_id: o.transaction_id || undefined, trade_type: o.transaction_id ? o.trade_type : undefined,
      trade_state: o.state, trade_state_desc: TRADE_STATE_DESC[o.state],
      bank_type: o.transaction_id ? 'OTHERS' : undefined, attach: o.attach ?? '',
      success_time: o.paid_at ? rfc3339(o.paid_at) : undefined,
      payer: o.openid ? { openid: o.openid } : {},
      amount: o.transaction_id
        ? { total: o.total_fee, payer_total: o.total_fee, currency: 'CNY', payer_currency: 'CNY' }
        : { payer_currency: 'CNY' },
    };
    return JSON.parse(JSON.stringify(t));
  }

  v3RefundResource(o, r) {
    return JSON.parse(JSON.stringify({
      mchid: this.cfg.wechat.mch_id, out_trade_no: o.out_trade_no, transaction_id: o.transaction_id,
      out_refund_no: r.out_refund_no, refund_id: r.refund_id, refund_status: r.status,
      success_time: r.success_at ? rfc3339(r.success_at) : undefined, user_received_account: '支付用户零钱',
      amount: { total: o.total_fee, refund: r.refund_fee, payer_total: o.total_fee, payer_refund: r.refund_fee },
    }));
  }

  /** The JSON body of a v3 notify with its resource encrypted under the APIv3 key. */
  v3NotifyBody(eventType, summary, originalType, plain, createdMs) {
    const n = nonce(12);
    const aad = originalType;
    return JSON.stringify({
      id: crypto.randomUUID(),
      create_time: rfc3339(createdMs),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary,
      resource: {
        original_type: originalType,
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: aesGcmEncrypt(JSON.stringify(plain), this.cfg.wechat.apiv3_key, n, aad),
        associated_data: aad,
        nonce: n,
      },
    });
  }

  enqueueV3(o, eventType, summary, originalType, plain, extra = {}) {
    const url = extra.url || (originalType === 'refund' ? this.state.refunds.get(`wechat:${extra.out_refund_no}`)?.notify_url : o.notify_url);
    return this.ctx.notifier.enqueue({
      kind: `wechat.v3.${originalType === 'refund' ? 'refund' : 'pay'}`, event: eventType, ack: 'wechat-v3',
      schedule: 'wechat', provider: 'wechat', out_trade_no: o.out_trade_no, url,
      headers: { 'Content-Type': 'application/json' }, signer: 'wechat-v3',
      body: this.v3NotifyBody(eventType, summary, originalType, plain, this.ctx.now()), ...extra,
    });
  }

  alipayNotifyParams(o, extra = {}) {
    const a = this.cfg.alipay;
    const now = this.ctx.now();
    const p = {
      gmt_create: alipayTime(o.created_at), charset: 'utf-8', seller_email: 'sandbox-seller@example.com',
      subject: o.subject, body: o.body || undefined, buyer_id: o.buyer_id, invoice_amount: o.total_amount,
      notify_id: o.notify_id ||= newNotifyId(now), fund_bill_list: JSON.stringify([{ amount: o.total_amount, fundChannel: 'ALIPAYACCOUNT' }]),
      notify_type: 'trade_status_sync', trade_status: o.state, receipt_amount: o.total_amount,
      app_id: a.app_id, buyer_pay_amount: o.total_amount, seller_id: a.seller_id,
      gmt_payment: o.paid_at ? alipayTime(o.paid_at) : undefined, notify_time: alipayTime(now), version: '1.0',
      out_trade_no: o.out_trade_no, total_amount: o.total_amount, trade_no: o.trade_no, auth_app_id: a.app_id,
      buyer_logon_id: o.buyer_logon_id, point_amount: '0.00', passback_params: o.passback_params || undefined,
      ...extra,
    };
    for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
    return p;
  }

  /** Sign Alipay notify params (rsaCheckV1: sign and sign_type left out of the string) and form-encode. */
  alipayNotifyBody(o, params, { badSign = false } = {}) {
    const signType = o.sign_type === 'RSA' ? 'RSA' : 'RSA2';
    const p = { ...params, sign_type: signType };
    let sign = rsaSign(canonical(p, ['sign', 'sign_type']), this.cfg.alipay.alipay_private_key, signType === 'RSA' ? 'sha1' : 'sha256');
    if (badSign) sign = flipB64(sign);
    p.sign = sign;
    return new URLSearchParams(p).toString();
  }

  enqueueAlipay(o, params, extra = {}) {
    return this.ctx.notifier.enqueue({
      kind: 'alipay.notify', event: params.trade_status, ack: 'alipay', schedule: 'alipay', provider: 'alipay',
      out_trade_no: o.out_trade_no, url: o.notify_url,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: this.alipayNotifyBody(o, params), meta: { notify_id: params.notify_id }, ...extra,
    });
  }
}

export const TRADE_STATE_DESC = {
  SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '订单未支付', CLOSED: '订单已关闭', REVOKED: '已撤销（刷卡支付）',
  USERPAYING: '用户支付中', PAYERROR: '支付失败(其他原因，如银行返回失败)',
};

export function flipHex(s) {
  const c = s[0] === 'A' ? 'B' : 'A';
  return c + s.slice(1);
}
export function flipB64(s) {
  const c = s[5] === 'A' ? 'B' : 'A';
  return s.slice(0, 5) + c + s.slice(6);
}
export { fenToYuan };
