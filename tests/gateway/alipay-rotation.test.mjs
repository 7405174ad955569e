// Alipay certificate mode across a rotation of Alipay's public certificate: the gateway
// downloads the new certificate (alipay.open.app.alipaycert.download) once, trusts it only
// when it chains to ALIPAY_ROOT_CERT, and verifies answers and notifies with it. Its own
// emulator: the rotation changes the emulator's signing key for every later test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, startGateway, api, control, waitNotify, orderNo } from './harness.mjs';
import { alipayCertSn } from '../sandbox/lib/keys.mjs';

let s;
const dirs = [];
before(async () => { s = await startStack({ mode: 'cert' }); });
after(async () => {
  await s?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function counter(k) {
  const c = (await control(s.emu, 'GET', '/counters')).json;
  return (c.counters || c)[k] || 0;
}

async function certGateway(env) {
  const a = s.emu.config.alipay;
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-gw-rot-'));
  dirs.push(dir);
  return startGateway({
    emu: s.emu, receiver: s.receiver, dir,
    env: { ALIPAY_APP_CERT: a.app_cert, ALIPAY_PUBLIC_CERT: a.alipay_cert, ALIPAY_ROOT_CERT: a.root_cert, ALIPAY_PUBLIC_KEY: '', ...env },
  });
}

/** An Alipay APP order through `gw`, registered at the emulator by the app (`action`: pay or cancel). */
async function appOrder(gw, amount, action) {
  const no = orderNo('T');
  const c = await api(gw, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: no, amount, description: 'rotation' });
  assert.equal(c.status, 201, c.text);
  const r = await control(s.emu, 'POST', '/alipay/client-pay', { orderStr: c.json.pay_params.order_string, action });
  return { no, delivery: r.json.delivery };
}

test('after Alipay rotates its certificate: downloaded once, chain-checked, then answers and notifies verify with it', async () => {
  const gw = await certGateway({});
  try {
    const paid = await appOrder(gw, 500, 'pay');
    await waitNotify(s.emu, paid.delivery, 'acknowledged');
    const oldSn = alipayCertSn(s.emu.config.alipay.alipay_cert);

    const rot = await control(s.emu, 'POST', '/alipay/rotate-cert', {});
    assert.equal(rot.status, 200, rot.text);
    assert.notEqual(rot.json.alipay_cert_sn, oldSn);
    const downloads = await counter('alipay.cert_downloads');

    // A refund: its answer names the new SN → download, chain to the root, verify, refund recorded.
    const r = await api(gw, 'POST', `/v1/orders/${paid.no}/refunds`, { out_refund_no: `R${paid.no}`.slice(0, 32), amount: 100 });
    assert.equal(r.status, 201, r.text);
    assert.equal(await counter('alipay.cert_downloads') - downloads, 1);
    // A notify signed with the new key (ALIPAY_PUBLIC_CERT still holds the old certificate).
    const later = await appOrder(gw, 300, 'pay');
    const d = await waitNotify(s.emu, later.delivery, 'acknowledged');
    assert.equal(d.status, 'acknowledged');
    assert.equal((await api(gw, 'GET', `/v1/orders/${later.no}`)).json.status, 'SUCCESS');
    // The next call uses the stored certificate: no second download.
    const r2 = await api(gw, 'POST', `/v1/orders/${later.no}/refunds`, { out_refund_no: `R${later.no}`.slice(0, 32), amount: 300 });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(await counter('alipay.cert_downloads') - downloads, 1);
  } finally {
    await gw.stop();
  }
});

test('a new Alipay certificate signed by another key under the root\'s name is refused, nothing changes, no retry at once', async () => {
  // Configured with the current certificate; then Alipay (or whoever answers) signs with one issued
  // in the name of the root of ALIPAY_ROOT_CERT by another key (what a forged download delivers).
  const gw = await certGateway({});
  try {
    const registered = await appOrder(gw, 5, 'cancel');
    const rot = await control(s.emu, 'POST', '/alipay/rotate-cert', { untrusted_ca: true });
    assert.equal(rot.status, 200, rot.text);
    const downloads = await counter('alipay.cert_downloads');
    const closed = await api(gw, 'POST', `/v1/orders/${registered.no}/close`);
    assert.equal(closed.status, 502, closed.text);
    assert.equal(closed.json.error.code, 'upstream_verification_failed');
    assert.match(closed.json.error.message, new RegExp(`certificate SN ${rot.json.alipay_cert_sn}.*not trusted.*the issuer's key does not verify the certificate's signature`));
    assert.equal(await counter('alipay.cert_downloads') - downloads, 1);
    assert.equal((await api(gw, 'GET', `/v1/orders/${registered.no}`)).json.status, 'NOTPAY');
    // Asked again at once: refused without another download (ALIPAY_CERT_REFRESH_MIN_SECONDS, 60).
    const again = await api(gw, 'POST', `/v1/orders/${registered.no}/close`);
    assert.equal(again.status, 502, again.text);
    assert.match(again.json.error.message, /less than 60 s ago/);
    assert.equal(await counter('alipay.cert_downloads') - downloads, 1);
  } finally {
    await gw.stop();
  }
});
