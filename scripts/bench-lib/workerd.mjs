// Runs the BUILT Worker (worker/build/index.js + index_bg.wasm) in a bare `workerd serve` — the
// runtime `wrangler dev` uses (npm `workerd`), without wrangler, miniflare, the local D1/queue
// and their entry workers — so that the workerd process holds only: the Worker's isolate, a
// trivial "null" Worker (the baseline: the same HTTP request, answered without work), a "sign"
// Worker (one WebCrypto RSA signature per request: the anchor for the routes that sign), a "floor"
// Worker (the v3 order's and notify's I/O and crypto in plain JS), and the client side of the
// subrequests. Bindings point at the stand-ins of ./fakes.mjs; vars and
// secrets come from the environment (`fromEnvironment`), never from a file.
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync, readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NULL_WORKER = `export default {
  async fetch(req) { await req.arrayBuffer(); return new Response(null, { status: 204 }); },
};
`;

// The physical anchor: one WebCrypto RSA-2048 PKCS#1 v1.5 SHA-256 signature per request with the
// Worker's merchant key (imported once), over a v3-message-sized input, in the same workerd.
const SIGN_WORKER = `let key;
export default {
  async fetch(req, env) {
    await req.arrayBuffer();
    if (!key) {
      const der = Uint8Array.from(atob(env.KEY), (c) => c.charCodeAt(0));
      key = await crypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    }
    const msg = new TextEncoder().encode('POST\\n/v3/pay/transactions/jsapi\\n1700000000\\n' + 'n'.repeat(32) + '\\n' + 'b'.repeat(250) + '\\n');
    await crypto.subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, key, msg);
    return new Response(null, { status: 204 });
  },
};
`;

