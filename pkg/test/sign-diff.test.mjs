// Differential tests: the package (both backends) against independent implementations
// on generated inputs: node:crypto, and the peer SDKs from npm as oracles
// (wechatpay-axios-plugin Hash/Rsa/Formatter, alipay-sdk sdkExecute/checkNotifySign/getSN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import * as edgepay from '../index.js';

const require = createRequire(import.meta.url);
const { Hash, Rsa, Formatter } = require('wechatpay-axios-plugin');
const { AlipaySdk } = await import('alipay-sdk');

const text = (f) => readFileSync(new URL(`../../../shared/vectors/${f}`, import.meta.url), 'utf8');
const wechatKey = text('wechatpay-go-test-key.pem');
const appKey = text('yansongda-app-private-key-pkcs1.pem');
const appPub = crypto.createPublicKey(appKey).export({ type: 'spki', format: 'pem' });
const N = 120; // generated cases per property

// Deterministic generator of awkward values (unicode, + & = %, spaces, quotes, JSON, empties).
function rng(seed) {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n | 1n;
  const M = (1n << 64n) - 1n;
  return () => {
    s ^= s >> 12n; s ^= (s << 25n) & M; s ^= s >> 27n;
    return Number(((s * 0x2545f4914f6cdd1dn) & M) >> 11n) / 2 ** 53;
  };
}
const PIECES = ['a', 'Z9', ' ', '+', '&', '=', '%', '%2B', '测试', 'é', '😀', '"', "'", '<b>', '{"k":"v"}', '\\', '/', '?', '#', ':', '.', '-', '_', '~', 'ü', '\t'];
function value(r, allowEmpty = true) {
  if (allowEmpty && r() < 0.1) return '';
  let v = '';
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) v += PIECES[Math.floor(r() * PIECES.length)];
  if (r() < 0.05) v = v.repeat(200);
  return v;
}
function params(r, { allowEmpty = true } = {}) {
  const p = {};
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) p[`k${Math.floor(r() * 50)}_${'abcxyz'[Math.floor(r() * 6)]}`] = value(r, allowEmpty);
  p.appid = 'wx' + Math.floor(r() * 1e9);
  return p;
}

const backends = async (fn) => {
  for (const b of ['webcrypto', 'wasm']) {
    edgepay.setBackend(b);
    try { await fn(b); } finally { edgepay.setBackend('auto'); }
  }
};

test(`WeChat v2 sign = node:crypto and wechatpay-axios-plugin Hash.sign on ${N} generated inputs`, async () => {
  await edgepay.init();
  const r = rng(1);
  for (let i = 0; i < N; i++) {
    const p = params(r);
    const key = value(r, false);
    // node:crypto, from the documented rule: non-empty values, sorted by key, raw k=v&…&key=KEY
    const s = Object.keys(p).filter((k) => p[k] !== '' && k !== 'sign').sort().map((k) => `${k}=${p[k]}`).join('&') + `&key=${key}`;
    const md5 = crypto.createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();
    const hmac = crypto.createHmac('sha256', key).update(s, 'utf8').digest('hex').toUpperCase();
    assert.equal(edgepay.signV2(p, key), md5, JSON.stringify(p));
    assert.equal(edgepay.signV2(p, key, 'HMAC-SHA256'), hmac);
    assert.equal(Hash.sign('MD5', p, key), md5);
    assert.equal(Hash.sign('HMAC-SHA256', p, key), hmac);
    assert.equal(edgepay.verifyV2({ ...p, sign: md5 }, key), 'MD5');
    // any change breaks it
    assert.throws(() => edgepay.verifyV2({ ...p, sign: md5, appid: p.appid + 'x' }, key), (e) => e.code === 'signature_mismatch');
  }
});

