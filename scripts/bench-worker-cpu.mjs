#!/usr/bin/env node
// CPU per request of the gateway Worker itself — its JS, its wasm and the runtime calls it makes
// (WebCrypto, the D1 binding's JS, fetch) — against Cloudflare's 10 ms free-plan CPU budget
// (issue 7 target: ≤ 2 ms for POST /v1/orders WeChat v3 JSAPI and POST /notify/wechat/v3).
//
// Method (see BENCHMARKS.md, "Gateway: CPU per request of the Worker"):
//   - The BUILT Worker (worker/build/, scripts/build-worker.sh) runs in a bare `workerd serve`
//     (npm `workerd`, the runtime wrangler dev uses and Cloudflare runs), configured by
//     ./bench-lib/workerd.mjs: no wrangler, no miniflare, no local D1/queue in the process.
//     (Node 20's V8 11.3 cannot compile this wasm — it uses exnref exception handling and
//     WebAssembly.JSTag — so workerd is also the only faithful host on this machine.)
//   - Its bindings are workerd's real binding code (the D1 binding's JS module, the native KV and
//     queue bindings) talking over HTTP to stand-ins in THIS Node process (./bench-lib/fakes.mjs:
//     sql.js for D1, a Map for KV, an array for the queue); WeChat Pay is the emulator
//     (tests/sandbox), also in this process. So SQLite, the queue, KV and WeChat's side never run
//     in the measured process.
//   - CPU: the kernel's per-thread accounting of the workerd process (/proc/PID/task/TID/schedstat,
//     nanoseconds on CPU, all threads), read around each batch of B sequential requests (N in all,
//     after W warm-up requests). The same B requests (same method, headers and body) are then sent
//     to a null Worker in the same workerd (reads the body, answers 204): its CPU — HTTP parsing,
//     dispatch, entering an isolate, the response — is subtracted. The median batch is reported
//     (with the lowest and highest): other jobs on a shared machine inflate CPU time. Cloudflare's front line does that work, not the
//     isolate. What remains also counts the client side of the Worker's subrequests (D1, queue,
//     WeChat: HTTP serialisation and parsing in workerd's event loop), so it is slightly above
//     what the isolate alone spends.
//   - Where the time goes: a second workerd with --inspector-addr and a V8 CPU profile (DevTools
//     protocol, as Cloudflare documents for local profiling) over the same routes; split into our
//     wasm, the wasm-bindgen JS glue, WebCrypto, the D1 binding JS, other runtime code, GC.
//   - Each request is checked (status and body), and after each route the fake D1 and queue are:
//     orders have their prepay id, a paid order is paid exactly once (one SUCCESS history row, one
//     event, one queue message), duplicates change nothing.
// Usage: node scripts/bench-worker-cpu.mjs [--requests 200] [--batch 20] [--warmup 50] [--no-profile]
//          [--interval-us 100] [--json out.json] [--md out.md] [--no-build] [--routes k1,k2]
//          [--save-profiles DIR]   (DIR/<route>.cpuprofile, opens in Chrome DevTools)
//          [--build-dir DIR]       (a copy of a Worker build instead of worker/build)
//          [--compare DIR]         (a second build measured in alternating batches, for judging a change)
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startEmulator } from '../tests/sandbox/server.mjs';
import { envFor, freePort, orderNo, MERCHANT_TOKEN, ROOT } from '../tests/gateway/harness.mjs';
import { v3Transaction, v3Body, v3Headers, v2Notify, alipayParams, alipayForm } from '../tests/gateway/notifies.mjs';
import { startFakes } from './bench-lib/fakes.mjs';
import { startWorkerd, threadCpuNs } from './bench-lib/workerd.mjs';

const argv = process.argv.slice(2);
const arg = (name, d) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : d; };
const flag = (name) => argv.includes(`--${name}`);
const N = Number(arg('requests', 200));
const B = Number(arg('batch', 20));
const W = Number(arg('warmup', 50));
const INTERVAL = Number(arg('interval-us', 100));
const PROFILE = !flag('no-profile');
const BUDGET_MS = 10;
const TARGET_MS = 2;
const WORKERD = join(ROOT, 'node_modules', '.bin', 'workerd');
const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))[1];

