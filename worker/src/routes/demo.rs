//! Demo merchant backend for the shop in `www/` (`make demo`). Enabled ONLY
//! when the var `DEMO_SHOP` is `1`; every `/demo/…` path is 404 otherwise.
//!
//! It plays the part a merchant's own server plays in production: it holds
//! the prices, derives the order number, and creates the order through the
//! same service as `POST /v1/orders` — the browser only says which product
//! and which provider; an amount sent by the browser is never read.
//!
//! - `GET  /demo/products` — the catalogue (prices in fen, held here).
//! - `POST /demo/checkout {product_id, provider}` — creates (or re-uses) the
//!   order for this cart: the number is derived from a cart cookie, the
//!   product, the provider and the payer, so a retry after Cancel or a failure
//!   gets the same `out_trade_no` and the same pay parameters (one charge).
//!   WeChat JSAPI needs the payer's openid from the gateway's OAuth cookie;
//!   without it the answer is 401 `oauth_required` with the `authorize_url`.
//! - `GET  /demo/orders/{no}` — the order as the merchant API shows it (the
//!   paid page shows the transaction id).
//!   An order of this cart that is already paid (found through the order
//!   service, which reconciles a stale NOTPAY upstream) is answered
//!   `already_paid` instead of being offered for payment again.
//! - `POST /demo/cart/reset` — forget the cart (after the paid page).
//! - `GET  /demo/panel` — the developer panel: recent orders with their state
//!   history, notifications and webhook events.
//! - `GET  /demo/config` — the emulator's browser bridge URL (`DEMO_SANDBOX_URL`).

use super::json;
use crate::config;
use crate::error::{ApiError, ApiResult};
use crate::services::{oauth, orders};
use crate::store;
use crate::util::{nonce, now};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, Env, Headers, Method, Request, Response};

/// Name of the cart cookie (HttpOnly; a random id, no personal data).
const CART_COOKIE: &str = "ep_demo_cart";

/// One product of the demo shop.
struct Product {
    id: &'static str,
    name: &'static str,
    blurb: &'static str,
    /// Price in fen (server-side: the only amount the order is ever created with).
    amount: i64,
}

const PRODUCTS: &[Product] = &[
    Product {
        id: "coffee",
        name: "Pour-over coffee 手冲咖啡",
        blurb: "Yunnan single origin, 250 g beans",
        amount: 1800,
    },
    Product {
        id: "tea",
        name: "Jasmine tea 茉莉花茶",
        blurb: "Fujian jasmine pearls, 100 g tin",
        amount: 1250,
    },
    Product {
        id: "mooncake",
        name: "Mooncake gift box 月饼礼盒",
        blurb: "Six lotus-seed mooncakes",
        amount: 8800,
    },
];

fn product(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.id == id)
}

fn product_json(p: &Product) -> Value {
    json!({ "id": p.id, "name": p.name, "blurb": p.blurb, "amount": p.amount })
}

/// True when the demo routes are enabled (`DEMO_SHOP=1`).
pub fn enabled(env: &Env) -> bool {
    config::get(env, "DEMO_SHOP").as_deref() == Some("1")
}

/// Dispatches `/demo/{rest…}`.
pub async fn handle(req: Request, env: &Env, base: &str, rest: &[&str]) -> ApiResult<Response> {
    let m = req.method();
    if !enabled(env) {
        return Err(ApiError::not_found(format!(
            "no route {} /demo/{}",
            m,
            rest.join("/")
        )));
    }
    match (m.clone(), rest) {
        (Method::Get, ["products"]) => json(
            200,
            &json!({ "products": PRODUCTS.iter().map(product_json).collect::<Vec<_>>() }),
        ),
        (Method::Post, ["checkout"]) => checkout(req, env, base).await,
        (Method::Get, ["orders", no]) => {
            let db = store::db(env).await?;
            let o = store::get_order(&db, no)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no order {no}")))?;
            let mut v = o.public_json();
            v["history"] = serde_json::to_value(store::history(&db, no).await?)?;
            json(200, &v)
        }
        (Method::Get, ["panel"]) => json(200, &panel(env).await?),
        (Method::Post, ["cart", "reset"]) => {
            // After the paid page: the next purchase starts a new cart (a new order number).
            let r = json(200, &json!({ "ok": true }))?;
            let h = r.headers().clone();
            h.append(
                "set-cookie",
                &format!("{CART_COOKIE}=; Max-Age=0; Path=/demo; HttpOnly; SameSite=Lax"),
            )?;
            Ok(r.with_headers(h))
        }
        (Method::Get, ["config"]) => {
            let sandbox =
                config::get(env, "DEMO_SANDBOX_URL").map(|s| s.trim_end_matches('/').to_string());
            json(
                200,
                &json!({
                    "sandbox_url": sandbox,
                    "bridge_url": sandbox.as_ref().map(|s| format!("{s}/_sandbox/bridge.js")),
                    "wechat_api": config::get_or(env, "WECHAT_API_VERSION", "v2"),
                    "reconcile_after_seconds": config::get_i64(env, "RECONCILE_AFTER_SECONDS", 60),
                }),
            )
        }
        _ => Err(ApiError::not_found(format!(
            "no route {} /demo/{}",
            m,
            rest.join("/")
        ))),
    }
}

