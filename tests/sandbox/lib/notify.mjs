// Notify delivery: one record per notify, every attempt logged, retried on the provider's real
// schedule (scaled by the time factor) until the receiver acknowledges exactly as the protocol demands.
import http from 'node:http';
import https from 'node:https';
import { EventEmitter } from 'node:events';
import { parseXml } from './util.mjs';

/** Seconds to wait after attempt n fails (n = 1, 2, …): the first attempt is sent at once. */
export const SCHEDULES = {
  // WeChat Pay: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h4m in all; 16 attempts)
  wechat: [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600],
  // Alipay: 4m,10m,10m,1h,2h,6h,15h (8 notices within ~25h)
  alipay: [240, 600, 600, 3600, 7200, 21600, 54000],
  none: [],
};

/** How each kind of notify must be acknowledged. Returns [ok, why]. */
export const ACK = {
  // v2 pay and refund notifies: an XML answer whose return_code is SUCCESS, with HTTP 200.
  'wechat-v2'(status, body) {
    if (status !== 200) return [false, `HTTP ${status}`];
    try {
      const x = parseXml(body);
      if (x.return_code === 'SUCCESS') return [true, 'return_code=SUCCESS'];
      return [false, `return_code=${x.return_code ?? '(missing)'}`];
    } catch (e) {
      return [false, `answer is not WeChat XML: ${e.message}`];
    }
  },
  // v3: only the status code counts: 200 or 204.
  'wechat-v3'(status) {
    return status === 200 || status === 204 ? [true, `HTTP ${status}`] : [false, `HTTP ${status}`];
  },
  // Alipay: HTTP 200 and the body exactly `success` (7 bytes).
  alipay(status, body) {
    if (status !== 200) return [false, `HTTP ${status}`];
    return body === 'success' ? [true, 'body is "success"'] : [false, `body ${JSON.stringify(body.slice(0, 40))} is not exactly "success"`];
  },
};

function postRaw(url, headers, body, timeoutMs) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      resolve({ error: `bad notify_url ${url}` });
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) {
      resolve({ error: `unsupported scheme ${u.protocol}` });
      return;
    }
    const buf = Buffer.from(body, 'utf8');
    const req = mod.request(
      u,
      { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': buf.length, Connection: 'close' }, rejectUnauthorized: false },
      (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          size += c.length;
          if (size <= 65536) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(buf);
  });
}

export class Notifier extends EventEmitter {
  /**
   * @param ctx emulator context: { state, timeScale, notifyTimeoutMs, faults, signers }
   *   signers[name](delivery) -> headers to add per attempt (e.g. v3 re-signs with a fresh timestamp).
   */
  constructor(ctx) {
    super();
    this.ctx = ctx;
    this.timers = new Map();
    this.closed = false;
    this.inflight = new Set();
    this.setMaxListeners(0);
  }

  get state() {
    return this.ctx.state;
  }

  /**
   * Queue a notify. spec: { kind, ack, schedule, url, body, headers, signer?, provider, out_trade_no,
   *   event, expect?, meta? }. The first attempt goes out at once (after `delay_ms`, if given).
   */
  enqueue(spec) {
    const id = `ntf_${this.state.seq().toString().padStart(6, '0')}`;
    const d = {
      id,
      kind: spec.kind,
      event: spec.event,
      provider: spec.provider,
      out_trade_no: spec.out_trade_no,
      out_refund_no: spec.out_refund_no,
      url: spec.url,
      ack: spec.ack,
      schedule: spec.schedule,
      intervals_ms: SCHEDULES[spec.schedule].map((s) => Math.round(s * 1000 * this.ctx.timeScale)),
      headers: spec.headers || {},
      body: spec.body,
      signer: spec.signer || null,
      probe: !!spec.probe, // one-shot fault notifies: never retried
      expect: spec.expect || null, // 'reject' | 'ack': what a correct receiver does with a probe
      meta: spec.meta || {},
      status: 'pending',
      created_at: new Date().toISOString(),
      attempts: [],
      duplicates_left: spec.duplicates || 0,
    };
    this.state.deliveries.set(id, d);
    this.state.changed();
    this.schedule(d, spec.delay_ms || 0);
    this.emit('update', d);
    return d;
  }

