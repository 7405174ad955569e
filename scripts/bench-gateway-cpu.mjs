#!/usr/bin/env node
// CPU per request of the gateway's routes in workerd (`wrangler dev --local`), against
// Cloudflare's 10 ms free-plan CPU budget (target: ≤ 2 ms for the v3 JSAPI order route and the
// v3 notify route). Requests are sent one at a time (no contention from our own load); each route
// is measured twice, N requests each, after W warm-up requests:
//   1. workerd thread CPU: utime+stime of every thread of the workerd process that runs the Worker
//      (the one wrangler starts with --inspector-addr; the other workerd is wrangler's dev proxy),
//      read from /proc before and after, divided by N. The kernel's own accounting, so it is not
//      inflated by other jobs on the machine, but it is an upper bound: it also counts what runs
//      elsewhere on Cloudflare (the local D1 = SQLite in-process, KV, the queue, miniflare's entry
//      worker, HTTP parsing, the inspector).
//   2. The Worker isolate's V8 CPU profile over the same kind of run (DevTools protocol on wrangler's
//      inspector port, the method Cloudflare documents for profiling Workers locally): time not idle,
//      split into our wasm, the JS glue, WebCrypto and other runtime natives, the D1/KV binding JS,
//      "(program)" and GC. V8 samples the wall clock, so on a busy machine this over-counts when the
//      thread is descheduled; it says where the time goes rather than how much there is.
// performance.now() does not help: in deployed Workers it only advances on I/O, and in local workerd
// it is a wall clock.
// Usage: node scripts/bench-gateway-cpu.mjs [--requests 150] [--warmup 30] [--interval-us 250] [--json out] [--md out]
import os from 'node:os';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startStack, api, orderNo, ROOT } from '../tests/gateway/harness.mjs';
import { v3Transaction, v3Body, v3Headers } from '../tests/gateway/notifies.mjs';

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const N = Number(arg('requests', 150));
const W = Number(arg('warmup', 30));
const INTERVAL = Number(arg('interval-us', 250));
const BUDGET_MS = 10;
const TARGET_MS = 2;
const CLK_TCK = 100; // USER_HZ on Linux
// The inspector proxy accepts an Origin of 127.0.0.1/localhost; Node 20's WebSocket cannot set one,
// so use `ws` (installed with wrangler).
const WS = createRequire(`${ROOT}/package.json`)('ws');

function statFields(text) { return text.slice(text.lastIndexOf(')') + 2).split(' '); }
/** The workerd process of the Worker (started with --inspector-addr) in wrangler's process group. */
function workerPid(pgid) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (Number(statFields(readFileSync(`/proc/${d}/stat`, 'utf8'))[2]) !== pgid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('workerd') && cmd.includes('--inspector-addr')) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error('workerd with --inspector-addr not found');
}
/** CPU ticks of every thread of `pid`. */
function threadTicks(pid) {
  let t = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { const f = statFields(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')); t += Number(f[11]) + Number(f[12]); } catch { /* exited thread */ }
  }
  return t;
}

function cdp(url) {
  const ws = new WS(url, { origin: 'http://127.0.0.1' });
  let id = 0;
  const pending = new Map();
  ws.on('message', (m) => { const d = JSON.parse(m); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } });
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ close: () => ws.close(), send: (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); }) }));
    ws.on('error', reject);
  });
}

function classify(n) {
  const name = n.callFrame.functionName;
  const url = n.callFrame.url;
  if (name === '(idle)' || name === '(root)') return 'idle';
  if (name === '(program)') return 'program';
  if (name === '(garbage collector)') return 'gc';
  if (url.includes('.wasm')) return 'wasm';
  if (url.startsWith('cloudflare-internal:')) return 'bindings';
  if (url.endsWith('index.js')) return 'js';
  if (['sign', 'verify', 'digest', 'encrypt', 'decrypt', 'importKey'].includes(name)) return 'webcrypto';
  return 'natives';
}

