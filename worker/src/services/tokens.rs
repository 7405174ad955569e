//! WeChat `access_token` and `jsapi_ticket`: cached in the isolate and in KV,
//! refreshed before expiry, with **at most one upstream fetch per expiry
//! window**: every refresh goes through one Durable Object (`TokenBroker`,
//! a single instance by name), which runs one fetch per kind at a time and
//! hands its result to every waiting request (single flight).

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::util::now;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, State};

/// Refresh this many seconds before the upstream expiry.
const MARGIN: i64 = 300;

/// A cached credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// The value.
    pub value: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Token {
    fn fresh(&self) -> bool {
        self.expires_at - MARGIN > now()
    }
}

/// `access_token` or `jsapi_ticket`.
pub const ACCESS_TOKEN: &str = "access_token";
/// The JS-SDK ticket.
pub const JSAPI_TICKET: &str = "jsapi_ticket";

fn kv_key(kind: &str) -> String {
    format!("wechat:{kind}")
}

thread_local! {
    static LOCAL: RefCell<HashMap<String, Token>> = RefCell::new(HashMap::new());
}

/// The current value of `kind`: isolate cache, then KV, then the broker.
pub async fn get(env: &Env, kind: &str) -> ApiResult<String> {
    if let Some(t) = LOCAL
        .with(|m| m.borrow().get(kind).cloned())
        .filter(Token::fresh)
    {
        return Ok(t.value);
    }
    if let Ok(kv) = env.kv("CACHE") {
        if let Ok(Some(t)) = kv.get(&kv_key(kind)).json::<Token>().await {
            if t.fresh() {
                LOCAL.with(|m| m.borrow_mut().insert(kind.to_string(), t.clone()));
                return Ok(t.value);
            }
        }
    }
    broker(env, kind, None).await
}

/// Reports that `stale` was refused upstream (40001/42001): the broker
/// refreshes unless someone already did, and the new value is returned.
pub async fn refresh_if(env: &Env, kind: &str, stale: &str) -> ApiResult<String> {
    LOCAL.with(|m| m.borrow_mut().remove(kind));
    broker(env, kind, Some(stale)).await
}

/// Marks cached credentials expired (`kind` = one of them, or all): for
/// operators after rotating the app secret, and for tests.
pub async fn expire(env: &Env, kind: Option<&str>) -> ApiResult<()> {
    LOCAL.with(|m| match kind {
        Some(k) => {
            m.borrow_mut().remove(k);
        }
        None => m.borrow_mut().clear(),
    });
    let stub = env
        .durable_object("TOKENS")
        .map_err(|_| ApiError::not_configured("the Durable Object binding TOKENS"))?
        .get_by_name("wechat")?;
    let url = match kind {
        Some(k) => format!("https://tokens/expire?kind={k}"),
        None => "https://tokens/expire".to_string(),
    };
    let mut r = stub.fetch_with_str(&url).await?;
    if r.status_code() != 200 {
        return Err(ApiError::internal(r.text().await.unwrap_or_default()));
    }
    Ok(())
}

async fn broker(env: &Env, kind: &str, stale: Option<&str>) -> ApiResult<String> {
    let stub = env
        .durable_object("TOKENS")
        .map_err(|_| ApiError::not_configured("the Durable Object binding TOKENS"))?
        .get_by_name("wechat")?;
    let mut url = worker::Url::parse("https://tokens/get").map_err(ApiError::internal)?;
    url.query_pairs_mut().append_pair("kind", kind);
    if let Some(s) = stale {
        url.query_pairs_mut().append_pair("stale", s);
    }
    let mut r = stub.fetch_with_str(url.as_str()).await?;
    let v: Value = r.json().await?;
    if r.status_code() != 200 {
        let msg = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("token broker failed");
        return Err(ApiError::upstream(msg.to_string()));
    }
    let t: Token = serde_json::from_value(v)?;
    LOCAL.with(|m| m.borrow_mut().insert(kind.to_string(), t.clone()));
    Ok(t.value)
}

type Flight = Shared<LocalBoxFuture<'static, Result<Token, String>>>;

#[derive(Clone)]
struct Ctx {
    env: Env,
    cache: Rc<RefCell<HashMap<String, Token>>>,
    inflight: Rc<RefCell<HashMap<String, Flight>>>,
}

/// The Durable Object that serialises refreshes (one instance, named `wechat`).
#[durable_object(fetch)]
pub struct TokenBroker {
    ctx: Ctx,
}