const BUILD_DIR = arg('build-dir', join(ROOT, 'worker', 'build'));
if (!flag('no-build') && !arg('build-dir')) execFileSync(join(ROOT, 'scripts', 'build-worker.sh'), { stdio: ['ignore', 2, 2] });
const wasmBytes = readFileSync(join(BUILD_DIR, 'index_bg.wasm')).length;

const emu = await startEmulator({ port: 0, timeScale: 0.001, mode: 'cert' });
const fakes = await startFakes({ migrationsDir: join(ROOT, 'worker', 'migrations') });
// The floor Worker's tables (see bench-lib/workerd.mjs): only what its routes need.
for (const t of [
  'floor_orders (out_trade_no TEXT PRIMARY KEY, amount INTEGER NOT NULL, openid TEXT, status TEXT NOT NULL, prepay_id TEXT, pay_params TEXT, transaction_id TEXT)',
  'floor_history (id INTEGER PRIMARY KEY AUTOINCREMENT, out_trade_no TEXT NOT NULL, to_status TEXT NOT NULL, at INTEGER NOT NULL)',
  'floor_notifications (id TEXT PRIMARY KEY, body TEXT NOT NULL)',
  'floor_events (id TEXT PRIMARY KEY, out_trade_no TEXT NOT NULL, payload TEXT NOT NULL, enqueued_at INTEGER)',
]) fakes.d1.query(`CREATE TABLE ${t}`);
const w = emu.config.wechat;

function fail(msg) { throw new Error(msg); }
const check = (cond, msg) => { if (!cond) fail(msg); };

