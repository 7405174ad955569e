import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, v2Call, v3Call, nonceStr, receiver, V2_OK, control, waitNotify, alipayCall } from './helpers.mjs';
import { SCHEDULES } from '../lib/notify.mjs';

// Time scale 0.01: the WeChat schedule starts 150 ms, 150 ms, 300 ms, 1.8 s; Alipay's 2.4 s, 6 s.
let emu;
before(async () => {
  emu = await start({ timeScale: 0.01 });
});
after(async () => {
  await emu.close();
});
const W = () => emu.config.wechat;

test('schedules are the published ones', () => {
  assert.deepEqual(SCHEDULES.wechat, [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600]);
  assert.equal(SCHEDULES.wechat.reduce((a, b) => a + b), 24 * 3600 + 4 * 60);
  assert.deepEqual(SCHEDULES.alipay, [240, 600, 600, 3600, 7200, 21600, 54000]);
});

function gaps(got) {
  return got.slice(1).map((g, i) => g.at - got[i].at);
}
function near(actual, expected, label) {
  assert.ok(actual >= expected - 5 && actual <= expected + 120, `${label}: ${actual} ms, expected about ${expected} ms`);
}

test('v2 notify: receiver fails 3 times (500, plain SUCCESS text, FAIL XML) then acknowledges; scaled intervals', async () => {
  const answers = [{ status: 500, body: 'oops' }, { status: 200, body: 'SUCCESS' }, { status: 200, body: '<xml><return_code>FAIL</return_code></xml>' }, { status: 200, body: V2_OK }];
  const rx = await receiver((req, n) => answers[n - 1] || { status: 200, body: V2_OK });
  try {
    const no = `NT2${Date.now()}`;
    const u = await v2Call(emu, '/pay/unifiedorder', { appid: W().appid, mch_id: W().mch_id, nonce_str: nonceStr(), body: 'x', out_trade_no: no, total_fee: '1', spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'NATIVE' });
    assert.equal(u.x.result_code, 'SUCCESS');
    const p = await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
    const d = await waitNotify(emu, p.json.delivery, 'acknowledged');
    assert.equal(d.attempts.length, 4);
    assert.deepEqual(d.attempts.map((a) => a.acknowledged), [false, false, false, true]);
    assert.deepEqual(d.attempts.slice(0, 3).map((a) => a.next_retry_in_ms), [150, 150, 300]);
    assert.equal(d.attempts[0].response.status, 500);
    assert.match(d.attempts[1].verdict, /not WeChat XML/);
    assert.match(d.attempts[2].verdict, /return_code=FAIL/);
    assert.equal(rx.got.length, 4);
    const g = gaps(rx.got);
    near(g[0], 150, 'gap 1');
    near(g[1], 150, 'gap 2');
    near(g[2], 300, 'gap 3');
    // every retry carries the same notify
    assert.equal(new Set(rx.got.map((x) => x.body)).size, 1);
    // the log lists it
    const log = await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}`);
    assert.equal(log.json[0].status, 'acknowledged');
  } finally {
    await rx.close();
  }
});

test('v3 notify: 500 and 404 are retried, 204 acknowledges; each retry is freshly signed', async () => {
  const rx = await receiver((req, n) => (n === 1 ? { status: 500, body: '{"code":"FAIL","message":"x"}' } : n === 2 ? { status: 404 } : { status: 204 }));
  try {
    const no = `NT3${Date.now()}`;
    await v3Call(emu, 'POST', '/v3/pay/transactions/native', { appid: W().appid, mchid: W().mch_id, description: 'x', out_trade_no: no, notify_url: rx.url, amount: { total: 1 } });
    const p = await control(emu, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
    const d = await waitNotify(emu, p.json.delivery, 'acknowledged');
    assert.equal(d.attempts.length, 3);
    assert.equal(rx.got.length, 3);
    assert.notEqual(rx.got[0].headers['wechatpay-nonce'], rx.got[1].headers['wechatpay-nonce']);
    assert.equal(JSON.parse(rx.got[0].body).id, JSON.parse(rx.got[2].body).id, 'same notify id on every retry');
  } finally {
    await rx.close();
  }
});

test('Alipay notify: only an exact "success" acknowledges ("success\\n" and "SUCCESS" do not)', async () => {
  const rx = await receiver((req, n) => ({ status: 200, body: n === 1 ? 'success\n' : n === 2 ? 'SUCCESS' : 'success' }));
  const fast = await start({ timeScale: 0.0005, config: emu.config });
  try {
    const no = `NTA${Date.now()}`;
    const r = await alipayCall(fast, 'alipay.trade.app.pay', { out_trade_no: no, total_amount: '0.01', subject: 's', product_code: 'QUICK_MSECURITY_PAY' }, { notify_url: rx.url });
    assert.equal(r.json.alipay_trade_app_pay_response.code, '10000', r.text);
    const p = await control(fast, 'POST', `/_sandbox/orders/alipay/${no}/pay`);
    const d = await waitNotify(fast, p.json.delivery, 'acknowledged');
    assert.equal(d.attempts.length, 3);
    assert.deepEqual(d.attempts.slice(0, 2).map((a) => a.next_retry_in_ms), [120, 300]);
    const ids = rx.got.map((g) => new URLSearchParams(g.body).get('notify_id'));
    assert.equal(new Set(ids).size, 1, 'notify_id stays the same');
  } finally {
    await fast.close();
    await rx.close();
  }
});

test('a receiver that never acknowledges gets exactly 16 WeChat attempts, then the notify is exhausted', async () => {
  const rx = await receiver(() => ({ status: 503 }));
  const fast = await start({ timeScale: 0.00001, config: emu.config });
  try {
    const no = `NTX${Date.now()}`;
    await v3Call(fast, 'POST', '/v3/pay/transactions/native', { appid: W().appid, mchid: W().mch_id, description: 'x', out_trade_no: no, notify_url: rx.url, amount: { total: 1 } });
    const p = await control(fast, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
    const d = await waitNotify(fast, p.json.delivery, 'exhausted', 20000);
    assert.equal(d.attempts.length, 16);
    assert.equal(rx.got.length, 16);
    assert.deepEqual(d.attempts.slice(0, 15).map((a) => a.next_retry_in_ms), SCHEDULES.wechat.map((s) => Math.round(s * 1000 * 0.00001)));
    assert.equal(d.attempts[15].next_retry_in_ms, undefined);
  } finally {
    await fast.close();
    await rx.close();
  }
});

test('a receiver that does not answer in time counts as a failure', async () => {
  const slow = await start({ timeScale: 0.001, notifyTimeoutMs: 100, config: emu.config });
  const http = await import('node:http');
  let n = 0;
  const srv = http.createServer((req, res) => {
    n++;
    req.resume();
    if (n === 1) setTimeout(() => { res.end('late'); }, 400);
    else { res.writeHead(204); res.end(); }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const no = `NTT${Date.now()}`;
    await v3Call(slow, 'POST', '/v3/pay/transactions/native', { appid: W().appid, mchid: W().mch_id, description: 'x', out_trade_no: no, notify_url: `http://127.0.0.1:${srv.address().port}/n`, amount: { total: 1 } });
    const p = await control(slow, 'POST', `/_sandbox/orders/wechat/${no}/pay`);
    const d = await waitNotify(slow, p.json.delivery, 'acknowledged');
    assert.match(d.attempts[0].error, /no answer within 100 ms/);
    assert.equal(d.attempts[1].acknowledged, true);
  } finally {
    await slow.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});
