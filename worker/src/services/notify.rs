//! Provider notifies: verify the raw bytes, check against the stored order,
//! apply the state change exactly once, store the notification, enqueue the
//! merchant webhook, and only then acknowledge in the provider's exact format.
//! Any failing check changes nothing and gets the provider's failure reply.

use crate::config;
use crate::error::ApiError;
use crate::services::{orders, webhook, wechat};
use crate::store::{self, Order, Transition};
use crate::util::wechat_time_to_rfc3339;
use crate::webcrypto;
use edgepay::alipay::notify::{self as anotify, NotifyCheck};
use edgepay::wechat::v2;
use edgepay::wechat::v3::{self, notify::RefundResource, Transaction};
use edgepay::Error;
use worker::{D1Database, Env};

/// What to answer the provider.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// Why a notify was refused (logged; the provider gets its failure reply).
pub struct Refusal {
    /// Stable reason code.
    pub code: String,
    /// Detail (no secrets).
    pub message: String,
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal {
            code: e.code,
            message: e.message,
        }
    }
}

/// The reply to a notify whose provider expects HTTP 200 either way (WeChat v2 XML, Alipay text):
/// `ok` on success; on a refusal, the refusal is logged (code and reason, never the body) and
/// `fail(code)` is the body.
fn reply_200(
    r: Result<(), Refusal>,
    provider: &str,
    content_type: &'static str,
    ok: impl FnOnce() -> String,
    fail: impl FnOnce(&str) -> String,
) -> Reply {
    match r {
        Ok(()) => Reply {
            status: 200,
            content_type,
            body: ok(),
        },
        Err(e) => {
            crate::log::warn(
                "notify_rejected",
                &[
                    ("provider", provider.into()),
                    ("code", e.code.clone()),
                    ("reason", e.message),
                ],
            );
            Reply {
                status: 200,
                content_type,
                body: fail(&e.code),
            }
        }
    }
}

fn refuse(code: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        code: code.into(),
        message: message.into(),
    }
}

fn hash_id(prefix: &str, body: &[u8]) -> String {
    format!(
        "{prefix}:{}",
        hex::encode(edgepay::crypto::digest::sha256(body))
    )
}

async fn load(db: &D1Database, no: &str, provider: &str) -> Result<Order, Refusal> {
    let o = store::get_order(db, no)
        .await?
        .ok_or_else(|| refuse("unknown_order", format!("no order {no}")))?;
    if o.provider != provider {
        return Err(refuse(
            "order_mismatch",
            "the order belongs to another provider",
        ));
    }
    Ok(o)
}

fn paid<'a>(
    o: &'a Order,
    txid: Option<&'a str>,
    paid_at: Option<&'a str>,
    source: &'a str,
    notification: (String, &'a str, &'a str, String),
) -> Transition<'a> {
    Transition {
        out_trade_no: &o.out_trade_no,
        from: &["NOTPAY", "USERPAYING", "PAYERROR", "CLOSED"],
        to: "SUCCESS",
        transaction_id: txid,
        paid_at,
        refund_add: 0,
        source,
        event: Some(("order.paid", format!("evt_paid_{}", o.out_trade_no))),
        notification: Some(notification),
    }
}

/// Applies a verified payment and enqueues `order.paid` (once).
async fn apply_paid(
    env: &Env,
    db: &D1Database,
    o: &Order,
    t: &Transition<'_>,
) -> Result<(), Refusal> {
    // Fast path for duplicates: the order is already paid, so the event was
    // written in the same transaction as that state change; only make sure it
    // is queued (usually a per-isolate cache hit: no query at all).
    // Otherwise the state change also claims the event's send lease in its
    // batch (one D1 round trip less than applying, then claiming).
    let (changed, claimed) = if matches!(o.status.as_str(), "SUCCESS" | "REFUND") {
        (false, false)
    } else {
        store::apply_and_claim(db, t).await?
    };
    // Enqueue even when this duplicate did not change the state: a previous
    // attempt may have stored the event and failed to enqueue it. The claim in
    // `enqueue` makes this a no-op when it is already queued.
    if let Some((_, id)) = &t.event {
        if claimed {
            webhook::send_claimed(env, db, id).await?;
        } else {
            webhook::enqueue(env, db, id).await?;
        }
    }
    crate::log::info(
        "payment_applied",
        &[
            ("out_trade_no", t.out_trade_no.to_string()),
            ("changed", changed.to_string()),
            ("source", t.source.to_string()),
        ],
    );
    Ok(())
}

