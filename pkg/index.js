// edgepay: WeChat Pay and Alipay signing for Node ≥ 20, browsers and Cloudflare Workers.
//
// The signing wasm module (pkg/wasm/, built by scripts/build-wasm.sh from the Rust core,
// feature `wasm`) does the protocol work. RSA (signing and verification) and AES-GCM
// decryption go through WebCrypto, `globalThis.crypto.subtle`: the core gives the exact
// message (or the signature check to make), WebCrypto does the arithmetic, the core
// assembles the result. The signing module has no RSA of its own; the pure-Rust fallback
// is a second module (pkg/wasm-rsa/, feature `wasm-rsa`) loaded only for the 'wasm'
// backend: where `crypto.subtle` is missing, or after `setBackend('wasm')`.
//
// Initialisation: `await init()` once, or call any async function (they initialise
// themselves). Synchronous functions throw `EdgepayError` code `not_initialized` before.
import wbgInit, * as raw from './wasm/edgepay.js';

/** An error from edgepay: `code` is stable (e.g. `missing_field`, `signature_mismatch`),
 * `field` names the field at fault when there is one. */
export class EdgepayError extends Error {
  constructor(message, code, field, verificationFailure = false) {
    super(message);
    this.name = 'EdgepayError';
    this.code = code;
    this.field = field;
    this.verificationFailure = verificationFailure;
  }
}

const fail = (code, message, field) => new EdgepayError(message, code, field);

// ------------------------------------------------------------------ initialisation

let ready = false;
let initPromise;

const isFileModule = () =>
  typeof import.meta.url === 'string' && import.meta.url.startsWith('file:');

/**
 * Loads the wasm module. Idempotent; concurrent calls share one load.
 * `source` (optional): a `WebAssembly.Module` (Cloudflare Workers: `import wasm from
 * 'edgepay/wasm/edgepay_bg.wasm'`), bytes, a `Response`, or a URL. Without it, Node reads
 * the file next to this module and browsers fetch it relative to this module's URL.
 */
export function init(source) {
  if (ready) return Promise.resolve();
  if (!initPromise) {
    initPromise = (async () => {
      let input = source;
      if (input === undefined && isFileModule()) {
        const fsName = 'node:fs/promises'; // not a static import: browsers and bundlers skip it
        const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsName);
        input = await readFile(new URL('./wasm/edgepay_bg.wasm', import.meta.url));
      }
      await wbgInit(input === undefined ? undefined : { module_or_path: input });
      ready = true;
    })().catch((e) => {
      initPromise = undefined;
      throw e;
    });
  }
  return initPromise;
}

// ------------------------------------------------------------------ the RSA fallback module

let rsaRaw;
let rsaPromise;

/**
 * Loads the pure-Rust RSA fallback module (pkg/wasm-rsa/) used by the `'wasm'` backend.
 * Async functions load it themselves when that backend is in effect, in Node (from the
 * file beside this module) and in browsers (fetched relative to this module). Bundled
 * hosts (a Cloudflare Worker) pass both parts: `glue` = `import * as glue from
 * 'edgepay/wasm-rsa/edgepay.js'`, `source` = `import wasm from 'edgepay/wasm-rsa/edgepay_bg.wasm'`.
 */
export function initRsa(source, glue) {
  if (rsaRaw) return Promise.resolve();
  if (!rsaPromise) {
    rsaPromise = (async () => {
      const g = glue ?? (await import(/* webpackIgnore: true */ /* @vite-ignore */ new URL('./wasm-rsa/edgepay.js', import.meta.url).href));
      let input = source;
      if (input === undefined && isFileModule()) {
        const fsName = 'node:fs/promises';
        const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsName);
        input = await readFile(new URL('./wasm-rsa/edgepay_bg.wasm', import.meta.url));
      }
      await g.default(input === undefined ? undefined : { module_or_path: input });
      rsaRaw = g;
    })().catch((e) => {
      rsaPromise = undefined;
      throw e;
    });
  }
  return rsaPromise;
}

// The fallback module's raw exports, loading it on first use.
async function rsaModule() {
  await initRsa();
  return rsaRaw;
}

/** True once `init()` has completed. */
export const isInitialized = () => ready;

