#!/usr/bin/env node
// Throughput of the npm package (both backends) next to node:crypto and the peer SDKs, and
// the gzipped sizes of the signing wasm and of pkg/bridge.js. Not a test: prints a table.
// Usage: scripts/build-wasm.sh && node scripts/bench-pkg.mjs [--quick]
import { readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import os from 'node:os';
import * as edgepay from '../pkg/index.js';

const require = createRequire(import.meta.url);
const { Hash, Rsa } = require('wechatpay-axios-plugin');
const { AlipaySdk } = await import('alipay-sdk');
const quick = process.argv.includes('--quick');
const root = new URL('..', import.meta.url);
const vec = (f) => readFileSync(new URL(`../shared/vectors/${f}`, root), 'utf8');
const W = JSON.parse(vec('wechat.json'));
const A = JSON.parse(vec('alipay.json'));
const wechatKey = vec('wechatpay-go-test-key.pem');
const appKey = vec('yansongda-app-private-key-pkcs1.pem');

async function rate(fn, ms = quick ? 300 : 1500) {
  for (let i = 0; i < 3; i++) await fn(); // warm up (key import, JIT)
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    await fn();
    n++;
    if ((n & 7) === 0 || n < 8) t = performance.now();
  }
  return n / ((performance.now() - t0) / 1000);
}

const set = (b) => edgepay.setBackend(b);
await edgepay.init();
const v2 = W.v2_sign_official;
const g = W.v3_aes_256_gcm;
const gcmArgs = { apiv3Key: g.apiv3_key, nonce: g.nonce, associatedData: g.associated_data, ciphertext: g.ciphertext };
const ali = A.rsa2_request_sign.params;
const rsaMsg = 'POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"appid":"wx1","mchid":"1900009191","description":"test","out_trade_no":"1217752501201407033233368018","amount":{"total":1}}\n';
const sdk = new AlipaySdk({ appId: ali.app_id, privateKey: appKey, alipayPublicKey: crypto.createPublicKey(appKey).export({ type: 'spki', format: 'pem' }) });
const nodeKey = crypto.createPrivateKey(wechatKey);
const appNodeKey = crypto.createPrivateKey(appKey);
const wxpKey = Rsa.from(wechatKey);

const rows = [];
async function row(name, ours, node, peer, peerName) {
  const r = { name, ours: await rate(ours), node: node ? await rate(node) : NaN, peer: peer ? await rate(peer) : NaN, peerName };
  rows.push(r);
}

set('auto');
await row('v2 MD5 sign', () => edgepay.signV2(v2.params, v2.key), () => {
  const s = Object.keys(v2.params).sort().map((k) => `${k}=${v2.params[k]}`).join('&') + `&key=${v2.key}`;
  return crypto.createHash('md5').update(s).digest('hex').toUpperCase();
}, () => Hash.sign('MD5', v2.params, v2.key), 'wechatpay-axios-plugin Hash.sign');
set('webcrypto');
await row('v3 RSA sign (WebCrypto)', () => edgepay.v3Sign(rsaMsg, wechatKey), () => crypto.sign('sha256', Buffer.from(rsaMsg), nodeKey).toString('base64'), () => Rsa.sign(rsaMsg, wxpKey), 'wechatpay-axios-plugin Rsa.sign');
set('wasm');
await row('v3 RSA sign (pure wasm)', () => edgepay.v3Sign(rsaMsg, wechatKey), null, null);
set('webcrypto');
await row('AES-GCM decrypt (WebCrypto)', () => edgepay.v3Decrypt(gcmArgs), () => {
  const ct = Buffer.from(g.ciphertext, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', g.apiv3_key, g.nonce);
  d.setAAD(Buffer.from(g.associated_data));
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString();
}, null);
set('wasm');
await row('AES-GCM decrypt (pure wasm)', () => edgepay.v3Decrypt(gcmArgs), null, null);
set('webcrypto');
// node:crypto does the same work: build the sorted string to sign, sign, add sign to the params.
const nodeAlipaySign = () => {
  const p = { ...ali, sign_type: 'RSA2' };
  const s = Object.keys(p).filter((k) => k !== 'sign' && p[k] !== '').sort().map((k) => `${k}=${p[k]}`).join('&');
  p.sign = crypto.sign('sha256', Buffer.from(s), appNodeKey).toString('base64');
  return p;
};
await row('Alipay RSA2 sign (WebCrypto)', () => edgepay.alipaySign(ali, appKey), nodeAlipaySign, () => sdk.sdkExecute('alipay.trade.app.pay', { bizContent: { out_trade_no: '1' } }), 'alipay-sdk sdkExecute');
set('wasm');
await row('Alipay RSA2 sign (pure wasm)', () => edgepay.alipaySign(ali, appKey), null, null);
set('auto');

const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(b / a).toFixed(2)}×` : '—');
console.log(`edgepay npm package benchmark — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus()[0].model} ×${os.cpus().length}`);
console.log('ops/s (higher is better); "node/pkg" = how many times faster node:crypto is than the package\n');
console.log('| operation | edgepay (pkg) | node:crypto | node/pkg | peer SDK | peer |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.ours)} | ${fmt(r.node)} | ${ratio(r.ours, r.node)} | ${fmt(r.peer)} | ${r.peerName ?? ''} |`);
const web = rows.find((r) => r.name.startsWith('v3 RSA sign (Web'));
const pure = rows.find((r) => r.name.startsWith('v3 RSA sign (pure'));
console.log(`\nRSA sign: WebCrypto path ${(1000 / web.ours).toFixed(2)} ms, pure wasm ${(1000 / pure.ours).toFixed(2)} ms, node:crypto ${(1000 / web.node).toFixed(2)} ms per signature`);

const size = (p) => {
  const u = new URL(p, root);
  if (!existsSync(u)) return null;
  const b = readFileSync(u);
  return `${(b.length / 1024).toFixed(1)} KB raw, ${(gzipSync(b, { level: 9 }).length / 1024).toFixed(1)} KB gzipped`;
};
console.log(`pkg/wasm/edgepay_bg.wasm: ${size('pkg/wasm/edgepay_bg.wasm')}`);
console.log(`pkg/wasm/edgepay.js + pkg/index.js: ${(gzipSync(Buffer.concat([readFileSync(new URL('pkg/wasm/edgepay.js', root)), readFileSync(new URL('pkg/index.js', root))]), { level: 9 }).length / 1024).toFixed(1)} KB gzipped`);
console.log(`pkg/bridge.js: ${size('pkg/bridge.js') ?? 'not present'}`);