test(`v3 RSA sign = node:crypto = wechatpay-axios-plugin Rsa.sign on ${N} generated messages, both backends`, async () => {
  const r = rng(2);
  const msgs = Array.from({ length: N }, () => value(r) + '\n' + value(r));
  await backends(async (b) => {
    for (const m of msgs) {
      const want = crypto.createSign('RSA-SHA256').update(m, 'utf8').sign(wechatKey, 'base64');
      assert.equal(await edgepay.v3Sign(m, wechatKey), want, `${b}: ${JSON.stringify(m)}`);
    }
  });
  assert.equal(Rsa.sign(msgs[0], Rsa.from(wechatKey)), await edgepay.v3Sign(msgs[0], wechatKey));
});

test(`v3 Authorization = Formatter.request + Rsa.sign (wechatpay-axios-plugin) on ${N} generated requests, both backends`, async () => {
  const r = rng(3);
  const reqs = Array.from({ length: N }, () => {
    const method = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'][Math.floor(r() * 5)];
    return {
      method,
      path: '/v3/' + encodeURIComponent(value(r, false)) + (r() < 0.5 ? '?q=' + encodeURIComponent(value(r)) : ''),
      body: method === 'GET' ? '' : JSON.stringify({ d: value(r) }),
      timestamp: 1_600_000_000 + Math.floor(r() * 1e8),
      nonce: crypto.randomBytes(16).toString('hex').toUpperCase(),
    };
  });
  const key = Rsa.from(wechatKey);
  await backends(async (b) => {
    for (const q of reqs) {
      const header = await edgepay.v3Authorization({ mchid: '1900009191', serialNo: 'F5765756002FDD77', privateKey: wechatKey, method: q.method, url: `https://api.mch.weixin.qq.com${q.path}`, body: q.body, timestamp: q.timestamp, nonce: q.nonce });
      const sig = Rsa.sign(Formatter.request(q.method, q.path, q.timestamp, q.nonce, q.body), key);
      const fields = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      const theirs = Formatter.authorization('1900009191', q.nonce, sig, q.timestamp, 'F5765756002FDD77');
      const theirFields = Object.fromEntries([...theirs.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      assert.ok(header.startsWith('WECHATPAY2-SHA256-RSA2048 '));
      assert.deepEqual(fields, theirFields, b);
    }
  });
});

test(`v3 verify and notify parse against node:crypto-signed, node:crypto-encrypted notifies (${N}), both backends`, async () => {
  const r = rng(4);
  const pub = crypto.createPublicKey(wechatKey).export({ type: 'spki', format: 'pem' });
  const apiv3Key = crypto.randomBytes(16).toString('hex'); // 32 ASCII bytes
  const cases = Array.from({ length: N + 1 }, (_, i) => {
    const tx = { appid: 'wx' + i, mchid: '1900009191', out_trade_no: 'o' + value(r, false), transaction_id: 't' + i, trade_state: 'SUCCESS', amount: { total: 1 + i } };
    if (i === N) tx.amount.total = '1'; // the last one: a string amount, signed and encrypted correctly
    const nonce = crypto.randomBytes(6).toString('hex');
    const ad = r() < 0.5 ? 'transaction' : '';
    const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(apiv3Key), Buffer.from(nonce));
    c.setAAD(Buffer.from(ad));
    const ct = Buffer.concat([c.update(JSON.stringify(tx)), c.final(), c.getAuthTag()]).toString('base64');
    const body = JSON.stringify({ id: 'id' + i, create_time: '2024-01-01T00:00:00+08:00', resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: value(r), resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: ct, associated_data: ad, nonce } });
    const ts = String(1_700_000_000 + i);
    const hn = crypto.randomBytes(16).toString('hex');
    const sig = crypto.createSign('RSA-SHA256').update(`${ts}\n${hn}\n${body}\n`).sign(wechatKey, 'base64');
    return { tx, body, headers: { 'wechatpay-timestamp': ts, 'wechatpay-nonce': hn, 'wechatpay-signature': sig, 'wechatpay-serial': 'PUB_KEY_ID_0114232' }, now: Number(ts) + 5 };
  });
  const badAmount = cases.pop();
  await backends(async (b) => {
    // The core still types the decrypted transaction: a string amount is refused, not passed on.
    await assert.rejects(edgepay.v3ParseNotify({ headers: badAmount.headers, body: badAmount.body, publicKey: pub, apiv3Key, now: badAmount.now }),
      (e) => e instanceof edgepay.EdgepayError && e.code === 'malformed', b);
    for (const c of cases) {
      assert.equal(await edgepay.v3Verify({ headers: c.headers, body: c.body, publicKey: pub, now: c.now }), true);
      const n = await edgepay.v3ParseNotify({ headers: c.headers, body: c.body, publicKey: { PUB_KEY_ID_0114232: pub }, apiv3Key, now: c.now });
      assert.equal(n.kind, 'transaction');
      assert.equal(n.eventType, 'TRANSACTION.SUCCESS');
      assert.deepEqual(n.resource, c.tx, b); // exactly the transaction node:crypto encrypted
      assert.equal(n.resource.out_trade_no, c.tx.out_trade_no);
      assert.deepEqual(JSON.parse(n.plaintext), c.tx);
      const tampered = c.body.replace('"id', '"Id');
      await assert.rejects(edgepay.v3Verify({ headers: c.headers, body: tampered, publicKey: pub, now: c.now }), (e) => e.code === 'signature_mismatch');
    }
    // wrong APIv3 key: the signature holds, decryption fails
    const c = cases[0];
    await assert.rejects(edgepay.v3ParseNotify({ headers: c.headers, body: c.body, publicKey: pub, apiv3Key: 'x'.repeat(32), now: c.now }), (e) => e.code === 'decrypt_failed', b);
  });
});

