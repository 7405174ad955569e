// In-memory state of the emulator, with optional persistence to a JSON file.
import fs from 'node:fs';

export class State {
  constructor({ file = null } = {}) {
    this.file = file;
    this.orders = new Map(); // key `${provider}:${out_trade_no}` -> order
    this.byPrepay = new Map(); // prepay_id -> order key
    this.refunds = new Map(); // `${provider}:${out_refund_no}` -> refund
    this.deliveries = new Map(); // delivery id -> delivery record (notify + attempts)
    this.platformKeys = []; // WeChat Pay platform keys, newest last
    this.tokens = new Map(); // access_token -> {appid, expires_at}
    this.tickets = new Map(); // ticket -> {appid, expires_at}
    this.codes = new Map(); // oauth / jscode codes -> {kind, appid, openid, expires_at, used}
    this.counters = {}; // name -> count
    this.quota = {}; // name -> {limit, used, day}
    this.requests = []; // short log of upstream API calls
    this.clockSkewMs = 0;
    this._saveTimer = null;
    this._seq = 0;
  }

  count(name, by = 1) {
    this.counters[name] = (this.counters[name] || 0) + by;
    return this.counters[name];
  }

  seq() {
    return ++this._seq;
  }

  logRequest(entry) {
    this.requests.push(entry);
    if (this.requests.length > 500) this.requests.shift();
  }

  putOrder(order) {
    this.orders.set(`${order.provider}:${order.out_trade_no}`, order);
    if (order.prepay_id) this.byPrepay.set(order.prepay_id, `${order.provider}:${order.out_trade_no}`);
    this.changed();
  }
  getOrder(provider, outTradeNo) {
    return this.orders.get(`${provider}:${outTradeNo}`);
  }
  orderByPrepay(prepayId) {
    const k = this.byPrepay.get(prepayId);
    return k ? this.orders.get(k) : undefined;
  }
  orderByTransaction(provider, txId) {
    for (const o of this.orders.values()) if (o.provider === provider && o.transaction_id === txId) return o;
    return undefined;
  }

  changed() {
    if (!this.file || this._saveTimer) return;
    this._saveTimer = setTimeout(() => {
      this._saveTimer = null;
      this.saveNow();
    }, 50);
    this._saveTimer.unref?.();
  }

  toJSON() {
    return {
      version: 1,
      saved_at: new Date().toISOString(),
      seq: this._seq,
      orders: [...this.orders.values()],
      refunds: [...this.refunds.values()],
      deliveries: [...this.deliveries.values()],
      platformKeys: this.platformKeys,
      tokens: [...this.tokens.entries()],
      tickets: [...this.tickets.entries()],
      codes: [...this.codes.entries()],
      counters: this.counters,
      quota: this.quota,
      clockSkewMs: this.clockSkewMs,
      config: this.savedConfig, // generated test credentials survive a restart
    };
  }

  saveNow() {
    if (!this.file) return;
    if (this._saveTimer) {
      clearTimeout(this._saveTimer);
      this._saveTimer = null;
    }
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.toJSON(), null, 1));
    fs.renameSync(tmp, this.file);
  }

  /** Load a saved file if there is one; returns true when something was loaded. */
  load() {
    if (!this.file || !fs.existsSync(this.file)) return false;
    const d = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    this._seq = d.seq || 0;
    for (const o of d.orders || []) this.putOrder(o);
    for (const r of d.refunds || []) this.refunds.set(`${r.provider}:${r.out_refund_no}`, r);
    for (const x of d.deliveries || []) this.deliveries.set(x.id, x);
    this.platformKeys = d.platformKeys || [];
    this.tokens = new Map(d.tokens || []);
    this.tickets = new Map(d.tickets || []);
    this.codes = new Map(d.codes || []);
    this.counters = d.counters || {};
    this.quota = d.quota || {};
    this.clockSkewMs = d.clockSkewMs || 0;
    this.savedConfig = d.config;
    return true;
  }
}