// ---- requests --------------------------------------------------------------------------------
const orderReq = (body) => ({ method: 'POST', path: '/v1/orders', headers: { authorization: `Bearer ${MERCHANT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const v3OrderBody = (no) => ({ provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: no, amount: 1, description: 'cpu', openid: w.payer_openid });
const v2OrderBody = (no) => ({ provider: 'wechat', channel: 'jsapi', api: 'v2', out_trade_no: no, amount: 1, description: 'cpu', openid: w.payer_openid });
const alipayOrderBody = (no) => ({ provider: 'alipay', channel: 'app', out_trade_no: no, amount: 1, description: 'cpu' });

async function send(base, r) {
  const res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body });
  return { status: res.status, text: await res.text() };
}

// ---- D1 checks ---------------------------------------------------------------------------------
const row = (no) => fakes.d1.query('SELECT * FROM orders WHERE out_trade_no = ?', [no])[0];
const successRows = (no) => fakes.d1.query("SELECT COUNT(*) AS n FROM order_history WHERE out_trade_no = ? AND to_status = 'SUCCESS'", [no])[0].n;
const eventsOf = (no) => fakes.d1.query('SELECT * FROM events WHERE out_trade_no = ?', [no]);
const queued = (id) => fakes.queue.filter((m) => m?.id === id).length;

function checkCreated(nos, provider) {
  for (const no of nos) {
    const o = row(no);
    check(o && o.provider === provider && o.status === 'NOTPAY' && o.pay_params, `order ${no}: not created with pay_params (${JSON.stringify(o)})`);
    if (provider === 'wechat') check(o.prepay_id, `order ${no}: no prepay_id`);
  }
}
function checkPaidOnce(nos) {
  for (const no of nos) {
    const o = row(no);
    check(o?.status === 'SUCCESS' && o.transaction_id, `order ${no}: not paid (${o?.status})`);
    check(successRows(no) === 1, `order ${no}: ${successRows(no)} SUCCESS history rows, expected exactly 1`);
    const ev = eventsOf(no);
    check(ev.length === 1 && ev[0].enqueued_at, `order ${no}: ${ev.length} events (enqueued: ${ev[0]?.enqueued_at})`);
    check(queued(ev[0].id) === 1, `order ${no}: event ${ev[0].id} queued ${queued(ev[0].id)} times, expected 1`);
  }
}

// ---- routes ------------------------------------------------------------------------------------
// prepare(count) → { reqs, after() } builds `count` requests (setup not measured) and a check run
// after they were all sent; `ok(r)` checks each answer.
async function createOrders(gw, count, bodyOf) {
  const nos = [];
  for (let i = 0; i < count; i++) {
    const no = orderNo('CPU');
    const r = await send(gw.url, orderReq(bodyOf(no)));
    check(r.status === 201, `setup order: ${r.status} ${r.text}`);
    nos.push(no);
  }
  return nos;
}
const routes = [
  {
    name: 'GET /healthz', note: 'routing, a JSON answer', key: 'healthz',
    prepare: async (gw, n) => ({ reqs: Array.from({ length: n }, () => ({ method: 'GET', path: '/healthz', headers: {} })), after: () => {} }),
    ok: (r) => r.status === 200 && r.text.includes('"ok":true'),
  },
  {
    name: 'anchor: one WebCrypto RSA-2048 signature (separate trivial Worker)', note: 'crypto.subtle.sign, RSASSA-PKCS1-v1_5 SHA-256, merchant key imported once', key: 'anchor_sign', url: 'signUrl',
    prepare: async (gw, n) => ({ reqs: Array.from({ length: n }, () => ({ method: 'POST', path: '/', headers: {}, body: 'x' })), after: () => {} }),
    ok: (r) => r.status === 204,
  },
  {
    name: 'POST /v1/orders, WeChat v3 JSAPI', note: 'D1 insert + read, RSA sign (prepay), RSA verify (answer), RSA sign (paySign), D1 update', key: 'order_v3', target: true, floor: 'floor_order_v3',
    prepare: async (gw, n) => {
      const nos = Array.from({ length: n }, () => orderNo('CPO'));
      return { reqs: nos.map((no) => orderReq(v3OrderBody(no))), after: () => checkCreated(nos, 'wechat') };
    },
    ok: (r) => r.status === 201 && /"paySign"/.test(r.text) && /prepay_id=/.test(r.text),
  },
  {
    name: 'floor: the v3 JSAPI order\'s required work in plain JS (separate trivial Worker)', note: 'D1 batch (insert + read), RSA sign, fetch, RSA verify over the raw answer, RSA sign (paySign), D1 update; nothing else', key: 'floor_order_v3', url: 'floorUrl',
    prepare: async (gw, n) => {
      const nos = Array.from({ length: n }, () => orderNo('CPF'));
      return { reqs: nos.map((no) => ({ ...orderReq(v3OrderBody(no)), path: '/' })), after: () => {
        for (const no of nos) check(fakes.d1.query('SELECT prepay_id FROM floor_orders WHERE out_trade_no = ?', [no])[0]?.prepay_id, `floor order ${no}: no prepay_id`);
      } };
    },
    ok: (r) => r.status === 201 && /"paySign"/.test(r.text) && /prepay_id=/.test(r.text),
  },
  {
    name: 'POST /notify/wechat/v3, first delivery', note: 'RSA verify, AES-GCM, D1 read + batch (state change, history, notification, event), event claimed, queue send', key: 'notify_v3', target: true, floor: 'floor_notify_v3',
    prepare: async (gw, n) => {
      const nos = await createOrders(gw, n, v3OrderBody);
      const reqs = nos.map((no) => { const body = v3Body(emu, v3Transaction(emu, { no, amount: 1 })); return { method: 'POST', path: '/notify/wechat/v3', headers: v3Headers(emu, body), body }; });
      return { reqs, after: () => checkPaidOnce(nos) };
    },
    ok: (r) => r.status === 204,
  },
  {
    name: 'floor: the v3 notify\'s first delivery in plain JS (separate trivial Worker)', note: 'the same I/O and crypto as the route (window, RSA verify, AES-GCM, D1 read + batch, queue send, D1 update); nothing else', key: 'floor_notify_v3', url: 'floorUrl',
    prepare: async (gw, n) => {
      const nos = [];
      for (let i = 0; i < n; i++) {
        const no = orderNo('CPN');
        const r = await send(gw.floorUrl, { ...orderReq(v3OrderBody(no)), path: '/' });
        check(r.status === 201, `floor setup order: ${r.status} ${r.text}`);
        nos.push(no);
      }
      const reqs = nos.map((no) => { const body = v3Body(emu, v3Transaction(emu, { no, amount: 1 })); return { method: 'POST', path: '/notify', headers: v3Headers(emu, body), body }; });
      return { reqs, after: () => {
        for (const no of nos) {
          check(fakes.d1.query('SELECT status FROM floor_orders WHERE out_trade_no = ?', [no])[0]?.status === 'SUCCESS', `floor order ${no}: not paid`);
          check(fakes.d1.query('SELECT COUNT(*) AS n FROM floor_history WHERE out_trade_no = ?', [no])[0].n === 1, `floor order ${no}: history`);
          check(fakes.d1.query('SELECT enqueued_at FROM floor_events WHERE out_trade_no = ?', [no])[0]?.enqueued_at, `floor order ${no}: event not queued`);
        }
      } };
    },
    ok: (r) => r.status === 204,
  },
  {
    name: 'POST /notify/wechat/v3, duplicate', note: 'RSA verify, AES-GCM, D1 read + batch that changes nothing; event known queued', key: 'notify_v3_dup', target: true,
    prepare: async (gw, n) => {
      const [no] = await createOrders(gw, 1, v3OrderBody);
      const body = v3Body(emu, v3Transaction(emu, { no, amount: 1 }));
      const first = { method: 'POST', path: '/notify/wechat/v3', headers: v3Headers(emu, body), body };
      check((await send(gw.url, first)).status === 204, 'duplicate route: the first delivery failed');
      // checkPaidOnce: still one SUCCESS history row, one event, queued once.
      return { reqs: Array.from({ length: n }, () => ({ ...first, headers: v3Headers(emu, body) })), after: () => checkPaidOnce([no]) };
    },
    ok: (r) => r.status === 204,
  },
  {
    name: 'POST /v1/orders, WeChat v2 JSAPI', note: 'D1 insert + read, HMAC-SHA256 sign, XML, verify answer, D1 update', key: 'order_v2',
    prepare: async (gw, n) => {
      const nos = Array.from({ length: n }, () => orderNo('CPV'));
      return { reqs: nos.map((no) => orderReq(v2OrderBody(no))), after: () => checkCreated(nos, 'wechat') };
    },
    ok: (r) => r.status === 201 && /"paySign"/.test(r.text),
  },
  {
    name: 'POST /notify/wechat (v2), first delivery', note: 'XML, HMAC-SHA256 verify, D1 read + batch, queue send', key: 'notify_v2',
    prepare: async (gw, n) => {
      const nos = await createOrders(gw, n, v2OrderBody);
      const reqs = nos.map((no) => ({ method: 'POST', path: '/notify/wechat', headers: { 'content-type': 'text/xml' }, body: v2Notify(emu, { no, amount: 1 }) }));
      return { reqs, after: () => checkPaidOnce(nos) };
    },
    ok: (r) => r.status === 200 && /SUCCESS/.test(r.text),
  },
  {
    name: 'POST /v1/orders, Alipay app', note: 'D1 insert + read, RSA2 sign (no upstream call), D1 update', key: 'order_alipay',
    prepare: async (gw, n) => {
      const nos = Array.from({ length: n }, () => orderNo('CPA'));
      return { reqs: nos.map((no) => orderReq(alipayOrderBody(no))), after: () => checkCreated(nos, 'alipay') };
    },
    ok: (r) => r.status === 201,
  },
  {
    name: 'POST /notify/alipay, first delivery', note: 'form parse, RSA2 verify, D1 read + batch, queue send', key: 'notify_alipay',
    prepare: async (gw, n) => {
      const nos = await createOrders(gw, n, alipayOrderBody);
      const reqs = nos.map((no) => ({ method: 'POST', path: '/notify/alipay', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: alipayForm(emu, Object.entries(alipayParams(emu, { no, amount: 1 }))) }));
      return { reqs, after: () => checkPaidOnce(nos) };
    },
    ok: (r) => r.status === 200 && r.text === 'success',
  },
];

const only = arg('routes');
const selected = only ? routes.filter((r) => only.split(',').includes(r.key)) : routes;

async function gateway(inspectorPort, buildDir = BUILD_DIR) {
  const port = await freePort();
  const nullPort = await freePort();
  const signPort = await freePort();
  const floorPort = await freePort();
  const vars = envFor(emu, { url: 'http://127.0.0.1:9/webhooks' }, port, 'cert', { WECHAT_API_VERSION: 'v3' });
  const floorVars = {
    KEY: vars.WECHAT_MERCHANT_PRIVATE_KEY, APPID: vars.WECHAT_APPID, MCHID: vars.WECHAT_MCHID, SERIAL: vars.WECHAT_MERCHANT_SERIAL,
    APIV3_KEY: vars.WECHAT_APIV3_KEY, BASE: emu.url, NOTIFY_URL: `http://127.0.0.1:${floorPort}/notify`,
    PLATFORM_SPKI: emu.ctx.platform.active().publicKey.replace(/-----[^-]+-----|\s/g, ''),
  };
  return startWorkerd({ buildDir, workerd: WORKERD, port, nullPort, signPort, floorPort, floorVars, fakes: fakes.ports, vars, compatibilityDate, inspectorPort });
}

async function runAll(gw, base, reqs, ok) {
  for (const r of reqs) {
    const a = await send(base, r);
    if (ok && !ok(a)) fail(`${r.method} ${r.path}: unexpected answer ${a.status} ${a.text.slice(0, 300)}`);
  }
}
function cpuDelta(before, after) {
  let total = 0;
  const byThread = [];
  for (const [tid, a] of after) { const d = a.ns - (before.get(tid)?.ns ?? 0); total += d; byThread.push({ tid, comm: a.comm, ns: d }); }
  byThread.sort((x, y) => y.ns - x.ns);
  return { total, main: byThread[0], byThread };
}

// ---- pass 1: CPU -------------------------------------------------------------------------------
// With --compare DIR, a second workerd runs another build of the Worker and its batches alternate
// with the first one's, so both see the same conditions (for judging a change to the Worker).
const med = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
const fx = (x) => +x.toFixed(3);
const rows = [];
const compareRows = [];
const gws = [await gateway(undefined, BUILD_DIR)];
if (arg('compare')) gws.push(await gateway(undefined, arg('compare')));
try {
  // A route with a floor (see bench-lib/workerd.mjs) is measured in batches alternating with its
  // floor's, like a --compare build, so that both see the same machine.
  const floorOf = (route) => (route.floor ? selected.find((r) => r.key === route.floor) : undefined);
  const paired = new Set(selected.map(floorOf).filter(Boolean));
  for (const route of selected) {
    if (paired.has(route)) continue;
    const lanes = gws.map((g, k) => ({ g, k, route }));
    if (floorOf(route)) lanes.push({ g: gws[0], k: 0, route: floorOf(route) });
    for (const l of lanes) {
      const warm = await l.route.prepare(l.g, W);
      await runAll(l.g, l.g[l.route.url ?? 'url'], warm.reqs, l.route.ok);
      warm.after();
    }
    // Batches of B requests, each followed by the same B requests to the null Worker, so that both
    // see the same conditions; other jobs on a shared machine inflate CPU time (cache, frequency),
    // so the median batch is reported, with the lowest and highest.
    const per = lanes.map(() => ({ batches: [], wallNs: 0n, d1: 0, queue: 0 }));
    const ms = [];
    for (const l of lanes) ms.push(await l.route.prepare(l.g, N));
    for (let i = 0; i < N; i += B) {
      for (const [k, { g, route: lr }] of lanes.entries()) {
        const part = ms[k].reqs.slice(i, i + B);
        const c0 = { ...fakes.counts };
        const b0 = threadCpuNs(g.pid);
        const t0 = process.hrtime.bigint();
        await runAll(g, g[lr.url ?? 'url'], part, lr.ok); // checking answers costs this process, not workerd
        per[k].wallNs += process.hrtime.bigint() - t0;
        per[k].d1 += fakes.counts.d1Calls - c0.d1Calls;
        per[k].queue += fakes.counts.queueSends - c0.queueSends;
        const b1 = threadCpuNs(g.pid);
        // The null Worker gets the identical requests (it does not look at them).
        await runAll(g, g.nullUrl, part, (a) => a.status === 204);
        const n1 = threadCpuNs(g.pid);
        const x = cpuDelta(b0, b1);
        const z = cpuDelta(b1, n1);
        per[k].batches.push({ all: x.total / 1e6 / part.length, main: x.main.ns / 1e6 / part.length, nullAll: z.total / 1e6 / part.length, worker: (x.total - z.total) / 1e6 / part.length });
      }
    }
    for (const m of ms) m.after();
    for (const [k, { batches, wallNs, d1, queue }] of per.entries()) {
      const { route: lr, k: build } = lanes[k];
      const workers = batches.map((b) => b.worker);
      const r = {
        route: lr.name, key: lr.key, note: lr.note, target: !!lr.target, requests: N, batch: B,
        build: build === 0 ? BUILD_DIR : arg('compare'),
        wall_ms: fx(Number(wallNs) / 1e6 / N),
        d1_calls_per_req: fx(d1 / N),
        queue_sends_per_req: fx(queue / N),
        worker_ms: fx(med(workers)),
        worker_min_ms: fx(Math.min(...workers)),
        worker_max_ms: fx(Math.max(...workers)),
        workerd_all_threads_ms: fx(med(batches.map((b) => b.all))),
        workerd_main_thread_ms: fx(med(batches.map((b) => b.main))),
        null_worker_all_threads_ms: fx(med(batches.map((b) => b.nullAll))),
        other_threads_ms: fx(med(batches.map((b) => b.all - b.main))),
      };
      if (lr !== route) r.floor_of = route.key;
      console.error(`[workercpu] ${build ? 'compare ' : ''}${lr.name}: ${JSON.stringify(r)}`);
      (build === 0 ? rows : compareRows).push(r);
    }
  }
} finally {
  for (const g of gws) { await g.stop(); rmSync(g.dir, { recursive: true, force: true }); }
}
if (compareRows.length) {
  console.log(`\nWorker CPU ms/req, median batch (lowest – highest), batches alternating; D1 calls/req:\n| route | ${BUILD_DIR} | ${arg('compare')} |\n| --- | ---: | ---: |`);
  const cell = (r) => `${r.worker_ms.toFixed(2)} (${r.worker_min_ms.toFixed(2)} – ${r.worker_max_ms.toFixed(2)}); D1 ${r.d1_calls_per_req}`;
  for (const r of rows) {
    const c = compareRows.find((x) => x.key === r.key);
    if (c) console.log(`| ${r.route} | ${cell(r)} | ${cell(c)} |`);
  }
}

// ---- pass 2: where the time goes (V8 CPU profile) -------------------------------------------------
function classify(n) {
  const name = n.callFrame.functionName;
  const url = n.callFrame.url;
  if (name === '(idle)' || name === '(root)') return 'idle';
  if (name === '(program)') return 'program';
  if (name === '(garbage collector)') return 'gc';
  if (url.includes('.wasm') || /^\$?wasm-function|^\$/.test(name)) return 'wasm';
  if (url.endsWith('index.js')) return 'glue';
  if (/d1/i.test(url)) return 'd1';
  if (['sign', 'verify', 'digest', 'encrypt', 'decrypt', 'importKey'].includes(name)) return 'webcrypto';
  return 'runtime';
}
if (PROFILE) {
  const WS = createRequire(join(ROOT, 'package.json'))('ws');
  const inspectorPort = await freePort();
  const gw = await gateway(inspectorPort);
  try {
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
    const target = targets.find((t) => /gateway/.test(t.url ?? '') || /gateway/.test(t.title ?? '')) ?? targets[0];
    const ws = new WS(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/gateway`);
    await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
    let id = 0;
    const pending = new Map();
    ws.on('message', (m) => { const d = JSON.parse(m); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } });
    const cdp = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
    await cdp('Profiler.enable');
    await cdp('Profiler.setSamplingInterval', { interval: INTERVAL });
    for (const route of selected) {
      if (route.url) continue; // another isolate than the one profiled
      const warm = await route.prepare(gw, W);
      await runAll(gw, gw.url, warm.reqs, route.ok);
      const m = await route.prepare(gw, N);
      const b0 = threadCpuNs(gw.pid);
      await cdp('Profiler.start');
      await runAll(gw, gw.url, m.reqs, route.ok);
      const p = (await cdp('Profiler.stop')).result.profile;
      const cpu = cpuDelta(b0, threadCpuNs(gw.pid));
      m.after();
      if (arg('save-profiles')) writeFileSync(join(arg('save-profiles'), `${route.key}.cpuprofile`), JSON.stringify(p));
      const byId = new Map(p.nodes.map((x) => [x.id, x]));
      const cat = { wasm: 0, glue: 0, webcrypto: 0, d1: 0, runtime: 0, program: 0, gc: 0, idle: 0 };
      const self = {};
      for (let i = 0; i < p.samples.length; i++) {
        const node = byId.get(p.samples[i]);
        const dt = (p.timeDeltas[i] || 0) / 1000 / N;
        cat[classify(node)] += dt;
        const k = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/.*\//, '')}`.slice(0, 100);
        self[k] = (self[k] || 0) + dt;
      }
      const active = Object.entries(cat).filter(([k]) => k !== 'idle').reduce((a, [, v]) => a + v, 0);
      console.error(`[workercpu] profile ${route.name}: sampled non-idle ${active.toFixed(3)} ms/req (workerd main thread ${(cpu.main.ns / 1e6 / N).toFixed(3)} ms/req); top self time ms/req:\n` +
        Object.entries(self).filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `  ${v.toFixed(3)} ${k}`).join('\n'));
      const r = rows.find((x) => x.key === route.key);
      r.profile = Object.fromEntries(Object.entries(cat).filter(([k]) => k !== 'idle').map(([k, v]) => [k, +v.toFixed(3)]));
      r.profile_active_ms = +active.toFixed(3);
      r.profile_thread_ms = +(cpu.main.ns / 1e6 / N).toFixed(3);
    }
    ws.close();
  } finally {
    await gw.stop();
    rmSync(gw.dir, { recursive: true, force: true });
  }
}
await fakes.close();
await emu.close();