test(`v3 decrypt = node:crypto AES-256-GCM on ${N} generated resources, both backends`, async () => {
  const r = rng(5);
  const cases = Array.from({ length: N }, () => {
    const key = crypto.randomBytes(16).toString('hex');
    const nonce = crypto.randomBytes(6).toString('hex');
    const ad = value(r);
    const pt = value(r) + JSON.stringify({ x: value(r) });
    const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(nonce));
    c.setAAD(Buffer.from(ad, 'utf8'));
    const ct = Buffer.concat([c.update(pt, 'utf8'), c.final(), c.getAuthTag()]);
    return { key, nonce, ad, pt, ct };
  });
  await backends(async (b) => {
    for (const c of cases) {
      assert.equal(await edgepay.v3Decrypt({ apiv3Key: c.key, nonce: c.nonce, associatedData: c.ad, ciphertext: c.ct.toString('base64') }), c.pt, b);
      const bad = Buffer.from(c.ct);
      bad[Math.floor(r() * bad.length)] ^= 1 << Math.floor(r() * 8);
      await assert.rejects(edgepay.v3Decrypt({ apiv3Key: c.key, nonce: c.nonce, associatedData: c.ad, ciphertext: bad.toString('base64') }), (e) => e.code === 'decrypt_failed', b);
    }
  });
});

test(`Alipay sign = alipay-sdk sdkExecute on ${N} generated requests (RSA2 and RSA), both backends`, async () => {
  const r = rng(6);
  const sdks = {
    RSA2: new AlipaySdk({ appId: '2021000000000001', privateKey: appKey, alipayPublicKey: appPub, signType: 'RSA2' }),
    RSA: new AlipaySdk({ appId: '2021000000000001', privateKey: appKey, alipayPublicKey: appPub, signType: 'RSA' }),
  };
  const cases = Array.from({ length: N }, (_, i) => {
    const signType = i % 4 === 0 ? 'RSA' : 'RSA2';
    // alipay-sdk signs empty values too, the documented rule leaves them out: non-empty here.
    const biz = { out_trade_no: 'o' + i, subject: value(r, false), total_amount: '0.01' };
    const os = sdks[signType].sdkExecute('alipay.trade.app.pay', { bizContent: biz, notifyUrl: 'https://m.example/n?' + encodeURIComponent(value(r, false)) });
    const theirs = Object.fromEntries(os.split('&').map((kv) => kv.split('=').map(decodeURIComponent)));
    return { signType, theirs };
  });
  await backends(async (b) => {
    for (const { signType, theirs } of cases) {
      const { sign, ...unsigned } = theirs;
      const ours = await edgepay.alipaySign(unsigned, appKey, signType);
      assert.equal(ours.sign, sign, `${b} ${signType}: ${JSON.stringify(unsigned)}`);
      const os = await edgepay.alipayOrderString(unsigned, appKey, signType);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(os)), theirs);
    }
  });
});

