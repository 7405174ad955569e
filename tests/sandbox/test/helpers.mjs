// Test client helpers: an independent signer built on node:crypto only (not the emulator's modules),
// plus a scripted notify receiver.
import crypto from 'node:crypto';
import http from 'node:http';
import { startEmulator } from '../server.mjs';

export async function start(opts = {}) {
  return startEmulator({ port: 0, timeScale: 0.001, notifyTimeoutMs: 2000, ...opts });
}

// ---------- WeChat Pay v2 ----------
export function v2Sign(params, key, type = 'MD5') {
  const s = Object.keys(params).filter((k) => k !== 'sign' && params[k] !== '' && params[k] !== undefined).sort()
    .map((k) => `${k}=${params[k]}`).join('&') + `&key=${key}`;
  return type === 'HMAC-SHA256'
    ? crypto.createHmac('sha256', key).update(s).digest('hex').toUpperCase()
    : crypto.createHash('md5').update(s).digest('hex').toUpperCase();
}
export function toXml(obj) {
  return '<xml>' + Object.entries(obj).map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('') + '</xml>';
}
/** Tiny flat-XML reader for answers (independent of the emulator's parser). */
export function fromXml(xml) {
  const out = {};
  const inner = /^<(\w+)>([\s\S]*)<\/\1>$/.exec(xml.trim())[2];
  for (const m of inner.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g)) out[m[1]] = m[2] ?? m[3];
  return out;
}
export async function v2Call(emu, path, params, { signType = 'MD5', key = emu.config.wechat.api_key, raw } = {}) {
  const p = { ...params };
  if (signType !== 'MD5') p.sign_type = signType;
  p.sign = v2Sign(p, key, signType);
  const r = await fetch(emu.url + path, { method: 'POST', body: raw ?? toXml(p), headers: { 'Content-Type': 'text/xml' } });
  const text = await r.text();
  return { status: r.status, text, x: fromXml(text) };
}
export function nonceStr(n = 16) {
  return crypto.randomBytes(n).toString('hex').slice(0, n);
}

// ---------- WeChat Pay v3 ----------
export function v3Auth(emu, method, pathWithQuery, body = '', { ts = Math.floor(Date.now() / 1000), nonce = nonceStr(16), serial = emu.config.wechat.merchant_serial, key = emu.config.wechat.merchant_private_key, mchid = emu.config.wechat.mch_id } = {}) {
  const sig = crypto.createSign('RSA-SHA256').update(`${method}\n${pathWithQuery}\n${ts}\n${nonce}\n${body}\n`).sign(key, 'base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${mchid}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${serial}",signature="${sig}"`;
}
export async function v3Call(emu, method, path, obj, authOpts = {}) {
  const body = obj === undefined ? '' : JSON.stringify(obj);
  const headers = { Accept: 'application/json', Authorization: v3Auth(emu, method, path, body, authOpts) };
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(emu.url + path, { method, headers, body: body || undefined });
  const text = await r.text();
  return { status: r.status, text, json: text.startsWith('{') ? JSON.parse(text) : null, headers: r.headers };
}
/** Verify Wechatpay-* headers over the raw body with the given public key (PEM or certificate). */
export function v3VerifyHeaders(headers, body, publicKey) {
  const get = (k) => (typeof headers.get === 'function' ? headers.get(k) : headers[k.toLowerCase()]);
  const msg = `${get('Wechatpay-Timestamp')}\n${get('Wechatpay-Nonce')}\n${body}\n`;
  return crypto.createVerify('RSA-SHA256').update(msg).verify(publicKey, get('Wechatpay-Signature'), 'base64');
}
export function gcmDecrypt(key, nonce, aad, b64) {
  const buf = Buffer.from(b64, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(nonce));
  d.setAAD(Buffer.from(aad || ''));
  d.setAuthTag(buf.subarray(buf.length - 16));
  return Buffer.concat([d.update(buf.subarray(0, buf.length - 16)), d.final()]).toString('utf8');
}
export function platformKey(emu) {
  const k = emu.ctx.platform.active();
  return k.certificate || k.publicKey;
}

// ---------- Alipay ----------
export function bjTime(ms = Date.now()) {
  return new Date(ms + 8 * 3600e3).toISOString().replace('T', ' ').slice(0, 19);
}
export function alipaySign(params, key, type = 'RSA2') {
  const s = Object.keys(params).filter((k) => k !== 'sign' && params[k] !== '' && params[k] !== undefined).sort()
    .map((k) => `${k}=${params[k]}`).join('&');
  return crypto.createSign(type === 'RSA' ? 'RSA-SHA1' : 'RSA-SHA256').update(s).sign(key, 'base64');
}
export function alipayParams(emu, method, biz, extra = {}, { signType = 'RSA2', key = emu.config.alipay.app_private_key } = {}) {
  const p = {
    app_id: emu.config.alipay.app_id, method, format: 'JSON', charset: 'utf-8', sign_type: signType,
    timestamp: bjTime(), version: '1.0', biz_content: JSON.stringify(biz), ...extra,
  };
  p.sign = alipaySign(p, key, signType);
  return p;
}
export async function alipayCall(emu, method, biz, extra, opts) {
  const p = alipayParams(emu, method, biz, extra, opts);
  const r = await fetch(emu.url + '/gateway.do', {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' }, body: new URLSearchParams(p).toString(),
  });
  const text = await r.text();
  return { status: r.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}
/** Verify an Alipay sync response over the raw text of its `…_response` node. */
export function alipayVerifyResponse(text, nodeName, publicKey, type = 'RSA2') {
  const start = text.indexOf(`"${nodeName}":`) + nodeName.length + 3;
  const end = text.lastIndexOf(',"sign":"');
  const node = text.slice(start, end);
  const sign = JSON.parse(text).sign;
  return crypto.createVerify(type === 'RSA' ? 'RSA-SHA1' : 'RSA-SHA256').update(node).verify(publicKey, sign, 'base64');
}
/** rsaCheckV1 on a raw form body: decode once, drop sign and sign_type. */
export function alipayVerifyNotify(rawBody, publicKey) {
  const p = Object.fromEntries(new URLSearchParams(rawBody));
  const type = p.sign_type;
  const s = Object.keys(p).filter((k) => k !== 'sign' && k !== 'sign_type' && p[k] !== '').sort().map((k) => `${k}=${p[k]}`).join('&');
  return { ok: crypto.createVerify(type === 'RSA' ? 'RSA-SHA1' : 'RSA-SHA256').update(s).verify(publicKey, p.sign, 'base64'), params: p };
}

// ---------- notify receiver ----------
/**
 * A local HTTP server that answers notifies with script(req, n) -> {status, body} (n = 1-based count)
 * and records every request with its arrival time.
 */
export async function receiver(script) {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = { at: Date.now(), method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      got.push(rec);
      const a = script(rec, got.length) || { status: 200, body: '' };
      res.writeHead(a.status, { 'Content-Type': 'text/plain' });
      res.end(a.body ?? '');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/notify`,
    got,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}
export const V2_OK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

export async function control(emu, method, path, body) {
  const r = await fetch(emu.url + path, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, headers: r.headers };
}
export async function waitNotify(emu, id, status = 'settled', timeout = 10000) {
  const r = await control(emu, 'GET', `/_sandbox/notifies/${id}/wait?status=${status}&timeout_ms=${timeout}`);
  if (r.status !== 200) throw new Error(`wait ${id}: ${JSON.stringify(r.json)}`);
  return r.json;
}
