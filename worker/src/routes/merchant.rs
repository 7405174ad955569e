//! Merchant routes (Bearer token): orders, close, refunds.

use super::{json, json_body, require_merchant};
use crate::error::ApiResult;
use crate::services::{orders, tokens};
use crate::store;
use serde_json::json;
use worker::{Env, Request, Response};

pub async fn create_order(req: Request, env: &Env, base: &str) -> ApiResult<Response> {
    require_merchant(&req, env)?;
    let body: orders::CreateOrder = json_body(req).await?;
    let (order, pay_params) = orders::create(env, base, body).await?;
    json(
        201,
        &json!({ "out_trade_no": order.out_trade_no, "status": order.status, "pay_params": pay_params }),
    )
}

pub async fn get_order(req: &Request, env: &Env, base: &str, no: &str) -> ApiResult<Response> {
    require_merchant(req, env)?;
    let order = orders::get(env, base, no).await?;
    let db = store::db(env).await?;
    let mut v = order.public_json();
    v["history"] = serde_json::to_value(store::history(&db, no).await?)?;
    v["events"] = serde_json::to_value(
        store::events_of(&db, no)
            .await?
            .into_iter()
            .map(|e| json!({"id": e.id, "type": e.kind, "attempts": e.attempts, "delivered_at": e.delivered_at, "dead_at": e.dead_at}))
            .collect::<Vec<_>>(),
    )?;
    json(200, &v)
}

pub async fn close_order(req: &Request, env: &Env, base: &str, no: &str) -> ApiResult<Response> {
    require_merchant(req, env)?;
    let order = orders::close(env, base, no).await?;
    json(200, &order.public_json())
}

pub async fn refund(req: Request, env: &Env, base: &str, no: &str) -> ApiResult<Response> {
    require_merchant(&req, env)?;
    let body: orders::CreateRefund = json_body(req).await?;
    let r = orders::refund(env, base, no, body).await?;
    json(201, &r)
}

pub async fn expire_tokens(req: &Request, env: &Env) -> ApiResult<Response> {
    require_merchant(req, env)?;
    let kind = req
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "kind")
        .map(|(_, v)| v.into_owned());
    if let Some(k) = &kind {
        if k != tokens::ACCESS_TOKEN && k != tokens::JSAPI_TICKET {
            return Err(crate::error::ApiError::bad_request(
                "invalid_field",
                "kind must be access_token or jsapi_ticket",
            ));
        }
    }
    tokens::expire(env, kind.as_deref()).await?;
    json(200, &json!({"ok": true}))
}
