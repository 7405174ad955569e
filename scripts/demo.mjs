#!/usr/bin/env node
// `make demo`: the demo shop (www/) served by the gateway (wrangler dev / workerd) against the
// upstream emulator, with a local merchant-webhook receiver. Prints one URL; Ctrl-C stops
// everything it started.
//
//   node scripts/demo.mjs [--port 8787] [--emulator-port 9100] [--webhook-port 9200] [--fresh] [--no-setup]
//
// Test credentials only: the emulator's (tests/sandbox/config.example.json plus keys it generates
// once and keeps in .wrangler/demo/sandbox-state.json) and random demo secrets kept in
// .wrangler/demo/secrets.json. Gateway state (D1, KV, Durable Objects, queues) persists in
// .wrangler/demo/state, so a second run starts in seconds with the same orders. --fresh forgets it.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual, createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream, rmSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, '.wrangler', 'demo');
const TIME_SCALE = 0.02; // notify retries 50× faster than real (WeChat's 15 s first retry → 0.3 s)

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const say = (...a) => console.log('[demo]', ...a);

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function pickPort(wanted, what) {
  if (await portFree(wanted)) return wanted;
  const s = net.createServer();
  const port = await new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise((r) => s.close(r));
  say(`port ${wanted} (${what}) is busy: using ${port}`);
  return port;
}

// ---------- children and cleanup ----------
const cleanups = [];
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const f of cleanups.reverse()) {
    try { await f(); } catch (e) { console.error('[demo] cleanup:', e.message); }
  }
  process.exit(code);
}
process.on('SIGINT', () => { console.log(''); say('stopping…'); stopAll(0); });
process.on('SIGTERM', () => stopAll(0));
process.on('SIGHUP', () => stopAll(0));

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
}

