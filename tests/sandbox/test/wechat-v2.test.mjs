import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { start, v2Call, v2Sign, fromXml, nonceStr, receiver, V2_OK, control, waitNotify, toXml } from './helpers.mjs';

let emu;
let rx;
before(async () => {
  emu = await start();
  rx = await receiver((req) => ({ status: 200, body: V2_OK }));
});
after(async () => {
  await emu.close();
  await rx.close();
});

const base = () => ({ appid: emu.config.wechat.appid, mch_id: emu.config.wechat.mch_id, nonce_str: nonceStr() });
const order = (no, extra = {}) => ({
  ...base(), body: '测试商品', out_trade_no: no, total_fee: '101', spbill_create_ip: '127.0.0.1',
  notify_url: rx.url, trade_type: 'JSAPI', openid: emu.config.wechat.payer_openid, ...extra,
});

test('official v2 sign vector (WeChat Pay signature doc, WxJava SignUtilsTest) matches the test client', () => {
  const p = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' };
  assert.equal(v2Sign(p, '192006250b4c09247ec02edce69f6a2d'), '9A0A8659F005D6984697E2CA0A9CF3B7');
  assert.equal(v2Sign(p, '192006250b4c09247ec02edce69f6a2d', 'HMAC-SHA256'), '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6');
});

for (const signType of ['MD5', 'HMAC-SHA256']) {
  test(`unifiedorder with ${signType}: signed answer with the same sign type, prepay_id`, async () => {
    const r = await v2Call(emu, '/pay/unifiedorder', order(`V2${signType.slice(0, 4)}${Date.now()}`), { signType });
    assert.equal(r.x.return_code, 'SUCCESS', r.text);
    assert.equal(r.x.result_code, 'SUCCESS', r.text);
    assert.match(r.x.prepay_id, /^wx\d{14}[0-9a-f]{20}$/);
    assert.equal(r.x.trade_type, 'JSAPI');
    assert.equal(r.x.sign.length, signType === 'MD5' ? 32 : 64);
    assert.equal(r.x.sign, v2Sign(r.x, emu.config.wechat.api_key, signType));
    assert.ok(!('sign_type' in r.x));
  });
}

test('wrong key → return_code FAIL 签名错误, unsigned', async () => {
  const r = await v2Call(emu, '/pay/unifiedorder', order(`V2BAD${Date.now()}`), { key: 'x'.repeat(32) });
  assert.equal(r.x.return_code, 'FAIL');
  assert.equal(r.x.return_msg, '签名错误');
  assert.ok(!r.x.sign);
  // HMAC sign sent while sign_type says MD5 (sign_type absent) is also a wrong signature
  const p = order(`V2MIX${Date.now()}`);
  p.sign = v2Sign(p, emu.config.wechat.api_key, 'HMAC-SHA256');
  const r2 = await v2Call(emu, '/pay/unifiedorder', p, { raw: toXml(p) });
  assert.equal(r2.x.return_msg, '签名错误');
});

test('XML with a DOCTYPE / entity is refused (no XXE)', async () => {
  const raw = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><appid>&e;</appid></xml>';
  const r = await v2Call(emu, '/pay/unifiedorder', {}, { raw });
  assert.equal(r.x.return_code, 'FAIL');
  assert.equal(r.x.return_msg, 'XML格式错误');
});