/// `POST /notify/wechat`: v2 payment notify (XML).
pub async fn wechat_v2(env: &Env, body: &[u8]) -> Reply {
    let r = async {
        let text =
            std::str::from_utf8(body).map_err(|_| refuse("malformed", "body is not UTF-8"))?;
        let cfg = wechat::v2_config(env)?;
        let n = v2::parse_notify(text, &cfg.key)?;
        let db = store::db(env).await?;
        let o = load(&db, &n.out_trade_no, "wechat").await?;
        n.check(&v2::ExpectedOrder {
            appid: &o.appid,
            mch_id: &cfg.mchid,
            out_trade_no: &o.out_trade_no,
            total_fee: o.amount as u64,
        })?;
        let nid = hash_id("wechat-v2", body);
        if !n.is_paid() {
            store::store_notification(
                &db,
                &nid,
                "wechat",
                "v2-pay-fail",
                Some(&o.out_trade_no),
                text,
            )
            .await?;
            return Ok(());
        }
        let paid_at = n.time_end.as_deref().map(wechat_time_to_rfc3339);
        apply_paid(
            env,
            &db,
            &o,
            &paid(
                &o,
                n.transaction_id.as_deref(),
                paid_at.as_deref(),
                "notify:wechat-v2",
                (nid, "wechat", "v2-pay", text.to_string()),
            ),
        )
        .await
    }
    .await;
    reply_200(
        r,
        "wechat-v2",
        "text/xml; charset=utf-8",
        || v2::reply_success().into(),
        v2::reply_fail,
    )
}

/// `POST /notify/wechat/refund`: v2 refund notify (`req_info` AES-256-ECB; decryption authenticates).
pub async fn wechat_v2_refund(env: &Env, body: &[u8]) -> Reply {
    let r = async {
        let text =
            std::str::from_utf8(body).map_err(|_| refuse("malformed", "body is not UTF-8"))?;
        let cfg = wechat::v2_config(env)?;
        let n = v2::refund::parse_refund_notify(text, &cfg.key)?;
        if n.mch_id != cfg.mchid {
            return Err(refuse("order_mismatch", "mch_id differs"));
        }
        let db = store::db(env).await?;
        let o = load(&db, &n.out_trade_no, "wechat").await?;
        if n.appid != o.appid || n.total_fee != o.amount as u64 {
            return Err(refuse(
                "order_mismatch",
                "appid or total_fee differs from the stored order",
            ));
        }
        let nid = hash_id("wechat-v2-refund", body);
        store::store_notification(
            &db,
            &nid,
            "wechat",
            "v2-refund",
            Some(&o.out_trade_no),
            text,
        )
        .await?;
        if n.is_success() {
            check_refund(&db, &n.out_refund_no, &o.out_trade_no, n.refund_fee as i64).await?;
            orders::refund_succeeded(
                env,
                &db,
                &o.out_trade_no,
                &n.out_refund_no,
                "notify:wechat-v2-refund",
            )
            .await?;
        }
        Ok(())
    }
    .await;
    reply_200(
        r,
        "wechat-v2-refund",
        "text/xml; charset=utf-8",
        || v2::reply_success().into(),
        v2::reply_fail,
    )
}

