#!/usr/bin/env node
// edgepay upstream emulator: WeChat Pay v2/v3, WeChat API/OAuth and the Alipay gateway, offline.
//   node tests/sandbox/server.mjs --port 9100 [--time-scale 0.001] [--mode cert|pubkey]
//        [--config FILE] [--state FILE] [--host 127.0.0.1] [--public-url URL] [--dump-config FILE]
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { completeConfig } from './lib/keys.mjs';
import { State } from './lib/state.mjs';
import { Notifier } from './lib/notify.mjs';
import { Payments } from './lib/payments.mjs';
import { v2Routes } from './lib/wechat-v2.mjs';
import { PlatformKeys, v3NotifySigner, v3Routes } from './lib/wechat-v3.mjs';
import { wechatApiRoutes } from './lib/wechat-api.mjs';
import { alipayRoutes } from './lib/alipay.mjs';
import { Faults, controlRoutes } from './lib/control.mjs';
import { readBody, send, sendJson, sleep } from './lib/util.mjs';

/**
 * Start an emulator. Returns { url, port, close(), state, config, ctx }.
 * @param {object} o { port=0, host='127.0.0.1', timeScale=1, mode='cert'|'pubkey', config, stateFile,
 *                     notifyTimeoutMs=5000, publicUrl }
 */
export async function startEmulator(o = {}) {
  const mode = o.mode || 'cert';
  if (mode !== 'cert' && mode !== 'pubkey') throw new Error(`--mode must be cert or pubkey, not ${mode}`);
  const state = new State({ file: o.stateFile || o.state_file || null });
  const loaded = state.load();
  // Credentials generated at a previous start live in the state file, so keys survive a restart.
  const saved = (loaded && state.savedConfig) || {};
  const given = o.config || {};
  const config = completeConfig({
    ...saved, ...given,
    wechat: { ...saved.wechat, ...given.wechat },
    alipay: { ...saved.alipay, ...given.alipay },
  });
  state.savedConfig = config;
  const ctx = {
    config,
    state,
    mode,
    timeScale: o.timeScale ?? 1,
    notifyTimeoutMs: o.notifyTimeoutMs ?? config.notify_timeout_ms ?? 5000,
    now: () => Date.now() + state.clockSkewMs,
    faults: new Faults(),
    closed: false,
    baseUrl: () => o.publicUrl || `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${ctx.port}`,
  };
  ctx.signers = { 'wechat-v3': v3NotifySigner(ctx) };
  ctx.notifier = new Notifier(ctx);
  ctx.payments = new Payments(ctx);
  ctx.platform = new PlatformKeys(ctx);
  ctx.platform.init(mode);

  const v2 = v2Routes(ctx);
  const v3 = v3Routes(ctx);
  const wechatApi = wechatApiRoutes(ctx);
  const alipay = alipayRoutes(ctx);
  const control = controlRoutes(ctx, { wechatApi, alipay });

  async function upstream(req, res, url) {
    const p = url.pathname;
    const isUpstream = v2[p] || p.startsWith('/v3/') || p === '/gateway.do' || wechatApi.routes[p];
    if (!isUpstream) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${p}` } });
    const body = await readBody(req);
    const fault = ctx.faults.takeUpstream(p);
    if (fault) {
      state.count('faults.upstream');
      if (fault.delay_ms) await sleep(fault.delay_ms);
      if (fault.status) {
        return send(res, fault.status, fault.body ?? `<html><body><h1>${fault.status}</h1>sandbox fault</body></html>`, { 'Content-Type': 'text/html' });
      }
    }
    if (v2[p]) return v2[p](req, res, body);
    if (wechatApi.routes[p]) return wechatApi.routes[p](req, res, url.searchParams);
    if (p === '/gateway.do') {
      if (req.method !== 'GET' && req.method !== 'POST') return send(res, 405, '');
      return alipay.gateway(req, res, body);
    }
    const text = body.toString('utf8');
    const pathOnly = url.pathname;
    for (const r of v3) {
      const m = r.re.exec(pathOnly);
      if (!m) continue;
      if (r.method !== req.method) continue;
      const auth = r.auth(req, res, text);
      if (!auth) return;
      return r.handler(req, res, text, auth, m);
    }
    // Unknown v3 path: still authenticated first, as the real gateway does.
    const any = v3[0];
    if (!any.auth(req, res, text)) return;
    any.err(res, 404, 'NOT_FOUND', `无此接口: ${req.method} ${pathOnly}`);
  }

  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    let url;
    try {
      url = new URL(req.url, 'http://sandbox');
      if (url.pathname.startsWith('/_sandbox/')) await control(req, res, url);
      else await upstream(req, res, url);
    } catch (e) {
      if (!res.headersSent) sendJson(res, e.status || 500, { error: { code: 'SANDBOX_ERROR', message: String(e.message || e) } });
      else res.destroy();
      if (!e.status) console.error('[sandbox]', e);
    } finally {
      if (url && !url.pathname.startsWith('/_sandbox/'))
        state.logRequest({ at: new Date(started).toISOString(), method: req.method, path: url.pathname, status: res.statusCode, ms: Date.now() - started });
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host || '127.0.0.1', resolve);
  });
  ctx.port = server.address().port;
  ctx.notifier.resume();
  if (state.file) state.saveNow();

  return {
    url: ctx.baseUrl(),
    port: ctx.port,
    state,
    config,
    ctx,
    async close() {
      if (ctx.closed) return;
      ctx.closed = true;
      await ctx.notifier.close();
      if (state.file) state.saveNow();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split('=', 2);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    out[k] = v;
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(2);
  }
  const known = ['port', 'host', 'time-scale', 'mode', 'config', 'state', 'public-url', 'dump-config', 'notify-timeout-ms'];
  for (const k of Object.keys(args)) if (!known.includes(k)) {
    console.error(`error: unknown option --${k} (known: ${known.map((x) => `--${x}`).join(' ')})`);
    process.exit(2);
  }
  const config = args.config ? JSON.parse(fs.readFileSync(args.config, 'utf8')) : undefined;
  const emu = await startEmulator({
    port: Number(args.port ?? 9100), host: args.host, timeScale: Number(args['time-scale'] ?? 1), mode: args.mode,
    config, stateFile: args.state, publicUrl: args['public-url'],
    notifyTimeoutMs: args['notify-timeout-ms'] ? Number(args['notify-timeout-ms']) : undefined,
  });
  if (args['dump-config']) fs.writeFileSync(args['dump-config'], JSON.stringify({ ...emu.config, platform_keys: emu.ctx.platform.publicView() }, null, 2));
  console.log(`edgepay sandbox listening on ${emu.url} (mode ${emu.ctx.mode}, time scale ${emu.ctx.timeScale}); control API at ${emu.url}/_sandbox/`);
  const stop = async () => {
    await emu.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) main();