// ---- report ------------------------------------------------------------------------------------
const pct = (r, ...ks) => (r.profile ? `${Math.round((100 * ks.reduce((a, k) => a + (r.profile[k] || 0), 0)) / (r.profile_active_ms || 1))} %` : '–');
const verdict = (ms) => (ms <= TARGET_MS ? `**met** (≤ ${TARGET_MS} ms)` : ms <= BUDGET_MS ? `within the ${BUDGET_MS} ms budget, **not met** (> ${TARGET_MS} ms)` : `**over** the ${BUDGET_MS} ms budget`);
const workerdVersion = (() => { try { return execFileSync(WORKERD, ['--version'], { encoding: 'utf8' }).trim(); } catch { return 'workerd ?'; } })();
const md = [
  `\`node scripts/bench-worker-cpu.mjs --requests ${N} --warmup ${W}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, load average ${os.loadavg()[0].toFixed(1)}; ${workerdVersion} (npm \`workerd\`), node ${process.version}; Worker wasm ${(wasmBytes / 1024).toFixed(0)} KiB; ${N} sequential requests per route in batches of ${B}, after ${W} warm-up requests.`,
  '',
  '| route | what it does | D1 calls/req | **Worker CPU ms/req** (median batch) | lowest – highest batch | workerd CPU ms/req | null Worker, same requests | wall ms/req | profile: our wasm | JS glue | WebCrypto | D1 binding JS | other runtime | (program) + GC |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.route} | ${r.note} | ${+r.d1_calls_per_req.toFixed(2)} | **${r.worker_ms.toFixed(2)}** | ${r.worker_min_ms.toFixed(2)} – ${r.worker_max_ms.toFixed(2)} | ${r.workerd_all_threads_ms.toFixed(2)} | ${r.null_worker_all_threads_ms.toFixed(2)} | ${r.wall_ms.toFixed(2)} | ${pct(r, 'wasm')} | ${pct(r, 'glue')} | ${pct(r, 'webcrypto')} | ${pct(r, 'd1')} | ${pct(r, 'runtime')} | ${pct(r, 'program', 'gc')} |`),
  '',
  `Against the ≤ ${TARGET_MS} ms target (Worker CPU = workerd's CPU, all threads, minus the null Worker's for the same requests; median batch): ` +
    rows.filter((r) => r.target).map((r) => `${r.route}: ${r.worker_ms.toFixed(2)} ms, ${verdict(r.worker_ms)}`).join('; ') + '.',
  ...rows.filter((f) => f.floor_of).map((f) => {
    const r = rows.find((x) => x.key === f.floor_of);
    return `Floor of ${r.route} (the same I/O and crypto in plain JS, nothing else; batches alternating with the route's): ${f.worker_ms.toFixed(2)} ms, ` +
      (f.worker_ms > TARGET_MS ? `itself over ${TARGET_MS} ms on this machine` : `within ${TARGET_MS} ms`) +
      `; the route costs ${(r.worker_ms - f.worker_ms).toFixed(2)} ms more (${(r.worker_ms / f.worker_ms).toFixed(2)} × the floor).`;
  }),
  PROFILE ? `(Profile columns: shares of the Worker isolate's non-idle V8 samples, every ${INTERVAL} µs; sampled non-idle time ÷ workerd main-thread CPU: ${rows.filter((r) => r.profile).map((r) => (r.profile_active_ms / r.profile_thread_ms).toFixed(2)).join('/')}.)` : '',
].join('\n');
console.log('\n' + md);
if (arg('json')) writeFileSync(arg('json'), JSON.stringify(rows, null, 2));
if (arg('md')) writeFileSync(arg('md'), md + '\n');