test(`Alipay notify verify agrees with alipay-sdk checkNotifySign on ${N} node:crypto-signed notifies`, async () => {
  const r = rng(7);
  const sdk = new AlipaySdk({ appId: '2021000000000001', privateKey: appKey, alipayPublicKey: appPub });
  for (let i = 0; i < N; i++) {
    const p = { app_id: '2021000000000001', out_trade_no: 'o' + i, subject: value(r, false), body: value(r, false), total_amount: '1.00', trade_status: 'TRADE_SUCCESS', sign_type: i % 5 === 0 ? 'RSA' : 'RSA2' };
    // rsaCheckV1: sign over everything but sign and sign_type
    const s = Object.keys(p).filter((k) => k !== 'sign_type').sort().map((k) => `${k}=${p[k]}`).join('&');
    p.sign = crypto.createSign(p.sign_type === 'RSA' ? 'RSA-SHA1' : 'RSA-SHA256').update(s, 'utf8').sign(appKey, 'base64');
    const body = new URLSearchParams(p).toString();
    assert.equal(sdk.checkNotifySignV2({ ...p }), true); // raw: no second decoding
    assert.deepEqual(await edgepay.alipayVerifyNotify(body, appPub), p);
    const changed = { ...p, total_amount: '100.00' };
    assert.equal(sdk.checkNotifySignV2(changed), false);
    await assert.rejects(edgepay.alipayVerifyNotify(new URLSearchParams(changed).toString(), appPub), (e) => e.code === 'signature_mismatch');
  }
});

test('Alipay response verify against a node:crypto-signed response', async () => {
  const node = '{"code":"10000","msg":"Success","out_trade_no":"6823789339978248","trade_no":"2013112011001004330000121536","total_amount":"88.88"}';
  const sign = crypto.createSign('RSA-SHA256').update(node).sign(appKey, 'base64');
  const raw = `{"alipay_trade_query_response":${node},"sign":"${sign}"}`;
  const got = await edgepay.alipayVerifyResponse(raw, appPub, { method: 'alipay.trade.query' });
  assert.equal(got.trade_no, '2013112011001004330000121536');
  await assert.rejects(edgepay.alipayVerifyResponse(raw.replace('88.88', '88.89'), appPub), (e) => e.code === 'signature_mismatch');
  const err = '{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}';
  const errSign = crypto.createSign('RSA-SHA256').update(err).sign(appKey, 'base64');
  await assert.rejects(edgepay.alipayVerifyResponse(`{"alipay_trade_query_response":${err},"sign":"${errSign}"}`, appPub), (e) => e.code === 'upstream_error');
  // A signed business error is reported only once its signature holds: tampered, it is a
  // mismatch (WebCrypto checks before the error is released), on both backends.
  const forged = `{"alipay_trade_query_response":${err.replace('交易不存在', '请重新支付')},"sign":"${errSign}"}`;
  for (const b of ['webcrypto', 'wasm']) {
    edgepay.setBackend(b);
    try {
      await assert.rejects(edgepay.alipayVerifyResponse(forged, appPub), (e) => e.code === 'signature_mismatch' && e.verificationFailure, b);
      assert.equal((await edgepay.alipayVerifyResponse(raw, appPub)).total_amount, '88.88', b);
    } finally {
      edgepay.setBackend('auto');
    }
  }
});

