// Runs the BUILT Worker (worker/build/index.js + index_bg.wasm) in a bare `workerd serve` — the
// runtime `wrangler dev` uses (npm `workerd`), without wrangler, miniflare, the local D1/queue
// and their entry workers — so that the workerd process holds only: the Worker's isolate, a
// trivial "null" Worker (the baseline: the same HTTP request, answered without work), a "sign"
// Worker (one WebCrypto RSA signature per request: the anchor for the routes that sign), and the
// client side of the subrequests. Bindings point at the stand-ins of ./fakes.mjs; vars and
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

/** The capnp text config. */
function config({ port, nullPort, signPort, fakes, vars, compatibilityDate }) {
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
    (name = "fake-d1", external = (address = "127.0.0.1:${fakes.d1}", http = ())),
    (name = "fake-kv", external = (address = "127.0.0.1:${fakes.kv}", http = ())),
    (name = "fake-queue", external = (address = "127.0.0.1:${fakes.queue}", http = ())),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "gateway", address = "127.0.0.1:${port}", http = (), service = "gateway"),
    (name = "null", address = "127.0.0.1:${nullPort}", http = (), service = "null"),
    (name = "sign", address = "127.0.0.1:${signPort}", http = (), service = "sign"),
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
 * Returns { url, nullUrl, signUrl, pid, stop(), log }.
 */
export async function startWorkerd({ buildDir, workerd, port, nullPort, signPort, fakes, vars, compatibilityDate, inspectorPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-workerd-'));
  copyFileSync(join(buildDir, 'index.js'), join(dir, 'index.js'));
  copyFileSync(join(buildDir, 'index_bg.wasm'), join(dir, 'index_bg.wasm'));
  writeFileSync(join(dir, 'null.js'), NULL_WORKER);
  writeFileSync(join(dir, 'sign.js'), SIGN_WORKER);
  writeFileSync(join(dir, 'config.capnp'), config({ port, nullPort, signPort, fakes, vars, compatibilityDate }));
  const env = { ...process.env };
  for (const [k, v] of Object.entries(vars)) env[`EDGEPAY_BENCH_${k}`] = String(v);
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
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log.slice(-30).join('\n')}`);
    try { const r = await fetch(`${url}/healthz`); await r.text(); if (r.status === 200) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`workerd did not start:\n${log.slice(-30).join('\n')}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, nullUrl, signUrl, pid: child.pid, dir, log,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 3000).unref();
    }),
  };
}
