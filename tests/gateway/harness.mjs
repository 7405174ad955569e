// Test harness for the gateway: builds the Worker once, starts the upstream
// emulator in-process, a merchant webhook receiver, and `wrangler dev` (local
// workerd, state persisted under a temp dir) pointed at both.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual, createPrivateKey } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { startEmulator } from '../sandbox/server.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MERCHANT_TOKEN = 'test-merchant-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef';

let built = false;
/** Builds the Worker once per process (skips when up to date). */
export function buildWorker() {
  if (built) return;
  execFileSync(join(ROOT, 'scripts', 'build-worker.sh'), { stdio: 'inherit' });
  built = true;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** PEM → one line of base64 of the DER (PKCS#8 for private keys), for the env file. */
function bare(pem) {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}
function pkcs8(pem) {
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('base64');
}

/** A merchant webhook receiver that checks the Edgepay-Signature HMAC itself (node:crypto). */
export async function startReceiver(secret = WEBHOOK_SECRET) {
  const r = { events: [], rejected: 0, down: false, badSignatures: 0, waiters: [] };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (r.down) { r.rejected++; res.writeHead(503); return res.end('down'); }
      const h = String(req.headers['edgepay-signature'] || '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(h);
      let ok = false;
      if (m) {
        const mac = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
        ok = timingSafeEqual(mac, Buffer.from(m[2], 'hex')) && Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
      }
      if (!ok) { r.badSignatures++; res.writeHead(400); return res.end('bad signature'); }
      const ev = JSON.parse(body);
      r.events.push({ ...ev, receivedAt: Date.now(), raw: body });
      res.writeHead(200); res.end('ok');
      r.waiters = r.waiters.filter((w) => !w());
    });
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  r.url = `http://127.0.0.1:${server.address().port}/webhooks`;
  r.close = () => new Promise((res) => { server.closeAllConnections?.(); server.close(res); });
  /** Resolves with the first event matching `pred`, or rejects after `ms`. */
  r.waitFor = (pred, ms = 20000) => new Promise((resolve, reject) => {
    const check = () => { const e = r.events.find(pred); if (e) { resolve(e); return true; } return false; };
    if (check()) return;
    const t = setTimeout(() => { r.waiters = r.waiters.filter((w) => w !== check); reject(new Error('webhook not received in time')); }, ms);
    r.waiters.push(() => { if (check()) { clearTimeout(t); return true; } return false; });
  });
  return r;
}

/** Starts the emulator, the receiver and the gateway. */
export async function startStack({ mode = 'cert', env = {}, persistDir } = {}) {
  buildWorker();
  const emu = await startEmulator({ port: 0, timeScale: 0.001, mode });
  const receiver = await startReceiver();
  const dir = persistDir || mkdtempSync(join(tmpdir(), 'edgepay-gw-'));
  mkdirSync(dir, { recursive: true });
  const stack = { emu, receiver, dir };
  stack.gateway = await startGateway({ emu, receiver, dir, mode, env });
  stack.close = async () => {
    await stack.gateway.stop();
    await receiver.close();
    await emu.close();
    if (!persistDir && !process.env.GATEWAY_KEEP_STATE) rmSync(dir, { recursive: true, force: true });
    else console.error(`gateway state and logs kept in ${dir}`);
  };
  return stack;
}

export function envFor(emu, receiver, port, mode, extra = {}) {
  const w = emu.config.wechat;
  const a = emu.config.alipay;
  const vars = {
    WECHAT_PAY_BASE: emu.url,
    WECHAT_API_BASE: emu.url,
    WECHAT_OPEN_BASE: emu.url,
    ALIPAY_GATEWAY: `${emu.url}/gateway.do`,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    WECHAT_APPID: w.appid,
    WECHAT_MINIPROGRAM_APPID: w.miniprogram_appid,
    WECHAT_APP_APPID: w.appid,
    WECHAT_MCHID: w.mch_id,
    WECHAT_API_VERSION: 'v2',
    WECHAT_SIGN_TYPE: 'HMAC-SHA256',
    WECHAT_MERCHANT_SERIAL: w.merchant_serial,
    WECHAT_API_KEY: w.api_key,
    WECHAT_APIV3_KEY: w.apiv3_key,
    WECHAT_MERCHANT_PRIVATE_KEY: pkcs8(w.merchant_private_key),
    WECHAT_APP_SECRET: w.app_secret,
    WECHAT_MINIPROGRAM_SECRET: w.miniprogram_secret,
    ALIPAY_APP_ID: a.app_id,
    ALIPAY_SELLER_ID: a.seller_id,
    ALIPAY_APP_PRIVATE_KEY: pkcs8(a.app_private_key),
    ALIPAY_PUBLIC_KEY: bare(a.alipay_public_key),
    MERCHANT_API_TOKEN: MERCHANT_TOKEN,
    WEBHOOK_SECRET,
    COOKIE_SECRET: 'test-cookie-secret-0123456789abcdef',
    MERCHANT_WEBHOOK_URL: receiver.url,
    WEBHOOK_RETRY_BASE_SECONDS: '1',
    WEBHOOK_RETRY_MAX_SECONDS: '2',
    WEBHOOK_MAX_ATTEMPTS: '30',
    ALLOWED_ORIGINS: `http://127.0.0.1:${port},https://shop.example`,
    RECONCILE_AFTER_SECONDS: '1',
    PLATFORM_CERT_REFRESH_MIN_SECONDS: '1',
    ...extra,
  };
  if (mode === 'pubkey') {
    const k = emu.ctx.platform.publicView().find((x) => x.active);
    vars.WECHATPAY_PUBLIC_KEY_ID = k.serial;
    vars.WECHATPAY_PUBLIC_KEY = bare(k.public_key);
  }
  return vars;
}

/** Starts `wrangler dev` on a free port; `stop()` ends it (SIGTERM to its process group). */
export async function startGateway({ emu, receiver, dir, mode = 'cert', env = {}, port }) {
  port = port || await freePort();
  const vars = envFor(emu, receiver, port, mode, env);
  const envFile = join(dir, 'gateway.env');
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n');
  const log = createWriteStream(join(dir, `wrangler-${port}.log`), { flags: 'a' });
  const inspectorPort = await freePort();
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'wrangler'), [
    'dev', '--config', join(ROOT, 'wrangler.toml'), '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', join(dir, 'state'), '--env-file', envFile, '--show-interactive-dev-session=false',
    '--inspector-port', String(inspectorPort),
  ], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } });
  const lines = [];
  const onData = (d) => { log.write(d); for (const l of String(d).split('\n')) if (l.trim()) lines.push(l); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${lines.slice(-20).join('\n')}`);
    try { const r = await fetch(`${url}/healthz`); if (r.status === 200) break; } catch {}
    if (Date.now() > deadline) { try { process.kill(-child.pid, 'SIGTERM'); } catch {} throw new Error(`wrangler dev did not start: ${lines.slice(-20).join('\n')}`); }
    await new Promise((r) => setTimeout(r, 250));
  }
  const gw = {
    url, port, inspectorPort, lines, child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => { log.end(); resolve(); });
      try { process.kill(-child.pid, 'SIGTERM'); } catch { resolve(); }
      setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 5000).unref();
    }),
  };
  return gw;
}

/** A merchant API call. */
export async function api(gw, method, path, body, { token = MERCHANT_TOKEN, headers = {} } = {}) {
  const r = await fetch(gw.url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json; try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

/** Emulator control API. */
export async function control(emu, method, path, body) {
  const r = await fetch(emu.url + '/_sandbox' + path, {
    method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  try { return { status: r.status, json: JSON.parse(text) }; } catch { return { status: r.status, text }; }
}

/** Waits for a notify delivery record to settle; returns it. */
export async function waitNotify(emu, id, status = 'settled') {
  const r = await control(emu, 'GET', `/notifies/${encodeURIComponent(id)}/wait?status=${status}&timeout_ms=20000`);
  if (r.status !== 200) throw new Error(`notify ${id} did not reach ${status}: ${JSON.stringify(r.json || r.text)}`);
  return r.json;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
export const orderNo = (p = 'T') => `${p}${Date.now().toString(36)}${(seq++).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 32);