async fn check_refund(
    db: &D1Database,
    out_refund_no: &str,
    no: &str,
    amount: i64,
) -> Result<(), Refusal> {
    let row = store::stmt(
        db,
        "SELECT out_trade_no, amount FROM refunds WHERE out_refund_no = ?1",
        &[store::s(out_refund_no)],
    )?
    .first::<serde_json::Value>(None)
    .await
    .map_err(|e| refuse("internal", e.to_string()))?
    .ok_or_else(|| refuse("unknown_refund", format!("no refund {out_refund_no}")))?;
    if row.get("out_trade_no").and_then(|v| v.as_str()) != Some(no)
        || row.get("amount").and_then(|v| v.as_i64()) != Some(amount)
    {
        return Err(refuse(
            "order_mismatch",
            "the refund differs from the stored one",
        ));
    }
    Ok(())
}

/// `POST /notify/wechat/v3`: v3 notify (payments and refunds).
pub async fn wechat_v3(env: &Env, headers: Result<v3::SignedHeaders, Error>, body: &[u8]) -> Reply {
    let r = async {
        let headers = headers?;
        // A v3 notify is UTF-8 JSON. serde_json skips unknown members without checking their
        // UTF-8, so a signed body with invalid bytes in an ignored member would otherwise pass.
        std::str::from_utf8(body).map_err(|_| refuse("malformed", "body is not UTF-8"))?;
        wechat::verify_signed(env, &headers, body).await?;
        let envelope = v3::NotifyEnvelope::parse(body)?;
        let apiv3 = config::require(env, "WECHAT_APIV3_KEY")?;
        let plaintext = wechat::decrypt_resource(&apiv3, &envelope.resource).await?;
        let db = store::db(env).await?;
        let nid = format!("wechat-v3:{}", envelope.id);
        if envelope.event_type.starts_with("TRANSACTION.") {
            let t: Transaction = serde_json::from_str(&plaintext)
                .map_err(|e| refuse("malformed", format!("transaction: {e}")))?;
            let o = load(&db, &t.out_trade_no, "wechat").await?;
            t.check(&v3::ExpectedOrder {
                appid: &o.appid,
                mchid: &o.mchid,
                out_trade_no: &o.out_trade_no,
                total: o.amount as u64,
            })?;
            if !t.is_paid() {
                store::store_notification(
                    &db,
                    &nid,
                    "wechat",
                    "v3-transaction",
                    Some(&o.out_trade_no),
                    &plaintext,
                )
                .await?;
                return Ok(());
            }
            apply_paid(
                env,
                &db,
                &o,
                &paid(
                    &o,
                    t.transaction_id.as_deref(),
                    t.success_time.as_deref(),
                    "notify:wechat-v3",
                    (nid, "wechat", "v3-transaction", plaintext.clone()),
                ),
            )
            .await
        } else if envelope.event_type.starts_with("REFUND.") {
            let r: RefundResource = serde_json::from_str(&plaintext)
                .map_err(|e| refuse("malformed", format!("refund: {e}")))?;
            let o = load(&db, &r.out_trade_no, "wechat").await?;
            if r.mchid != o.mchid || r.amount.total != o.amount as u64 {
                return Err(refuse(
                    "order_mismatch",
                    "mchid or amount.total differs from the stored order",
                ));
            }
            store::store_notification(
                &db,
                &nid,
                "wechat",
                "v3-refund",
                Some(&o.out_trade_no),
                &plaintext,
            )
            .await?;
            if r.refund_status == "SUCCESS" {
                check_refund(
                    &db,
                    &r.out_refund_no,
                    &o.out_trade_no,
                    r.amount.refund as i64,
                )
                .await?;
                orders::refund_succeeded(
                    env,
                    &db,
                    &o.out_trade_no,
                    &r.out_refund_no,
                    "notify:wechat-v3",
                )
                .await?;
            }
            Ok(())
        } else {
            store::store_notification(&db, &nid, "wechat", "v3-other", None, &plaintext).await?;
            Ok(())
        }
    }
    .await;
    match r {
        Ok(()) => Reply {
            status: 204,
            content_type: "application/json",
            body: String::new(),
        },
        Err(e) => {
            crate::log::warn(
                "notify_rejected",
                &[
                    ("provider", "wechat-v3".into()),
                    ("code", e.code.clone()),
                    ("reason", e.message),
                ],
            );
            let status = match e.code.as_str() {
                "signature_mismatch"
                | "signature_probe"
                | "timestamp_out_of_window"
                | "unknown_serial"
                | "missing_field" => 401,
                "internal_error" | "internal" | "not_configured" => 500,
                _ => 400,
            };
            let reply = v3::NotifyReply::failure_with_status(status, &e.code);
            Reply {
                status: reply.status,
                content_type: "application/json",
                body: reply.body,
            }
        }
    }
}

