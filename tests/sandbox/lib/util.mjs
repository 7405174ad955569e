// Small shared helpers: XML, canonical strings, time formats, ids, HTTP body/reply helpers.
import crypto from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';

// ---------- XML (WeChat v2) ----------
// DTDs and entity declarations are refused before parsing: fast-xml-parser would otherwise expand
// DOCTYPE entities. Only the five predefined XML entities are decoded.
const parser = new XMLParser({
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export class XmlError extends Error {}

/** Parse a flat `<xml><k>v</k>…</xml>` document into a {k: v} object of strings. */
export function parseXml(text) {
  if (typeof text !== 'string' || !text.trim()) throw new XmlError('empty body');
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('DTD/entity declarations are not allowed');
  let doc;
  try {
    doc = parser.parse(text);
  } catch (e) {
    throw new XmlError(`malformed XML: ${e.message}`);
  }
  const rootName = Object.keys(doc).find((k) => k !== '#text');
  if (!rootName) throw new XmlError('no root element');
  const root = doc[rootName];
  const out = {};
  if (root && typeof root === 'object') {
    for (const [k, v] of Object.entries(root)) {
      if (k === '#text') continue;
      if (v === null || v === undefined) out[k] = '';
      else if (typeof v === 'object') {
        if (Array.isArray(v)) throw new XmlError(`repeated element <${k}>`);
        throw new XmlError(`nested element <${k}> not expected`);
      } else out[k] = String(v);
    }
  }
  return out;
}

function cdata(v) {
  return `<![CDATA[${String(v).split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** Build `<xml>…</xml>`; JS numbers bare, strings in CDATA (as WeChat Pay does). */
export function buildXml(obj, root = 'xml') {
  let s = `<${root}>`;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    const text = typeof v === 'number' ? String(v) : cdata(v);
    s += `<${k}>${text}</${k}>`;
  }
  return s + `</${root}>`;
}

// ---------- canonical strings and signatures ----------
/** `k=v&k=v`, keys sorted by code unit, empty values and `exclude` keys dropped, raw values. */
export function canonical(params, exclude = ['sign']) {
  return Object.keys(params)
    .filter((k) => !exclude.includes(k) && params[k] !== undefined && params[k] !== null && String(params[k]) !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function wxV2Sign(params, apiKey, signType = 'MD5') {
  const s = `${canonical(params, ['sign'])}&key=${apiKey}`;
  if (signType === 'HMAC-SHA256') return crypto.createHmac('sha256', apiKey).update(s, 'utf8').digest('hex').toUpperCase();
  return crypto.createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
}

export function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function rsaSign(message, privateKeyPem, algo = 'sha256') {
  return crypto.createSign(algo === 'sha1' ? 'RSA-SHA1' : 'RSA-SHA256').update(message, 'utf8').sign(privateKeyPem, 'base64');
}

export function rsaVerify(message, signatureB64, publicKeyPem, algo = 'sha256') {
  try {
    return crypto
      .createVerify(algo === 'sha1' ? 'RSA-SHA1' : 'RSA-SHA256')
      .update(message, 'utf8')
      .verify(publicKeyPem, String(signatureB64 || ''), 'base64');
  } catch {
    return false;
  }
}

export function aesGcmEncrypt(plaintext, key32, nonce12, aad = '') {
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(key32, 'utf8'), Buffer.from(nonce12, 'utf8'));
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
  return ct.toString('base64');
}

export function aesGcmDecrypt(ciphertextB64, key32, nonce12, aad = '') {
  const buf = Buffer.from(ciphertextB64, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(key32, 'utf8'), Buffer.from(nonce12, 'utf8'));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(buf.subarray(buf.length - 16));
  return Buffer.concat([d.update(buf.subarray(0, buf.length - 16)), d.final()]).toString('utf8');
}

/** Alipay content encryption (`encrypt_type=AES`): AES-128-CBC, zero IV, PKCS#7, base64 key and text. */
export function alipayAesEncrypt(plaintext, keyB64) {
  const c = crypto.createCipheriv('aes-128-cbc', Buffer.from(keyB64, 'base64'), Buffer.alloc(16));
  return Buffer.concat([c.update(plaintext, 'utf8'), c.final()]).toString('base64');
}

/** The inverse of alipayAesEncrypt; throws on a wrong key or corrupted data. */
export function alipayAesDecrypt(ciphertextB64, keyB64) {
  const d = crypto.createDecipheriv('aes-128-cbc', Buffer.from(keyB64, 'base64'), Buffer.alloc(16));
  return Buffer.concat([d.update(Buffer.from(ciphertextB64, 'base64')), d.final()]).toString('utf8');
}

/** v2 refund notify req_info: AES-256-ECB/PKCS#7, key = lower-hex MD5 of the API key. */
export function refundReqInfoEncrypt(xml, apiKey) {
  const key = Buffer.from(crypto.createHash('md5').update(apiKey, 'utf8').digest('hex'), 'utf8');
  const c = crypto.createCipheriv('aes-256-ecb', key, null);
  return Buffer.concat([c.update(xml, 'utf8'), c.final()]).toString('base64');
}

// ---------- ids and randomness ----------
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function nonce(len = 32) {
  const bytes = crypto.randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return s;
}
export function digits(len) {
  const bytes = crypto.randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += String(bytes[i] % 10);
  return s;
}

// ---------- time ----------
function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}
/** Parts of a moment in Beijing time (UTC+8, no DST). */
function bj(ms) {
  const d = new Date(ms + 8 * 3600 * 1000);
  return {
    Y: d.getUTCFullYear(), M: pad(d.getUTCMonth() + 1), D: pad(d.getUTCDate()),
    h: pad(d.getUTCHours()), m: pad(d.getUTCMinutes()), s: pad(d.getUTCSeconds()),
  };
}
/** yyyyMMddHHmmss, Beijing time (WeChat v2 time_end). */
export function wxV2Time(ms) {
  const t = bj(ms);
  return `${t.Y}${t.M}${t.D}${t.h}${t.m}${t.s}`;
}
/** RFC 3339 with +08:00 (WeChat v3). */
export function rfc3339(ms) {
  const t = bj(ms);
  return `${t.Y}-${t.M}-${t.D}T${t.h}:${t.m}:${t.s}+08:00`;
}
/** yyyy-MM-dd HH:mm:ss, Beijing time (Alipay). */
export function alipayTime(ms) {
  const t = bj(ms);
  return `${t.Y}-${t.M}-${t.D} ${t.h}:${t.m}:${t.s}`;
}
/** Parse Alipay `yyyy-MM-dd HH:mm:ss` (Beijing) to epoch ms, or NaN. */
export function parseAlipayTime(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(String(s || ''));
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - 8 * 3600 * 1000;
}

/** fen (integer) <-> yuan string with two decimals. */
export function fenToYuan(fen) {
  const n = Number(fen);
  return `${Math.floor(n / 100)}.${pad(n % 100)}`;
}
export function yuanToFen(s) {
  const m = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(String(s ?? ''));
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
}

// ---------- HTTP helpers ----------
export function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res, status, body, headers = {}) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body ?? '', 'utf8');
  res.writeHead(status, { 'Content-Length': buf.length, ...headers });
  res.end(buf);
}
export function sendJson(res, status, obj, headers = {}) {
  send(res, status, JSON.stringify(obj), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}
export function sendXml(res, status, xml, headers = {}) {
  send(res, status, xml, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
