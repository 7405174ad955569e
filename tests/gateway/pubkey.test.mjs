// v3 public-key mode (the only mode for new merchants): the gateway verifies
// answers and notifies with the configured WeChat Pay public key and never
// asks for /v3/certificates (which 404s in this mode).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, api, control, waitNotify, orderNo } from './harness.mjs';

let s;
before(async () => { s = await startStack({ mode: 'pubkey' }); });
after(async () => { await s?.close(); });

test('v3 JSAPI in public-key mode: order → pay → notify → SUCCESS → webhook, no certificate download', async () => {
  const no = orderNo('K');
  const r = await api(s.gateway, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: no, amount: 2500, description: 'pk', openid: s.emu.config.wechat.payer_openid });
  assert.equal(r.status, 201, r.text);
  const pay = await control(s.emu, 'POST', '/wechat/client-pay', { kind: 'jsapi', params: r.json.pay_params, action: 'pay' });
  assert.equal(pay.json.ok, true, JSON.stringify(pay.json));
  await waitNotify(s.emu, pay.json.delivery, 'acknowledged');
  const o = await api(s.gateway, 'GET', `/v1/orders/${no}`);
  assert.equal(o.json.status, 'SUCCESS');
  const ev = await s.receiver.waitFor((e) => e.order.out_trade_no === no);
  assert.equal(ev.type, 'order.paid');
  const reqs = (await control(s.emu, 'GET', '/requests')).json;
  assert.equal(reqs.filter((x) => x.path === '/v3/certificates').length, 0);
  // SIGNTEST and a forged signature are refused in this mode too.
  for (const type of ['signtest', 'bad-signature']) {
    const f = await control(s.emu, 'POST', '/faults/notify', { provider: 'wechat', out_trade_no: no, type });
    const d = await waitNotify(s.emu, f.json.id);
    assert.equal(d.as_expected, true, type);
  }
});
