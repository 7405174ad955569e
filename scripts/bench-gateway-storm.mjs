#!/usr/bin/env node
// Duplicate-notify storm on loopback: the Worker in `wrangler dev --local` (workerd) with the
// emulator and a merchant webhook receiver (tests/gateway/harness.mjs). Creates ORDERS orders
// (WeChat JSAPI, v2 and v3 alternating), then sends every order's signed pay notify plus DUP
// duplicates of random orders (v3 duplicates re-signed with a fresh timestamp and nonce, as WeChat
// Pay re-sends), all shuffled, CONC at a time. A notify that is not acknowledged (wrangler dev's
// local proxy answers some with 503 or drops the connection under load; a v2 FAIL reply) is
// re-sent the way the provider would, at most 8 times. Then it checks the gateway's store
// (GET /v1/orders/{no}: status, history, events) and the webhook receiver: every order paid
// exactly once (zero lost), one state change and one webhook event per order (zero double-applied).
// Exits 1 when any check fails. Bounded: a fixed number of requests, loopback only.
// Usage: node scripts/bench-gateway-storm.mjs [--orders 700] [--duplicates 350] [--concurrency 64] [--json out.json]
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { startStack, api, orderNo, sleep } from '../tests/gateway/harness.mjs';
import { v2Notify, v3Transaction, v3Body, v3Headers } from '../tests/gateway/notifies.mjs';

const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const ORDERS = Number(arg('orders', 700));
const DUP = Number(arg('duplicates', Math.ceil(ORDERS / 2)));
const CONC = Number(arg('concurrency', 64));
const MAX_ATTEMPTS = 8;

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Runs `fn(item)` over `items`, `conc` at a time. */
async function pool(items, conc, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(conc, items.length) }, async () => {
    while (i < items.length) { const k = i++; await fn(items[k], k); }
  }));
}

/** Sends until acknowledged (or MAX_ATTEMPTS); returns {ok, attempts, latencies, reasons}. */
async function deliver(send, acked) {
  const out = { ok: false, attempts: 0, latencies: [], reasons: [] };
  while (out.attempts < MAX_ATTEMPTS) {
    out.attempts++;
    const t0 = process.hrtime.bigint();
    let r;
    try {
      const res = await send();
      r = { status: res.status, body: await res.text() };
    } catch (e) {
      r = { status: 0, body: String(e?.cause?.code || e) };
    }
    out.latencies.push(ms(t0));
    if (acked(r)) { out.ok = true; return out; }
    out.reasons.push(r.status === 0 ? `dropped (${r.body})` : `${r.status} ${r.body.replace(/\s+/g, ' ').slice(0, 80)}`);
    await sleep(100 + Math.random() * 400);
  }
  return out;
}