// The floors of the two v3 routes with a CPU target: the same I/O and crypto as the route, written
// directly in JS with nothing else — no validation, no idempotency rules, no state machine, no
// logs. What any implementation on Workers spends at least for what WeChat Pay requires; comparing
// a route with its floor separates our code's cost from the protocol's and the runtime's.
//   POST /        the v3 JSAPI order: a D1 batch (insert + read back), the prepay request signed
//                 with the merchant key, the emulator's answer verified over its raw bytes, the
//                 JSAPI paySign, a D1 update, a JSON answer.
//   POST /notify  a v3 payment notify, first delivery: the 300 s window, the signature over the
//                 raw body, AES-256-GCM, the order read, one D1 batch (state change, history,
//                 notification, event), the queue send, the event marked queued, 204.
const FLOOR_WORKER = `let mk, pk, ak;
const enc = new TextEncoder();
const dec = new TextDecoder();
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const nonce = () => crypto.randomUUID().replaceAll('-', '');
const signedMessage = (head, raw) => {
  const h = enc.encode(head);
  const msg = new Uint8Array(h.length + raw.length + 1);
  msg.set(h); msg.set(raw, h.length); msg[msg.length - 1] = 10;
  return msg;
};
async function keys(env) {
  if (mk) return;
  mk = await crypto.subtle.importKey('pkcs8', unb64(env.KEY), alg, false, ['sign']);
  pk = await crypto.subtle.importKey('spki', unb64(env.PLATFORM_SPKI), alg, false, ['verify']);
  ak = await crypto.subtle.importKey('raw', enc.encode(env.APIV3_KEY), 'AES-GCM', false, ['decrypt']);
}
async function order(req, env) {
  const o = await req.json();
  const [, read] = await env.DB.batch([
    env.DB.prepare('INSERT INTO floor_orders (out_trade_no, amount, openid, status) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').bind(o.out_trade_no, o.amount, o.openid, 'NOTPAY'),
    env.DB.prepare('SELECT * FROM floor_orders WHERE out_trade_no = ?').bind(o.out_trade_no),
  ]);
  const row = read.results[0];
  const body = JSON.stringify({ appid: env.APPID, mchid: env.MCHID, description: o.description, out_trade_no: row.out_trade_no,
    notify_url: env.NOTIFY_URL, amount: { total: row.amount, currency: 'CNY' }, payer: { openid: row.openid } });
  const ts = String(Math.floor(Date.now() / 1000));
  const n = nonce();
  const path = '/v3/pay/transactions/jsapi';
  const sig = b64(await crypto.subtle.sign(alg, mk, enc.encode('POST\\n' + path + '\\n' + ts + '\\n' + n + '\\n' + body + '\\n')));
  const r = await fetch(env.BASE + path, { method: 'POST', body, headers: {
    authorization: 'WECHATPAY2-SHA256-RSA2048 mchid="' + env.MCHID + '",nonce_str="' + n + '",signature="' + sig + '",timestamp="' + ts + '",serial_no="' + env.SERIAL + '"',
    accept: 'application/json', 'content-type': 'application/json' } });
  const raw = new Uint8Array(await r.arrayBuffer());
  const h = r.headers;
  const msg = signedMessage(h.get('wechatpay-timestamp') + '\\n' + h.get('wechatpay-nonce') + '\\n', raw);
  if (r.status !== 200 || !(await crypto.subtle.verify(alg, pk, unb64(h.get('wechatpay-signature')), msg))) return new Response('upstream', { status: 502 });
  const prepay = JSON.parse(dec.decode(raw)).prepay_id;
  const p = { appId: env.APPID, timeStamp: ts, nonceStr: nonce(), package: 'prepay_id=' + prepay, signType: 'RSA' };
  p.paySign = b64(await crypto.subtle.sign(alg, mk, enc.encode(p.appId + '\\n' + p.timeStamp + '\\n' + p.nonceStr + '\\n' + p.package + '\\n')));
  await env.DB.prepare('UPDATE floor_orders SET prepay_id = ?, pay_params = ? WHERE out_trade_no = ?').bind(prepay, JSON.stringify(p), row.out_trade_no).run();
  return Response.json({ out_trade_no: row.out_trade_no, prepay_id: prepay, pay_params: p }, { status: 201 });
}
async function notify(req, env) {
  const raw = new Uint8Array(await req.arrayBuffer());
  const h = req.headers;
  const ts = h.get('wechatpay-timestamp');
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return new Response('stale', { status: 401 });
  const msg = signedMessage(ts + '\\n' + h.get('wechatpay-nonce') + '\\n', raw);
  if (!(await crypto.subtle.verify(alg, pk, unb64(h.get('wechatpay-signature')), msg))) return new Response('signature', { status: 401 });
  const n = JSON.parse(dec.decode(raw));
  const r = n.resource;
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: enc.encode(r.nonce), additionalData: enc.encode(r.associated_data) }, ak, unb64(r.ciphertext));
  const t = JSON.parse(dec.decode(pt));
  const row = await env.DB.prepare('SELECT * FROM floor_orders WHERE out_trade_no = ?').bind(t.out_trade_no).first();
  if (!row || row.amount !== t.amount.total) return new Response('order', { status: 400 });
  const now = Math.floor(Date.now() / 1000);
  const id = 'evt_paid_' + row.out_trade_no;
  await env.DB.batch([
    env.DB.prepare("UPDATE floor_orders SET status = 'SUCCESS', transaction_id = ? WHERE out_trade_no = ? AND status = 'NOTPAY'").bind(t.transaction_id, row.out_trade_no),
    env.DB.prepare("INSERT INTO floor_history (out_trade_no, to_status, at) SELECT ?, 'SUCCESS', ? WHERE changes() = 1").bind(row.out_trade_no, now),
    env.DB.prepare('INSERT INTO floor_notifications (id, body) VALUES (?, ?) ON CONFLICT DO NOTHING').bind(n.id, JSON.stringify(t)),
    env.DB.prepare('INSERT INTO floor_events (id, out_trade_no, payload) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').bind(id, row.out_trade_no, JSON.stringify(t)),
  ]);
  await env.QUEUE.send({ id });
  await env.DB.prepare('UPDATE floor_events SET enqueued_at = ? WHERE id = ?').bind(now, id).run();
  return new Response(null, { status: 204 });
}
export default {
  async fetch(req, env) {
    await keys(env);
    return new URL(req.url).pathname === '/notify' ? notify(req, env) : order(req, env);
  },
};
`;

