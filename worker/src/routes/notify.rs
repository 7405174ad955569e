//! Provider notify routes: raw bytes in, the provider's exact reply out.

use crate::error::ApiResult;
use crate::services::{notify, wechat};
use worker::{Env, Headers, Request, Response};

const MAX_NOTIFY_BYTES: usize = 256 * 1024;

/// The raw body, or empty (which every notify check refuses) when it is over
/// [`MAX_NOTIFY_BYTES`]. A declared `Content-Length` over the limit is refused
/// without reading the body at all.
async fn raw(req: &mut Request) -> ApiResult<Vec<u8>> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_NOTIFY_BYTES) {
        return Ok(Vec::new());
    }
    let b = req.bytes().await?;
    Ok(if b.len() > MAX_NOTIFY_BYTES {
        Vec::new()
    } else {
        b
    })
}

fn render(r: notify::Reply) -> ApiResult<Response> {
    let h = Headers::new();
    if r.body.is_empty() {
        // No body at all (not a zero-length one): workerd warns on every
        // `new Response(<empty>, {status: 204})`, which cost ~0.5 ms of CPU per
        // v3 notify (scripts/bench-worker-cpu.mjs).
        return Ok(Response::empty()?.with_status(r.status).with_headers(h));
    }
    h.set("content-type", r.content_type)?;
    Ok(Response::from_bytes(r.body.into_bytes())?
        .with_status(r.status)
        .with_headers(h))
}

pub async fn wechat_v2(mut req: Request, env: &Env) -> ApiResult<Response> {
    let body = raw(&mut req).await?;
    render(notify::wechat_v2(env, &body).await)
}

pub async fn wechat_v2_refund(mut req: Request, env: &Env) -> ApiResult<Response> {
    let body = raw(&mut req).await?;
    render(notify::wechat_v2_refund(env, &body).await)
}

pub async fn wechat_v3(mut req: Request, env: &Env) -> ApiResult<Response> {
    let headers = wechat::signed_headers_of(&req);
    let body = raw(&mut req).await?;
    render(notify::wechat_v3(env, headers, &body).await)
}

pub async fn alipay(mut req: Request, env: &Env) -> ApiResult<Response> {
    let body = raw(&mut req).await?;
    render(notify::alipay(env, &body).await)
}
