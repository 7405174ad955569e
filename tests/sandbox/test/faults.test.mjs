import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, v2Call, v3Call, v3VerifyHeaders, platformKey, nonceStr, receiver, V2_OK, control, waitNotify, alipayCall } from './helpers.mjs';

let emu;
let rx; // a correct receiver: rejects bad signatures, SIGNTEST probes and stale timestamps
before(async () => {
  emu = await start();
  rx = await receiver((req) => {
    if (req.headers['wechatpay-signature']) {
      const sig = req.headers['wechatpay-signature'];
      const stale = Math.abs(Date.now() / 1000 - Number(req.headers['wechatpay-timestamp'])) >= 300;
      const ok = !sig.startsWith('WECHATPAY/SIGNTEST/') && !stale && v3VerifyHeaders(req.headers, req.body, platformKey(emu));
      return ok ? { status: 204 } : { status: 401, body: '{"code":"FAIL","message":"bad signature"}' };
    }
    return { status: 200, body: V2_OK };
  });
});
after(async () => {
  await emu.close();
  await rx.close();
});
const W = () => emu.config.wechat;
const v3Order = async (no) => v3Call(emu, 'POST', '/v3/pay/transactions/native', { appid: W().appid, mchid: W().mch_id, description: 'f', out_trade_no: no, notify_url: rx.url, amount: { total: 5 } });

test('upstream 5xx and slowness: the next matching calls fail or lag, then service resumes', async () => {
  await control(emu, 'POST', '/_sandbox/faults/upstream', { match: '/v3/', status: 503, count: 2 });
  const no = `F5${Date.now()}`;
  assert.equal((await v3Order(no)).status, 503);
  assert.equal((await v3Order(no)).status, 503);
  assert.equal((await v3Order(no)).status, 200);
  await control(emu, 'POST', '/_sandbox/faults/upstream', { match: '/pay/', delay_ms: 300, count: 1 });
  const t0 = Date.now();
  const r = await v2Call(emu, '/pay/orderquery', { appid: W().appid, mch_id: W().mch_id, nonce_str: nonceStr(), out_trade_no: no });
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(r.x.trade_state, 'NOTPAY');
  assert.deepEqual((await control(emu, 'GET', '/_sandbox/faults')).json.upstream, []);
});

test('probe notifies: SIGNTEST, wrong signature and replayed stale notify are rejected by a correct receiver', async () => {
  const no = `FP${Date.now()}`;
  await v3Order(no);
  const paid = await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
  assert.equal((await waitNotify(emu, paid.json.delivery)).status, 'acknowledged');
  for (const type of ['signtest', 'bad-signature', 'replay', 'wrong-amount']) {
    const d = await control(emu, 'POST', '/_sandbox/faults/notify', { type, out_trade_no: no });
    assert.equal(d.status, 200, JSON.stringify(d.json));
    const s = await waitNotify(emu, d.json.id);
    assert.equal(s.attempts.length, 1, `${type} is never retried`);
    assert.equal(s.expect, 'reject');
    if (type !== 'wrong-amount') {
      assert.equal(s.status, 'rejected', type);
      assert.equal(s.as_expected, true, type);
    }
  }
  const probes = (await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}`)).json;
  const signtest = probes.find((p) => p.kind === 'wechat.v3.signtest');
  assert.match(signtest.attempts[0].request.headers['Wechatpay-Signature'], /^WECHATPAY\/SIGNTEST\//);
  const replay = probes.find((p) => p.kind.endsWith('.replay'));
  assert.ok(Date.now() / 1000 - Number(replay.attempts[0].request.headers['Wechatpay-Timestamp']) >= 590);
});

test('v2 wrong-signature probe and duplicate notifies', async () => {
  const no = `FD${Date.now()}`;
  await v2Call(emu, '/pay/unifiedorder', { appid: W().appid, mch_id: W().mch_id, nonce_str: nonceStr(), body: 'd', out_trade_no: no, total_fee: '3', spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'NATIVE' });
  await control(emu, 'POST', '/_sandbox/faults/duplicate-notifies', { count: 1 });
  const before = rx.got.length;
  const paid = await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
  const d = await waitNotify(emu, paid.json.delivery, 'acknowledged');
  for (let i = 0; i < 100 && rx.got.length < before + 2; i++) await new Promise((s) => setTimeout(s, 10));
  const again = await control(emu, 'GET', `/_sandbox/notifies/${d.id}`);
  assert.equal(again.json.attempts.length, 2);
  assert.equal(again.json.attempts[1].duplicate, true);
  assert.equal(rx.got.length, before + 2);
  assert.equal(rx.got[before].body, rx.got[before + 1].body);
  const bad = await control(emu, 'POST', '/_sandbox/faults/notify', { type: 'bad-signature', out_trade_no: no });
  const s = await waitNotify(emu, bad.json.id);
  assert.equal(s.expect, 'reject');
  assert.equal(s.status, 'acknowledged', 'this naive receiver does not check v2 signs: the log shows it');
  assert.equal(s.as_expected, false);
  const dup = await control(emu, 'POST', `/_sandbox/notifies/${d.id}/resend`, {});
  assert.equal(dup.json.attempts.length, 3);
});

test('clock skew: the emulator clock moves; v3 requests signed with the real time fall outside the window', async () => {
  await control(emu, 'POST', '/_sandbox/clock', { skew_seconds: 400 });
  try {
    const r = await v3Order(`FC${Date.now()}`);
    assert.equal(r.status, 401);
    assert.ok(Number(r.headers.get('wechatpay-timestamp')) - Date.now() / 1000 > 390);
    const ok = await v3Call(emu, 'POST', '/v3/pay/transactions/native', { appid: W().appid, mchid: W().mch_id, description: 'f', out_trade_no: `FC2${Date.now()}`, notify_url: rx.url, amount: { total: 5 } }, { ts: Math.floor(Date.now() / 1000) + 400 });
    assert.equal(ok.status, 200);
  } finally {
    await control(emu, 'POST', '/_sandbox/clock', { skew_seconds: 0 });
  }
});

test('CORS on the control API for pages on another origin', async () => {
  const pre = await fetch(`${emu.url}/_sandbox/wechat/client-pay`, { method: 'OPTIONS', headers: { Origin: 'http://page.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/i);
});

test('persistence: orders, notifies and generated credentials survive a restart with --state', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-')), 'state.json');
  const a = await start({ stateFile: file });
  const no = `FS${Date.now()}`;
  const r = await alipayCall(a, 'alipay.trade.app.pay', { out_trade_no: no, total_amount: '0.02', subject: 'p', product_code: 'QUICK_MSECURITY_PAY' });
  assert.equal(r.json.alipay_trade_app_pay_response.code, '10000');
  const serial = a.ctx.platform.active().serial;
  const cfg = a.config;
  await a.close();
  const b = await start({ stateFile: file });
  try {
    assert.equal(b.config.alipay.app_private_key, cfg.alipay.app_private_key);
    assert.equal(b.ctx.platform.active().serial, serial);
    const q = await alipayCall(b, 'alipay.trade.query', { out_trade_no: no });
    assert.equal(q.json.alipay_trade_query_response.trade_status, 'WAIT_BUYER_PAY');
  } finally {
    await b.close();
  }
});