/// The browser's checkout request: which product, which provider. Nothing else
/// is read (an `amount` field, if sent, is ignored).
#[derive(Deserialize)]
struct Checkout {
    product_id: String,
    provider: String,
}

fn cart_cookie(value: &str, secure: bool) -> String {
    format!(
        "{CART_COOKIE}={value}; Max-Age=86400; Path=/demo; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A stable order number for (cart, product, provider, payer): `D` + 31 hex
/// of an HMAC under `COOKIE_SECRET`, so it cannot be guessed from the cart id.
fn derive_order_no(
    env: &Env,
    cart: &str,
    product: &str,
    provider: &str,
    payer: &str,
) -> ApiResult<String> {
    let secret = config::require(env, "COOKIE_SECRET")?;
    let mac = edgepay::crypto::digest::hmac_sha256(
        secret.as_bytes(),
        format!("demo-order|{cart}|{product}|{provider}|{payer}").as_bytes(),
    );
    Ok(format!("D{}", &hex::encode(mac)[..31]))
}

fn valid_cart(c: &str) -> bool {
    c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn checkout(req: Request, env: &Env, base: &str) -> ApiResult<Response> {
    let cookies = req.headers().get("cookie")?.unwrap_or_default();
    let body: Checkout = super::json_body(req).await?;
    let p = product(&body.product_id).ok_or_else(|| {
        ApiError::bad_request("invalid_field", "product_id is not in the catalogue")
    })?;
    let (channel, openid) = match body.provider.as_str() {
        "wechat" => match oauth::openid_from_cookie(env, &cookies) {
            Some(o) => ("jsapi", Some(o)),
            None => {
                let return_to = format!("/checkout?p={}&pay=wechat", p.id);
                let mut url = worker::Url::parse(&format!("{base}/oauth/wechat/authorize"))
                    .map_err(ApiError::internal)?;
                url.query_pairs_mut().append_pair("return_to", &return_to);
                return json(
                    401,
                    &json!({ "error": {
                        "code": "oauth_required",
                        "message": "WeChat JSAPI needs the payer's openid: sign in through WeChat OAuth first",
                        "authorize_url": format!("{}?{}", url.path(), url.query().unwrap_or("")),
                    }}),
                );
            }
        },
        "alipay" => ("app", None),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_field",
                "provider must be wechat or alipay",
            ))
        }
    };
    let payer = openid.clone().unwrap_or_default();
    let mut cart = oauth::read_cookie(&cookies, CART_COOKIE).filter(|c| valid_cart(c));
    let mut new_cart = cart.is_none();
    let mut no = String::new();
    for _ in 0..2 {
        let c = cart.get_or_insert_with(nonce).clone();
        no = derive_order_no(env, &c, p.id, &body.provider, &payer)?;
        // Read through the order service: a stale NOTPAY is reconciled with the upstream first,
        // so an order paid while the page saw "cancel" (or lost the answer) is found paid here.
        let existing = match orders::get(env, base, &no).await {
            Ok(o) => Some(o),
            Err(e) if e.status == 404 => None,
            Err(e) => return Err(e),
        };
        match existing {
            // Already paid: say so instead of charging again (the page shows the paid state).
            Some(o) if matches!(o.status.as_str(), "SUCCESS" | "REFUND") => {
                return json(
                    200,
                    &json!({
                        "out_trade_no": o.out_trade_no,
                        "provider": o.provider,
                        "status": o.status,
                        "amount": o.amount,
                        "product": product_json(p),
                        "already_paid": true,
                    }),
                );
            }
            // Closed or failed for good: a new cart, a new order.
            Some(o) if !matches!(o.status.as_str(), "NOTPAY" | "USERPAYING") => {
                cart = None;
                new_cart = true;
            }
            _ => break,
        }
    }
    let (order, pay_params) = orders::create(
        env,
        base,
        orders::CreateOrder {
            provider: body.provider.clone(),
            channel: channel.to_string(),
            out_trade_no: no,
            amount: json!(p.amount),
            description: p.name.to_string(),
            openid,
            client_ip: None,
            api: None,
        },
    )
    .await?;
    let mut r = json(
        200,
        &json!({
            "out_trade_no": order.out_trade_no,
            "provider": order.provider,
            "channel": order.channel,
            "api": order.api,
            "status": order.status,
            "amount": order.amount,
            "product": product_json(p),
            "pay_params": pay_params,
            "status_url": format!("/v1/public/orders/{}/status", order.out_trade_no),
        }),
    )?;
    if new_cart {
        if let Some(c) = &cart {
            let h: Headers = r.headers().clone();
            h.append("set-cookie", &cart_cookie(c, base.starts_with("https://")))?;
            r = r.with_headers(h);
        }
    }
    Ok(r)
}