impl DurableObject for TokenBroker {
    fn new(state: State, env: Env) -> Self {
        let _ = state;
        TokenBroker {
            ctx: Ctx {
                env,
                cache: Rc::new(RefCell::new(HashMap::new())),
                inflight: Rc::new(RefCell::new(HashMap::new())),
            },
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let url = req.url()?;
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        match url.path() {
            "/get" => {
                let kind = q.get("kind").cloned().unwrap_or_default();
                if kind != ACCESS_TOKEN && kind != JSAPI_TICKET {
                    return Ok(ApiError::bad_request("invalid_field", "kind").to_response());
                }
                match obtain(self.ctx.clone(), kind, q.get("stale").cloned()).await {
                    Ok(t) => Response::from_json(&t),
                    Err(e) => Ok(ApiError::upstream(e).to_response()),
                }
            }
            "/expire" => {
                let kinds: Vec<&str> = match q.get("kind").map(String::as_str) {
                    Some(k @ (ACCESS_TOKEN | JSAPI_TICKET)) => vec![k],
                    _ => vec![ACCESS_TOKEN, JSAPI_TICKET],
                };
                for k in &kinds {
                    self.ctx.cache.borrow_mut().remove(*k);
                }
                if let Ok(kv) = self.ctx.env.kv("CACHE") {
                    for k in kinds {
                        let _ = kv.delete(&kv_key(k)).await;
                    }
                }
                Response::from_json(&serde_json::json!({"ok": true}))
            }
            _ => Ok(ApiError::not_found("no such broker route").to_response()),
        }
    }
}

/// A fresh token of `kind`; fetches at most once at a time per kind. With
/// `stale`, a cached value equal to it counts as expired (it was refused).
fn obtain(
    ctx: Ctx,
    kind: String,
    stale: Option<String>,
) -> LocalBoxFuture<'static, Result<Token, String>> {
    async move {
        let usable = |t: &Token| t.fresh() && Some(&t.value) != stale.as_ref();
        if let Some(t) = ctx.cache.borrow().get(&kind).cloned().filter(|t| usable(t)) {
            return Ok(t);
        }
        let existing = ctx.inflight.borrow().get(&kind).cloned();
        if let Some(f) = existing {
            return f.await;
        }
        // After an isolate restart: KV may hold a value another instance fetched.
        if stale.is_none() {
            if let Ok(kv) = ctx.env.kv("CACHE") {
                if let Ok(Some(t)) = kv.get(&kv_key(&kind)).json::<Token>().await {
                    if t.fresh() {
                        ctx.cache.borrow_mut().insert(kind.clone(), t.clone());
                        return Ok(t);
                    }
                }
            }
            // Someone may have started a flight while we read KV.
            let existing = ctx.inflight.borrow().get(&kind).cloned();
            if let Some(f) = existing {
                return f.await;
            }
        }
        let flight: Flight = fetch_upstream(ctx.clone(), kind.clone())
            .boxed_local()
            .shared();
        ctx.inflight
            .borrow_mut()
            .insert(kind.clone(), flight.clone());
        let r = flight.await;
        ctx.inflight.borrow_mut().remove(&kind);
        if let Ok(t) = &r {
            ctx.cache.borrow_mut().insert(kind.clone(), t.clone());
            if let Ok(kv) = ctx.env.kv("CACHE") {
                let ttl = (t.expires_at - now()).max(60) as u64;
                if let Ok(put) =
                    kv.put(&kv_key(&kind), serde_json::to_string(t).unwrap_or_default())
                {
                    let _ = put.expiration_ttl(ttl).execute().await;
                }
            }
        }
        r
    }
    .boxed_local()
}

async fn get_json(env: &Env, url: &str) -> Result<Value, String> {
    let a = http::send(Method::Get, url, &[], None, http::timeout_ms(env))
        .await
        .map_err(|e| e.message)?;
    serde_json::from_slice(&a.body)
        .map_err(|_| format!("WeChat API answered HTTP {} without JSON", a.status))
}

fn errcode(v: &Value) -> i64 {
    v.get("errcode").and_then(Value::as_i64).unwrap_or(0)
}

async fn fetch_upstream(ctx: Ctx, kind: String) -> Result<Token, String> {
    let api = Upstreams::from_env(&ctx.env).wechat_api;
    let appid = config::get(&ctx.env, "WECHAT_APPID").ok_or("WECHAT_APPID is not set")?;
    if kind == ACCESS_TOKEN {
        let secret =
            config::get(&ctx.env, "WECHAT_APP_SECRET").ok_or("WECHAT_APP_SECRET is not set")?;
        let mut url =
            worker::Url::parse(&format!("{api}/cgi-bin/token")).map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("grant_type", "client_credential")
            .append_pair("appid", &appid)
            .append_pair("secret", &secret);
        let v = get_json(&ctx.env, url.as_str()).await?;
        let token = v.get("access_token").and_then(Value::as_str);
        let Some(token) = token.filter(|_| errcode(&v) == 0) else {
            return Err(format!(
                "access_token: errcode {} {}",
                errcode(&v),
                v.get("errmsg").and_then(Value::as_str).unwrap_or("")
            ));
        };
        let expires_in = v.get("expires_in").and_then(Value::as_i64).unwrap_or(7200);
        crate::log::info(
            "token_fetched",
            &[
                ("kind", kind.clone()),
                ("expires_in", expires_in.to_string()),
            ],
        );
        return Ok(Token {
            value: token.to_string(),
            expires_at: now() + expires_in,
        });
    }
    // jsapi_ticket: needs an access_token; a refused token is refreshed once.
    let mut token = obtain(ctx.clone(), ACCESS_TOKEN.to_string(), None).await?;
    for attempt in 0..2 {
        let mut url = worker::Url::parse(&format!("{api}/cgi-bin/ticket/getticket"))
            .map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("access_token", &token.value)
            .append_pair("type", "jsapi");
        let v = get_json(&ctx.env, url.as_str()).await?;
        match errcode(&v) {
            0 => {
                let ticket = v
                    .get("ticket")
                    .and_then(Value::as_str)
                    .ok_or("getticket: no ticket")?;
                let expires_in = v.get("expires_in").and_then(Value::as_i64).unwrap_or(7200);
                crate::log::info(
                    "token_fetched",
                    &[
                        ("kind", kind.clone()),
                        ("expires_in", expires_in.to_string()),
                    ],
                );
                return Ok(Token {
                    value: ticket.to_string(),
                    expires_at: now() + expires_in,
                });
            }
            40001 | 40014 | 42001 if attempt == 0 => {
                token = obtain(
                    ctx.clone(),
                    ACCESS_TOKEN.to_string(),
                    Some(token.value.clone()),
                )
                .await?;
            }
            code => {
                return Err(format!(
                    "jsapi_ticket: errcode {code} {}",
                    v.get("errmsg").and_then(Value::as_str).unwrap_or("")
                ));
            }
        }
    }
    Err("jsapi_ticket: access_token refused twice".into())
}
