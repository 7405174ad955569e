//! Durable state in D1 (strongly consistent SQLite): orders, their state
//! history, received notifications and merchant webhook events.
//!
//! Exactly-once state changes: every transition is one conditional `UPDATE …
//! WHERE status IN (…)` in a batch (a transaction) with a history row written
//! only when that update changed a row (`changes() = 1`) and an event row with
//! a deterministic id (`INSERT OR IGNORE`). Concurrent duplicates all run the
//! batch; only one of them changes anything.

use crate::error::{ApiError, ApiResult};
use crate::util::now;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

/// The schema (also in `worker/migrations/0001_init.sql` for operators).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS orders (out_trade_no TEXT PRIMARY KEY, provider TEXT NOT NULL, channel TEXT NOT NULL, api TEXT NOT NULL, appid TEXT NOT NULL, mchid TEXT NOT NULL, amount INTEGER NOT NULL, description TEXT NOT NULL, openid TEXT, client_ip TEXT, request_hash TEXT NOT NULL, status TEXT NOT NULL, pay_params TEXT, prepay_id TEXT, transaction_id TEXT, paid_at TEXT, refunded_amount INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, checked_at INTEGER)",
    "CREATE TABLE IF NOT EXISTS order_history (id INTEGER PRIMARY KEY AUTOINCREMENT, out_trade_no TEXT NOT NULL, to_status TEXT NOT NULL, source TEXT NOT NULL, at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS order_history_no ON order_history(out_trade_no)",
    "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, provider TEXT NOT NULL, kind TEXT NOT NULL, out_trade_no TEXT, body TEXT NOT NULL, received_at INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1)",
    "CREATE TABLE IF NOT EXISTS refunds (out_refund_no TEXT PRIMARY KEY, out_trade_no TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, refund_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, out_trade_no TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL, enqueued_at INTEGER, send_lease INTEGER, attempts INTEGER NOT NULL DEFAULT 0, lease_until INTEGER, delivered_at INTEGER, dead_at INTEGER, last_error TEXT)",
];

thread_local! {
    static READY: Cell<bool> = const { Cell::new(false) };
}

