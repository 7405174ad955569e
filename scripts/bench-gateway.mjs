#!/usr/bin/env node
// Gateway benchmark on loopback: the Worker in `wrangler dev --local` (workerd) against the
// in-process emulator. A bounded loop of concurrent fetches per scenario; prints req/s, p50, p99.
// Usage: node scripts/bench-gateway.mjs [--seconds 8] [--concurrency 16] [--json out.json]
import { createSign, randomBytes } from 'node:crypto';
import os from 'node:os';
import { startStack, api, control, waitNotify, orderNo } from '../tests/gateway/harness.mjs';

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const SECONDS = Number(arg('seconds', 8));
const CONC = Number(arg('concurrency', 16));

function pct(sorted, p) { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN; }

async function run(name, fn, check) {
  const lat = [];
  let errors = 0;
  let i = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (Date.now() < end) {
      const n = i++;
      const t0 = process.hrtime.bigint();
      try {
        const r = await fn(n);
        if (!check(r)) { errors++; if (errors <= 2) console.error(name, JSON.stringify(r).slice(0, 300)); }
      } catch { errors++; }
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }));
  lat.sort((a, b) => a - b);
  const row = { scenario: name, requests: lat.length, errors, rps: +(lat.length / SECONDS).toFixed(1), p50_ms: +pct(lat, 50).toFixed(1), p99_ms: +pct(lat, 99).toFixed(1) };
  console.log(JSON.stringify(row));
  return row;
}

const s = await startStack({ mode: 'cert' });
const rows = [];
try {
  const gw = s.gateway;
  const openid = s.emu.config.wechat.payer_openid;
  // A paid v2 order and a paid v3 order: their signed notifies are re-sent (duplicates: full
  // verification, order check, idempotent apply, enqueue check, acknowledgement).
  async function paid(apiVersion) {
    const no = orderNo(`B${apiVersion}`);
    const r = await api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: apiVersion, out_trade_no: no, amount: 100, description: 'bench', openid });
    const p = await control(s.emu, 'POST', `/orders/wechat/${no}/pay`, {});
    await waitNotify(s.emu, p.json.delivery, 'acknowledged');
    return (await control(s.emu, 'GET', `/notifies/${p.json.delivery}`)).json.body;
  }
  const v2body = await paid('v2');
  const v3body = await paid('v3');
  const k = s.emu.ctx.platform.active();
  const v3headers = Array.from({ length: 256 }, () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const sig = createSign('RSA-SHA256').update(`${ts}\n${nonce}\n${v3body}\n`).sign(k.privateKey, 'base64');
    return { 'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce, 'wechatpay-signature': sig, 'wechatpay-serial': k.serial };
  });
  const post = (path, headers, body) => fetch(gw.url + path, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, body: await r.text() }));
  rows.push(await run('notify v2 (XML, HMAC-SHA256) verified + acknowledged', () => post('/notify/wechat', { 'content-type': 'text/xml' }, v2body), (r) => r.status === 200 && r.body.includes('SUCCESS')));
  rows.push(await run('notify v3 (RSA verify + AES-GCM, WebCrypto) verified + acknowledged', (n) => post('/notify/wechat/v3', v3headers[n % v3headers.length], v3body), (r) => r.status === 204));
  rows.push(await run('notify v2 forged (refused)', () => post('/notify/wechat', { 'content-type': 'text/xml' }, v2body.replace(/<sign>.*?<\/sign>/, '<sign><![CDATA[00000000000000000000000000000000]]></sign>')), (r) => r.body.includes('FAIL')));
  rows.push(await run('order creation v2 native (HMAC, emulator round trip)', () => api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'native', api: 'v2', out_trade_no: orderNo('O2'), amount: 1, description: 'bench' }), (r) => r.status === 201));
  rows.push(await run('order creation v3 JSAPI (RSA sign x2 + verify, WebCrypto, emulator)', () => api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: orderNo('O3'), amount: 1, description: 'bench', openid }), (r) => r.status === 201));
  rows.push(await run('order creation Alipay APP (RSA2 sign, WebCrypto, no upstream call)', () => api(gw, 'POST', '/v1/orders', { provider: 'alipay', channel: 'app', out_trade_no: orderNo('OA'), amount: 1, description: 'bench' }), (r) => r.status === 201));
} finally {
  await s.close();
}
console.log(`\nnode ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${SECONDS}s per scenario, concurrency ${CONC}, ${new Date().toISOString()}`);
console.log('| scenario | requests | errors | req/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.scenario} | ${r.requests} | ${r.errors} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} |`);
if (arg('json')) (await import('node:fs')).writeFileSync(arg('json'), JSON.stringify(rows, null, 2));
