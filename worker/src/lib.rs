//! edgepay edge gateway: a Cloudflare Worker (workers-rs) that proxies orders
//! and notifies for WeChat Pay and Alipay. Thin routes ([`routes`]) over
//! services ([`services`]) over the sans-IO core crate `edgepay`.
//!
//! State: D1 (orders, history, notifications, webhook events; exactly-once
//! transitions), KV (tokens, tickets, platform certificates), a Durable Object
//! coordinating token refreshes, a Queue delivering merchant webhooks.
//! RSA and AES-GCM run in WebCrypto ([`webcrypto`]).

pub mod config;
pub mod error;
pub mod http;
pub mod log;
pub mod routes;
pub mod services;
pub mod store;
pub mod util;
pub mod webcrypto;

pub use services::tokens::TokenBroker;

use services::webhook::{self, Outcome, QueueMessage};
use worker::{
    event, Context, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Request, Response,
    Result, ScheduleContext, ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let rid = req
        .headers()
        .get("cf-ray")
        .ok()
        .flatten()
        .unwrap_or_else(|| util::nonce()[..16].to_string());
    log::set_request_id(&rid);
    let method = req.method().to_string();
    let path = req.path();
    let started = util::now_ms();
    let resp = match routes::handle(req, &env).await {
        Ok(r) => r,
        Err(e) => e.to_response(),
    };
    log::info(
        "request",
        &[
            ("method", method),
            ("path", path),
            ("status", resp.status_code().to_string()),
            ("ms", (util::now_ms() - started).to_string()),
        ],
    );
    let headers = resp.headers().clone();
    let _ = headers.set("x-request-id", &rid);
    Ok(resp.with_headers(headers))
}

#[event(queue)]
async fn queue(batch: MessageBatch<QueueMessage>, env: Env, _ctx: Context) -> Result<()> {
    let dead_letter = batch.queue().ends_with("-dlq");
    for msg in batch.messages()? {
        let id = msg.body().id.clone();
        log::set_request_id(&format!("queue:{id}"));
        if dead_letter {
            match webhook::mark_dead(&env, &id).await {
                Ok(()) => msg.ack(),
                Err(_) => msg.retry(),
            }
            continue;
        }
        match webhook::deliver(&env, &id).await {
            Ok(Outcome::Done) => msg.ack(),
            Ok(Outcome::Retry(delay)) => msg.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            ),
            Ok(Outcome::Dead) => {
                let sent = match env.queue("WEBHOOKS_DLQ") {
                    Ok(q) => q.send(QueueMessage { id: id.clone() }).await.is_ok(),
                    Err(_) => false,
                };
                if !sent {
                    let _ = webhook::mark_dead(&env, &id).await;
                }
                msg.ack();
            }
            Err(e) => {
                log::error(
                    "webhook_delivery_error",
                    &[("event_id", id), ("error", e.to_string())],
                );
                msg.retry_with_options(
                    &QueueRetryOptionsBuilder::new()
                        .with_delay_seconds(5)
                        .build(),
                );
            }
        }
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    log::set_request_id("cron");
    if let Err(e) = webhook::sweep(&env).await {
        log::error("webhook_sweep_failed", &[("error", e.to_string())]);
    }
}
