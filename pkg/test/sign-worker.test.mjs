// The npm package inside a Cloudflare Worker (workerd via `wrangler dev --local`, offline),
// imported exactly as pkg/README.md's "Cloudflare Workers" section shows:
//   import wasm from 'edgepay/wasm/edgepay_bg.wasm'; import { init, … } from 'edgepay';
//   await init(wasm);
// The fixture (worker-fixture/) signs what we POST; every result is compared with the published
// value in ../shared/vectors (sources in SOURCES.md), not with our own output.
// Run after scripts/build-wasm.sh:  node --test pkg/test/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const PKG = here('../');
const ROOT = here('../../');
const FIXTURE = here('./worker-fixture/');
const text = (f) => readFileSync(new URL(`../../../shared/vectors/${f}`, import.meta.url), 'utf8');
const W = JSON.parse(text('wechat.json'));
const A = JSON.parse(text('alipay.json'));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The fixture runs from a temporary copy: wrangler writes .wrangler/ beside its config, and
// `node --test pkg/test/` would run any .js left there (hence also index.ts, not index.js: the
// runner executes every .js/.mjs/.cjs under a test/ directory). The copy imports the package by
// its name, as a user's Worker does: node_modules/edgepay is a link to pkg/, so esbuild
// resolves the package's "exports" (including ./wasm/edgepay_bg.wasm) as for an installed copy.
function stageFixture(dir) {
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  for (const f of ['wrangler.toml', 'index.ts']) copyFileSync(join(FIXTURE, f), join(app, f));
  symlinkSync(PKG, join(app, 'node_modules', 'edgepay'), 'dir');
  return app;
}

let worker;
let dir;

