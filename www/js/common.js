// Shared helpers of the demo pages (no dependencies, no CDN).

/** Integer fen → "¥12.50" (two decimals, no floating point). */
export function yuan(fen) {
  const n = Math.trunc(Number(fen));
  if (!Number.isFinite(n)) return '¥—';
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  return `${sign}¥${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** fetch + JSON; rejects with an Error carrying `status` and `body` on non-2xx. */
export async function getJson(url, init) {
  const r = await fetch(url, { cache: 'no-store', ...init, headers: { accept: 'application/json', ...(init && init.headers) } });
  let body;
  try { body = await r.json(); } catch { body = undefined; }
  if (!r.ok) {
    const msg = (body && body.error && body.error.message) || `HTTP ${r.status}`;
    throw Object.assign(new Error(msg), { status: r.status, body });
  }
  return body;
}

let configPromise;
/** The demo configuration (`GET /demo/config`): the emulator's bridge URL etc. */
export function demoConfig() {
  configPromise ||= getJson('/demo/config');
  return configPromise;
}

/** Loads a classic script once (the emulator's stand-in bridge). */
export function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

/** A tiny element builder: h('div', {class: 'x'}, 'text', child, …). */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

const ICONS = { coffee: ['咖', '#8d6e63'], tea: ['茶', '#43a047'], mooncake: ['月', '#e0a100'] };

/** A product thumbnail: one character on a colour (no image files, no emoji fonts needed). */
export function thumb(id) {
  const [ch, bg] = ICONS[id] || ['商', '#607d8b'];
  return h('div', { class: 'thumb', style: `background:${bg}`, 'aria-hidden': 'true' }, ch);
}

/** Shows the sandbox banner when the pages run against the emulator. */
export async function sandboxBanner(el) {
  try {
    const c = await demoConfig();
    if (c.sandbox_url) {
      el.hidden = false;
      el.textContent = 'Demo: payments go to the local emulator (test keys, no real money). The WeChat / Alipay sheets are its stand-ins.';
    }
  } catch { /* the banner is optional */ }
}

export function time(unix) {
  if (!unix) return '';
  const d = new Date(Number(unix) * 1000);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
