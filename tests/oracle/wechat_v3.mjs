// Independent oracle for WeChat Pay API v3 (node:crypto only).
// stdin: {"cases":[{op, ...}]}; stdout: [{...result}] in the same order.
import crypto from 'node:crypto';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { cases } = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const b64 = (s) => Buffer.from(s, 'base64');

// The path + query WeChat Pay signs, via the WHATWG URL parser.
function signedPath(url) {
  const u = new URL(url, 'https://oracle.invalid');
  return u.pathname + u.search;
}

function authMessage({ method, url, timestamp, nonce, body }) {
  return `${method.toUpperCase()}\n${signedPath(url)}\n${timestamp}\n${nonce}\n${body}\n`;
}

function notifyMessage({ timestamp, nonce, body_b64 }) {
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), b64(body_b64), Buffer.from('\n')]);
}

function parseAuthHeader(h) {
  const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(h);
  if (!m) return null;
  const out = {};
  for (const part of m[1].split(',')) {
    const kv = /^([a-z_]+)="([^"]*)"$/.exec(part);
    if (!kv) return null;
    out[kv[1]] = kv[2];
  }
  return out;
}

function gcmDecrypt({ key_b64, nonce, aad, ciphertext_b64 }) {
  const key = b64(key_b64);
  const ct = b64(ciphertext_b64);
  const d = crypto.createDecipheriv(`aes-${key.length * 8}-gcm`, key, Buffer.from(nonce));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
}

function run(c) {
  switch (c.op) {
    case 'auth_message':
      return { message: authMessage(c) };
    case 'sign': // RSA-SHA256 PKCS#1 v1.5 of a UTF-8 message
      return { signature: crypto.sign('RSA-SHA256', Buffer.from(c.message), c.key_pem).toString('base64') };
    case 'verify_auth_header': {
      const h = parseAuthHeader(c.header);
      if (!h) return { ok: false, why: 'unparsable header' };
      const message = authMessage({ ...c, timestamp: h.timestamp, nonce: h.nonce_str });
      const ok = crypto.verify('RSA-SHA256', Buffer.from(message), c.pub_pem, b64(h.signature));
      return { ok, mchid: h.mchid, serial_no: h.serial_no, nonce_str: h.nonce_str, timestamp: h.timestamp, message };
    }
    case 'sign_notify':
      return { signature: crypto.sign('RSA-SHA256', notifyMessage(c), c.key_pem).toString('base64') };
    case 'verify_notify':
      return { ok: crypto.verify('RSA-SHA256', notifyMessage(c), c.pub_pem, b64(c.signature)) };
    case 'gcm_encrypt': {
      const key = b64(c.key_b64);
      const e = crypto.createCipheriv(`aes-${key.length * 8}-gcm`, key, Buffer.from(c.nonce));
      e.setAAD(Buffer.from(c.aad));
      const ct = Buffer.concat([e.update(b64(c.plaintext_b64)), e.final(), e.getAuthTag()]);
      return { ciphertext: ct.toString('base64') };
    }
    case 'gcm_decrypt':
      try {
        return { plaintext_b64: gcmDecrypt(c).toString('base64') };
      } catch (err) {
        return { error: String(err.message) };
      }
    case 'oaep_decrypt':
      try {
        const pt = crypto.privateDecrypt(
          { key: c.key_pem, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          b64(c.ciphertext_b64));
        return { plaintext: pt.toString('utf8') };
      } catch (err) {
        return { error: String(err.message) };
      }
    case 'oaep_encrypt':
      return { ciphertext: crypto.publicEncrypt(
        { key: c.pub_pem, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
        Buffer.from(c.plaintext)).toString('base64') };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

process.stdout.write(JSON.stringify(cases.map(run)));