function need() {
  if (!ready) {
    throw fail(
      'not_initialized',
      'edgepay is not initialised: `await init()` first (async functions initialise themselves)',
    );
  }
}

// Runs a raw wasm call, turning its errors into EdgepayError.
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw edgepayError(e);
  }
}

// A raw wasm `EdgepayError` (thrown or returned) as this module's class.
function edgepayError(e) {
  if (e && e.name === 'EdgepayError' && !(e instanceof EdgepayError)) {
    return new EdgepayError(e.message, e.code, e.field, Boolean(e.verificationFailure));
  }
  return e;
}

// ------------------------------------------------------------------ backend

let backend = 'auto';
const subtle = () => globalThis.crypto?.subtle;

/**
 * Chooses how RSA (signing, verification) and AES-GCM decryption run: `'auto'` (WebCrypto
 * where available, else wasm), `'webcrypto'` (required), or `'wasm'` (pure Rust in the
 * fallback module, e.g. to compare; see `initRsa`).
 */
export function setBackend(name) {
  if (!['auto', 'webcrypto', 'wasm'].includes(name)) {
    throw fail('invalid_field', `backend must be 'auto', 'webcrypto' or 'wasm', not ${String(name)}`, 'backend');
  }
  if (name === 'webcrypto' && !subtle()) {
    throw fail('invalid_field', 'WebCrypto (globalThis.crypto.subtle) is not available here', 'backend');
  }
  backend = name;
}

/** The backend in effect: `'webcrypto'` or `'wasm'`. */
export const getBackend = () => (backend === 'wasm' || !subtle() ? 'wasm' : 'webcrypto');

// ------------------------------------------------------------------ helpers

const enc = new TextEncoder();

function str(field, v, { optional = false } = {}) {
  if (v === undefined || v === null) {
    if (optional) return '';
    throw fail('missing_field', `${field}: missing`, field);
  }
  if (typeof v !== 'string') throw fail('invalid_field', `${field}: must be a string`, field);
  return v;
}

function obj(field, v) {
  if (v instanceof Map) return Object.fromEntries(v);
  if (typeof URLSearchParams === 'function' && v instanceof URLSearchParams) return Object.fromEntries(v);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw fail('invalid_field', `${field}: must be an object`, field);
  }
  return v;
}

// Parameters → flat [key, value, …] strings for the wasm layer (cheap to pass):
// string values as is, finite numbers as text, null/undefined absent, anything else refused.
function flat(field, params) {
  const o = obj(field, params);
  const out = [];
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string') out.push(k, v);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(k, String(v));
    else throw fail('invalid_field', `${k}: must be a string or a number (serialise nested objects to JSON text first)`, k);
  }
  return out;
}

function unflat(list, from = 0) {
  const o = {};
  for (let i = from; i + 1 < list.length; i += 2) o[list[i]] = list[i + 1];
  return o;
}

function bytes(field, v) {
  if (typeof v === 'string') return enc.encode(v);
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw fail('invalid_field', `${field}: must be a string or bytes (Uint8Array/ArrayBuffer)`, field);
}

// Headers (object, Map, fetch Headers or [name, value] pairs) → flat [name, value, …].
function headersFlat(h) {
  if (h === undefined || h === null) throw fail('missing_field', 'headers: missing', 'headers');
  if (typeof h.entries === 'function' && !(h instanceof Map) && typeof h.get === 'function') {
    return flat('headers', Object.fromEntries(h.entries())); // Fetch Headers
  }
  if (Array.isArray(h)) return flat('headers', Object.fromEntries(h));
  return flat('headers', h);
}