/// `POST /notify/alipay`: form body, RSA2 over the decoded parameters (rsaCheckV1).
pub async fn alipay(env: &Env, body: &[u8]) -> Reply {
    let r = async {
        let s = crate::services::alipay::settings(env)?;
        let params = anotify::parse_form(body)?;
        let m = anotify::notify_message(&params, NotifyCheck::V1)?;
        let m = &m;
        let verify = |key: String| async move {
            webcrypto::rsa_verify_text(&key, m.hash, m.message.as_bytes(), &m.signature)
                .await
                .map_err(|e| refuse("internal", e))
        };
        let mut ok = verify(s.alipay_public_key.clone()).await?;
        if !ok {
            // Certificate mode: after Alipay rotated its certificate, the latest trusted one.
            if let Some(latest) = crate::services::alipay::latest_rotated_certificate(env, &s).await
            {
                ok = verify(latest).await?;
            }
        }
        if !ok {
            return Err(refuse(
                "signature_mismatch",
                "the notify signature does not verify with the Alipay public key",
            ));
        }
        let no = params.get("out_trade_no").cloned().unwrap_or_default();
        let db = store::db(env).await?;
        let o = load(&db, &no, "alipay").await?;
        let nid = format!(
            "alipay:{}:{}",
            params.get("notify_id").cloned().unwrap_or_default(),
            hex::encode(edgepay::crypto::digest::sha256(body))
        );
        let text = String::from_utf8_lossy(body).into_owned();
        let is_refund = params.get("refund_fee").is_some_and(|v| !v.is_empty())
            || params.get("out_biz_no").is_some_and(|v| !v.is_empty());
        if is_refund || params.get("trade_status").map(String::as_str) == Some("TRADE_CLOSED") {
            // Refund (applied when the refund call succeeded) or close notice: check, store, acknowledge.
            if params.get("app_id") != Some(&o.appid) {
                return Err(refuse(
                    "order_mismatch",
                    "app_id differs from the stored order",
                ));
            }
            store::store_notification(
                &db,
                &nid,
                "alipay",
                "trade_status_sync",
                Some(&o.out_trade_no),
                &text,
            )
            .await?;
            if !is_refund {
                let t = Transition {
                    out_trade_no: &o.out_trade_no,
                    from: &["NOTPAY", "USERPAYING", "PAYERROR"],
                    to: "CLOSED",
                    transaction_id: None,
                    paid_at: None,
                    refund_add: 0,
                    source: "notify:alipay",
                    event: Some(("order.closed", format!("evt_closed_{}", o.out_trade_no))),
                    notification: None,
                };
                if store::apply(&db, &t).await? {
                    webhook::enqueue(env, &db, &format!("evt_closed_{}", o.out_trade_no)).await?;
                }
            }
            return Ok(());
        }
        anotify::check_notify(
            &params,
            &anotify::ExpectedOrder {
                app_id: o.appid.clone(),
                out_trade_no: o.out_trade_no.clone(),
                total_fen: o.amount as u64,
                seller_id: s.seller_id.clone(),
            },
        )?;
        let txid = params.get("trade_no").cloned();
        let paid_at = params.get("gmt_payment").cloned();
        apply_paid(
            env,
            &db,
            &o,
            &paid(
                &o,
                txid.as_deref(),
                paid_at.as_deref(),
                "notify:alipay",
                (nid, "alipay", "trade", text),
            ),
        )
        .await
    }
    .await;
    reply_200(
        r,
        "alipay",
        "text/plain",
        || anotify::NOTIFY_SUCCESS.into(),
        |_| anotify::NOTIFY_FAIL.into(),
    )
}