/// A JS number (D1 takes numbers, not BigInt).
pub fn num(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// A JS string.
pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// A nullable string.
pub fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// The database, with the schema created once per isolate.
pub async fn db(env: &Env) -> ApiResult<D1Database> {
    let db = env
        .d1("DB")
        .map_err(|_| ApiError::not_configured("the D1 binding DB"))?;
    if !READY.with(|r| r.get()) {
        let stmts = SCHEMA.iter().map(|q| db.prepare(*q)).collect();
        db.batch(stmts).await?;
        READY.with(|r| r.set(true));
    }
    Ok(db)
}

/// Binds and returns a statement.
pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<D1PreparedStatement> {
    Ok(db.prepare(sql).bind(args)?)
}

/// Rows changed by a statement.
pub async fn run_changes(st: D1PreparedStatement) -> ApiResult<usize> {
    let r = st.run().await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

/// An order row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// Merchant order number.
    pub out_trade_no: String,
    /// `wechat` | `alipay`.
    pub provider: String,
    /// `jsapi` | `miniprogram` | `app` | `native` | `h5`.
    pub channel: String,
    /// `v2` | `v3` (Alipay: `v2`).
    pub api: String,
    /// App id the order was created with.
    pub appid: String,
    /// Merchant id (Alipay: seller id, may be empty).
    pub mchid: String,
    /// Amount in fen.
    pub amount: i64,
    /// Description / subject.
    pub description: String,
    /// Payer openid (JSAPI / mini program).
    pub openid: Option<String>,
    /// Payer IP.
    pub client_ip: Option<String>,
    /// Hash of the creating request (idempotency).
    pub request_hash: String,
    /// NOTPAY | USERPAYING | SUCCESS | CLOSED | REFUND | PAYERROR.
    pub status: String,
    /// JSON of the client parameters.
    pub pay_params: Option<String>,
    /// WeChat prepay id.
    pub prepay_id: Option<String>,
    /// Provider's transaction id.
    pub transaction_id: Option<String>,
    /// Payment time.
    pub paid_at: Option<String>,
    /// Refunded so far, fen.
    pub refunded_amount: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Last upstream reconciliation, Unix seconds.
    pub checked_at: Option<i64>,
}

impl Order {
    /// What the merchant API and webhooks show.
    pub fn public_json(&self) -> serde_json::Value {
        serde_json::json!({
            "out_trade_no": self.out_trade_no,
            "provider": self.provider,
            "channel": self.channel,
            "api": self.api,
            "status": self.status,
            "amount": self.amount,
            "refunded_amount": self.refunded_amount,
            "description": self.description,
            "transaction_id": self.transaction_id,
            "paid_at": self.paid_at,
            "created_at": self.created_at,
        })
    }
}

/// Loads an order.
pub async fn get_order(db: &D1Database, no: &str) -> ApiResult<Option<Order>> {
    Ok(stmt(db, SELECT_ORDER, &[s(no)])?
        .first::<Order>(None)
        .await?)
}

const SELECT_ORDER: &str = "SELECT * FROM orders WHERE out_trade_no = ?1";

/// The order row a batch's last statement (`SELECT_ORDER`) read.
fn order_of(results: &[worker::D1Result]) -> ApiResult<Option<Order>> {
    match results.last() {
        Some(r) => Ok(r.results::<Order>()?.into_iter().next()),
        None => Ok(None),
    }
}

/// Inserts a new order (unless the number already exists) and reads the
/// stored row back, in one D1 batch (one round trip, one transaction).
pub async fn insert_and_get_order(db: &D1Database, o: &Order) -> ApiResult<Option<Order>> {
    let insert = stmt(
        db,
        "INSERT OR IGNORE INTO orders (out_trade_no, provider, channel, api, appid, mchid, amount, description, openid, client_ip, request_hash, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'NOTPAY', ?12, ?12)",
        &[
            s(&o.out_trade_no),
            s(&o.provider),
            s(&o.channel),
            s(&o.api),
            s(&o.appid),
            s(&o.mchid),
            num(o.amount),
            s(&o.description),
            opt(o.openid.as_deref()),
            opt(o.client_ip.as_deref()),
            s(&o.request_hash),
            num(o.created_at),
        ],
    )?;
    let read = stmt(db, SELECT_ORDER, &[s(&o.out_trade_no)])?;
    order_of(&db.batch(vec![insert, read]).await?)
}

/// Records the client parameters once the upstream order exists (a concurrent
/// identical request may have stored its own first: those are kept) and reads
/// the stored row back, in one D1 batch.
pub async fn set_pay_params_and_get(
    db: &D1Database,
    no: &str,
    pay_params: &str,
    prepay_id: Option<&str>,
) -> ApiResult<Option<Order>> {
    let update = stmt(
        db,
        "UPDATE orders SET pay_params = ?2, prepay_id = ?3, updated_at = ?4 WHERE out_trade_no = ?1 AND pay_params IS NULL",
        &[s(no), s(pay_params), opt(prepay_id), num(now())],
    )?;
    let read = stmt(db, SELECT_ORDER, &[s(no)])?;
    order_of(&db.batch(vec![update, read]).await?)
}

/// A state change to apply exactly once.
pub struct Transition<'a> {
    /// The order.
    pub out_trade_no: &'a str,
    /// States the change may start from.
    pub from: &'a [&'a str],
    /// The new state.
    pub to: &'a str,
    /// Provider transaction id (payments).
    pub transaction_id: Option<&'a str>,
    /// Payment time (payments).
    pub paid_at: Option<&'a str>,
    /// Refunded amount to add (refunds).
    pub refund_add: i64,
    /// What caused it (`notify:wechat-v2`, `query`, `close`, …).
    pub source: &'a str,
    /// The event to emit: `(type, id)`.
    pub event: Option<(&'a str, String)>,
    /// The notification to store: `(id, provider, kind, body)`.
    pub notification: Option<(String, &'a str, &'a str, String)>,
}

/// Applies a transition in one D1 batch (a transaction). Returns whether this
/// call changed the state. The event row (if any) is written in the same
/// batch when the order is (now) in the target state, with the order as it is
/// after the change.
pub async fn apply(db: &D1Database, t: &Transition<'_>) -> ApiResult<bool> {
    Ok(apply_inner(db, t, false).await?.0)
}

/// [`apply`], and in the same batch claims the send lease of the transition's
/// event (the claim `webhook::enqueue` makes: the event exists, is not queued
/// and no live lease is held), saving that round trip. Returns `(changed,
/// claimed)`; whoever claimed must send the event (`webhook::send_claimed`).
pub async fn apply_and_claim(db: &D1Database, t: &Transition<'_>) -> ApiResult<(bool, bool)> {
    apply_inner(db, t, true).await
}

/// The lease a sender holds on an unqueued event (`?1` id, `?2` lease end, `?3` now).
pub const CLAIM_SEND_LEASE: &str = "UPDATE events SET send_lease = ?2 WHERE id = ?1 AND enqueued_at IS NULL AND (send_lease IS NULL OR send_lease < ?3)";

/// How long a send lease lasts, seconds.
pub const SEND_LEASE_SECONDS: i64 = 10;