function publicKeyArg(k) {
  if (typeof k === 'string') return k;
  if (k === undefined || k === null) throw fail('missing_field', 'publicKey: missing', 'publicKey');
  return obj('publicKey', k);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function randomNonce() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function b64(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

// CryptoKeys imported from key text, per (use, key text); a small bounded cache.
const keyCache = new Map();
function cachedKey(id, make) {
  let p = keyCache.get(id);
  if (!p) {
    if (keyCache.size >= 64) keyCache.delete(keyCache.keys().next().value);
    p = make();
    keyCache.set(id, p);
    p.catch(() => keyCache.delete(id));
  }
  return p;
}

function signingKey(keyText, hash) {
  return cachedKey(`rsa:${hash}\n${keyText}`, async () => {
    const der = call(() => raw.private_key_pkcs8(keyText));
    return subtle().importKey(
      'pkcs8',
      der,
      { name: 'RSASSA-PKCS1-v1_5', hash: hash === 'SHA1' ? 'SHA-1' : 'SHA-256' },
      false,
      ['sign'],
    );
  });
}

// RSA PKCS#1 v1.5 signature (base64) of a message, WebCrypto or wasm.
async function rsaSign(keyText, hash, message) {
  await init();
  const data = bytes('message', message);
  if (getBackend() === 'webcrypto') {
    const key = await signingKey(keyText, hash);
    return b64(new Uint8Array(await subtle().sign('RSASSA-PKCS1-v1_5', key, data)));
  }
  const r = await rsaModule();
  return call(() => r.rsa_sign(keyText, hash, data));
}

function verifyingKey(keyText, hash) {
  return cachedKey(`spki:${hash}\n${keyText}`, async () => {
    const der = call(() => raw.public_key_spki(keyText));
    try {
      return await subtle().importKey('spki', der, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
    } catch (e) {
      throw new EdgepayError(`invalid key: public_key: WebCrypto refused the RSA key (${e?.message ?? e})`, 'invalid_key', 'public_key');
    }
  });
}

// Completes a check returned by the signing module (`{hash, message, signature, value?,
// error?}`, `value` as JSON text): WebCrypto verifies, then the value is released (or the
// core's error thrown).
// On a mismatch, `again()` runs the same check with reject = true, which throws the core's
// own mismatch error for that protocol.
async function hostVerified(out, keyText, again) {
  const key = await verifyingKey(keyText, out.hash);
  const ok = await subtle().verify('RSASSA-PKCS1-v1_5', key, out.signature, out.message);
  if (!ok) {
    call(again);
    throw new EdgepayError('signature mismatch', 'signature_mismatch', undefined, true);
  }
  if (out.error) throw edgepayError(out.error);
  return JSON.parse(out.value);
}

// v3 signature check with WebCrypto; `pk` is key text or {serial: key text}.
async function v3HostVerify(h, b, pk, now) {
  const serials = typeof pk === 'string' ? [] : Object.keys(pk);
  const out = call(() => raw.wechat_v3_check(h, b, serials, now, false));
  const text = typeof pk === 'string' ? pk : str(`publicKey.${serials[out.index]}`, pk[serials[out.index]]);
  await hostVerified(out, text, () => raw.wechat_v3_check(h, b, serials, now, true));
}

function aesKey(keyText) {
  return cachedKey(`gcm\n${keyText}`, () =>
    subtle().importKey('raw', enc.encode(keyText), 'AES-GCM', false, ['decrypt']),
  );
}

async function gcmDecrypt(keyText, nonce, associatedData, ciphertext) {
  const key = await aesKey(keyText);
  try {
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: enc.encode(nonce), additionalData: enc.encode(associatedData), tagLength: 128 },
      key,
      ciphertext,
    );
    return new Uint8Array(pt);
  } catch (e) {
    if (e?.name !== 'OperationError') throw e; // a tag mismatch; anything else is a bug
    throw new EdgepayError(
      'decryption failed: AES-GCM tag check failed: wrong APIv3 key, nonce, associated data, or a tampered ciphertext',
      'decrypt_failed',
      undefined,
      true,
    );
  }
}

// Client-parameter input → [[appid, prepayId, nonce, partnerid], timestamp] for the wasm layer.
// Accepts the wire spellings too (appId, prepay_id, nonceStr, partnerId/mchid).
function payInput(input) {
  const i = obj('input', input);
  const pick = (...names) => {
    for (const n of names) if (i[n] !== undefined && i[n] !== null) return str(n, i[n]);
    return '';
  };
  const ts = i.timestamp ?? nowSeconds();
  if (typeof ts !== 'number') throw fail('invalid_field', 'timestamp: must be a number (Unix seconds)', 'timestamp');
  const nonce = i.nonce === undefined && i.nonceStr === undefined ? randomNonce() : pick('nonce', 'nonceStr');
  return [[pick('appid', 'appId'), pick('prepayId', 'prepay_id'), nonce, pick('partnerid', 'partnerId', 'mchid')], ts];
}

// ================================================================== WeChat Pay v2

/** WeChat Pay v2 signature (upper-case hex) of `params` with the API key. Sync. */
export function signV2(params, key, signType = 'MD5') {
  need();
  return call(() => raw.wechat_v2_sign(flat('params', params), str('key', key), str('signType', signType)));
}

/** Verifies `params.sign` (MD5 or HMAC-SHA256, detected); returns the sign type.
 * Throws `EdgepayError` (`signature_mismatch`, …) when it does not match. Sync. */
export function verifyV2(params, key) {
  need();
  return call(() => raw.wechat_v2_verify(flat('params', params), str('key', key)));
}

/** The v2 string that is signed, with the key masked (to compare with another implementation). Sync. */
export function stringToSignV2(params) {
  need();
  return call(() => raw.wechat_v2_string_to_sign(flat('params', params)));
}

/** Encodes parameters as a v2 `<xml>` body (CDATA where needed). Sync. */
export function toXml(params) {
  need();
  return call(() => raw.wechat_xml_encode(flat('params', params)));
}

/** Decodes a v2 XML body into an object of strings (no DTDs/entities, size-limited). Sync. */
export function fromXml(xml) {
  need();
  return JSON.parse(call(() => raw.wechat_xml_decode(str('xml', xml))));
}

/** Decrypts a v2 refund notify `req_info` (AES-256-ECB, key = md5(API key)) into its parameters. Sync. */
export function decryptRefundReqInfo(reqInfo, apiKey) {
  need();
  return JSON.parse(call(() => raw.wechat_refund_decrypt(str('apiKey', apiKey), str('reqInfo', reqInfo))));
}

/**
 * Client parameters signed with the v2 API key. `kind`: `'jsapi'` (WeixinJSBridge
 * getBrandWCPayRequest), `'jssdk'` (wx.chooseWXPay), `'miniprogram'` (wx.requestPayment),
 * `'app'`. `input`: `{appid, prepayId, timestamp?, nonce?, partnerid?}` (timestamp in Unix
 * seconds and a random nonce by default; partnerid = mchid, for APP). Sync.
 */
export function payParamsV2(kind, input, key, signType = 'MD5') {
  need();
  return JSON.parse(call(() =>
    raw.wechat_pay_params_v2(str('kind', kind), ...payInput(input), str('key', key), str('signType', signType)),
  ));
}

// ================================================================== JS-SDK

/** The `wx.config` signature (SHA1 hex). Sync. */
export function jssdkSignature({ jsapiTicket, nonceStr, timestamp, url }) {
  need();
  return call(() =>
    raw.wechat_jssdk_signature(str('jsapiTicket', jsapiTicket), str('nonceStr', nonceStr), Number(timestamp), str('url', url)),
  );
}

/** The signed `wx.config` fields `{appId, timestamp, nonceStr, signature}`. Sync. */
export function jssdkConfig({ appId, jsapiTicket, nonceStr = randomNonce(), timestamp = nowSeconds(), url }) {
  need();
  return JSON.parse(call(() =>
    raw.wechat_jssdk_config(str('appId', appId), str('jsapiTicket', jsapiTicket), str('nonceStr', nonceStr), Number(timestamp), str('url', url)),
  ));
}

// ================================================================== WeChat Pay v3 (async)

/** SHA256withRSA signature (base64) of `message` with the merchant private key. Async. */
export async function v3Sign(message, privateKey) {
  return rsaSign(str('privateKey', privateKey), 'SHA256', message);
}

/**
 * The v3 `Authorization` header value. `url` is the path and query (or the full URL) exactly
 * as sent; `body` the exact JSON text ('' for GET). Async.
 */
export async function v3Authorization({ mchid, serialNo, privateKey, method, url, body = '', timestamp = nowSeconds(), nonce = randomNonce() }) {
  await init();
  const args = [str('mchid', mchid), str('serialNo', serialNo)];
  const key = str('privateKey', privateKey);
  const m = str('method', method);
  const u = str('url', url);
  const b = str('body', body, { optional: true });
  const ts = Number(timestamp);
  const n = str('nonce', nonce);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return call(() => r.wechat_v3_authorization(key, ...args, m, u, ts, n, b));
  }
  const message = call(() => raw.wechat_v3_auth_message(...args, m, u, ts, n, b));
  const signature = await rsaSign(key, 'SHA256', message);
  return call(() => raw.wechat_v3_auth_header(...args, ts, n, signature));
}

