// Independent oracle for the WeChat Pay v2 / client-params / JS-SDK / legacy tests.
// Uses only node built-ins. Reads {cases:[{op, ...}]} on stdin, prints {results:[...]}.
import crypto from 'node:crypto';

const md5 = (s) => crypto.createHash('md5').update(Buffer.from(s, 'utf8')).digest('hex');
const sha1 = (s) => crypto.createHash('sha1').update(Buffer.from(s, 'utf8')).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', Buffer.from(k, 'utf8')).update(Buffer.from(s, 'utf8')).digest('hex');

// Byte-order sort of keys (all test keys are ASCII, so code-unit order is byte order).
const sortedKeys = (o) => Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function v2String(params, key) {
  const parts = [];
  for (const k of sortedKeys(params)) {
    if (k === 'sign' || params[k] === '') continue;
    parts.push(`${k}=${params[k]}`);
  }
  parts.push(`key=${key}`);
  return parts.join('&');
}

function v2Sign(params, key, type) {
  const s = v2String(params, key);
  return (type === 'HMAC-SHA256' ? hmac(key, s) : md5(s)).toUpperCase();
}

// Java URLEncoder-like (keep A-Za-z0-9 . - * _), space as %20.
function javaEncode(v) {
  return encodeURIComponent(v).replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function clientV2(c) {
  const ts = String(c.timestamp);
  if (c.kind === 'app') {
    const p = { appid: c.appid, partnerid: c.partnerid, prepayid: c.prepay_id, package: 'Sign=WXPay', noncestr: c.nonce, timestamp: ts };
    return { ...p, sign: v2Sign(p, c.key, c.sign_type) };
  }
  const signed = { appId: c.appid, timeStamp: ts, nonceStr: c.nonce, package: `prepay_id=${c.prepay_id}`, signType: c.sign_type };
  const paySign = v2Sign(signed, c.key, c.sign_type);
  if (c.kind === 'jsapi') return { ...signed, paySign };
  if (c.kind === 'jssdk') return { timestamp: ts, nonceStr: c.nonce, package: signed.package, signType: c.sign_type, paySign };
  return { timeStamp: ts, nonceStr: c.nonce, package: signed.package, signType: c.sign_type, paySign };
}

function v3Verify(c) {
  const o = c.output;
  const msg = c.kind === 'app'
    ? `${o.appid}\n${o.timestamp}\n${o.noncestr}\n${o.prepayid}\n`
    : `${c.appid}\n${o.timeStamp ?? o.timestamp}\n${o.nonceStr}\n${o.package}\n`;
  const sig = Buffer.from(c.kind === 'app' ? o.sign : o.paySign, 'base64');
  return { message: msg, valid: crypto.verify('sha256', Buffer.from(msg, 'utf8'), c.public_key, sig) };
}

function run(c) {
  switch (c.op) {
    case 'v2_sign': {
      const s = v2String(c.params, c.key);
      return { string: s, md5: md5(s).toUpperCase(), hmac: hmac(c.key, s).toUpperCase() };
    }
    case 'client_v2':
      return clientV2(c);
    case 'client_v3_verify':
      return v3Verify(c);
    case 'jssdk': {
      const url = c.url.split('#')[0];
      const s = `jsapi_ticket=${c.ticket}&noncestr=${c.noncestr}&timestamp=${c.timestamp}&url=${url}`;
      return { string: s, signature: sha1(s) };
    }
    case 'legacy_package': {
      const keys = sortedKeys(c.params).filter((k) => k !== 'sign' && c.params[k] !== '');
      const raw = keys.map((k) => `${k}=${c.params[k]}`).join('&');
      const sign = md5((raw ? raw + '&' : '') + `key=${c.partner_key}`).toUpperCase();
      const enc = keys.map((k) => `${k}=${javaEncode(c.params[k])}`);
      enc.push(`sign=${sign}`);
      return { package: enc.join('&') };
    }
    case 'legacy_sha1': {
      const lower = {};
      for (const k of Object.keys(c.params)) lower[k.toLowerCase()] = c.params[k];
      const keys = sortedKeys(lower).filter((k) => !['sign', 'app_signature', 'sign_method'].includes(k) && lower[k] !== '');
      return { signature: sha1(keys.map((k) => `${k}=${lower[k]}`).join('&')) };
    }
    case 'refund_decrypt': {
      const key = Buffer.from(md5(c.api_key), 'utf8');
      const d = crypto.createDecipheriv('aes-256-ecb', key, null);
      const pt = Buffer.concat([d.update(Buffer.from(c.req_info, 'base64')), d.final()]);
      return { plaintext: pt.toString('utf8') };
    }
    case 'refund_encrypt': {
      const key = Buffer.from(md5(c.api_key), 'utf8');
      const e = crypto.createCipheriv('aes-256-ecb', key, null);
      return { req_info: Buffer.concat([e.update(Buffer.from(c.plaintext, 'utf8')), e.final()]).toString('base64') };
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { cases } = JSON.parse(input);
  process.stdout.write(JSON.stringify({ results: cases.map(run) }));
});
