//! Outgoing HTTP to the upstreams (WeChat Pay, WeChat API, Alipay) and the
//! merchant's webhook, with a time-out.
//!
//! Straight over `fetch` (web-sys): one `Request`, one `AbortSignal.timeout`,
//! the body read with one `arrayBuffer()`. The workers-rs wrappers this
//! replaced (a `Delay` timer raced against the fetch, an `AbortController`,
//! the body streamed through wasm) cost ~0.3 ms of CPU per call.

use crate::config;
use crate::error::{ApiError, ApiResult};
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response, WorkerGlobalScope};
use worker::{Env, Method};

/// An upstream answer.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Headers,
    /// Raw body bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// A header value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }
}

/// Default upstream time-out.
pub const TIMEOUT_MS: u32 = 10_000;

/// The upstream time-out: `UPSTREAM_TIMEOUT_MS`, default [`TIMEOUT_MS`]
/// (clamped to 100 ms – 60 s).
pub fn timeout_ms(env: &Env) -> u32 {
    config::get_i64(env, "UPSTREAM_TIMEOUT_MS", TIMEOUT_MS as i64).clamp(100, 60_000) as u32
}

fn js_message(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "fetch failed".into())
}

/// Sends a request; `timeout_ms` bounds the whole exchange (answer and body).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<String>,
    timeout_ms: u32,
) -> ApiResult<Answer> {
    let h = Headers::new().map_err(|e| ApiError::internal(js_message(&e)))?;
    for (k, v) in headers {
        h.set(k, v)
            .map_err(|e| ApiError::internal(format!("header {k}: {}", js_message(&e))))?;
    }
    let signal = AbortSignal::timeout_with_u32(timeout_ms);
    let init = RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(&h);
    init.set_signal(Some(&signal));
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(&b));
    }
    let failed = |e: JsValue| {
        if signal.aborted() {
            ApiError::upstream(format!("upstream timed out after {timeout_ms} ms"))
        } else {
            ApiError::upstream(format!("upstream unreachable: {}", js_message(&e)))
        }
    };
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let resp: Response = JsFuture::from(global.fetch_with_str_and_init(url, &init))
        .await
        .map_err(failed)?
        .unchecked_into();
    let read = resp.array_buffer().map_err(failed)?;
    let buf = JsFuture::from(read).await.map_err(failed)?;
    Ok(Answer {
        status: resp.status(),
        headers: resp.headers(),
        body: Uint8Array::new(&buf).to_vec(),
    })
}