/** Client parameters signed with the v3 merchant private key (`signType` `RSA`); see payParamsV2. Async. */
export async function payParamsV3(kind, input, privateKey) {
  await init();
  const k = str('kind', kind);
  const [fields, ts] = payInput(input);
  const key = str('privateKey', privateKey);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return JSON.parse(call(() => r.wechat_pay_params_v3(k, fields, ts, key)));
  }
  const message = call(() => raw.wechat_pay_params_v3_message(k, fields, ts));
  const signature = await rsaSign(key, 'SHA256', message);
  return JSON.parse(call(() => raw.wechat_pay_params_v3_assemble(k, fields, ts, signature)));
}

/**
 * Verifies a v3 response or notify signature over the raw body. `headers`: object, Map or
 * fetch `Headers` with `Wechatpay-Timestamp/-Nonce/-Signature/-Serial`; `body`: the raw
 * bytes (or the exact text); `publicKey`: the platform public key / certificate PEM, or an
 * object `{serial: pem}` (then the serial must match); `now`: Unix seconds (default: the
 * clock). Timestamps 300 s or more away and `WECHATPAY/SIGNTEST/` probes are refused.
 * Resolves `true`; rejects with `EdgepayError` otherwise. Async.
 */
export async function v3Verify({ headers, body, publicKey, now = nowSeconds() }) {
  await init();
  const h = headersFlat(headers);
  const b = bytes('body', body);
  const pk = publicKeyArg(publicKey);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    call(() => r.wechat_v3_verify(h, b, typeof pk === 'string' ? pk : flat('publicKey', pk), Number(now)));
  } else {
    await v3HostVerify(h, b, pk, Number(now));
  }
  return true;
}