async function main() {
  const port = await pickPort(Number(arg('port', process.env.DEMO_PORT || 8787)), 'gateway');
  const emuPort = await pickPort(Number(arg('emulator-port', 9100)), 'emulator');
  const hookPort = await pickPort(Number(arg('webhook-port', 9200)), 'webhook receiver');

  // 1. What is missing gets installed (idempotent and quick when all is there); the Worker is
  //    built once (skipped when worker/build is newer than every source).
  if (!arg('no-setup', false)) run(join(ROOT, 'scripts', 'setup.sh'), ['worker']);
  run(join(ROOT, 'scripts', 'build-worker.sh'), []);

  if (arg('fresh', false)) rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });

  // 2. The upstream emulator (in this process: it stops with us).
  const { startEmulator } = await import(join(ROOT, 'tests', 'sandbox', 'server.mjs'));
  const sandboxConfig = JSON.parse(readFileSync(join(ROOT, 'tests', 'sandbox', 'config.example.json'), 'utf8'));
  const emu = await startEmulator({
    port: emuPort, host: '127.0.0.1', timeScale: TIME_SCALE, mode: 'cert', config: sandboxConfig,
    stateFile: join(DIR, 'sandbox-state.json'),
  });
  cleanups.push(() => emu.close());

  // 3. Demo secrets (random, kept so that cookies and tokens survive a restart).
  const secretsFile = join(DIR, 'secrets.json');
  if (!existsSync(secretsFile)) {
    const r = () => randomBytes(24).toString('hex');
    writeFileSync(secretsFile, JSON.stringify({ MERCHANT_API_TOKEN: r(), WEBHOOK_SECRET: r(), COOKIE_SECRET: r() }, null, 2), { mode: 0o600 });
  }
  const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'));

  // 4. A merchant webhook receiver that checks the Edgepay-Signature HMAC (node:crypto).
  const hook = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['edgepay-signature'] || ''));
      let ok = false;
      if (m) {
        const mac = createHmac('sha256', secrets.WEBHOOK_SECRET).update(`${m[1]}.${body}`).digest();
        ok = timingSafeEqual(mac, Buffer.from(m[2], 'hex')) && Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
      }
      let ev = {};
      try { ev = JSON.parse(body); } catch {}
      say(`webhook ${ev.type || '?'} ${ev.order?.out_trade_no || ''} ${ok ? 'signature ok' : 'BAD SIGNATURE'}`);
      res.writeHead(ok ? 200 : 400);
      res.end(ok ? 'ok' : 'bad signature');
    });
  });
  await new Promise((r) => hook.listen(hookPort, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => { hook.closeAllConnections?.(); hook.close(() => r()); }));

  // 5. The gateway: wrangler dev with the demo configuration in an env file (git-ignored dir, 0600).
  const w = emu.config.wechat;
  const a = emu.config.alipay;
  const bare = (pem) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const pkcs8 = (pem) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('base64');
  const url = `http://127.0.0.1:${port}`;
  const vars = {
    WECHAT_PAY_BASE: emu.url, WECHAT_API_BASE: emu.url, WECHAT_OPEN_BASE: emu.url, ALIPAY_GATEWAY: `${emu.url}/gateway.do`,
    PUBLIC_BASE_URL: url,
    WECHAT_APPID: w.appid, WECHAT_MINIPROGRAM_APPID: w.miniprogram_appid, WECHAT_APP_APPID: w.appid, WECHAT_MCHID: w.mch_id,
    WECHAT_API_VERSION: 'v3', WECHAT_SIGN_TYPE: 'HMAC-SHA256', WECHAT_MERCHANT_SERIAL: w.merchant_serial,
    WECHAT_API_KEY: w.api_key, WECHAT_APIV3_KEY: w.apiv3_key, WECHAT_MERCHANT_PRIVATE_KEY: pkcs8(w.merchant_private_key),
    WECHAT_APP_SECRET: w.app_secret, WECHAT_MINIPROGRAM_SECRET: w.miniprogram_secret,
    ALIPAY_APP_ID: a.app_id, ALIPAY_SELLER_ID: a.seller_id, ALIPAY_APP_PRIVATE_KEY: pkcs8(a.app_private_key),
    ALIPAY_PUBLIC_KEY: bare(a.alipay_public_key),
    ...secrets,
    MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/webhooks`,
    WEBHOOK_RETRY_BASE_SECONDS: '2', WEBHOOK_RETRY_MAX_SECONDS: '30',
    ALLOWED_ORIGINS: `${url},http://localhost:${port}`,
    RECONCILE_AFTER_SECONDS: '10',
    DEMO_SHOP: '1',
    DEMO_SANDBOX_URL: emu.url,
  };
  const envFile = join(DIR, 'demo.env');
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n', { mode: 0o600 });
  chmodSync(envFile, 0o600);
  const logFile = join(DIR, 'wrangler.log');
  const log = createWriteStream(logFile, { flags: 'w' });
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'wrangler'), [
    'dev', '--config', join(ROOT, 'wrangler.toml'), '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', join(DIR, 'state'), '--env-file', envFile, '--show-interactive-dev-session=false',
    '--inspector-port', String(await pickPort(port + 10000 < 65536 ? port + 10000 : 0, 'inspector')),
  ], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } });
  const tail = [];
  const onData = (d) => { log.write(d); for (const l of String(d).split('\n')) if (l.trim()) { tail.push(l); if (tail.length > 30) tail.shift(); } };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 5000);
    await exited;
    clearTimeout(t);
    log.end();
  });
  // Last resort if this process dies without the handlers (e.g. an exception): no orphans.
  process.on('exit', () => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} });
  exited.then((code) => {
    if (stopping) return;
    console.error(`[demo] wrangler dev exited (${code}); last lines of ${logFile}:\n${tail.join('\n')}`);
    stopAll(1);
  });

  const deadline = Date.now() + 120000;
  for (;;) {
    if (stopping) return;
    try { const r = await fetch(`${url}/demo/config`); if (r.status === 200) break; } catch {}
    if (Date.now() > deadline) {
      console.error(`[demo] the gateway did not start in 120 s; see ${logFile}:\n${tail.join('\n')}`);
      return stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log('');
  console.log(`  edgepay demo shop:  ${url}/`);
  console.log('');
  say(`emulator ${emu.url} · webhook receiver :${hookPort} · logs ${logFile} · Ctrl-C stops everything`);
}

main().catch((e) => { console.error('[demo]', e.message); stopAll(1); });