const s = await startStack({ mode: 'cert' });
let result;
try {
  const gw = s.gateway;
  const openid = s.emu.config.wechat.payer_openid;

  // 1. Orders (through the gateway: v2 unified order / v3 JSAPI prepay at the emulator).
  const orders = Array.from({ length: ORDERS }, (_, i) => ({ no: orderNo(i % 2 ? 'S3' : 'S2'), api: i % 2 ? 'v3' : 'v2', amount: 1 + Math.floor(Math.random() * 99999) }));
  const tc = process.hrtime.bigint();
  let createRetries = 0;
  await pool(orders, 16, async (o) => {
    for (let a = 0; ; a++) {
      let r;
      try { r = await api(gw, 'POST', '/v1/orders', { provider: 'wechat', channel: 'jsapi', api: o.api, out_trade_no: o.no, amount: o.amount, description: 'storm', openid }); } catch { r = { status: 0 }; }
      if (r.status === 201) return;
      if (a >= MAX_ATTEMPTS) throw new Error(`order ${o.no} not created: ${r.status} ${r.text}`);
      createRetries++;
      await sleep(200 + Math.random() * 300);
    }
  });
  const createMs = ms(tc);
  console.error(`[storm] ${ORDERS} orders created in ${(createMs / 1000).toFixed(1)} s (${createRetries} retries)`);

  // 2. Notifies: one per order, then DUP duplicates of random orders; shuffled.
  for (const o of orders) o.body = o.api === 'v2' ? v2Notify(s.emu, o) : v3Body(s.emu, v3Transaction(s.emu, o));
  const sends = orders.map((o) => ({ o, dup: false }));
  for (let i = 0; i < DUP; i++) sends.push({ o: orders[Math.floor(Math.random() * ORDERS)], dup: true });
  for (let i = sends.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [sends[i], sends[j]] = [sends[j], sends[i]]; }
  const lat = [];
  const perNotify = [];
  const reasons = {};
  let retries = 0;
  let failed = 0;
  const tn = process.hrtime.bigint();
  await pool(sends, CONC, async ({ o }) => {
    const t0 = process.hrtime.bigint();
    const r = o.api === 'v2'
      ? await deliver(() => fetch(gw.url + '/notify/wechat', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: o.body }), (x) => x.status === 200 && x.body.includes('<return_code><![CDATA[SUCCESS]]></return_code>'))
      : await deliver(() => fetch(gw.url + '/notify/wechat/v3', { method: 'POST', headers: v3Headers(s.emu, o.body), body: o.body }), (x) => x.status === 204);
    perNotify.push(ms(t0));
    lat.push(...r.latencies);
    retries += r.attempts - 1;
    for (const why of r.reasons) { const k = why.replace(/[0-9a-f-]{20,}/g, '…'); reasons[k] = (reasons[k] || 0) + 1; }
    if (!r.ok) failed++;
  });
  const notifyMs = ms(tn);
  lat.sort((a, b) => a - b);
  perNotify.sort((a, b) => a - b);
  console.error(`[storm] ${sends.length} notifies in ${(notifyMs / 1000).toFixed(1)} s, ${retries} retries, ${failed} never acknowledged`);

  // 3. The gateway's store: one SUCCESS transition and one webhook event per order.
  const store = { paid: 0, lost: [], doubleApplied: [], eventsDouble: [] };
  await pool(orders, 16, async (o) => {
    let r;
    for (let a = 0; a < MAX_ATTEMPTS; a++) { try { r = await api(gw, 'GET', `/v1/orders/${o.no}`); if (r.status === 200) break; } catch { /* dev proxy: retry */ } await sleep(200); }
    const j = r?.json || {};
    const toSuccess = (j.history || []).filter((h) => h.to_status === 'SUCCESS').length;
    if (j.status === 'SUCCESS' && toSuccess >= 1) store.paid++; else store.lost.push(o.no);
    if (toSuccess > 1 || (j.history || []).length > 1) store.doubleApplied.push(o.no);
    if ((j.events || []).length !== 1 && j.status === 'SUCCESS') store.eventsDouble.push(o.no);
    o.amountOk = j.amount === o.amount;
  });

  // 4. The merchant webhook receiver: exactly one distinct event per order (deliveries are at least once).
  const deadline = Date.now() + 180000;
  const want = new Set(orders.map((o) => `evt_paid_${o.no}`));
  const seen = () => new Set(s.receiver.events.map((e) => e.id).filter((id) => want.has(id)));
  while (seen().size < want.size && Date.now() < deadline) await sleep(500);
  const byOrder = new Map();
  for (const e of s.receiver.events) { const k = e.order?.out_trade_no; if (!byOrder.has(k)) byOrder.set(k, []); byOrder.get(k).push(e); }
  const hook = { orders: 0, missing: [], otherIds: [], deliveries: 0, redelivered: 0 };
  for (const o of orders) {
    const ev = byOrder.get(o.no) || [];
    hook.deliveries += ev.length;
    const ids = new Set(ev.map((e) => e.id));
    if (ids.has(`evt_paid_${o.no}`)) hook.orders++; else hook.missing.push(o.no);
    if (ids.size > 1 || ev.some((e) => e.type !== 'order.paid' || e.order.status !== 'SUCCESS')) hook.otherIds.push(o.no);
    if (ev.length > 1) hook.redelivered++;
  }
  result = {
    orders: ORDERS, notifies: sends.length, duplicates: DUP, duplicate_share: +(DUP / sends.length).toFixed(3),
    v2: orders.filter((o) => o.api === 'v2').length, v3: orders.filter((o) => o.api === 'v3').length,
    concurrency: CONC, seconds: +(notifyMs / 1000).toFixed(2), notifies_per_s: +(sends.length / (notifyMs / 1000)).toFixed(1),
    attempts: lat.length, retries, never_acknowledged: failed, retry_reasons: reasons,
    p50_ms: +pct(lat, 50).toFixed(1), p99_ms: +pct(lat, 99).toFixed(1),
    per_notify_p50_ms: +pct(perNotify, 50).toFixed(1), per_notify_p99_ms: +pct(perNotify, 99).toFixed(1),
    store_paid: store.paid, lost: store.lost.length, double_applied: store.doubleApplied.length, events_not_one: store.eventsDouble.length,
    webhook_orders: hook.orders, webhook_missing: hook.missing.length, webhook_wrong: hook.otherIds.length,
    webhook_deliveries: hook.deliveries, webhook_redelivered_orders: hook.redelivered, webhook_bad_signatures: s.receiver.badSignatures,
    create_seconds: +(createMs / 1000).toFixed(1), create_per_s: +(ORDERS / (createMs / 1000)).toFixed(1), create_retries: createRetries,
    amounts_ok: orders.every((o) => o.amountOk),
  };
} finally {
  await s.close();
}