  schedule(d, delayMs) {
    if (this.closed) return;
    d.next_attempt_at = new Date(Date.now() + delayMs).toISOString();
    const t = setTimeout(() => {
      this.timers.delete(d.id);
      const p = this.attempt(d).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, delayMs);
    this.timers.set(d.id, t);
  }

  /** Re-arm timers for pending deliveries after a restart (state loaded from file). */
  resume() {
    for (const d of this.state.deliveries.values()) {
      if (d.status !== 'pending' || this.timers.has(d.id)) continue;
      const due = d.next_attempt_at ? Date.parse(d.next_attempt_at) - Date.now() : 0;
      this.schedule(d, Math.max(0, due));
    }
  }

  async attempt(d, { duplicate = false, replay = false } = {}) {
    if (this.closed) return;
    const n = d.attempts.length + 1;
    let headers = { ...d.headers };
    if (replay && d.first_headers) headers = { ...d.first_headers };
    else if (d.signer) headers = { ...headers, ...this.ctx.signers[d.signer](d) };
    if (!d.first_headers) d.first_headers = headers;
    const started = Date.now();
    const res = await postRaw(d.url, headers, d.body, this.ctx.notifyTimeoutMs);
    if (this.closed) return;
    const [ok, why] = res.error ? [false, res.error] : ACK[d.ack](res.status, res.body);
    const rec = {
      n,
      at: new Date(started).toISOString(),
      at_ms: started,
      duration_ms: Date.now() - started,
      request: { url: d.url, headers, body: d.body },
      response: res.error ? null : { status: res.status, body: res.body },
      error: res.error || null,
      acknowledged: ok,
      verdict: why,
    };
    if (d.expect) rec.as_expected = d.expect === 'ack' ? ok : !ok;
    if (duplicate) rec.duplicate = true;
    if (replay) rec.replay = true;
    d.attempts.push(rec);
    if (duplicate || replay) {
      // extra deliveries never change the record's status
    } else if (d.probe) {
      d.status = ok ? 'acknowledged' : 'rejected';
      d.as_expected = rec.as_expected;
    } else if (ok) {
      d.status = 'acknowledged';
      d.acknowledged_at = rec.at;
      const extra = d.duplicates_left + (this.ctx.faults?.takeDuplicate() ? 1 : 0);
      d.duplicates_left = 0;
      for (let i = 0; i < extra; i++) {
        const p = this.attempt(d, { duplicate: true });
        this.inflight.add(p);
        p.finally(() => this.inflight.delete(p));
      }
    } else {
      const retryIndex = d.attempts.filter((a) => !a.duplicate && !a.replay).length - 1;
      if (retryIndex < d.intervals_ms.length) {
        rec.next_retry_in_ms = d.intervals_ms[retryIndex];
        this.schedule(d, rec.next_retry_in_ms);
      } else {
        d.status = 'exhausted';
        d.next_attempt_at = null;
      }
    }
    if (d.status !== 'pending') d.next_attempt_at = null;
    this.state.changed();
    this.emit('update', d);
  }

  /** Send an extra copy of an already delivered notify (duplicate) or its very first request (replay). */
  async resend(id, { replay = false } = {}) {
    const d = this.state.deliveries.get(id);
    if (!d) return null;
    await this.attempt(d, { duplicate: !replay, replay });
    return d;
  }

  /** Resolve when the delivery satisfies pred (default: no longer pending), or reject after timeoutMs. */
  waitFor(id, pred = (d) => d.status !== 'pending', timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = (d) => {
        if (d.id === id && pred(d)) {
          cleanup();
          resolve(d);
          return true;
        }
        return false;
      };
      const cur = this.state.deliveries.get(id);
      if (cur && pred(cur)) {
        resolve(cur);
        return;
      }
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timeout waiting for ${id}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('update', check);
      };
      this.on('update', check);
    });
  }

  async close() {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
  }
}
