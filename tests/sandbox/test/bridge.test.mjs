// bridge.js in a minimal DOM stand-in (node:vm): the script the emulator serves is the one run here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import vm from 'node:vm';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, v2Call, v2Sign, v3Call, nonceStr, receiver, V2_OK, control, waitNotify, alipayParams } from './helpers.mjs';

let emu;
let rx;
before(async () => {
  emu = await start();
  rx = await receiver((req) => (req.headers['wechatpay-signature'] ? { status: 204 } : req.headers['content-type'].includes('form') ? { status: 200, body: 'success' } : { status: 200, body: V2_OK }));
});
after(async () => {
  await emu.close();
  await rx.close();
});
const W = () => emu.config.wechat;

class Node {
  constructor(tag) {
    this.tag = tag;
    this.children = [];
    this.attrs = {};
    this.parentNode = null;
    this.textContent = '';
  }
  setAttribute(k, v) {
    this.attrs[k] = v;
    if (k === 'id') this.id = v;
  }
  appendChild(c) {
    c.parentNode = this;
    this.children.push(c);
    return c;
  }
  removeChild(c) {
    this.children = this.children.filter((x) => x !== c);
    c.parentNode = null;
  }
  find(id) {
    if (this.id === id) return this;
    for (const c of this.children) {
      const f = c.find(id);
      if (f) return f;
    }
    return null;
  }
  text() {
    return this.textContent + this.children.map((c) => c.text()).join(' ');
  }
}

async function loadBridge() {
  const r = await fetch(`${emu.url}/_sandbox/bridge.js`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /javascript/);
  const src = await r.text();
  const document = new EventTarget();
  document.body = new Node('body');
  document.createElement = (t) => new Node(t);
  document.currentScript = { src: `${emu.url}/_sandbox/bridge.js` };
  const events = [];
  document.addEventListener('WeixinJSBridgeReady', () => events.push('wx'));
  document.addEventListener('AlipayJSBridgeReady', () => events.push('ali'));
  const window = { document };
  const sandbox = { window, document, fetch, URL, Event, setTimeout, JSON, String, Number };
  vm.runInNewContext(src, sandbox);
  await new Promise((s) => setTimeout(s, 5));
  assert.deepEqual(events, ['wx', 'ali'], 'ready events fired');
  return { window, document };
}

async function waitFor(fn) {
  for (let i = 0; i < 200; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((s) => setTimeout(s, 10));
  }
  throw new Error('timeout');
}

test('WeixinJSBridge (v2 MD5 paySign): sheet shows the order, Pay → ok and a notify', async () => {
  const { window, document } = await loadBridge();
  const no = `BR2${Date.now()}`;
  const u = await v2Call(emu, '/pay/unifiedorder', { appid: W().appid, mch_id: W().mch_id, nonce_str: nonceStr(), body: '桥接测试', out_trade_no: no, total_fee: '888', spbill_create_ip: '127.0.0.1', notify_url: rx.url, trade_type: 'JSAPI', openid: W().payer_openid });
  const p = { appId: W().appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: nonceStr(), package: `prepay_id=${u.x.prepay_id}`, signType: 'MD5' };
  p.paySign = v2Sign(p, W().api_key);
  const res = new Promise((resolve) => window.WeixinJSBridge.invoke('getBrandWCPayRequest', p, resolve));
  const sheet = await waitFor(() => document.body.find('edgepay-sandbox-sheet'));
  assert.match(sheet.text(), /¥8\.88/);
  assert.match(sheet.text(), /桥接测试/);
  sheet.find('edgepay-sandbox-pay').onclick();
  assert.deepEqual({ ...(await res) }, { err_msg: 'get_brand_wcpay_request:ok' });
  assert.equal(document.body.children.length, 0, 'sheet removed');
  const o = (await control(emu, 'GET', `/_sandbox/orders/wechat/${no}`)).json;
  assert.equal(o.state, 'SUCCESS');
  const list = (await control(emu, 'GET', `/_sandbox/notifies?out_trade_no=${no}`)).json;
  assert.equal((await waitNotify(emu, list[0].id)).status, 'acknowledged');
});