async fn apply_inner(db: &D1Database, t: &Transition<'_>, claim: bool) -> ApiResult<(bool, bool)> {
    let ts = now();
    let from_list = t
        .from
        .iter()
        .map(|f| format!("'{}'", f.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let mut stmts = vec![];
    stmts.push(stmt(
        db,
        &format!(
            "UPDATE orders SET status = ?2, transaction_id = COALESCE(?3, transaction_id), paid_at = COALESCE(?4, paid_at), refunded_amount = refunded_amount + ?5, updated_at = ?6 WHERE out_trade_no = ?1 AND status IN ({from_list})"
        ),
        &[
            s(t.out_trade_no),
            s(t.to),
            opt(t.transaction_id),
            opt(t.paid_at),
            num(t.refund_add),
            num(ts),
        ],
    )?);
    stmts.push(stmt(
        db,
        "INSERT INTO order_history (out_trade_no, to_status, source, at) SELECT ?1, ?2, ?3, ?4 WHERE changes() = 1",
        &[s(t.out_trade_no), s(t.to), s(t.source), num(ts)],
    )?);
    if let Some((id, provider, kind, body)) = &t.notification {
        stmts.push(stmt(
            db,
            "INSERT INTO notifications (id, provider, kind, out_trade_no, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET count = count + 1",
            &[s(id), s(provider), s(kind), s(t.out_trade_no), s(body), num(ts)],
        )?);
    }
    if let Some((ty, id)) = &t.event {
        // The payload is the order after the change, built in SQL so that it is
        // the state this very transaction produced.
        stmts.push(stmt(
            db,
            "INSERT OR IGNORE INTO events (id, type, out_trade_no, payload, created_at) SELECT ?1, ?2, out_trade_no, json_object('out_trade_no', out_trade_no, 'provider', provider, 'channel', channel, 'api', api, 'status', status, 'amount', amount, 'refunded_amount', refunded_amount, 'description', description, 'transaction_id', transaction_id, 'paid_at', paid_at, 'created_at', created_at), ?3 FROM orders WHERE out_trade_no = ?4 AND EXISTS (SELECT 1 FROM order_history WHERE out_trade_no = ?4 AND to_status = ?5)",
            &[s(id), s(ty), num(ts), s(t.out_trade_no), s(t.to)],
        )?);
    }
    let claim = match (&t.event, claim) {
        (Some((_, id)), true) => {
            stmts.push(stmt(
                db,
                CLAIM_SEND_LEASE,
                &[s(id), num(ts + SEND_LEASE_SECONDS), num(ts)],
            )?);
            true
        }
        _ => false,
    };
    let results = db.batch(stmts).await?;
    let changes = |r: Option<&worker::D1Result>| {
        r.and_then(|r| r.meta().ok().flatten())
            .and_then(|m| m.changes)
            .unwrap_or(0)
    };
    let changed = changes(results.first()) == 1;
    let claimed = claim && changes(results.last()) == 1;
    Ok((changed, claimed))
}

/// Stores a notification that changes no state (e.g. a payment failure notice).
pub async fn store_notification(
    db: &D1Database,
    id: &str,
    provider: &str,
    kind: &str,
    no: Option<&str>,
    body: &str,
) -> ApiResult<()> {
    let st = stmt(
        db,
        "INSERT INTO notifications (id, provider, kind, out_trade_no, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET count = count + 1",
        &[s(id), s(provider), s(kind), opt(no), s(body), num(now())],
    )?;
    run_changes(st).await?;
    Ok(())
}

/// A history row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryRow {
    /// New state.
    pub to_status: String,
    /// Cause.
    pub source: String,
    /// Unix seconds.
    pub at: i64,
}

/// The order's state changes, oldest first.
pub async fn history(db: &D1Database, no: &str) -> ApiResult<Vec<HistoryRow>> {
    let r = stmt(
        db,
        "SELECT to_status, source, at FROM order_history WHERE out_trade_no = ?1 ORDER BY id",
        &[s(no)],
    )?
    .all()
    .await?;
    Ok(r.results::<HistoryRow>()?)
}

/// A webhook event row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Stable id (`evt_…`).
    pub id: String,
    /// `order.paid` | `order.refunded` | `order.closed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The order.
    pub out_trade_no: String,
    /// The order JSON at the time of the event.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Delivered (Unix seconds).
    pub delivered_at: Option<i64>,
    /// Dead-lettered (Unix seconds).
    pub dead_at: Option<i64>,
    /// Claimed for the queue (Unix seconds).
    pub enqueued_at: Option<i64>,
}

/// Loads an event.
pub async fn get_event(db: &D1Database, id: &str) -> ApiResult<Option<Event>> {
    Ok(stmt(
        db,
        "SELECT id, type, out_trade_no, payload, attempts, delivered_at, dead_at, enqueued_at FROM events WHERE id = ?1",
        &[s(id)],
    )?
    .first::<Event>(None)
    .await?)
}

/// Events of an order (for the merchant API and tests).
pub async fn events_of(db: &D1Database, no: &str) -> ApiResult<Vec<Event>> {
    let r = stmt(
        db,
        "SELECT id, type, out_trade_no, payload, attempts, delivered_at, dead_at, enqueued_at FROM events WHERE out_trade_no = ?1 ORDER BY created_at",
        &[s(no)],
    )?
    .all()
    .await?;
    Ok(r.results::<Event>()?)
}
