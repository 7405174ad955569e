//! Thin HTTP routes: parse, authenticate, call a service, render.

mod demo;
mod merchant;
mod notify;
mod public;

use crate::error::{ApiError, ApiResult};
use crate::util::ct_eq;
use worker::{Env, Headers, Method, Request, Response};

/// Dispatches a request.
pub async fn handle(req: Request, env: &Env) -> ApiResult<Response> {
    let url = req.url()?;
    let origin = url.origin().ascii_serialization();
    let base = crate::config::public_base(env, &origin);
    let path = url.path().to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let m = req.method();
    match (m.clone(), segs.as_slice()) {
        (Method::Get, ["healthz"]) => json(200, &serde_json::json!({"ok": true})),
        (Method::Post, ["v1", "orders"]) => merchant::create_order(req, env, &base).await,
        (Method::Get, ["v1", "orders", no]) => merchant::get_order(&req, env, &base, no).await,
        (Method::Post, ["v1", "orders", no, "close"]) => {
            merchant::close_order(&req, env, &base, no).await
        }
        (Method::Post, ["v1", "orders", no, "refunds"]) => {
            merchant::refund(req, env, &base, no).await
        }
        (Method::Post, ["v1", "admin", "tokens", "expire"]) => {
            merchant::expire_tokens(&req, env).await
        }
        (Method::Get, ["v1", "public", "orders", no, "status"]) => {
            public::order_status(&req, env, &base, no).await
        }
        (Method::Post, ["notify", "wechat"]) => notify::wechat_v2(req, env).await,
        (Method::Post, ["notify", "wechat", "v3"]) => notify::wechat_v3(req, env).await,
        (Method::Post, ["notify", "wechat", "refund"]) => notify::wechat_v2_refund(req, env).await,
        (Method::Post, ["notify", "alipay"]) => notify::alipay(req, env).await,
        (Method::Get, ["oauth", "wechat", "authorize"]) => {
            public::oauth_authorize(&req, env, &base)
        }
        (Method::Get, ["oauth", "wechat", "callback"]) => {
            public::oauth_callback(&req, env, &base).await
        }
        (Method::Get, ["v1", "jssdk", "config"]) => public::jssdk_config(&req, env).await,
        (Method::Options, ["v1", ..]) => public::preflight(&req, env),
        (Method::Post, ["v1", "miniprogram", "login"]) => public::miniprogram_login(req, env).await,
        (_, ["demo", rest @ ..]) => demo::handle(req, env, &base, rest).await,
        _ => {
            if m == Method::Get || m == Method::Head {
                if let Ok(assets) = env.assets("ASSETS") {
                    return Ok(assets.fetch_request(req).await?);
                }
            }
            Err(ApiError::not_found(format!("no route {} {}", m, path)))
        }
    }
}

/// A JSON response.
pub fn json<T: serde::Serialize>(status: u16, v: &T) -> ApiResult<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_bytes(serde_json::to_vec(v)?)?
        .with_status(status)
        .with_headers(headers))
}

/// Checks `Authorization: Bearer <MERCHANT_API_TOKEN>` (constant time).
pub fn require_merchant(req: &Request, env: &Env) -> ApiResult<()> {
    let expected = crate::config::require(env, "MERCHANT_API_TOKEN")?;
    let got = req.headers().get("authorization")?.unwrap_or_default();
    let token = got.strip_prefix("Bearer ").unwrap_or("");
    if token.is_empty() || !ct_eq(token, &expected) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// Reads a JSON body (bounded).
pub async fn json_body<T: serde::de::DeserializeOwned>(mut req: Request) -> ApiResult<T> {
    let bytes = req.bytes().await?;
    if bytes.len() > 64 * 1024 {
        return Err(ApiError::new(413, "too_large", "body over 64 KiB"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("malformed", format!("JSON body: {e}")))
}