const r = result;
const ok = r.lost === 0 && r.double_applied === 0 && r.events_not_one === 0 && r.webhook_missing === 0 && r.webhook_wrong === 0 && r.never_acknowledged === 0 && r.amounts_ok;
console.log(JSON.stringify(r));
const md = [
  `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}.`,
  '',
  '| storm | value |',
  '| --- | ---: |',
  `| orders (WeChat JSAPI, v2 / v3) | ${r.orders} (${r.v2} / ${r.v3}) |`,
  `| notifies sent (duplicates) | ${r.notifies} (${r.duplicates}, ${(r.duplicate_share * 100).toFixed(1)} %) |`,
  `| concurrency | ${r.concurrency} |`,
  `| throughput | ${r.notifies_per_s} notifies/s (${r.seconds} s) |`,
  `| latency per attempt p50 / p99 | ${r.p50_ms} / ${r.p99_ms} ms |`,
  `| latency per notify incl. re-sends p50 / p99 | ${r.per_notify_p50_ms} / ${r.per_notify_p99_ms} ms |`,
  `| re-sends needed (dev proxy 503 / dropped) | ${r.retries} of ${r.attempts} attempts; never acknowledged: ${r.never_acknowledged} |`,
  `| orders paid in the store | ${r.store_paid} / ${r.orders} — **lost: ${r.lost}** |`,
  `| double-applied (more than one state change) | **${r.double_applied}** |`,
  `| orders without exactly one webhook event row | ${r.events_not_one} |`,
  `| webhook receiver: orders with their \`order.paid\` | ${r.webhook_orders} / ${r.orders} (missing ${r.webhook_missing}, other events ${r.webhook_wrong}) |`,
  `| webhook deliveries (at least once; redelivered orders) | ${r.webhook_deliveries} (${r.webhook_redelivered_orders}) |`,
  `| order creation before the storm | ${r.create_per_s} orders/s (${r.orders} in ${r.create_seconds} s, concurrency 16, ${r.create_retries} re-sends) |`,
  '',
  `Re-send reasons: ${Object.entries(r.retry_reasons).map(([k, v]) => `${v} × \`${k}\``).join(', ') || 'none'}.`,
  `Result: **${ok ? 'PASS' : 'FAIL'}**.`,
].join('\n');
console.log('\n' + md);
if (arg('json')) writeFileSync(arg('json'), JSON.stringify(r, null, 2));
if (arg('md')) writeFileSync(arg('md'), md + '\n');
process.exit(ok ? 0 : 1);