test('Alipay encrypted response (encrypt_type=AES): node:crypto ciphertext, signed with its quotes; both backends', async () => {
  const aesKey = crypto.randomBytes(16).toString('base64');
  const enc = (t) => { const c = crypto.createCipheriv('aes-128-cbc', Buffer.from(aesKey, 'base64'), Buffer.alloc(16)); return Buffer.concat([c.update(t, 'utf8'), c.final()]).toString('base64'); };
  const node = '{"code":"10000","msg":"Success","out_trade_no":"加密1","total_amount":"9.90"}';
  const quoted = JSON.stringify(enc(node));
  const sign = crypto.createSign('RSA-SHA256').update(quoted).sign(appKey, 'base64');
  const raw = `{"alipay_trade_query_response":${quoted},"sign":"${sign}"}`;
  const unquotedSign = crypto.createSign('RSA-SHA256').update(JSON.parse(quoted)).sign(appKey, 'base64');
  const err = JSON.stringify(enc('{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}'));
  const errRaw = `{"alipay_trade_query_response":${err},"sign":"${crypto.createSign('RSA-SHA256').update(err).sign(appKey, 'base64')}"}`;
  for (const b of ['webcrypto', 'wasm']) {
    edgepay.setBackend(b);
    try {
      assert.deepEqual(await edgepay.alipayVerifyResponse(raw, appPub, { method: 'alipay.trade.query', aesKey }), JSON.parse(node), b);
      // Without the key: a clear error naming the node.
      await assert.rejects(edgepay.alipayVerifyResponse(raw, appPub), (e) => e.field === 'alipay_trade_query_response' && /AES-encrypted/.test(e.message), b);
      // Signed without the quotes, or a changed ciphertext: a mismatch, nothing decrypted.
      await assert.rejects(edgepay.alipayVerifyResponse(raw.replace(sign, unquotedSign), appPub, { aesKey }), (e) => e.code === 'signature_mismatch', b);
      await assert.rejects(edgepay.alipayVerifyResponse(raw.replace(quoted, JSON.stringify(enc(node.replace('9.90', '0.01')))), appPub, { aesKey }), (e) => e.code === 'signature_mismatch', b);
      await assert.rejects(edgepay.alipayVerifyResponse(errRaw, appPub, { aesKey }), (e) => e.code === 'upstream_error' && /ACQ.TRADE_NOT_EXIST/.test(e.message), b);
    } finally {
      edgepay.setBackend('auto');
    }
  }
});

test('Alipay cert SNs = alipay-sdk getSN (via its certificate-mode config)', async () => {
  await edgepay.init();
  const sdk = new AlipaySdk({ appId: '1', privateKey: appKey, appCertContent: text('yansongda-app-public-cert.crt'), alipayPublicCertContent: text('yansongda-alipay-public-cert.crt'), alipayRootCertContent: text('yansongda-alipay-root-cert.crt') });
  assert.equal(edgepay.alipayCertSn(text('yansongda-app-public-cert.crt')), sdk.config.appCertSn);
  assert.equal(edgepay.alipayCertSn(text('yansongda-alipay-public-cert.crt')), sdk.config.alipayCertSn);
  assert.equal(edgepay.alipayRootCertSn(text('yansongda-alipay-root-cert.crt')), sdk.config.alipayRootCertSn);
});

test(`v3 client parameters: paySign verifies with node:crypto over the documented message (${N}), both backends`, async () => {
  const r = rng(8);
  const pub = crypto.createPublicKey(wechatKey);
  await backends(async (b) => {
    for (let i = 0; i < N / 4; i++) {
      const input = { appid: 'wx' + i, prepayId: 'wx' + crypto.randomBytes(8).toString('hex'), timestamp: 1_700_000_000 + i, nonce: value(r, false).slice(0, 8) || 'n', partnerid: '1900000109' };
      for (const kind of ['jsapi', 'miniprogram', 'app']) {
        const out = await edgepay.payParamsV3(kind, input, wechatKey);
        const msg = kind === 'app'
          ? `${input.appid}\n${input.timestamp}\n${input.nonce}\n${input.prepayId}\n`
          : `${input.appid}\n${input.timestamp}\n${input.nonce}\nprepay_id=${input.prepayId}\n`;
        const sig = kind === 'app' ? out.sign : out.paySign;
        assert.ok(crypto.createVerify('RSA-SHA256').update(msg).verify(pub, sig, 'base64'), `${b} ${kind}`);
      }
    }
  });
});
