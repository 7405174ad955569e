//! Public routes: OAuth, JS-SDK config, mini program login, payer-visible status.

use super::{json, json_body};
use crate::config;
use crate::error::{ApiError, ApiResult};
use crate::services::{oauth, orders};
use serde::Deserialize;
use std::collections::HashMap;
use worker::{Env, Headers, Request, Response};

fn query(req: &Request) -> ApiResult<HashMap<String, String>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

fn cors(req: &Request, env: &Env, headers: &Headers) -> ApiResult<()> {
    if let Some(origin) = req.headers().get("origin")? {
        if config::allowed_origins(env).contains(&origin) {
            headers.set("access-control-allow-origin", &origin)?;
            headers.set("vary", "Origin")?;
        }
    }
    Ok(())
}

fn with_cors(req: &Request, env: &Env, r: Response) -> ApiResult<Response> {
    let h = r.headers().clone();
    cors(req, env, &h)?;
    Ok(r.with_headers(h))
}

pub fn preflight(req: &Request, env: &Env) -> ApiResult<Response> {
    let h = Headers::new();
    cors(req, env, &h)?;
    h.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
    h.set("access-control-allow-headers", "content-type")?;
    h.set("access-control-max-age", "600")?;
    Ok(Response::empty()?.with_status(204).with_headers(h))
}

/// `GET /v1/public/orders/{no}/status` → `{status}` only (for `waitForPaid`).
pub async fn order_status(req: &Request, env: &Env, base: &str, no: &str) -> ApiResult<Response> {
    let order = orders::get(env, base, no).await?;
    let r = json(200, &serde_json::json!({ "status": order.status }))?;
    with_cors(req, env, r)
}

pub fn oauth_authorize(req: &Request, env: &Env, base: &str) -> ApiResult<Response> {
    let q = query(req)?;
    let return_to = q.get("return_to").map(String::as_str).unwrap_or("/");
    let (location, cookie) = oauth::authorize(env, base, return_to)?;
    let h = Headers::new();
    h.set("location", &location)?;
    h.append("set-cookie", &cookie)?;
    h.set("cache-control", "no-store")?;
    Ok(Response::empty()?.with_status(302).with_headers(h))
}

pub async fn oauth_callback(req: &Request, env: &Env, base: &str) -> ApiResult<Response> {
    let q = query(req)?;
    let cookie = req.headers().get("cookie")?.unwrap_or_default();
    let (return_to, cookies) = oauth::callback(
        env,
        base,
        q.get("code").map(String::as_str).unwrap_or(""),
        q.get("state").map(String::as_str).unwrap_or(""),
        &cookie,
    )
    .await?;
    let h = Headers::new();
    h.set("location", &return_to)?;
    for c in cookies {
        h.append("set-cookie", &c)?;
    }
    h.set("cache-control", "no-store")?;
    Ok(Response::empty()?.with_status(302).with_headers(h))
}

pub async fn jssdk_config(req: &Request, env: &Env) -> ApiResult<Response> {
    let q = query(req)?;
    let url = q
        .get("url")
        .ok_or_else(|| ApiError::bad_request("missing_field", "url"))?;
    let v = oauth::jssdk_config(env, url).await?;
    with_cors(req, env, json(200, &v)?)
}

#[derive(Deserialize)]
struct Login {
    code: String,
}

pub async fn miniprogram_login(req: Request, env: &Env) -> ApiResult<Response> {
    let body: Login = json_body(req).await?;
    let v = oauth::miniprogram_login(env, &body.code).await?;
    json(200, &v)
}