/** The capnp text config. */
function config({ port, nullPort, signPort, floorPort, floorVars, fakes, vars, compatibilityDate }) {
  const str = (s) => JSON.stringify(s);
  const bindings = [
    ...Object.keys(vars).map((k) => `(name = ${str(k)}, fromEnvironment = ${str(`EDGEPAY_BENCH_${k}`)})`),
    `(name = "DB", wrapped = (moduleName = "cloudflare-internal:d1-api", innerBindings = [(name = "fetcher", service = "fake-d1")]))`,
    `(name = "CACHE", kvNamespace = "fake-kv")`,
    `(name = "WEBHOOKS", queue = "fake-queue")`,
    `(name = "WEBHOOKS_DLQ", queue = "fake-queue")`,
  ];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "gateway", worker = (
      modules = [(name = "index.js", esModule = embed "index.js"), (name = "index_bg.wasm", wasm = embed "index_bg.wasm")],
      compatibilityDate = ${str(compatibilityDate)},
      bindings = [
        ${bindings.join(',\n        ')}
      ],
    )),
    (name = "null", worker = (
      modules = [(name = "null.js", esModule = embed "null.js")],
      compatibilityDate = ${str(compatibilityDate)},
    )),
    (name = "sign", worker = (
      modules = [(name = "sign.js", esModule = embed "sign.js")],
      compatibilityDate = ${str(compatibilityDate)},
      bindings = [(name = "KEY", fromEnvironment = "EDGEPAY_BENCH_WECHAT_MERCHANT_PRIVATE_KEY")],
    )),
    (name = "floor", worker = (
      modules = [(name = "floor.js", esModule = embed "floor.js")],
      compatibilityDate = ${str(compatibilityDate)},
      bindings = [
        ${Object.keys(floorVars).map((k) => `(name = ${str(k)}, fromEnvironment = ${str(`EDGEPAY_FLOOR_${k}`)})`).join(',\n        ')},
        (name = "DB", wrapped = (moduleName = "cloudflare-internal:d1-api", innerBindings = [(name = "fetcher", service = "fake-d1")])),
        (name = "QUEUE", queue = "fake-queue"),
      ],
      globalOutbound = "internet",
    )),
    (name = "fake-d1", external = (address = "127.0.0.1:${fakes.d1}", http = ())),
    (name = "fake-kv", external = (address = "127.0.0.1:${fakes.kv}", http = ())),
    (name = "fake-queue", external = (address = "127.0.0.1:${fakes.queue}", http = ())),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "gateway", address = "127.0.0.1:${port}", http = (), service = "gateway"),
    (name = "null", address = "127.0.0.1:${nullPort}", http = (), service = "null"),
    (name = "sign", address = "127.0.0.1:${signPort}", http = (), service = "sign"),
    (name = "floor", address = "127.0.0.1:${floorPort}", http = (), service = "floor"),
  ],
);
`;
}

/** Per-thread CPU of a process in nanoseconds (`/proc/PID/task/TID/schedstat`, first field: time on CPU). */
export function threadCpuNs(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { ns, comm });
    } catch { /* thread exited */ }
  }
  return out;
}

/**
 * Starts workerd with the built Worker (`buildDir`: worker/build). `vars`: the Worker's vars and secrets (strings).
 * `floorVars`: the floor Worker's settings (KEY, PLATFORM_SPKI, APIV3_KEY, APPID, MCHID, SERIAL, BASE, NOTIFY_URL).
 * Returns { url, nullUrl, signUrl, floorUrl, pid, stop(), log }.
 */
export async function startWorkerd({ buildDir, workerd, port, nullPort, signPort, floorPort, floorVars, fakes, vars, compatibilityDate, inspectorPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-workerd-'));
  copyFileSync(join(buildDir, 'index.js'), join(dir, 'index.js'));
  copyFileSync(join(buildDir, 'index_bg.wasm'), join(dir, 'index_bg.wasm'));
  writeFileSync(join(dir, 'null.js'), NULL_WORKER);
  writeFileSync(join(dir, 'sign.js'), SIGN_WORKER);
  writeFileSync(join(dir, 'floor.js'), FLOOR_WORKER);
  writeFileSync(join(dir, 'config.capnp'), config({ port, nullPort, signPort, floorPort, floorVars, fakes, vars, compatibilityDate }));
  const env = { ...process.env };
  for (const [k, v] of Object.entries(vars)) env[`EDGEPAY_BENCH_${k}`] = String(v);
  for (const [k, v] of Object.entries(floorVars)) env[`EDGEPAY_FLOOR_${k}`] = String(v);
  const args = ['serve', join(dir, 'config.capnp'), '--experimental'];
  if (inspectorPort) args.push(`--inspector-addr=127.0.0.1:${inspectorPort}`);
  const child = spawn(workerd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const onData = (d) => { for (const l of String(d).split('\n')) if (l.trim()) { log.push(l); if (log.length > 2000) log.shift(); } };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const url = `http://127.0.0.1:${port}`;
  const nullUrl = `http://127.0.0.1:${nullPort}`;
  const signUrl = `http://127.0.0.1:${signPort}`;
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log.slice(-30).join('\n')}`);
    try { const r = await fetch(`${url}/healthz`); await r.text(); if (r.status === 200) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`workerd did not start:\n${log.slice(-30).join('\n')}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, nullUrl, signUrl, floorUrl, pid: child.pid, dir, log,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 3000).unref();
    }),
  };
}
