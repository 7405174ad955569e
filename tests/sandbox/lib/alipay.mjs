// Alipay open platform gateway (/gateway.do): RSA2/RSA request signatures, signed `…_response` JSON.
import { PaymentError, newAlipayTradeNo, newNotifyId } from './payments.mjs';
import { alipayCertSn, alipayRootCertSn } from './keys.mjs';
import { alipayAesDecrypt, alipayAesEncrypt, alipayTime, canonical, escapeHtml, parseAlipayTime, rsaSign, rsaVerify, send, yuanToFen, fenToYuan } from './util.mjs';

const METHODS = new Set([
  'alipay.trade.app.pay', 'alipay.trade.page.pay', 'alipay.trade.wap.pay', 'alipay.trade.query',
  'alipay.trade.close', 'alipay.trade.refund', 'alipay.open.app.alipaycert.download',
]);
const OUT_NO = /^[A-Za-z0-9_\-|*.]{1,64}$/;

export function nodeName(method) {
  return `${method.replace(/\./g, '_')}_response`;
}

/** Parse a form/query string exactly once (`+` is a space, `%2B` a plus). */
export function parseForm(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

export function alipayRoutes(ctx) {
  const { state } = ctx;
  const cfg = () => ctx.config.alipay;

  /**
   * `{"<node>":<raw node text>,"sign":"…"}` — the sign covers the node text exactly as sent. For a
   * request with encrypt_type=AES the node is the AES ciphertext of that JSON as a JSON string, and
   * the sign covers that string with its quotes (as the official SDKs verify it).
   */
  function respond(res, method, node, signType = 'RSA2', { unsigned = false, encrypted = false, certMode = false } = {}) {
    const json = JSON.stringify(node);
    const text = encrypted ? JSON.stringify(alipayAesEncrypt(json, cfg().aes_key)) : json;
    const name = method && METHODS.has(method) ? nodeName(method) : 'error_response';
    let body = `{"${name}":${text}`;
    // Certificate mode: which Alipay certificate signed (the SDKs pick the key by it).
    if (certMode && !unsigned) body += `,"alipay_cert_sn":"${sns().alipay}"`;
    if (!unsigned) body += `,"sign":"${rsaSign(text, cfg().alipay_private_key, signType === 'RSA' ? 'sha1' : 'sha256')}"`;
    body += '}';
    send(res, 200, body, { 'Content-Type': 'application/json;charset=utf-8' });
  }
  // The certificate SNs of the configured chain (computed once per certificate text).
  let snCache;
  const sns = () => {
    const a = cfg();
    if (snCache?.key !== a.app_cert + a.alipay_cert + a.root_cert)
      snCache = { key: a.app_cert + a.alipay_cert + a.root_cert, app: alipayCertSn(a.app_cert), alipay: alipayCertSn(a.alipay_cert), root: alipayRootCertSn(a.root_cert) };
    return snCache;
  };
  const ok = (extra) => ({ code: '10000', msg: 'Success', ...extra });
  const bizFail = (sub, subMsg, extra = {}) => ({ code: '40004', msg: 'Business Failed', sub_code: sub, sub_msg: subMsg, ...extra });
  const argFail = (code, sub, subMsg) => ({ code, msg: code === '40001' ? 'Missing Required Arguments' : 'Invalid Arguments', sub_code: sub, sub_msg: subMsg });

  function tradeOf(biz) {
    if (biz.trade_no) return [...state.orders.values()].find((o) => o.provider === 'alipay' && o.trade_no === biz.trade_no);
    if (biz.out_trade_no) return state.getOrder('alipay', biz.out_trade_no);
    return undefined;
  }

  function createTrade(p, biz, method) {
    if (!biz.out_trade_no || !OUT_NO.test(biz.out_trade_no)) return [bizFail('ACQ.INVALID_PARAMETER', '参数无效: out_trade_no')];
    if (!biz.subject) return [bizFail('ACQ.INVALID_PARAMETER', '参数无效: subject')];
    const fen = yuanToFen(biz.total_amount);
    if (!(fen >= 1 && fen <= 10_000_000_000)) return [bizFail('ACQ.INVALID_PARAMETER', '参数无效: total_amount')];
    const amount = fenToYuan(fen);
    let o = state.getOrder('alipay', biz.out_trade_no);
    const now = ctx.now();
    if (o) {
      if (o.state === 'TRADE_SUCCESS' || o.state === 'TRADE_FINISHED') return [bizFail('ACQ.TRADE_HAS_SUCCESS', '交易已被支付')];
      if (o.state === 'TRADE_CLOSED') return [bizFail('ACQ.TRADE_HAS_CLOSE', '交易已经关闭')];
      if (o.total_amount !== amount || o.subject !== biz.subject) return [bizFail('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改')];
      if (p.notify_url) o.notify_url = p.notify_url;
      if (p.return_url) o.return_url = p.return_url;
    } else {
      o = {
        provider: 'alipay', api: 'alipay', method, out_trade_no: biz.out_trade_no, trade_no: newAlipayTradeNo(now),
        total_amount: amount, total_fee: fen, subject: biz.subject, body: biz.body, product_code: biz.product_code,
        passback_params: biz.passback_params, notify_url: p.notify_url || '', return_url: p.return_url || '',
        sign_type: p.sign_type, app_id: p.app_id, state: 'WAIT_BUYER_PAY', refund_fee: '0.00', refunded_fen: 0,
        out_request_nos: {}, created_at: now, history: [{ at: now, event: 'created' }],
      };
    }
    state.putOrder(o);
    state.count(`alipay.${method.split('.').pop()}`);
    return [null, o];
  }

  function query(o) {
    const paid = o.state !== 'WAIT_BUYER_PAY' && !!o.paid_at;
    return ok({
      trade_no: o.trade_no, out_trade_no: o.out_trade_no, buyer_logon_id: o.buyer_logon_id, trade_status: o.state,
      total_amount: o.total_amount, buyer_pay_amount: paid ? o.total_amount : '0.00', point_amount: '0.00',
      invoice_amount: paid ? o.total_amount : '0.00', send_pay_date: paid ? alipayTime(o.paid_at) : undefined,
      receipt_amount: paid ? o.total_amount : '0.00', buyer_user_id: o.buyer_id, buyer_user_type: o.buyer_id ? 'PRIVATE' : undefined,
    });
  }

  function refund(o, biz) {
    const fen = yuanToFen(biz.refund_amount);
    if (!(fen >= 1)) return bizFail('ACQ.INVALID_PARAMETER', '参数无效: refund_amount');
    const reqNo = biz.out_request_no || o.out_trade_no;
    const done = o.out_request_nos[reqNo];
    const base = { trade_no: o.trade_no, out_trade_no: o.out_trade_no, buyer_logon_id: o.buyer_logon_id, buyer_user_id: o.buyer_id };
    if (done) {
      if (done.fen !== fen) return bizFail('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
      return ok({ ...base, fund_change: 'N', refund_fee: o.refund_fee, gmt_refund_pay: alipayTime(done.at), send_back_fee: '0.00' });
    }
    if (o.state === 'WAIT_BUYER_PAY') return bizFail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    if (o.state === 'TRADE_CLOSED') return bizFail('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (o.refunded_fen + fen > o.total_fee) return bizFail('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
    const now = ctx.now();
    o.refunded_fen += fen;
    o.refund_fee = fenToYuan(o.refunded_fen);
    o.out_request_nos[reqNo] = { fen, at: now };
    if (o.refunded_fen === o.total_fee) o.state = 'TRADE_CLOSED';
    o.history.push({ at: now, event: 'refunded', out_request_no: reqNo, refund_amount: fenToYuan(fen) });
    state.putOrder(o);
    state.count('alipay.refunds');
    if (o.notify_url) {
      const params = ctx.payments.alipayNotifyParams(o, {
        notify_id: newNotifyId(now), refund_fee: o.refund_fee, gmt_refund: `${alipayTime(now)}.000`, out_biz_no: reqNo,
        gmt_close: o.state === 'TRADE_CLOSED' ? alipayTime(now) : undefined,
      });
      for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
      ctx.payments.enqueueAlipay(o, params);
    }
    return ok({ ...base, fund_change: 'Y', refund_fee: o.refund_fee, gmt_refund_pay: alipayTime(now), send_back_fee: o.refund_fee });
  }

  /** Check app id, method, sign type, timestamp and the request signature; parse biz_content. */
  function verify(p) {
    const method = p.method;
    const fail = (m, error, signType = 'RSA2', opts = {}) => ({ method: m, error, signType, unsigned: !!opts.unsigned });
    if (!p.app_id) return fail(method, argFail('40001', 'isv.missing-app-id', '缺少AppID参数'), 'RSA2', { unsigned: true });
    if (p.app_id !== cfg().app_id) return fail(method, argFail('40002', 'isv.invalid-app-id', '无效的AppID参数'), 'RSA2', { unsigned: true });
    if (!method) return fail(null, argFail('40001', 'isv.missing-method', '缺少方法名参数'), 'RSA2', { unsigned: true });
    if (!METHODS.has(method)) return fail(null, argFail('40002', 'isv.invalid-method', '不存在的方法名'), 'RSA2', { unsigned: true });
    const signType = p.sign_type;
    // Public-key certificate mode: a request naming certificates must name this app's certificate and
    // the root bundle's SN (error codes as the real gateway's: alipay-sdk-nodejs-all#56, yansongda/pay#491).
    const certMode = p.app_cert_sn !== undefined || p.alipay_root_cert_sn !== undefined;
    if (certMode) {
      state.count('alipay.cert_mode_requests');
      if (p.app_cert_sn !== sns().app) return { ...fail(method, argFail('40002', 'isv.app-cert-not-exist', '应用公钥证书不存在'), signType || 'RSA2'), certMode };
      if (p.alipay_root_cert_sn !== sns().root) return { ...fail(method, argFail('40002', 'isv.invalid-alipay-root-cert-sn', '无效支付宝根证书序列号'), signType || 'RSA2'), certMode };
    }
    if (!signType) return fail(method, argFail('40001', 'isv.missing-signature-type', '缺少签名类型参数'));
    if (signType !== 'RSA2' && signType !== 'RSA') return fail(method, argFail('40002', 'isv.invalid-signature-type', '无效签名类型'));
    if (!p.sign) return fail(method, argFail('40001', 'isv.missing-signature', '缺少签名参数'), signType);
    if (!p.timestamp) return fail(method, argFail('40001', 'isv.missing-timestamp', '缺少时间戳参数'), signType);
    const ts = parseAlipayTime(p.timestamp);
    const window = (cfg().timestamp_window_seconds ?? 900) * 1000;
    if (Number.isNaN(ts) || Math.abs(ctx.now() - ts) > window)
      return fail(method, argFail('40002', 'isv.invalid-timestamp', '非法的时间戳参数'), signType);
    if (p.version && p.version !== '1.0') return fail(method, argFail('40002', 'isv.invalid-version', '无效的版本号'), signType);
    const signed = canonical(p, ['sign']);
    if (!rsaVerify(signed, p.sign, cfg().app_public_key, signType === 'RSA' ? 'sha1' : 'sha256')) {
      state.count('alipay.sign_errors');
      return fail(method, argFail('40002', 'isv.invalid-signature',
        `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${signed}`), signType);
    }
    // encrypt_type=AES: biz_content is the AES ciphertext (signed as sent: encrypt, then sign).
    const encrypted = p.encrypt_type !== undefined;
    if (encrypted && p.encrypt_type !== 'AES') return fail(method, argFail('40002', 'isv.invalid-encrypt-type', '无效的加密类型'), signType);
    let bizText = p.biz_content;
    if (encrypted) state.count('alipay.encrypted_requests');
    if (encrypted && bizText) {
      try {
        bizText = alipayAesDecrypt(bizText, cfg().aes_key);
      } catch {
        state.count('alipay.decrypt_errors');
        return fail(method, argFail('40002', 'isv.decryption-error', '解密出错, 请检查加密密钥'), signType);
      }
    }
    let biz = {};
    if (bizText) {
      try {
        biz = JSON.parse(bizText);
      } catch {
        // Garbage from a wrong key can pass the padding check (1 in 256): still a decryption error.
        if (encrypted) return fail(method, argFail('40002', 'isv.decryption-error', '解密出错, 请检查加密密钥'), signType);
        return fail(method, argFail('40002', 'isv.invalid-parameter', '参数无效: biz_content不是合法的JSON'), signType);
      }
    }
    return { method, signType, biz, encrypted, certMode };
  }

  async function gateway(req, res, body) {
    const url = new URL(req.url, 'http://x');
    const p = parseForm(url.search.slice(1));
    const ct = String(req.headers['content-type'] || '');
    if (req.method === 'POST' && body.length) {
      if (ct && !ct.includes('application/x-www-form-urlencoded') && !ct.startsWith('text/plain'))
        return respond(res, null, argFail('40002', 'isv.invalid-content-type', '仅支持application/x-www-form-urlencoded'), 'RSA2', { unsigned: true });
      Object.assign(p, parseForm(body.toString('utf8')));
    }
    const method = p.method;
    state.count('alipay.gateway');
    const v = verify(p);
    if (v.error) return respond(res, v.method, v.error, v.signType, { unsigned: v.unsigned, certMode: v.certMode });
    const { signType, biz } = v;
    const enc = { encrypted: v.encrypted, certMode: v.certMode };
    if (method === 'alipay.trade.page.pay' || method === 'alipay.trade.wap.pay') {
      const [errNode, o] = createTrade(p, biz, method);
      if (errNode) return send(res, 200, errorPage(errNode), { 'Content-Type': 'text/html; charset=utf-8' });
      return send(res, 200, cashierPage(o, ctx), { 'Content-Type': 'text/html; charset=utf-8' });
    }
    if (method === 'alipay.trade.app.pay') {
      const [errNode, o] = createTrade(p, biz, method);
      if (errNode) return respond(res, method, errNode, signType, enc);
      return respond(res, method, ok({ out_trade_no: o.out_trade_no, trade_no: o.trade_no, total_amount: o.total_amount, seller_id: cfg().seller_id, merchant_order_no: o.out_trade_no }), signType, enc);
    }
    if (method === 'alipay.open.app.alipaycert.download') {
      // The Alipay public certificate with this SN (current or rotated out), base64 of the PEM file.
      state.count('alipay.cert_downloads');
      const a = cfg();
      const pem = [a.alipay_cert, ...(a.alipay_cert_history || [])].find((c) => alipayCertSn(c) === biz.alipay_cert_sn);
      if (!pem) return respond(res, method, bizFail('isv.alipay-cert-not-exist', '支付宝公钥证书不存在'), signType, enc);
      return respond(res, method, ok({ alipay_cert_content: Buffer.from(pem, 'utf8').toString('base64') }), signType, enc);
    }
    if (!biz.out_trade_no && !biz.trade_no)
      return respond(res, method, bizFail('ACQ.INVALID_PARAMETER', '参数无效: out_trade_no 和 trade_no 不能同时为空'), signType, enc);
    const o = tradeOf(biz);
    if (method === 'alipay.trade.query') {
      state.count('alipay.query');
      if (!o) return respond(res, method, bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在', { buyer_pay_amount: '0.00', invoice_amount: '0.00', out_trade_no: biz.out_trade_no, point_amount: '0.00', receipt_amount: '0.00' }), signType, enc);
      return respond(res, method, query(o), signType, enc);
    }
    if (method === 'alipay.trade.close') {
      state.count('alipay.close');
      if (!o) return respond(res, method, bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在'), signType, enc);
      try {
        ctx.payments.close('alipay', o.out_trade_no);
      } catch (e) {
        if (!(e instanceof PaymentError)) throw e;
        return respond(res, method, bizFail(e.code, e.message), signType, enc);
      }
      return respond(res, method, ok({ trade_no: o.trade_no, out_trade_no: o.out_trade_no }), signType, enc);
    }
    if (method === 'alipay.trade.refund') {
      if (!o) return respond(res, method, bizFail('ACQ.TRADE_NOT_EXIST', '交易不存在'), signType, enc);
      return respond(res, method, refund(o, biz), signType, enc);
    }
  }

  return { gateway, verify, refund, createTrade, respond };
}

/** Sync return parameters for page/wap pay, signed like a notify (rsaCheckV1). */
export function returnParams(ctx, o) {
  const a = ctx.config.alipay;
  const p = {
    charset: 'utf-8', out_trade_no: o.out_trade_no, method: `${o.method}.return`, total_amount: o.total_amount,
    trade_no: o.trade_no, auth_app_id: a.app_id, version: '1.0', app_id: a.app_id, seller_id: a.seller_id,
    timestamp: alipayTime(ctx.now()),
  };
  const signType = o.sign_type === 'RSA' ? 'RSA' : 'RSA2';
  p.sign = rsaSign(canonical(p, ['sign', 'sign_type']), a.alipay_private_key, signType === 'RSA' ? 'sha1' : 'sha256');
  p.sign_type = signType;
  return p;
}

function errorPage(node) {
  return `<!doctype html><meta charset="utf-8"><title>支付宝 - 错误</title><h1>${escapeHtml(node.sub_code)}</h1><p>${escapeHtml(node.sub_msg)}</p>`;
}

export function cashierPage(o, ctx, { provider = 'alipay', redirect = '' } = {}) {
  const amount = provider === 'alipay' ? o.total_amount : fenToYuan(o.total_fee);
  const title = provider === 'alipay' ? '支付宝收银台 (sandbox)' : '微信支付 (sandbox)';
  const action = `/_sandbox/cashier/${provider}/submit`;
  const hidden = `<input type="hidden" name="out_trade_no" value="${escapeHtml(o.out_trade_no)}">` +
    (redirect ? `<input type="hidden" name="redirect_url" value="${escapeHtml(redirect)}">` : '');
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>body{font-family:sans-serif;max-width:420px;margin:2em auto;padding:0 1em}
.amt{font-size:2em;margin:.5em 0}button{font-size:1.1em;padding:.6em 1.4em;margin-right:.6em}</style></head><body>
<h1>${title}</h1><p id="subject">${escapeHtml(o.subject || o.description)}</p><p class="amt" id="amount">¥${amount}</p>
<p>订单号 <code>${escapeHtml(o.out_trade_no)}</code></p>
<form method="post" action="${action}">${hidden}<button name="action" value="pay" id="pay">Pay</button>
<button name="action" value="cancel" id="cancel">Cancel</button></form></body></html>`;
}
