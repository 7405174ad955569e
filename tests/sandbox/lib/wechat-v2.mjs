// WeChat Pay API v2: XML bodies, MD5 / HMAC-SHA256 signatures.
import crypto from 'node:crypto';
import { PaymentError, TRADE_STATE_DESC } from './payments.mjs';
import { alipayTime, buildXml, nonce, parseXml, safeEqual, sendXml, wxV2Sign, wxV2Time } from './util.mjs';

const OUT_NO = /^[A-Za-z0-9_\-|*@]{1,32}$/;
const TRADE_TYPES = ['JSAPI', 'NATIVE', 'APP', 'MWEB'];

function fail(res, msg) {
  sendXml(res, 200, buildXml({ return_code: 'FAIL', return_msg: msg }));
}

export function v2Routes(ctx) {
  const { state } = ctx;
  const cfg = () => ctx.config.wechat;

  /** Parse, check appid/mch_id and the request sign; returns {p, signType} or null after answering. */
  function checkRequest(req, res, body) {
    if (req.method !== 'POST') return fail(res, '请使用post方法'), null;
    let p;
    try {
      p = parseXml(body.toString('utf8'));
    } catch (e) {
      return fail(res, 'XML格式错误'), null;
    }
    const signType = p.sign_type || 'MD5';
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') return fail(res, 'sign_type参数格式错误'), null;
    for (const k of ['appid', 'mch_id', 'nonce_str', 'sign']) if (!p[k]) return fail(res, `缺少参数${k}`), null;
    if (p.mch_id !== cfg().mch_id) return fail(res, 'mch_id参数格式错误'), null;
    const expected = wxV2Sign(p, cfg().api_key, signType);
    if (!safeEqual(expected, p.sign)) {
      state.count('wechat.v2.sign_errors');
      return fail(res, '签名错误'), null;
    }
    if (p.appid !== cfg().appid && p.appid !== cfg().miniprogram_appid) {
      reply(res, p, signType, { result_code: 'FAIL', err_code: 'APPID_MCHID_NOT_MATCH', err_code_des: 'appid和mch_id不匹配' });
      return null;
    }
    return { p, signType };
  }

  /** A signed answer, signed with the request's sign type. */
  function reply(res, p, signType, fields) {
    const out = { return_code: 'SUCCESS', return_msg: 'OK', appid: p.appid, mch_id: cfg().mch_id, nonce_str: nonce(32), ...fields };
    for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === null) delete out[k];
    out.sign = wxV2Sign(out, cfg().api_key, signType);
    sendXml(res, 200, buildXml(out));
  }
  function bizFail(res, p, signType, code, des) {
    reply(res, p, signType, { result_code: 'FAIL', err_code: code, err_code_des: des });
  }

  function findOrder(p) {
    if (p.transaction_id) return state.orderByTransaction('wechat', p.transaction_id);
    if (p.out_trade_no) return state.getOrder('wechat', p.out_trade_no);
    return undefined;
  }

  const routes = {};

  routes['/pay/unifiedorder'] = async (req, res, body) => {
    const c = checkRequest(req, res, body);
    if (!c) return;
    const { p, signType } = c;
    for (const k of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type'])
      if (!p[k]) return fail(res, `缺少参数${k}`);
    if (!OUT_NO.test(p.out_trade_no)) return fail(res, 'out_trade_no参数格式错误');
    if (!/^[1-9]\d{0,9}$/.test(p.total_fee)) return fail(res, 'total_fee参数格式错误');
    if (!TRADE_TYPES.includes(p.trade_type)) return fail(res, 'trade_type参数格式错误');
    if (p.trade_type === 'JSAPI' && !p.openid) return fail(res, 'JSAPI支付必须传openid');
    if (!/^https?:\/\//.test(p.notify_url)) return fail(res, 'notify_url参数格式错误');
    const total = Number(p.total_fee);
    const fingerprint = JSON.stringify([total, p.body, p.trade_type, p.openid || '']);
    const now = ctx.now();
    let o = state.getOrder('wechat', p.out_trade_no);
    if (o) {
      if (o.state === 'SUCCESS' || o.state === 'REFUND') return bizFail(res, p, signType, 'ORDERPAID', '该订单已支付');
      if (o.state === 'CLOSED') return bizFail(res, p, signType, 'ORDERCLOSED', '该订单已关闭');
      if (o.fingerprint !== fingerprint) return bizFail(res, p, signType, 'OUT_TRADE_NO_USED', '商户订单号重复');
      if (o.prepay_expires_at <= now) {
        o.prepay_id = newPrepayId(now);
        o.prepay_expires_at = now + 2 * 3600 * 1000;
      }
      o.notify_url = p.notify_url;
      o.sign_type = signType;
    } else {
      o = {
        provider: 'wechat', api: 'v2', out_trade_no: p.out_trade_no, trade_type: p.trade_type, total_fee: total,
        description: p.body, attach: p.attach, notify_url: p.notify_url, appid: p.appid, mch_id: p.mch_id,
        openid: p.openid || '', sign_type: signType, prepay_id: newPrepayId(now), prepay_expires_at: now + 2 * 3600 * 1000,
        spbill_create_ip: p.spbill_create_ip, state: 'NOTPAY', fingerprint, created_at: now, history: [{ at: now, event: 'created' }],
      };
    }
    if (o.trade_type === 'NATIVE') o.code_url ||= `weixin://wxpay/bizpayurl?pr=${nonce(7)}`;
    if (o.trade_type === 'MWEB') o.mweb_url = `${ctx.baseUrl()}/_sandbox/cashier/wechat?prepay_id=${o.prepay_id}`;
    state.putOrder(o);
    state.count('wechat.v2.unifiedorder');
    reply(res, p, signType, {
      device_info: p.device_info, result_code: 'SUCCESS', prepay_id: o.prepay_id, trade_type: o.trade_type,
      code_url: o.trade_type === 'NATIVE' ? o.code_url : undefined, mweb_url: o.trade_type === 'MWEB' ? o.mweb_url : undefined,
    });
  };

  routes['/pay/orderquery'] = async (req, res, body) => {
    const c = checkRequest(req, res, body);
    if (!c) return;
    const { p, signType } = c;
    if (!p.transaction_id && !p.out_trade_no) return fail(res, '缺少参数out_trade_no');
    const o = findOrder(p);
    state.count('wechat.v2.orderquery');
    if (!o) return bizFail(res, p, signType, 'ORDERNOTEXIST', '此交易订单号不存在');
    const paid = !!o.transaction_id;
    reply(res, p, signType, {
      result_code: 'SUCCESS', out_trade_no: o.out_trade_no, attach: o.attach, total_fee: o.total_fee, trade_state: o.state,
      trade_state_desc: TRADE_STATE_DESC[o.state],
      ...(paid
        ? {
            openid: o.openid, is_subscribe: 'N', trade_type: o.trade_type, bank_type: 'OTHERS', cash_fee: o.total_fee,
            fee_type: 'CNY', transaction_id: o.transaction_id, time_end: wxV2Time(o.paid_at),
          }
        : {}),
    });
  };

  routes['/pay/closeorder'] = async (req, res, body) => {
    const c = checkRequest(req, res, body);
    if (!c) return;
    const { p, signType } = c;
    if (!p.out_trade_no) return fail(res, '缺少参数out_trade_no');
    state.count('wechat.v2.closeorder');
    // Like the real API, closing an unknown order number answers SUCCESS.
    if (state.getOrder('wechat', p.out_trade_no)) {
      try {
        ctx.payments.close('wechat', p.out_trade_no);
      } catch (e) {
        if (e instanceof PaymentError) return bizFail(res, p, signType, e.code, e.message);
        throw e;
      }
    }
    reply(res, p, signType, { result_code: 'SUCCESS', result_msg: 'OK' });
  };

  routes['/secapi/pay/refund'] = async (req, res, body) => {
    const c = checkRequest(req, res, body);
    if (!c) return;
    const { p, signType } = c;
    for (const k of ['out_refund_no', 'total_fee', 'refund_fee']) if (!p[k]) return fail(res, `缺少参数${k}`);
    if (!p.transaction_id && !p.out_trade_no) return fail(res, '缺少参数out_trade_no');
    if (!OUT_NO.test(p.out_refund_no) || p.out_refund_no.length > 64) return fail(res, 'out_refund_no参数格式错误');
    if (!/^\d+$/.test(p.total_fee) || !/^\d+$/.test(p.refund_fee)) return fail(res, 'total_fee参数格式错误');
    const o = findOrder(p);
    state.count('wechat.v2.refund');
    if (!o) return bizFail(res, p, signType, 'ORDERNOTEXIST', '订单不存在');
    let r;
    try {
      r = ctx.payments.refundWechat(o, {
        out_refund_no: p.out_refund_no, refund_fee: Number(p.refund_fee), total_fee: Number(p.total_fee),
        reason: p.refund_desc, notify_url: p.notify_url, api: 'v2',
      });
    } catch (e) {
      if (!(e instanceof PaymentError)) throw e;
      const code = e.code === 'NOT_ENOUGH' || e.code === 'PARAM_ERROR' ? 'INVALID_REQUEST' : e.code;
      return bizFail(res, p, signType, code, e.message);
    }
    reply(res, p, signType, {
      result_code: 'SUCCESS', transaction_id: o.transaction_id, out_trade_no: o.out_trade_no, out_refund_no: r.out_refund_no,
      refund_id: r.refund_id, refund_fee: r.refund_fee, settlement_refund_fee: r.refund_fee, total_fee: o.total_fee,
      settlement_total_fee: o.total_fee, fee_type: 'CNY', cash_fee: o.total_fee, cash_refund_fee: r.refund_fee, refund_channel: '',
    });
  };

  routes['/pay/refundquery'] = async (req, res, body) => {
    const c = checkRequest(req, res, body);
    if (!c) return;
    const { p, signType } = c;
    state.count('wechat.v2.refundquery');
    let list = [];
    let o;
    if (p.refund_id || p.out_refund_no) {
      const r = [...state.refunds.values()].find(
        (x) => x.provider === 'wechat' && (p.refund_id ? x.refund_id === p.refund_id : x.out_refund_no === p.out_refund_no),
      );
      if (r) {
        list = [r];
        o = state.getOrder('wechat', r.out_trade_no);
      }
    } else if (p.transaction_id || p.out_trade_no) {
      o = findOrder(p);
      if (o) list = (o.refunds || []).map((n) => state.refunds.get(`wechat:${n}`)).filter(Boolean);
    } else return fail(res, '缺少参数out_refund_no');
    if (!o || !list.length) return bizFail(res, p, signType, 'REFUNDNOTEXIST', '退款订单查询失败');
    const f = {
      result_code: 'SUCCESS', transaction_id: o.transaction_id, out_trade_no: o.out_trade_no, total_fee: o.total_fee,
      settlement_total_fee: o.total_fee, fee_type: 'CNY', cash_fee: o.total_fee, refund_count: list.length,
    };
    list.forEach((r, i) => {
      Object.assign(f, {
        [`out_refund_no_${i}`]: r.out_refund_no, [`refund_id_${i}`]: r.refund_id, [`refund_channel_${i}`]: 'ORIGINAL',
        [`refund_fee_${i}`]: r.refund_fee, [`settlement_refund_fee_${i}`]: r.refund_fee,
        [`refund_status_${i}`]: r.status === 'CLOSED' ? 'REFUNDCLOSE' : r.status, [`refund_account_${i}`]: 'REFUND_SOURCE_RECHARGE_FUNDS',
        [`refund_recv_accout_${i}`]: '支付用户的零钱',
        [`refund_success_time_${i}`]: r.success_at ? alipayTime(r.success_at) : undefined,
      });
    });
    reply(res, p, signType, f);
  };

  return routes;
}

export function newPrepayId(now) {
  return `wx${wxV2Time(now)}${crypto.randomBytes(10).toString('hex')}`;
}