test('WeixinJSBridge (v3 RSA): Cancel → cancel, order stays NOTPAY; bad paySign → fail without a sheet', async () => {
  const { window, document } = await loadBridge();
  const no = `BR3${Date.now()}`;
  const o = await v3Call(emu, 'POST', '/v3/pay/transactions/jsapi', { appid: W().appid, mchid: W().mch_id, description: 'v3 bridge', out_trade_no: no, notify_url: rx.url, amount: { total: 5 }, payer: { openid: W().payer_openid } });
  const p = { appId: W().appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: nonceStr(), package: `prepay_id=${o.json.prepay_id}`, signType: 'RSA' };
  p.paySign = crypto.createSign('RSA-SHA256').update(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`).sign(W().merchant_private_key, 'base64');
  const res = new Promise((resolve) => window.WeixinJSBridge.invoke('getBrandWCPayRequest', p, resolve));
  const sheet = await waitFor(() => document.body.find('edgepay-sandbox-sheet'));
  sheet.find('edgepay-sandbox-cancel').onclick();
  assert.deepEqual({ ...(await res) }, { err_msg: 'get_brand_wcpay_request:cancel' });
  assert.equal((await control(emu, 'GET', `/_sandbox/orders/wechat/${no}`)).json.state, 'NOTPAY');
  const bad = await new Promise((resolve) => window.WeixinJSBridge.invoke('getBrandWCPayRequest', { ...p, paySign: p.paySign.replace(/^./, 'A') === p.paySign ? p.paySign.replace(/^./, 'B') : p.paySign.replace(/^./, 'A') }, resolve));
  assert.equal(bad.err_msg, 'get_brand_wcpay_request:fail');
  assert.equal(bad.err_desc, '支付验证签名失败');
  assert.equal(document.body.children.length, 0);
});

test('AlipayJSBridge tradePay: Pay → 9000 with a signed result; Cancel → 6001', async () => {
  const { window, document } = await loadBridge();
  const mk = (no) => Object.entries(alipayParams(emu, 'alipay.trade.app.pay', { out_trade_no: no, total_amount: '3.21', subject: '支付宝桥', product_code: 'QUICK_MSECURITY_PAY' }, { notify_url: rx.url }))
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const no = `BRA${Date.now()}`;
  const res = new Promise((resolve) => window.AlipayJSBridge.call('tradePay', { orderStr: mk(no) }, resolve));
  const sheet = await waitFor(() => document.body.find('edgepay-sandbox-sheet'));
  assert.match(sheet.text(), /¥3\.21/);
  sheet.find('edgepay-sandbox-pay').onclick();
  const r = await res;
  assert.equal(r.resultCode, '9000');
  const node = /"alipay_trade_app_pay_response":(\{.*?\}),"sign"/.exec(r.result)[1];
  assert.ok(crypto.createVerify('RSA-SHA256').update(node).verify(emu.config.alipay.alipay_public_key, JSON.parse(r.result).sign, 'base64'));
  const c = new Promise((resolve) => window.AlipayJSBridge.call('tradePay', { orderStr: mk(`${no}C`) }, resolve));
  (await waitFor(() => document.body.find('edgepay-sandbox-sheet'))).find('edgepay-sandbox-cancel').onclick();
  assert.equal((await c).resultCode, '6001');
});

test('CLI: starts on the given port and answers; unknown flags exit 2', async () => {
  const server = fileURLToPath(new URL('../server.mjs', import.meta.url));
  const bad = spawn(process.execPath, [server, '--bogus', '1'], { stdio: 'pipe' });
  const code = await new Promise((r) => bad.on('exit', r));
  assert.equal(code, 2);
  const child = spawn(process.execPath, [server, '--port', '0', '--time-scale', '0.001', '--mode', 'pubkey'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const cfg = await fetch(`${url}/_sandbox/config`).then((r) => r.json());
    assert.equal(cfg.mode, 'pubkey');
    assert.match(cfg.active_platform_serial, /^PUB_KEY_ID_/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  }
});
