// In-memory stand-ins for the Worker's Cloudflare bindings, served over HTTP from the benchmark's
// Node process so that their CPU is never counted in the workerd process being measured
// (scripts/bench-worker-cpu.mjs). workerd's own binding code talks to them:
//   - D1: workerd's `cloudflare-internal:d1-api` module (the binding JS Cloudflare runs) through a
//     `wrapped` binding whose `fetcher` is this server: POST /query and /execute with
//     `{sql, params}` or a list of them, answered like miniflare's D1 object (one transaction per
//     call, `{success, results, meta}` per statement). SQLite is sql.js (SQLite compiled to wasm).
//   - KV: workerd's native `kvNamespace` binding: GET/PUT/DELETE /<key>.
//   - Queue: workerd's native `queue` binding: POST /message (v8-serialised body), /batch.
// Everything is recorded for the benchmark's own checks (orders paid once, one queue message per
// paid order).
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function listen(handler) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const r = await handler(req, Buffer.concat(chunks));
        res.writeHead(r.status ?? 200, { 'content-type': r.type ?? 'application/json', ...(r.headers ?? {}) });
        res.end(r.body ?? '');
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success: false, error: String(e?.message ?? e) }));
      }
    });
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A D1 database over sql.js with the Worker's migrations applied. */
export async function d1Database(migrationsDir) {
  const initSqlJs = require('sql.js');
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  for (const f of readdirSync(migrationsDir).filter((n) => n.endsWith('.sql')).sort()) db.exec(readFileSync(join(migrationsDir, f), 'utf8'));
  const scalar = (sql) => { const r = db.exec(sql); return r[0]?.values[0] ?? []; };
  const one = (format, q) => {
    const [before] = scalar('SELECT total_changes()');
    const st = db.prepare(q.sql);
    try {
      st.bind((q.params ?? []).map((p) => (Array.isArray(p) ? new Uint8Array(p) : p)));
      const rows = [];
      while (st.step()) rows.push(st.get().map((v) => (v instanceof Uint8Array ? Array.from(v) : v)));
      const columns = st.getColumnNames();
      const [after, lastRowId] = scalar('SELECT total_changes(), last_insert_rowid()');
      const results = format === 'ROWS_AND_COLUMNS' ? { columns, rows } : rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
      return { success: true, results, meta: { served_by: 'bench-fake', duration: 0, changes: after - before, last_row_id: lastRowId, changed_db: after !== before, size_after: 0, rows_read: rows.length, rows_written: after - before } };
    } finally {
      st.free();
    }
  };
  return {
    db,
    /** Runs statements in one transaction, as D1 does for a batch. */
    run(format, queries) {
      queries = queries.filter((q) => q.sql.replace(/^\s+--.*/gm, '').trim().length > 0);
      if (queries.length === 0) throw new Error('No SQL statements detected.');
      db.exec('BEGIN');
      try {
        const out = queries.map((q) => one(format, q));
        db.exec('COMMIT');
        return out;
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    },
    /** Rows as objects (for the benchmark's checks). */
    query(sql, params = []) {
      const st = db.prepare(sql);
      try { st.bind(params); const out = []; while (st.step()) out.push(st.getAsObject()); return out; } finally { st.free(); }
    },
  };
}

/** Starts the D1, KV and queue stand-ins; returns their ports, state and `close()`. */
export async function startFakes({ migrationsDir }) {
  const d1 = await d1Database(migrationsDir);
  const kv = new Map();
  const queue = [];
  const counts = { d1Calls: 0, d1Statements: 0, kvGets: 0, kvPuts: 0, queueSends: 0 };
  const d1Server = await listen((req, body) => {
    const url = new URL(req.url, 'http://d1');
    if (req.method !== 'POST' || !['/query', '/execute'].includes(url.pathname)) return { status: 404, body: '{}' };
    let queries = JSON.parse(body.toString('utf8'));
    if (!Array.isArray(queries)) queries = [queries];
    counts.d1Calls++;
    counts.d1Statements += queries.length;
    const format = url.searchParams.get('resultsFormat') ?? 'ARRAY_OF_OBJECTS';
    try {
      return { body: JSON.stringify(d1.run(format, queries)), headers: { 'x-cf-d1-session-commit-token': 'bench' } };
    } catch (e) {
      return { status: 500, body: JSON.stringify({ success: false, error: String(e?.message ?? e) }) };
    }
  });
  const kvServer = await listen((req, body) => {
    const url = new URL(req.url, 'http://kv');
    const key = decodeURIComponent(url.pathname.slice(1));
    if (req.method === 'GET') {
      counts.kvGets++;
      return kv.has(key) ? { type: 'application/octet-stream', body: kv.get(key) } : { status: 404, body: '' };
    }
    if (req.method === 'PUT') { counts.kvPuts++; kv.set(key, body); return { body: '' }; }
    if (req.method === 'DELETE') { kv.delete(key); return { body: '' }; }
    return { status: 405, body: '' };
  });
  // x-msg-fmt: v8 (structured clone), json, text or bytes.
  const decode = (fmt, b) => (fmt === 'v8' ? deserialize(b) : fmt === 'json' ? JSON.parse(b.toString('utf8')) : fmt === 'text' ? b.toString('utf8') : b);
  const metrics = () => ({ metadata: { metrics: { backlogCount: queue.length, backlogBytes: 0, oldestMessageTimestamp: 0 } } });
  const queueServer = await listen((req, body) => {
    const url = new URL(req.url, 'http://queue');
    if (req.method === 'POST' && url.pathname === '/message') {
      counts.queueSends++;
      queue.push(decode(String(req.headers['x-msg-fmt'] ?? 'v8'), body));
      return { body: JSON.stringify(metrics()) };
    }
    if (req.method === 'POST' && url.pathname === '/batch') {
      const b = JSON.parse(body.toString('utf8'));
      for (const m of b.messages ?? []) { counts.queueSends++; queue.push(decode(m.contentType ?? 'v8', Buffer.from(m.body, 'base64'))); }
      return { body: JSON.stringify(metrics()) };
    }
    return { status: 404, body: '{}' };
  });
  const port = (s) => s.address().port;
  return {
    d1, kv, queue, counts,
    ports: { d1: port(d1Server), kv: port(kvServer), queue: port(queueServer) },
    close: () => Promise.all([d1Server, kvServer, queueServer].map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(r); }))),
  };
}
