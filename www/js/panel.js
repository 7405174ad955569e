// Developer panel: GET /demo/panel (the gateway's store) and, in demo mode, the emulator's notify log.
import { getJson, yuan, h, time, demoConfig } from '/js/common.js';

const $ = (id) => document.getElementById(id);
const empty = (text) => h('div', { class: 'muted' }, text);

function orderRow(o) {
  const hist = (o.history || []).map((x) => `${x.to_status} via ${x.source} at ${time(x.at)}`).join(' · ');
  return h('div', { class: 'row', 'data-order': o.out_trade_no },
    h('div', { class: 'top' },
      h('span', null, h('strong', null, o.description), ' ', h('span', { class: 'price' }, yuan(o.amount))),
      h('span', { class: `badge ${o.status}` }, o.status)),
    h('div', { class: 'muted' }, `${o.provider} ${o.channel} ${o.api} · created ${time(o.created_at)}`),
    h('div', { class: 'mono' }, o.out_trade_no, o.transaction_id ? ` → ${o.transaction_id}` : ''),
    hist ? h('div', { class: 'muted' }, hist) : null);
}

function notificationRow(n) {
  return h('div', { class: 'row' },
    h('div', { class: 'top' },
      h('span', null, h('strong', null, `${n.provider} ${n.kind}`), n.count > 1 ? ` (received ${n.count}×, applied once)` : ''),
      h('span', { class: 'badge ok' }, 'verified ✓')),
    h('div', { class: 'mono' }, n.out_trade_no || ''),
    h('div', { class: 'muted' }, `${time(n.received_at)} · checked: ${n.checks}`));
}

function eventRow(e) {
  const state = e.delivered_at ? ['ok', `delivered ${time(e.delivered_at)}`] : e.dead_at ? ['bad', 'dead-lettered'] : ['pending', 'pending'];
  return h('div', { class: 'row' },
    h('div', { class: 'top' }, h('strong', null, e.type), h('span', { class: `badge ${state[0]}` }, state[1])),
    h('div', { class: 'mono' }, e.id),
    h('div', { class: 'muted' }, `attempts ${e.attempts}${e.last_error ? ` · last error: ${e.last_error}` : ''} · HMAC-signed (Edgepay-Signature)`));
}

function deliveryRow(d) {
  const attempts = (d.attempts || []).map((a) => {
    const answer = a.error ? a.error : `${a.response.status} ${String(a.response.body || '').replace(/\s+/g, ' ').slice(0, 80)}`;
    const extra = a.duplicate ? ', a duplicate' : a.replay ? ', a replay' : '';
    return h('div', { class: 'muted' }, `#${a.n} ${new Date(a.at).toLocaleTimeString()} → ${answer} (${a.acknowledged ? 'acknowledged' : 'refused'}${extra})`);
  });
  const badge = d.status === 'acknowledged' ? 'ok' : d.status === 'pending' ? 'pending' : 'bad';
  return h('div', { class: 'row' },
    h('div', { class: 'top' }, h('strong', null, d.kind), h('span', { class: `badge ${badge}` }, d.status)),
    h('div', { class: 'mono' }, `${d.id} · ${d.out_trade_no || ''}`),
    attempts.length ? attempts : h('div', { class: 'muted' }, d.next_attempt_at ? `first attempt due ${new Date(d.next_attempt_at).toLocaleTimeString()}` : 'no attempt yet'));
}

async function refresh() {
  try {
    const p = await getJson('/demo/panel');
    $('orders').replaceChildren(...(p.orders.length ? p.orders.map(orderRow) : [empty('No orders yet: buy something in the shop.')]));
    $('notifications').replaceChildren(...(p.notifications.length ? p.notifications.map(notificationRow) : [empty('No notify yet.')]));
    $('events').replaceChildren(
      h('div', { class: 'muted' }, `to ${p.webhook_url || '(MERCHANT_WEBHOOK_URL not set)'}`),
      ...(p.events.length ? p.events.map(eventRow) : [empty('No event yet.')]));
  } catch (e) {
    $('orders').replaceChildren(h('div', { class: 'status error' }, `Could not load the panel: ${e.message}`));
  }
  try {
    const cfg = await demoConfig();
    if (cfg.sandbox_url) {
      const list = await getJson(`${cfg.sandbox_url}/_sandbox/notifies?full=0`);
      $('sandbox-card').hidden = false;
      const recent = list.slice(-15).reverse();
      $('deliveries').replaceChildren(...(recent.length ? recent.map(deliveryRow) : [empty('No notify sent yet.')]));
    }
  } catch { /* the emulator log is optional */ }
}

await refresh();
setInterval(() => { if ($('auto').checked && !document.hidden) refresh(); }, 2000);
