//! Outgoing HTTP to the upstreams (WeChat Pay, WeChat API, Alipay), with a time-out.

use crate::error::{ApiError, ApiResult};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

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

/// Sends a request; `timeout_ms` bounds the whole exchange.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<String>,
    timeout_ms: u64,
) -> ApiResult<Answer> {
    let h = Headers::new();
    for (k, v) in headers {
        h.set(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(h);
    if let Some(b) = body {
        init.with_body(Some(b.into()));
    }
    let req = Request::new_with_init(url, &init)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(req);
    let fut = Box::pin(async move {
        let mut resp = fetch.send_with_signal(&signal).await?;
        let body = resp.bytes().await?;
        Ok::<_, worker::Error>(Answer {
            status: resp.status_code(),
            headers: resp.headers().clone(),
            body,
        })
    });
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match select(fut, timer).await {
        Either::Left((Ok(a), _)) => Ok(a),
        Either::Left((Err(e), _)) => Err(ApiError::upstream(format!("upstream unreachable: {e}"))),
        Either::Right(_) => {
            controller.abort();
            Err(ApiError::upstream(format!(
                "upstream timed out after {timeout_ms} ms"
            )))
        }
    }
}

/// Default upstream time-out.
pub const TIMEOUT_MS: u64 = 10_000;