test('JSAPI without openid is refused; NATIVE gives code_url; MWEB gives mweb_url', async () => {
  const p = order(`V2NOOID${Date.now()}`);
  delete p.openid;
  assert.equal((await v2Call(emu, '/pay/unifiedorder', p)).x.return_msg, 'JSAPI支付必须传openid');
  const n = await v2Call(emu, '/pay/unifiedorder', { ...order(`V2NAT${Date.now()}`), trade_type: 'NATIVE', openid: '' });
  assert.match(n.x.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  const m = await v2Call(emu, '/pay/unifiedorder', { ...order(`V2MWEB${Date.now()}`), trade_type: 'MWEB', openid: '' });
  assert.match(m.x.mweb_url, /\/_sandbox\/cashier\/wechat\?prepay_id=wx/);
  const page = await fetch(m.x.mweb_url).then((x) => x.text());
  assert.match(page, /id="pay"/);
});

test('same out_trade_no: same params → same prepay_id; other amount → OUT_TRADE_NO_USED', async () => {
  const no = `V2DUP${Date.now()}`;
  const a = await v2Call(emu, '/pay/unifiedorder', order(no));
  const b = await v2Call(emu, '/pay/unifiedorder', order(no));
  assert.equal(a.x.prepay_id, b.x.prepay_id);
  const c = await v2Call(emu, '/pay/unifiedorder', order(no, { total_fee: '102' }));
  assert.equal(c.x.return_code, 'SUCCESS');
  assert.equal(c.x.result_code, 'FAIL');
  assert.equal(c.x.err_code, 'OUT_TRADE_NO_USED');
  assert.equal(c.x.sign, v2Sign(c.x, emu.config.wechat.api_key));
});

test('full v2 JSAPI flow: order, client paySign check, pay, signed notify (HMAC, no sign_type), query, ORDERPAID', async () => {
  const no = `V2FLOW${Date.now()}`;
  const key = emu.config.wechat.api_key;
  const u = await v2Call(emu, '/pay/unifiedorder', order(no), { signType: 'HMAC-SHA256' });
  const pay = { appId: emu.config.wechat.appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: nonceStr(), package: `prepay_id=${u.x.prepay_id}`, signType: 'HMAC-SHA256' };
  pay.paySign = v2Sign(pay, key, 'HMAC-SHA256');
  // wrong case of a key (timestamp instead of timeStamp) breaks the paySign
  const bad = { ...pay, paySign: v2Sign({ ...pay, timestamp: pay.timeStamp, timeStamp: undefined }, key, 'HMAC-SHA256') };
  const rb = await control(emu, 'POST', '/_sandbox/wechat/client-pay', { kind: 'jsapi', params: bad, action: 'pay' });
  assert.equal(rb.json.ok, false);
  assert.equal(rb.json.err_msg, 'get_brand_wcpay_request:fail');
  // milliseconds instead of seconds are refused too
  const ms = { ...pay, timeStamp: String(Date.now()) };
  ms.paySign = v2Sign({ ...ms, paySign: undefined }, key, 'HMAC-SHA256');
  assert.equal((await control(emu, 'POST', '/_sandbox/wechat/client-pay', { kind: 'jsapi', params: ms, action: 'check' })).json.ok, false);
  const r = await control(emu, 'POST', '/_sandbox/wechat/client-pay', { kind: 'jsapi', params: pay, action: 'pay' });
  assert.equal(r.json.err_msg, 'get_brand_wcpay_request:ok', JSON.stringify(r.json));
  const d = await waitNotify(emu, r.json.delivery);
  assert.equal(d.status, 'acknowledged');
  assert.equal(d.attempts.length, 1);
  const got = rx.got.find((g) => g.body.includes(no));
  const n = fromXml(got.body);
  assert.equal(n.out_trade_no, no);
  assert.equal(n.total_fee, '101');
  assert.equal(n.result_code, 'SUCCESS');
  assert.ok(!('sign_type' in n), 'notify carries no sign_type');
  assert.equal(n.sign.length, 64);
  assert.equal(n.sign, v2Sign(n, key, 'HMAC-SHA256'));
  assert.match(n.transaction_id, /^4200\d{24}$/);
  assert.match(n.time_end, /^\d{14}$/);
  const q = await v2Call(emu, '/pay/orderquery', { ...base(), out_trade_no: no });
  assert.equal(q.x.trade_state, 'SUCCESS');
  assert.equal(q.x.transaction_id, n.transaction_id);
  const again = await v2Call(emu, '/pay/unifiedorder', order(no));
  assert.equal(again.x.err_code, 'ORDERPAID');
  const close = await v2Call(emu, '/pay/closeorder', { ...base(), out_trade_no: no });
  assert.equal(close.x.err_code, 'ORDERPAID');
});

test('closeorder then ORDERCLOSED; orderquery of an unknown order → ORDERNOTEXIST', async () => {
  const no = `V2CLOSE${Date.now()}`;
  await v2Call(emu, '/pay/unifiedorder', order(no));
  const c = await v2Call(emu, '/pay/closeorder', { ...base(), out_trade_no: no });
  assert.equal(c.x.result_code, 'SUCCESS');
  assert.equal((await v2Call(emu, '/pay/orderquery', { ...base(), out_trade_no: no })).x.trade_state, 'CLOSED');
  assert.equal((await v2Call(emu, '/pay/closeorder', { ...base(), out_trade_no: no })).x.err_code, 'ORDERCLOSED');
  assert.equal((await v2Call(emu, '/pay/unifiedorder', order(no))).x.err_code, 'ORDERCLOSED');
  assert.equal((await v2Call(emu, '/pay/orderquery', { ...base(), out_trade_no: 'NOPE' + Date.now() })).x.err_code, 'ORDERNOTEXIST');
});

test('refund, refund notify with req_info (AES-256-ECB, key md5(api key)), refundquery', async () => {
  const no = `V2RF${Date.now()}`;
  await v2Call(emu, '/pay/unifiedorder', order(no));
  const unpaid = await v2Call(emu, '/secapi/pay/refund', { ...base(), out_trade_no: no, out_refund_no: `R${no}`, total_fee: '101', refund_fee: '50' });
  assert.equal(unpaid.x.result_code, 'FAIL');
  const paid = await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`, {});
  await waitNotify(emu, paid.json.delivery);
  const r = await v2Call(emu, '/secapi/pay/refund', { ...base(), out_trade_no: no, out_refund_no: `R${no}`, total_fee: '101', refund_fee: '50', notify_url: rx.url });
  assert.equal(r.x.result_code, 'SUCCESS', r.text);
  assert.equal(r.x.refund_fee, '50');
  const too = await v2Call(emu, '/secapi/pay/refund', { ...base(), out_trade_no: no, out_refund_no: `R2${no}`, total_fee: '101', refund_fee: '60' });
  assert.equal(too.x.result_code, 'FAIL');
  const list = await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}&kind=wechat.v2.refund`);
  const d = list.json.length ? list.json[0] : null;
  const settled = d ? await waitNotify(emu, d.id) : await (async () => {
    for (let i = 0; i < 100; i++) {
      const l = await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}&kind=wechat.v2.refund`);
      if (l.json.length) return waitNotify(emu, l.json[0].id);
      await new Promise((s) => setTimeout(s, 20));
    }
    throw new Error('no refund notify');
  })();
  assert.equal(settled.status, 'acknowledged');
  const outer = fromXml(settled.body);
  assert.ok(!outer.sign, 'refund notify has no sign');
  const aesKey = crypto.createHash('md5').update(emu.config.wechat.api_key).digest('hex');
  const dec = crypto.createDecipheriv('aes-256-ecb', Buffer.from(aesKey), null);
  const inner = fromXml(Buffer.concat([dec.update(Buffer.from(outer.req_info, 'base64')), dec.final()]).toString('utf8'));
  assert.equal(inner.out_refund_no, `R${no}`);
  assert.equal(inner.refund_status, 'SUCCESS');
  assert.equal(inner.refund_fee, '50');
  const q = await v2Call(emu, '/pay/refundquery', { ...base(), out_trade_no: no });
  assert.equal(q.x.refund_count, '1');
  assert.equal(q.x.refund_status_0, 'SUCCESS');
  assert.equal((await v2Call(emu, '/pay/orderquery', { ...base(), out_trade_no: no })).x.trade_state, 'REFUND');
});