before(async () => {
  assert.ok(existsSync(join(PKG, 'wasm', 'edgepay_bg.wasm')), 'pkg/wasm/ is missing: run scripts/build-wasm.sh first');
  const wrangler = join(ROOT, 'node_modules', '.bin', 'wrangler');
  assert.ok(existsSync(wrangler), 'wrangler is missing: npm ci at the repository root');
  dir = mkdtempSync(join(tmpdir(), 'edgepay-pkg-worker-'));
  const app = stageFixture(dir);
  const port = await freePort();
  const inspectorPort = await freePort();
  const child = spawn(wrangler, [
    'dev', '--config', join(app, 'wrangler.toml'), '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', join(dir, 'state'), '--show-interactive-dev-session=false',
    '--inspector-port', String(inspectorPort),
    // A public key (not a secret): as env.WECHATPAY_PUBLIC_KEY in the README snippet, bare base64.
    '--var', `WECHATPAY_PUBLIC_KEY:${text('wechatpay-go-test-pub.pem').replace(/-----[^-]+-----|\s+/g, '')}`,
  ], {
    cwd: app, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', WRANGLER_LOG_PATH: join(dir, 'logs') },
  });
  const lines = [];
  const onData = (d) => { for (const l of String(d).split('\n')) if (l.trim()) lines.push(l); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  worker = { child, url: `http://127.0.0.1:${port}`, lines };
  const deadline = Date.now() + 45000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${lines.slice(-30).join('\n')}`);
    try { const r = await fetch(`${worker.url}/healthz`); if (r.status === 200) break; } catch {}
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start in 45 s:\n${lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  const child = worker?.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} resolve(); }, 5000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      try { process.kill(-child.pid, 'SIGTERM'); } catch { clearTimeout(t); resolve(); }
    });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(cases) {
  const r = await fetch(worker.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cases }) });
  const body = await r.text();
  assert.equal(r.status, 200, `worker answered ${r.status}: ${body}\n${worker.lines.slice(-20).join('\n')}`);
  return JSON.parse(body);
}

const v2 = W.v2_sign_official;
const rsa = W.v3_rsa_sign;
const gcm = W.v3_aes_256_gcm;
const ali = A.rsa2_request_sign;
const vectorCases = (backend) => [
  // pay.weixin.qq.com v2 signature rules 4_3 (also WxJava SignUtilsTest)
  { op: 'signV2', backend, args: { params: v2.params, key: v2.key } },
  { op: 'signV2', backend, args: { params: v2.params, key: v2.key, signType: 'HMAC-SHA256' } },
  // wechatpay-go core/auth/signers/sha256withrsa_signer_test.go
  { op: 'v3Sign', backend, args: { message: rsa.message, privateKey: text(rsa.private_key_file) } },
  // wechatpay-java AeadAesCipherTest
  { op: 'v3Decrypt', backend, args: { apiv3Key: gcm.apiv3_key, nonce: gcm.nonce, associatedData: gcm.associated_data, ciphertext: gcm.ciphertext } },
  // yansongda/pay AddPayloadSignaturePluginTest::testSignNormal (PKCS#1 key)
  { op: 'alipaySign', backend, args: { params: ali.params, privateKey: text(ali.private_key_file) } },
];

test('README Worker snippet: the wasm import is a WebAssembly.Module and init(wasm) loads it', async () => {
  const res = await run([{ op: 'signV2', args: { params: v2.params, key: v2.key } }]);
  assert.equal(res.wasmIsModule, true);
  assert.equal(res.hasSubtle, true);
  assert.equal(res.results[0].ok, true, JSON.stringify(res.results[0]));
});

for (const backend of ['auto', 'wasm']) {
  test(`shared vectors signed inside the Worker (backend ${backend})`, async () => {
    const res = await run(vectorCases(backend));
    const [md5, hmac, v3, dec, alipay] = res.results;
    for (const r of res.results) assert.equal(r.ok, true, JSON.stringify(r));
    // In workerd, 'auto' must pick WebCrypto (crypto.subtle exists); 'wasm' is the pure-Rust path.
    for (const r of res.results) assert.equal(r.backend, backend === 'auto' ? 'webcrypto' : 'wasm');
    assert.equal(md5.value, v2.md5);
    assert.equal(hmac.value, v2.hmac_sha256);
    assert.equal(v3.value, rsa.signature);
    assert.equal(dec.value, gcm.plaintext);
    assert.equal(alipay.value.sign, ali.sign);
    assert.equal(alipay.value.sign_type, 'RSA2');
    for (const [k, val] of Object.entries(ali.params)) assert.equal(alipay.value[k], val, k);
  });
}

test('errors surface in the Worker as EdgepayError (an Error) with code and field', async () => {
  const cases = ['auto', 'wasm'].flatMap((backend) => [
    // APIv3 keys are 32 bytes: a 16-byte one is refused before any decryption.
    { op: 'v3Decrypt', backend, args: { apiv3Key: 'x'.repeat(16), nonce: gcm.nonce, associatedData: gcm.associated_data, ciphertext: gcm.ciphertext } },
    // Wrong associated data: the GCM tag check fails.
    { op: 'v3Decrypt', backend, args: { apiv3Key: gcm.apiv3_key, nonce: gcm.nonce, associatedData: 'other', ciphertext: gcm.ciphertext } },
    { op: 'v3Sign', backend, args: { message: 'source', privateKey: 'not a key' } },
  ]);
  cases.push({ op: 'verifyV2', args: { params: { ...v2.params, body: 'test2', sign: v2.md5 }, key: v2.key } });
  cases.push({ op: 'signV2', args: { params: { a: { nested: 1 } }, key: v2.key } });
  const res = await run(cases);
  const errs = res.results.map((r) => { assert.equal(r.ok, false, JSON.stringify(r)); return r.error; });
  for (const e of errs) {
    assert.equal(e.isError, true);
    assert.equal(e.isEdgepayError, true, JSON.stringify(e));
    assert.equal(e.name, 'EdgepayError');
  }
  for (const i of [0, 3]) {
    assert.equal(errs[i].code, 'invalid_key', JSON.stringify(errs[i]));
    assert.equal(errs[i].field, 'apiv3_key');
    assert.doesNotMatch(errs[i].message, /xxxxxxxx/); // the key is not echoed
  }
  for (const i of [1, 4]) { assert.equal(errs[i].code, 'decrypt_failed'); assert.equal(errs[i].verificationFailure, true); }
  for (const i of [2, 5]) assert.deepEqual([errs[i].code, errs[i].field], ['invalid_field', 'private_key'], JSON.stringify(errs[i]));
  assert.equal(errs[6].code, 'signature_mismatch');
  assert.equal(errs[6].verificationFailure, true);
  assert.deepEqual([errs[7].code, errs[7].field], ['invalid_field', 'a']);
});

// wechatpay-go core/notify/notify_test.go: this body, signed with the test key at 1624523846.
const notifyBody = readFileSync(new URL('../../../shared/vectors/wechatpay-go-notify-body.json', import.meta.url));
const notifyHeaders = {
  'Wechatpay-Timestamp': '1624523846',
  'Wechatpay-Nonce': 'EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz',
  'Wechatpay-Signature': 'tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==',
  'Wechatpay-Serial': 'D7CE59D1F522D701',
};
const notifyAt = 1624523846;

test('README snippet verbatim: v3Verify(request.headers, raw body, env.WECHATPAY_PUBLIC_KEY) in the Worker', async () => {
  const post = (body, q = `?now=${notifyAt}`, headers = notifyHeaders) =>
    fetch(`${worker.url}/notify${q}`, { method: 'POST', headers, body });
  let r = await post(notifyBody);
  assert.equal(r.status, 204, await r.text());
  const tampered = Buffer.from(notifyBody);
  tampered[tampered.length - 3] ^= 1;
  r = await post(tampered);
  assert.equal(r.status, 401);
  let e = await r.json();
  assert.deepEqual([e.isEdgepayError, e.code, e.verificationFailure], [true, 'signature_mismatch', true]);
  // Without `now` (as the README has it) the 2021 signature is outside the 300 s window.
  r = await post(notifyBody, '');
  e = await r.json();
  assert.equal(e.code, 'timestamp_out_of_window', JSON.stringify(e));
  const { 'Wechatpay-Nonce': _, ...noNonce } = notifyHeaders;
  r = await post(notifyBody, `?now=${notifyAt}`, noNonce);
  e = await r.json();
  assert.deepEqual([e.code, e.field], ['missing_field', 'Wechatpay-Nonce']);
});

test('the notify verifies in the Worker, then its 16-byte APIv3 key is refused (invalid_key, apiv3_key)', async () => {
  const args = { headers: notifyHeaders, body: notifyBody.toString('utf8'), publicKey: text('wechatpay-go-test-pub.pem'), apiv3Key: 'testMchAPIv3Key0', now: notifyAt };
  const res = await run(['auto', 'wasm'].map((backend) => ({ op: 'v3ParseNotify', backend, args })));
  for (const r of res.results) {
    assert.equal(r.ok, false);
    assert.deepEqual([r.error.isEdgepayError, r.error.code, r.error.field], [true, 'invalid_key', 'apiv3_key'], JSON.stringify(r));
  }
});