const fromJson = arg('from-json');
const rows = fromJson ? JSON.parse(readFileSync(fromJson, 'utf8')) : [];
let reniced = fromJson ? true : false;
const s = fromJson ? null : await startStack({ mode: 'cert' });
if (s) try {
  const gw = s.gateway;
  const pid = workerPid(gw.child.pid);
  // Other jobs on a small machine deschedule workerd, and V8's sampling profiler counts the wall
  // clock: raise workerd's priority for the run when allowed (root), so the profile is closer to CPU.
  try { os.setPriority(pid, -15); for (const t of readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(t), -15); reniced = true; } catch { /* not root */ }
  const openid = s.emu.config.wechat.payer_openid;
  const ok = (r, status) => { if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text ?? ''}`); };

  // Orders for the first-delivery notify route (created before measuring), and one paid order
  // whose notify is re-sent for the duplicate route.
  const fresh = [];
  for (let i = 0; i < 2 * (N + W); i++) {
    const o = { no: orderNo('CPU'), amount: 100 + i };
    ok(await api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: o.no, amount: o.amount, description: 'cpu', openid }), 201);
    o.body = v3Body(s.emu, v3Transaction(s.emu, o));
    fresh.push(o);
  }
  const paidOrder = fresh.pop();
  const post = async (path, headers, body) => { const r = await fetch(gw.url + path, { method: 'POST', headers, body }); return { status: r.status, text: await r.text() }; };
  ok(await post('/notify/wechat/v3', v3Headers(s.emu, paidOrder.body), paidOrder.body), 204);

  const routes = [
    ['GET /healthz (baseline: routing, no work)', async () => ok(await api(gw, 'GET', '/healthz', null, { token: null }), 200)],
    ['POST /v1/orders, WeChat v3 JSAPI (prepay at the emulator; 2 RSA signs + 1 verify)', async () => ok(await api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: 'v3', out_trade_no: orderNo('CPO'), amount: 1, description: 'cpu', openid }), 201)],
    ['POST /notify/wechat/v3, first delivery (RSA verify, AES-GCM, state change, webhook queued)', async () => { const o = fresh.shift(); ok(await post('/notify/wechat/v3', v3Headers(s.emu, o.body), o.body), 204); }],
    ['POST /notify/wechat/v3, duplicate (RSA verify, AES-GCM, idempotent)', async () => ok(await post('/notify/wechat/v3', v3Headers(s.emu, paidOrder.body), paidOrder.body), 204)],
  ];
  const c = await cdp(`ws://127.0.0.1:${gw.inspectorPort}/ws`);
  await c.send('Profiler.enable');
  await c.send('Profiler.setSamplingInterval', { interval: INTERVAL });
  for (const [name, fn] of routes) {
    for (let i = 0; i < W; i++) await fn();
    // 1. Thread CPU (no profiler running).
    const t0 = threadTicks(pid);
    const w0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    const wallMs = Number(process.hrtime.bigint() - w0) / 1e6 / N;
    const threadMs = ((threadTicks(pid) - t0) * 1000) / CLK_TCK / N;
    // 2. Profile of the Worker isolate.
    await c.send('Profiler.start');
    for (let i = 0; i < N; i++) await fn();
    const p = (await c.send('Profiler.stop')).result.profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = {};
    for (let i = 0; i < p.samples.length; i++) { const n = byId.get(p.samples[i]); const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*\//, '')}`.slice(0, 90); self[k] = (self[k] || 0) + (p.timeDeltas[i] || 0) / 1000 / N; }
    console.error(`[cpu] ${name}: top self time ms/req\n` + Object.entries(self).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${v.toFixed(3)} ${k}`).join('\n'));
    const cat = { wasm: 0, js: 0, webcrypto: 0, natives: 0, bindings: 0, program: 0, gc: 0, idle: 0 };
    for (let i = 0; i < p.samples.length; i++) cat[classify(byId.get(p.samples[i]))] += (p.timeDeltas[i] || 0) / 1000 / N;
    const active = Object.entries(cat).filter(([k]) => k !== 'idle').reduce((a, [, v]) => a + v, 0);
    const row = { route: name, requests: N, wall_ms: +wallMs.toFixed(2), workerd_thread_cpu_ms: +threadMs.toFixed(2), isolate_active_ms: +active.toFixed(2), ...Object.fromEntries(Object.entries(cat).filter(([k]) => k !== 'idle').map(([k, v]) => [`${k}_ms`, +v.toFixed(2)])) };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  c.close();
} finally {
  await s.close();
}

const base = rows[0];
const share = (r, ...ks) => `${Math.round((100 * ks.reduce((a, k) => a + (r[`${k}_ms`] || 0), 0)) / (r.isolate_active_ms || 1))} %`;
const verdict = (ms) => (ms <= TARGET_MS ? 'within the 2 ms target' : ms <= BUDGET_MS ? 'within the 10 ms budget, not shown within the 2 ms target' : 'not shown within the 10 ms budget');
const md = [
  `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}; ${N} sequential requests per route and pass after ${W} warm-up requests; V8 sampling every ${INTERVAL} µs; workerd ${reniced ? 'reniced to -15' : 'at normal priority'}.`,
  '',
  '| route | workerd thread CPU ms/req | above `/healthz` | wall ms/req | profile: our wasm | JS glue | runtime natives (fetch, WebCrypto, …) | D1/KV binding JS | (program) + GC |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.route} | ${r.workerd_thread_cpu_ms} | ${r === base ? '—' : (r.workerd_thread_cpu_ms - base.workerd_thread_cpu_ms).toFixed(2)} | ${r.wall_ms} | ${share(r, 'wasm')} | ${share(r, 'js')} | ${share(r, 'webcrypto', 'natives')} | ${share(r, 'bindings')} | ${share(r, 'program', 'gc')} |`),
  '',
  `Against the ${BUDGET_MS} ms free-plan budget (upper bound = the whole local workerd thread, above the \`/healthz\` baseline): ` +
    rows.slice(1).map((r) => `${r.route.split(' (')[0]}: ${(r.workerd_thread_cpu_ms - base.workerd_thread_cpu_ms).toFixed(1)} ms, ${verdict(r.workerd_thread_cpu_ms - base.workerd_thread_cpu_ms)}`).join('; ') + '.',
  `(The profile columns are shares of the Worker isolate's non-idle samples; the sampled time itself was ${rows.map((r) => (r.isolate_active_ms / r.workerd_thread_cpu_ms).toFixed(1)).join('/')}× the thread's CPU time, i.e. wall-clock time while descheduled, so only the shares are used.)`,
].join('\n');
console.log('\n' + md);
if (arg('json')) writeFileSync(arg('json'), JSON.stringify(rows, null, 2));
if (arg('md')) writeFileSync(arg('md'), md + '\n');
