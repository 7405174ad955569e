// Checkout: asks the shop's server (/demo/checkout) for the order, opens the WeChat / Alipay sheet
// through edgepay/bridge, then waits for the GATEWAY to confirm (the page callback is never proof).
import { requestPayment, alipayTradePay, waitForPaid } from '/vendor/edgepay-bridge.js';
import { getJson, yuan, h, thumb, demoConfig, loadScript, sandboxBanner } from '/js/common.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const productId = params.get('p') || '';
const NAMES = { wechat: 'WeChat Pay', alipay: 'Alipay' };
let busy = false;
let pending = null; // { out_trade_no, status_url, provider } of an order the payer may have paid

sandboxBanner($('banner'));

function setBusy(on) {
  busy = on;
  $('pay-wechat').disabled = on;
  $('pay-alipay').disabled = on;
}

function status(kind, ...content) {
  const box = h('div', { class: `status ${kind}`, 'data-state': kind }, ...content);
  $('status').replaceChildren(box);
  return box;
}

function spinner(text) {
  return status('info', h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

async function init() {
  let product;
  try {
    const { products } = await getJson('/demo/products');
    product = products.find((p) => p.id === productId);
  } catch (e) {
    $('summary').replaceChildren(h('div', { class: 'status error' }, `The shop is not available: ${e.message}`));
    return;
  }
  if (!product) {
    $('summary').replaceChildren(h('p', null, 'This product does not exist. '), h('a', { href: '/' }, 'Back to the shop'));
    return;
  }
  document.title = `${product.name} · Checkout`;
  $('summary').replaceChildren(
    h('div', { class: 'product' },
      thumb(product.id),
      h('div', { class: 'info' }, h('div', { class: 'name', id: 'product-name' }, product.name), h('div', { class: 'blurb' }, product.blurb)),
      h('div', { class: 'price' }, yuan(product.amount))),
    h('div', { class: 'total' }, h('span', null, 'Total'), h('span', { class: 'price', id: 'amount' }, yuan(product.amount))),
  );
  $('pay-card').hidden = false;
  $('pay-wechat').addEventListener('click', () => pay('wechat'));
  $('pay-alipay').addEventListener('click', () => pay('alipay'));

  // In a browser outside the apps, the emulator's stand-in bridge plays WeChat / Alipay.
  try {
    const cfg = await demoConfig();
    if (cfg.bridge_url && !window.WeixinJSBridge) await loadScript(cfg.bridge_url);
  } catch (e) {
    status('warn', `The payment sheet stand-in could not be loaded (${e.message}). Is the emulator running?`);
  }

  // Back from WeChat OAuth (snsapi_base): carry on with the payment the payer asked for.
  if (params.get('pay') === 'wechat') {
    params.delete('pay');
    history.replaceState(null, '', `${location.pathname}?${params}`);
    pay('wechat');
  }
}

async function pay(provider) {
  if (busy) return;
  setBusy(true);
  try {
    spinner('Creating your order…');
    let order;
    try {
      order = await getJson('/demo/checkout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ product_id: productId, provider }),
      });
    } catch (e) {
      if (e.status === 401 && e.body && e.body.error && e.body.error.code === 'oauth_required') {
        spinner('Signing in with WeChat…');
        location.assign(e.body.error.authorize_url);
        return; // the page reloads after OAuth and continues
      }
      throw e;
    }
    if (order.already_paid) {
      // Paid earlier (e.g. the app reported cancel after charging): show it, never charge again.
      pending = { ...order, provider };
      await confirm('This order was already paid: you were not charged again.');
      return;
    }
    $('order-line').hidden = false;
    $('order-line').replaceChildren('Order ', h('span', { class: 'mono', id: 'order-no' }, order.out_trade_no), ` · ${yuan(order.amount)}`);
    spinner(`Waiting for you to confirm in ${NAMES[provider]}…`);
    let result;
    if (provider === 'wechat') result = await requestPayment(order.pay_params, { timeout: 5000 });
    else result = await alipayTradePay({ orderStr: order.pay_params.order_string }, { timeout: 5000 });
    if (result === 'cancel') {
      status('warn', h('strong', null, 'Payment cancelled. '),
        'Nothing was charged. You can try again — the same order is reused, so you will never pay twice.');
      return;
    }
    pending = { ...order, provider };
    await confirm();
  } catch (e) {
    showError(e);
  } finally {
    setBusy(false);
  }
}

/** Waits for the gateway (public status route) and shows the paid page. */
async function confirm(note) {
  const order = pending;
  spinner('Payment sent. Waiting for the payment provider to confirm…');
  const cfg = await demoConfig().catch(() => ({}));
  const statusUrl = `/v1/public/orders/${encodeURIComponent(order.out_trade_no)}/status`;
  await waitForPaid(statusUrl, { interval: 1000, timeout: Math.max(30, 2 * (cfg.reconcile_after_seconds || 30) + 20) * 1000 });
  const o = await getJson(`/demo/orders/${encodeURIComponent(order.out_trade_no)}`);
  pending = null;
  showPaid(o, note);
  // The next purchase starts a new cart (a new order number).
  fetch('/demo/cart/reset', { method: 'POST' }).catch(() => {});
}

function showError(e) {
  const code = e && e.code;
  if (code === 'status_timeout' && pending) {
    status('warn', h('strong', null, 'Not confirmed yet. '),
      'If you completed the payment, do not pay again: the order updates as soon as the provider confirms. ',
      h('button', { class: 'link', type: 'button', id: 'check-again', onclick: () => { setBusy(true); confirm().catch(showError).finally(() => setBusy(false)); } }, 'Check again'));
    return;
  }
  let msg;
  if (code === 'payment_failed') msg = `The payment did not go through (${e.errDesc || e.memo || e.errMsg || e.status || e.message}).`;
  else if (code === 'bridge_timeout' || code === 'bridge_unavailable') msg = 'The payment app is not available here: open this page inside WeChat or Alipay.';
  else msg = `Something went wrong: ${e && e.message ? e.message : e}.`;
  status('error', h('strong', null, msg), ' You can try again: a retry re-uses the same order and cannot charge you twice.');
}

function confirmedBy(o) {
  const paid = (o.history || []).find((x) => x.to_status === 'SUCCESS');
  if (!paid) return 'the gateway';
  if (paid.source.startsWith('notify:')) return `verified notify (${paid.source.slice(7)})`;
  if (paid.source === 'query') return 'order query (reconciliation)';
  return paid.source;
}

function showPaid(o, note) {
  $('checkout').hidden = true;
  const paid = $('paid');
  paid.hidden = false;
  paid.replaceChildren(...[
    h('div', { class: 'tick', 'aria-hidden': 'true' }, '✓'),
    h('h1', { id: 'paid-title' }, 'Payment received'),
    h('div', { class: 'price', id: 'paid-amount' }, yuan(o.amount)),
    h('p', { class: 'muted' }, `${o.description} · ${NAMES[o.provider] || o.provider}`),
    note ? h('div', { class: 'status info', id: 'paid-note' }, note) : null,
    h('dl', { class: 'kv' },
      h('dt', null, 'Transaction'), h('dd', { class: 'mono', id: 'transaction-id' }, o.transaction_id || '—'),
      h('dt', null, 'Order'), h('dd', { class: 'mono' }, o.out_trade_no),
      h('dt', null, 'Paid at'), h('dd', null, o.paid_at ? o.paid_at.replace('T', ' ').replace(/([+-]\d\d:\d\d|Z)$/, ' ($1)') : '—'),
      h('dt', null, 'Confirmed by'), h('dd', { id: 'confirmed-by' }, confirmedBy(o))),
    h('p', null, h('a', { href: '/' }, 'Back to the shop'), ' · ', h('a', { href: '/panel' }, 'See it in the developer panel')),
  ].filter(Boolean));
}

init();