async fn rows(db: &D1Database, sql: &str) -> ApiResult<Vec<Value>> {
    Ok(store::stmt(db, sql, &[])?.all().await?.results::<Value>()?)
}

/// What each kind of stored notification was checked for before it was stored
/// (the gateway stores a notification only after every check passed; a
/// refused notify changes nothing and is only logged).
fn checks_of(kind: &str) -> &'static str {
    match kind {
        k if k.starts_with("v2-refund") => "req_info AES-256-ECB decrypted with MD5(API key); order and refund matched",
        k if k.starts_with("v2") => "sign (MD5/HMAC-SHA256, API key); appid, mch_id, total_fee match the order",
        k if k.starts_with("v3") => "Wechatpay-Signature (RSA, platform key) over the raw body, 300 s window; AES-256-GCM resource; appid, mchid, amount match",
        _ => "RSA2 sign (Alipay public key, rsaCheckV1); app_id, seller_id, total_amount match the order",
    }
}

/// The developer panel's data, newest first. Small read-only queries of the
/// gateway's D1 tables, kept here since only the demo needs them.
async fn panel(env: &Env) -> ApiResult<Value> {
    let db = store::db(env).await?;
    let orders = rows(
        &db,
        "SELECT out_trade_no, provider, channel, api, status, amount, description, transaction_id, paid_at, created_at, updated_at, checked_at FROM orders ORDER BY created_at DESC, rowid DESC LIMIT 20",
    )
    .await?;
    let history = rows(
        &db,
        "SELECT out_trade_no, to_status, source, at FROM order_history WHERE out_trade_no IN (SELECT out_trade_no FROM orders ORDER BY created_at DESC, rowid DESC LIMIT 20) ORDER BY id",
    )
    .await?;
    let orders: Vec<Value> = orders
        .into_iter()
        .map(|mut o| {
            let no = o.get("out_trade_no").cloned().unwrap_or(Value::Null);
            o["history"] = Value::Array(
                history
                    .iter()
                    .filter(|h| h.get("out_trade_no") == Some(&no))
                    .map(|h| json!({ "to_status": h["to_status"], "source": h["source"], "at": h["at"] }))
                    .collect(),
            );
            o
        })
        .collect();
    let notifications: Vec<Value> = rows(
        &db,
        "SELECT id, provider, kind, out_trade_no, received_at, count FROM notifications ORDER BY received_at DESC, rowid DESC LIMIT 20",
    )
    .await?
    .into_iter()
    .map(|mut n| {
        let kind = n.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        n["verified"] = json!(true);
        n["checks"] = json!(checks_of(&kind));
        n
    })
    .collect();
    let events = rows(
        &db,
        "SELECT id, type, out_trade_no, created_at, enqueued_at, attempts, delivered_at, dead_at, last_error FROM events ORDER BY created_at DESC, rowid DESC LIMIT 20",
    )
    .await?;
    Ok(json!({
        "now": now(),
        "webhook_url": config::get(env, "MERCHANT_WEBHOOK_URL"),
        "orders": orders,
        "notifications": notifications,
        "events": events,
    }))
}
