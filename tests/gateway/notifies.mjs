// Signed provider notifies built here with node:crypto (through the emulator's helpers), as WeChat
// Pay and Alipay would send them, for an order the gateway created. Used by the hostile-input tests
// and the load scripts (scripts/bench-gateway-storm.mjs, scripts/bench-gateway-cpu.mjs).
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { buildXml, wxV2Sign, aesGcmEncrypt, nonce, wxV2Time, rfc3339, canonical, rsaSign, alipayTime } from '../sandbox/lib/util.mjs';

let txSeq = 0;
const txid = () => `4200${Date.now()}${String(txSeq++ % 1e6).padStart(6, '0')}`.slice(0, 28);

/** v2 pay notify fields for a gateway order (`{no, amount}`), before signing; `over` overrides fields. */
export function v2Fields(emu, { no, amount }, over = {}) {
  const w = emu.config.wechat;
  const f = {
    appid: w.appid, bank_type: 'OTHERS', cash_fee: amount, fee_type: 'CNY', is_subscribe: 'N', mch_id: w.mch_id,
    nonce_str: nonce(32), openid: w.payer_openid, out_trade_no: no, result_code: 'SUCCESS', return_code: 'SUCCESS',
    time_end: wxV2Time(Date.now()), total_fee: amount, trade_type: 'JSAPI', transaction_id: txid(), ...over,
  };
  for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
  return f;
}

/** A signed v2 pay notify body (HMAC-SHA256 with the merchant API key). */
export function v2Notify(emu, order, over = {}, { signType = 'HMAC-SHA256' } = {}) {
  const f = v2Fields(emu, order, over);
  f.sign = wxV2Sign(f, emu.config.wechat.api_key, signType);
  return buildXml(f);
}

/** The v3 transaction resource for a gateway order. */
export function v3Transaction(emu, { no, amount }, over = {}) {
  const w = emu.config.wechat;
  return {
    appid: w.appid, mchid: w.mch_id, out_trade_no: no, transaction_id: txid(), trade_type: 'JSAPI',
    trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '',
    success_time: rfc3339(Date.now()), payer: { openid: w.payer_openid },
    amount: { total: amount, payer_total: amount, currency: 'CNY', payer_currency: 'CNY' }, ...over,
  };
}

/** A v3 notify body: the resource encrypted with the APIv3 key (AES-256-GCM). */
export function v3Body(emu, resource, { eventType = 'TRANSACTION.SUCCESS', originalType = 'transaction' } = {}) {
  const n = nonce(12);
  return JSON.stringify({
    id: randomUUID(), create_time: rfc3339(Date.now()), resource_type: 'encrypt-resource', event_type: eventType,
    summary: '支付成功',
    resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: aesGcmEncrypt(JSON.stringify(resource), emu.config.wechat.apiv3_key, n, originalType), associated_data: originalType, nonce: n },
  });
}

/** Wechatpay-* headers signing `body` (string or Buffer) with the emulator's active platform key. */
export function v3Headers(emu, body, { timestamp = Math.floor(Date.now() / 1000), signature } = {}) {
  const k = emu.ctx.platform.active();
  const ts = String(timestamp);
  const n = randomBytes(16).toString('hex');
  const sig = signature ?? createSign('RSA-SHA256').update(`${ts}\n${n}\n`).update(body).update('\n').sign(k.privateKey, 'base64');
  return { 'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': n, 'wechatpay-signature': sig, 'wechatpay-serial': k.serial, 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048' };
}

/** Alipay notify parameters for a gateway order (`amount` in fen). */
export function alipayParams(emu, { no, amount }, over = {}) {
  const a = emu.config.alipay;
  const yuan = (amount / 100).toFixed(2);
  return {
    gmt_create: alipayTime(Date.now()), charset: 'utf-8', notify_id: randomBytes(12).toString('hex'), notify_type: 'trade_status_sync',
    notify_time: alipayTime(Date.now()), trade_status: 'TRADE_SUCCESS', app_id: a.app_id, auth_app_id: a.app_id, seller_id: a.seller_id,
    out_trade_no: no, total_amount: yuan, receipt_amount: yuan, buyer_pay_amount: yuan, trade_no: `2026${Date.now()}${txSeq++}`,
    gmt_payment: alipayTime(Date.now()), version: '1.0', ...over,
  };
}

/** Signs Alipay notify pairs (RSA2, rsaCheckV1: `sign` and `sign_type` left out) with the emulator's Alipay key.
 *  `pairs` is an array of [key, value] so a key can repeat; returns the form body. */
export function alipayForm(emu, pairs) {
  const all = [...pairs, ['sign_type', 'RSA2']];
  const message = all.filter(([k, v]) => k !== 'sign' && k !== 'sign_type' && v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const sign = rsaSign(message, emu.config.alipay.alipay_private_key, 'sha256');
  return new URLSearchParams([...all, ['sign', sign]]).toString();
}

export { canonical };