/** Decrypts a v3 resource (AEAD_AES_256_GCM) to text. Async. */
export async function v3Decrypt({ apiv3Key, nonce, associatedData = '', ciphertext }) {
  await init();
  const key = str('apiv3Key', apiv3Key);
  const n = str('nonce', nonce);
  const ad = str('associatedData', associatedData, { optional: true });
  const ct = str('ciphertext', ciphertext);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return call(() => r.wechat_v3_decrypt(key, n, ad, ct));
  }
  const input = call(() => raw.wechat_v3_decrypt_input(key, n, ct));
  const plain = await gcmDecrypt(key, n, ad, input);
  return call(() => raw.plaintext_utf8(plain));
}

/**
 * Verifies and decrypts a v3 notify: `{headers, body (raw), publicKey, apiv3Key, now?}` →
 * `{id, createTime, eventType, resourceType, summary, originalType, kind, resource, plaintext}`
 * where `kind` is `'transaction'`, `'refund'` or `'other'` and `resource` the decrypted JSON.
 * Check `resource` against your stored order before acting on it. Async.
 */
export async function v3ParseNotify({ headers, body, publicKey, apiv3Key, now = nowSeconds() }) {
  await init();
  const h = headersFlat(headers);
  const b = bytes('body', body);
  const pk = publicKeyArg(publicKey);
  const key = str('apiv3Key', apiv3Key);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return withResource(call(() => r.wechat_v3_notify(h, b, typeof pk === 'string' ? pk : flat('publicKey', pk), key, Number(now))));
  }
  await v3HostVerify(h, b, pk, Number(now));
  const prep = call(() => raw.wechat_v3_notify_decrypt_input(b, key));
  const plain = await gcmDecrypt(key, prep.nonce, prep.associated_data, prep.ciphertext);
  return withResource(call(() => raw.wechat_v3_notify_finish(b, plain)));
}

// The decrypted resource as sent (the core has typed and checked the plaintext already).
function withResource(json) {
  const { plaintext, ...rest } = JSON.parse(json);
  return { ...rest, resource: JSON.parse(plaintext), plaintext };
}

// ================================================================== Alipay

/** The Alipay string to sign (sorted `k=v&…`; empty values and `sign` left out). Sync. */
export function alipayStringToSign(params) {
  need();
  return call(() => raw.alipay_string_to_sign(flat('params', params)));
}

/** Signs request parameters (RSA2 = SHA256withRSA, RSA = SHA1withRSA): returns them with
 * `sign_type` and `sign` set. Async. */
export async function alipaySign(params, privateKey, signType = 'RSA2') {
  await init();
  return unflat(await alipaySignFlat(params, privateKey, signType));
}

async function alipaySignFlat(params, privateKey, signType) {
  await init();
  const p = flat('params', params);
  const key = str('privateKey', privateKey);
  const st = str('signType', signType);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return call(() => r.alipay_sign(p, key, st));
  }
  const [text, hash, ...prepared] = call(() => raw.alipay_prepare_sign(p, st));
  const signature = await rsaSign(key, hash, text);
  return call(() => raw.alipay_assemble_signed(prepared, signature));
}

/** Signs and returns the URL-encoded `orderString` for APP pay. Async. */
export async function alipayOrderString(params, privateKey, signType = 'RSA2') {
  const signed = await alipaySignFlat(params, privateKey, signType);
  return call(() => raw.alipay_order_string(signed));
}

/** Verifies an asynchronous notify from its raw form body (string or bytes, decoded once
 * here); resolves its parameters. `{checkV2: true}` when `sign_type` is signed too. Async. */
export async function alipayVerifyNotify(rawBody, publicKey, { checkV2 = false } = {}) {
  await init();
  const b = bytes('rawBody', rawBody);
  const key = str('publicKey', publicKey);
  const v2 = Boolean(checkV2);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return JSON.parse(call(() => r.alipay_verify_notify(b, key, v2)));
  }
  const out = call(() => raw.alipay_notify_check(b, v2, false));
  return hostVerified(out, key, () => raw.alipay_notify_check(b, v2, true));
}

/** Verifies a raw gateway JSON response over the raw `*_response` text; resolves the
 * business result (rejects with code `upstream_error` for a non-10000 code). With `aesKey`
 * (content encryption, `encrypt_type=AES`) an encrypted node is verified as sent, then decrypted.
 * Async. */
export async function alipayVerifyResponse(rawJson, publicKey, { method, signType = 'RSA2', aesKey } = {}) {
  await init();
  const text = str('rawJson', rawJson);
  const key = str('publicKey', publicKey);
  const m = method === undefined ? undefined : str('method', method);
  const st = str('signType', signType);
  const aes = aesKey === undefined ? undefined : str('aesKey', aesKey);
  if (getBackend() === 'wasm') {
    const r = await rsaModule();
    return JSON.parse(call(() => r.alipay_verify_response(text, key, m, st, aes)));
  }
  const out = call(() => raw.alipay_response_check(text, m, st, aes, false));
  return hostVerified(out, key, () => raw.alipay_response_check(text, m, st, aes, true));
}

/** `app_cert_sn` / `alipay_cert_sn` of a PEM certificate. Sync. */
export function alipayCertSn(pem) {
  need();
  return call(() => raw.alipay_cert_sn(str('pem', pem)));
}

/** `alipay_root_cert_sn` of the Alipay root certificate bundle. Sync. */
export function alipayRootCertSn(pem) {
  need();
  return call(() => raw.alipay_root_cert_sn(str('pem', pem)));
}

/** Alipay content encryption (AES-CBC, zero IV, PKCS#7) with the base64 AES key. Sync. */
export function alipayAesEncrypt(keyBase64, plaintext) {
  need();
  return call(() => raw.alipay_aes_encrypt(str('keyBase64', keyBase64), str('plaintext', plaintext)));
}

/** Alipay content decryption. Sync. */
export function alipayAesDecrypt(keyBase64, ciphertext) {
  need();
  return call(() => raw.alipay_aes_decrypt(str('keyBase64', keyBase64), str('ciphertext', ciphertext)));
}
