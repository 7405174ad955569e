//! Orders: create (idempotent on `out_trade_no`), read with reconciliation of
//! stale NOTPAY orders, close, refund.

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::services::{alipay as ali, webhook, wechat};
use crate::store::{self, Order, Transition};
use crate::util::{nonce, now, valid_order_no, wechat_time_to_rfc3339};
use crate::webcrypto;
use edgepay::alipay::{self, request as areq};
use edgepay::crypto::RsaHash;
use edgepay::wechat::client_params::{self, ClientKind, PayInput};
use edgepay::wechat::v2::{self, TradeType};
use edgepay::wechat::v3::{self, PrepayKind, PrepayResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, Env};

/// The body of `POST /v1/orders`.
#[derive(Debug, Deserialize)]
pub struct CreateOrder {
    /// `wechat` | `alipay`.
    pub provider: String,
    /// `jsapi` | `miniprogram` | `app` | `native` | `h5`.
    pub channel: String,
    /// Merchant order number.
    pub out_trade_no: String,
    /// Integer fen.
    pub amount: Value,
    /// Description / subject.
    pub description: String,
    /// Payer openid (JSAPI, mini program).
    #[serde(default)]
    pub openid: Option<String>,
    /// Payer IP.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// `v2` | `v3` (WeChat; default from `WECHAT_API_VERSION`).
    #[serde(default)]
    pub api: Option<String>,
}

fn validate(env: &Env, c: &CreateOrder) -> ApiResult<(i64, String)> {
    if !matches!(c.provider.as_str(), "wechat" | "alipay") {
        return Err(ApiError::bad_request(
            "invalid_field",
            "provider must be wechat or alipay",
        ));
    }
    if !matches!(
        c.channel.as_str(),
        "jsapi" | "miniprogram" | "app" | "native" | "h5"
    ) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "channel must be jsapi, miniprogram, app, native or h5",
        ));
    }
    if c.provider == "alipay" && !matches!(c.channel.as_str(), "app" | "h5") {
        return Err(ApiError::bad_request(
            "invalid_field",
            "alipay supports the app and h5 channels",
        ));
    }
    if !valid_order_no(&c.out_trade_no) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "out_trade_no must be 1-32 characters of letters, digits, _-|*",
        ));
    }
    let amount = c
        .amount
        .as_i64()
        .filter(|a| *a > 0 && *a <= 10_000_000_000)
        .ok_or_else(|| {
            ApiError::bad_request("invalid_field", "amount must be a positive integer (fen)")
        })?;
    if c.description.trim().is_empty() || c.description.chars().count() > 127 {
        return Err(ApiError::bad_request(
            "invalid_field",
            "description must be 1-127 characters",
        ));
    }
    if matches!(c.channel.as_str(), "jsapi" | "miniprogram")
        && c.openid.as_deref().unwrap_or("").is_empty()
    {
        return Err(ApiError::bad_request(
            "missing_field",
            "openid is required for jsapi and miniprogram",
        ));
    }
    let api = if c.provider == "alipay" {
        "v2".to_string()
    } else {
        c.api
            .clone()
            .unwrap_or_else(|| config::get_or(env, "WECHAT_API_VERSION", "v2"))
    };
    if !matches!(api.as_str(), "v2" | "v3") {
        return Err(ApiError::bad_request(
            "invalid_field",
            "api must be v2 or v3",
        ));
    }
    Ok((amount, api))
}

fn request_hash(c: &CreateOrder, amount: i64, api: &str) -> String {
    let canon = json!([
        c.provider,
        c.channel,
        api,
        amount,
        c.description,
        c.openid,
        c.client_ip
    ])
    .to_string();
    hex::encode(edgepay::crypto::digest::sha256(canon.as_bytes()))
}

/// Creates the order (record first, then upstream) and returns `(order, pay_params)`.
pub async fn create(env: &Env, base: &str, c: CreateOrder) -> ApiResult<(Order, Value)> {
    let (amount, api) = validate(env, &c)?;
    let db = store::db(env).await?;
    let (appid, mchid) = if c.provider == "wechat" {
        (
            config::wechat_appid(env, &c.channel)?,
            config::require(env, "WECHAT_MCHID")?,
        )
    } else {
        (
            config::require(env, "ALIPAY_APP_ID")?,
            config::get_or(env, "ALIPAY_SELLER_ID", ""),
        )
    };
    let ts = now();
    let fresh = Order {
        out_trade_no: c.out_trade_no.clone(),
        provider: c.provider.clone(),
        channel: c.channel.clone(),
        api: api.clone(),
        appid,
        mchid,
        amount,
        description: c.description.clone(),
        openid: c.openid.clone().filter(|s| !s.is_empty()),
        client_ip: c.client_ip.clone().filter(|s| !s.is_empty()),
        request_hash: request_hash(&c, amount, &api),
        status: "NOTPAY".into(),
        pay_params: None,
        prepay_id: None,
        transaction_id: None,
        paid_at: None,
        refunded_amount: 0,
        created_at: ts,
        updated_at: ts,
        checked_at: None,
    };
    let order = store::insert_and_get_order(&db, &fresh)
        .await?
        .ok_or_else(|| ApiError::internal("order vanished after insert"))?;
    if order.amount != amount {
        return Err(ApiError::conflict(
            "amount_mismatch",
            format!(
                "order {} exists with a different amount",
                order.out_trade_no
            ),
        ));
    }
    if order.request_hash != fresh.request_hash {
        return Err(ApiError::conflict(
            "order_conflict",
            format!(
                "order {} exists with different parameters",
                order.out_trade_no
            ),
        ));
    }
    if let Some(pp) = &order.pay_params {
        return Ok((order.clone(), serde_json::from_str(pp)?));
    }
    if order.status != "NOTPAY" {
        return Err(ApiError::conflict(
            "order_not_payable",
            format!("order is {}", order.status),
        ));
    }
    let (pay_params, prepay_id) = match (order.provider.as_str(), order.api.as_str()) {
        ("wechat", "v2") => wechat_v2_order(env, base, &order).await?,
        ("wechat", _) => wechat_v3_order(env, base, &order).await?,
        _ => alipay_order(env, base, &order).await?,
    };
    // A concurrent identical request may have stored its own parameters first: answer those.
    let stored = store::set_pay_params_and_get(
        &db,
        &order.out_trade_no,
        &pay_params.to_string(),
        prepay_id.as_deref(),
    )
    .await?
    .unwrap_or(order);
    let pp = stored
        .pay_params
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(pay_params);
    crate::log::info(
        "order_created",
        &[
            ("out_trade_no", stored.out_trade_no.clone()),
            ("provider", stored.provider.clone()),
            ("channel", stored.channel.clone()),
            ("api", stored.api.clone()),
        ],
    );
    Ok((stored, pp))
}

async fn wechat_v2_order(env: &Env, base: &str, o: &Order) -> ApiResult<(Value, Option<String>)> {
    let cfg = wechat::v2_config(env)?;
    let trade_type = match o.channel.as_str() {
        "jsapi" | "miniprogram" => TradeType::Jsapi,
        "app" => TradeType::App,
        "native" => TradeType::Native,
        _ => TradeType::Mweb,
    };
    let mut extra = edgepay::Params::new();
    if trade_type == TradeType::Mweb {
        extra.insert(
            "scene_info".into(),
            json!({"h5_info": {"type": "Wap", "wap_url": base, "wap_name": "edgepay"}}).to_string(),
        );
    }
    let uo = v2::UnifiedOrder {
        appid: o.appid.clone(),
        mch_id: cfg.mchid.clone(),
        out_trade_no: o.out_trade_no.clone(),
        total_fee: o.amount as u64,
        body: o.description.clone(),
        notify_url: format!("{base}/notify/wechat"),
        trade_type,
        openid: o.openid.clone(),
        spbill_create_ip: o.client_ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
        product_id: (trade_type == TradeType::Native).then(|| o.out_trade_no.clone()),
        extra,
    };
    let req = uo.to_request(&cfg.key, cfg.sign_type, &nonce())?;
    let text = wechat::v2_post(env, &req).await?;
    let resp = v2::UnifiedOrderResponse::parse(&text, &cfg.key)?;
    let n = nonce();
    let input = PayInput {
        appid: &o.appid,
        prepay_id: &resp.prepay_id,
        timestamp: now(),
        nonce: &n,
        partnerid: &cfg.mchid,
    };
    let pp = match o.channel.as_str() {
        "jsapi" => serde_json::to_value(client_params::jsapi_v2(&input, &cfg.key, cfg.sign_type)?)?,
        "miniprogram" => serde_json::to_value(client_params::miniprogram_v2(
            &input,
            &cfg.key,
            cfg.sign_type,
        )?)?,
        "app" => serde_json::to_value(client_params::app_v2(&input, &cfg.key, cfg.sign_type)?)?,
        "native" => json!({ "code_url": resp.code_url.clone().unwrap_or_default() }),
        _ => json!({ "h5_url": resp.mweb_url.clone().unwrap_or_default() }),
    };
    Ok((pp, Some(resp.prepay_id)))
}

async fn wechat_v3_order(env: &Env, base: &str, o: &Order) -> ApiResult<(Value, Option<String>)> {
    let kind = match o.channel.as_str() {
        "jsapi" | "miniprogram" => PrepayKind::Jsapi,
        "app" => PrepayKind::App,
        "native" => PrepayKind::Native,
        _ => PrepayKind::H5,
    };
    let mut p = v3::Prepay::new(
        kind,
        o.appid.clone(),
        o.mchid.clone(),
        o.description.clone(),
        o.out_trade_no.clone(),
        format!("{base}/notify/wechat/v3"),
        o.amount as u64,
    );
    p.payer_openid = o.openid.clone();
    if kind == PrepayKind::H5 || o.client_ip.is_some() {
        p.scene_info = Some(v3::SceneInfo {
            payer_client_ip: o.client_ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
            h5_type: (kind == PrepayKind::H5).then(|| "Wap".to_string()),
        });
    }
    let req = p.build()?;
    let (status, body) = wechat::v3_send(env, &req).await?;
    let resp = v3::parse_prepay_response(kind, status, &body)?;
    match resp {
        PrepayResponse::PrepayId(prepay_id) => {
            let ck = match o.channel.as_str() {
                "miniprogram" => ClientKind::MiniProgram,
                "app" => ClientKind::App,
                _ => ClientKind::Jsapi,
            };
            let n = nonce();
            let input = PayInput {
                appid: &o.appid,
                prepay_id: &prepay_id,
                timestamp: now(),
                nonce: &n,
                partnerid: &o.mchid,
            };
            // Two steps: the core's message, WebCrypto RSA-SHA256, the core assembles.
            let message = client_params::v3_message(ck, &input)?;
            let key = config::require(env, "WECHAT_MERCHANT_PRIVATE_KEY")?;
            let sig = webcrypto::rsa_sign_b64(&key, RsaHash::Sha256, message.as_bytes())
                .await
                .map_err(ApiError::internal)?;
            let pp = client_params::v3_assemble(ck, &input, &sig)?;
            Ok((serde_json::to_value(pp)?, Some(prepay_id)))
        }
        PrepayResponse::CodeUrl(u) => Ok((json!({ "code_url": u }), None)),
        PrepayResponse::H5Url(u) => Ok((json!({ "h5_url": u }), None)),
    }
}

async fn alipay_order(env: &Env, base: &str, o: &Order) -> ApiResult<(Value, Option<String>)> {
    let s = ali::settings(env)?;
    let order = areq::TradeOrder::new(
        o.out_trade_no.clone(),
        o.amount as u64,
        o.description.clone(),
    );
    let common = ali::common(env, &s, base)?;
    if o.channel == "app" {
        let params = areq::trade_app_pay(&order)?.to_params(&common)?;
        let signed = ali::sign(&s, params).await?;
        Ok((
            json!({ "order_string": alipay::order_string(&signed)? }),
            None,
        ))
    } else {
        let params = areq::trade_wap_pay(&order)?.to_params(&common)?;
        let signed = ali::sign(&s, params).await?;
        let gateway = Upstreams::from_env(env).alipay_gateway;
        Ok((
            json!({ "h5_url": alipay::page_pay_url(&gateway, &signed)? }),
            None,
        ))
    }
}

/// Loads an order; a NOTPAY order older than `RECONCILE_AFTER_SECONDS` (and
/// not checked in that time) is reconciled with an upstream query first.
pub async fn get(env: &Env, base: &str, no: &str) -> ApiResult<Order> {
    let db = store::db(env).await?;
    let order = store::get_order(&db, no)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order {no}")))?;
    let age = config::get_i64(env, "RECONCILE_AFTER_SECONDS", 60);
    let last = order.checked_at.unwrap_or(order.created_at);
    if matches!(order.status.as_str(), "NOTPAY" | "USERPAYING")
        && now() - last >= age
        && order.pay_params.is_some()
    {
        if let Err(e) = reconcile(env, base, &db, &order).await {
            crate::log::warn(
                "reconcile_failed",
                &[("out_trade_no", no.to_string()), ("error", e.to_string())],
            );
        }
        return Ok(store::get_order(&db, no).await?.unwrap_or(order));
    }
    Ok(order)
}

/// Queries the upstream for the order's state and applies a payment or a close.
pub async fn reconcile(env: &Env, base: &str, db: &D1Database, o: &Order) -> ApiResult<()> {
    let _ = store::run_changes(store::stmt(
        db,
        "UPDATE orders SET checked_at = ?2 WHERE out_trade_no = ?1",
        &[store::s(&o.out_trade_no), store::num(now())],
    )?)
    .await?;
    // (state, transaction id, paid time, amount)
    let (state, txid, paid_at, amount): (String, Option<String>, Option<String>, Option<u64>) =
        match (o.provider.as_str(), o.api.as_str()) {
            ("wechat", "v2") => {
                let cfg = wechat::v2_config(env)?;
                let q = v2::OrderQuery {
                    appid: o.appid.clone(),
                    mch_id: cfg.mchid.clone(),
                    out_trade_no: Some(o.out_trade_no.clone()),
                    transaction_id: None,
                };
                let text =
                    wechat::v2_post(env, &q.to_request(&cfg.key, cfg.sign_type, &nonce())?).await?;
                let r = v2::OrderQueryResponse::parse(&text, &cfg.key)?;
                (
                    r.trade_state.as_str().to_string(),
                    r.transaction_id,
                    r.time_end.map(|t| wechat_time_to_rfc3339(&t)),
                    r.total_fee,
                )
            }
            ("wechat", _) => {
                let req = v3::query_by_out_trade_no(&o.out_trade_no, &o.mchid)?;
                let (status, body) = wechat::v3_send(env, &req).await?;
                let t = v3::parse_transaction_response(status, &body)?;
                (
                    t.trade_state.clone(),
                    t.transaction_id.clone(),
                    t.success_time.clone(),
                    t.amount.as_ref().map(|a| a.total),
                )
            }
            _ => {
                let s = ali::settings(env)?;
                let r = ali::call(
                    env,
                    &s,
                    base,
                    &areq::trade_query(&areq::TradeRef::OutTradeNo(o.out_trade_no.clone()))?,
                )
                .await?;
                let st = r.get("trade_status").and_then(Value::as_str).unwrap_or("");
                let state = match st {
                    "TRADE_SUCCESS" | "TRADE_FINISHED" => "SUCCESS",
                    "TRADE_CLOSED" => "CLOSED",
                    _ => "NOTPAY",
                };
                let amt = r
                    .get("total_amount")
                    .and_then(Value::as_str)
                    .and_then(|a| alipay::time::yuan_to_fen("total_amount", a).ok());
                (
                    state.to_string(),
                    r.get("trade_no").and_then(Value::as_str).map(String::from),
                    r.get("send_pay_date")
                        .and_then(Value::as_str)
                        .map(String::from),
                    amt,
                )
            }
        };
    match state.as_str() {
        "SUCCESS" => {
            if amount.map(|a| a as i64) != Some(o.amount) {
                return Err(ApiError::new(
                    502,
                    "amount_mismatch",
                    "upstream amount differs from the stored order",
                ));
            }
            let changed = store::apply(
                db,
                &Transition {
                    out_trade_no: &o.out_trade_no,
                    from: &["NOTPAY", "USERPAYING", "PAYERROR", "CLOSED"],
                    to: "SUCCESS",
                    transaction_id: txid.as_deref(),
                    paid_at: paid_at.as_deref(),
                    refund_add: 0,
                    source: "query",
                    event: Some(("order.paid", format!("evt_paid_{}", o.out_trade_no))),
                    notification: None,
                },
            )
            .await?;
            if changed {
                webhook::enqueue(env, db, &format!("evt_paid_{}", o.out_trade_no)).await?;
            }
        }
        "CLOSED" | "REVOKED" => {
            let changed = store::apply(db, &closed_transition(o, "query")).await?;
            if changed {
                webhook::enqueue(env, db, &format!("evt_closed_{}", o.out_trade_no)).await?;
            }
        }
        "USERPAYING" | "PAYERROR" => {
            store::apply(
                db,
                &Transition {
                    out_trade_no: &o.out_trade_no,
                    from: &["NOTPAY", "USERPAYING"],
                    to: if state == "USERPAYING" {
                        "USERPAYING"
                    } else {
                        "PAYERROR"
                    },
                    transaction_id: None,
                    paid_at: None,
                    refund_add: 0,
                    source: "query",
                    event: None,
                    notification: None,
                },
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

fn closed_transition<'a>(o: &'a Order, source: &'a str) -> Transition<'a> {
    Transition {
        out_trade_no: &o.out_trade_no,
        from: &["NOTPAY", "USERPAYING", "PAYERROR"],
        to: "CLOSED",
        transaction_id: None,
        paid_at: None,
        refund_add: 0,
        source,
        event: Some(("order.closed", format!("evt_closed_{}", o.out_trade_no))),
        notification: None,
    }
}

/// Closes an unpaid order upstream, then locally (exactly once).
pub async fn close(env: &Env, base: &str, no: &str) -> ApiResult<Order> {
    let db = store::db(env).await?;
    let o = store::get_order(&db, no)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order {no}")))?;
    if o.status == "CLOSED" {
        return Ok(o);
    }
    if !matches!(o.status.as_str(), "NOTPAY" | "USERPAYING" | "PAYERROR") {
        return Err(ApiError::conflict(
            "order_not_closable",
            format!("order is {}", o.status),
        ));
    }
    if o.pay_params.is_some() {
        match (o.provider.as_str(), o.api.as_str()) {
            ("wechat", "v2") => {
                let cfg = wechat::v2_config(env)?;
                let c = v2::CloseOrder {
                    appid: o.appid.clone(),
                    mch_id: cfg.mchid.clone(),
                    out_trade_no: o.out_trade_no.clone(),
                };
                let text =
                    wechat::v2_post(env, &c.to_request(&cfg.key, cfg.sign_type, &nonce())?).await?;
                v2::orders::parse_response(&text, &cfg.key)?;
            }
            ("wechat", _) => {
                let req = v3::close(&o.out_trade_no, &o.mchid)?;
                let (status, body) = wechat::v3_send(env, &req).await?;
                v3::parse_empty_response(status, &body)?;
            }
            _ => {
                let s = ali::settings(env)?;
                let r = ali::call(
                    env,
                    &s,
                    base,
                    &areq::trade_close(&areq::TradeRef::OutTradeNo(o.out_trade_no.clone()))?,
                )
                .await;
                match r {
                    Ok(_) => {}
                    // An APP order the payer never opened does not exist at Alipay: closing it locally is enough.
                    Err(e) if e.message.contains("ACQ.TRADE_NOT_EXIST") => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    if store::apply(&db, &closed_transition(&o, "close")).await? {
        webhook::enqueue(env, &db, &format!("evt_closed_{}", o.out_trade_no)).await?;
    }
    Ok(store::get_order(&db, no).await?.unwrap_or(o))
}

/// The body of `POST /v1/orders/{no}/refunds`.
#[derive(Debug, Deserialize)]
pub struct CreateRefund {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// Integer fen.
    pub amount: Value,
    /// Shown to the payer.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Requests a refund upstream and records it; the order becomes REFUND (and
/// `order.refunded` is emitted) when the refund succeeds (Alipay: at once;
/// WeChat: on the refund notify or a successful answer).
pub async fn refund(env: &Env, base: &str, no: &str, r: CreateRefund) -> ApiResult<Value> {
    let db = store::db(env).await?;
    let o = store::get_order(&db, no)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order {no}")))?;
    if !valid_order_no(&r.out_refund_no) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "out_refund_no must be 1-32 characters of letters, digits, _-|*",
        ));
    }
    let amount = r.amount.as_i64().filter(|a| *a > 0).ok_or_else(|| {
        ApiError::bad_request("invalid_field", "amount must be a positive integer (fen)")
    })?;
    if !matches!(o.status.as_str(), "SUCCESS" | "REFUND") {
        return Err(ApiError::conflict(
            "order_not_paid",
            format!("order is {}", o.status),
        ));
    }
    if amount > o.amount - o.refunded_amount {
        return Err(ApiError::bad_request(
            "invalid_field",
            "amount exceeds what is left to refund",
        ));
    }
    let inserted = store::run_changes(store::stmt(
        &db,
        "INSERT OR IGNORE INTO refunds (out_refund_no, out_trade_no, amount, status, created_at, updated_at) VALUES (?1, ?2, ?3, 'PROCESSING', ?4, ?4)",
        &[store::s(&r.out_refund_no), store::s(no), store::num(amount), store::num(now())],
    )?)
    .await?;
    if inserted == 0 {
        let existing = store::stmt(
            &db,
            "SELECT out_trade_no, amount, status, refund_id FROM refunds WHERE out_refund_no = ?1",
            &[store::s(&r.out_refund_no)],
        )?
        .first::<Value>(None)
        .await?
        .unwrap_or(Value::Null);
        if existing.get("out_trade_no").and_then(Value::as_str) != Some(no)
            || existing.get("amount").and_then(Value::as_i64) != Some(amount)
        {
            return Err(ApiError::conflict(
                "refund_conflict",
                "out_refund_no exists with other parameters",
            ));
        }
    }
    let (status, refund_id) = match (o.provider.as_str(), o.api.as_str()) {
        ("wechat", "v2") => {
            let cfg = wechat::v2_config(env)?;
            let req = v2::refund::Refund {
                appid: o.appid.clone(),
                mch_id: cfg.mchid.clone(),
                transaction_id: None,
                out_trade_no: Some(o.out_trade_no.clone()),
                out_refund_no: r.out_refund_no.clone(),
                total_fee: o.amount as u64,
                refund_fee: amount as u64,
                refund_desc: r.reason.clone(),
                notify_url: Some(format!("{base}/notify/wechat/refund")),
                extra: edgepay::Params::new(),
            }
            .to_request(&cfg.key, cfg.sign_type, &nonce())?;
            // /secapi/pay/refund needs the merchant client certificate: through the
            // `WECHAT_MTLS` mtls_certificates binding in production (see worker/README.md).
            let text = wechat::v2_post_mtls(env, &req).await?;
            let resp = v2::RefundResponse::parse(&text, &cfg.key)?;
            ("PROCESSING".to_string(), Some(resp.refund_id))
        }
        ("wechat", _) => {
            let mut rf = v3::Refund::new(
                v3::RefundTarget::OutTradeNo(o.out_trade_no.clone()),
                r.out_refund_no.clone(),
                amount as u64,
                o.amount as u64,
            );
            rf.reason = r.reason.clone();
            rf.notify_url = Some(format!("{base}/notify/wechat/v3"));
            let (st, body) = wechat::v3_send(env, &rf.build()?).await?;
            let resp = v3::parse_refund_response(st, &body)?;
            (resp.status, Some(resp.refund_id))
        }
        _ => {
            let s = ali::settings(env)?;
            let req = areq::trade_refund(&areq::Refund {
                trade: areq::TradeRef::OutTradeNo(o.out_trade_no.clone()),
                out_request_no: r.out_refund_no.clone(),
                refund_fen: amount as u64,
                reason: r.reason.clone(),
            })?;
            let res = ali::call(env, &s, base, &req).await?;
            let _ = res;
            ("SUCCESS".to_string(), None)
        }
    };
    store::run_changes(store::stmt(
        &db,
        "UPDATE refunds SET refund_id = COALESCE(?2, refund_id), updated_at = ?3 WHERE out_refund_no = ?1",
        &[store::s(&r.out_refund_no), store::opt(refund_id.as_deref()), store::num(now())],
    )?)
    .await?;
    if status == "SUCCESS" {
        refund_succeeded(env, &db, no, &r.out_refund_no, "refund").await?;
    }
    Ok(
        json!({ "out_refund_no": r.out_refund_no, "out_trade_no": no, "amount": amount, "status": status }),
    )
}

/// Marks a refund successful and the order REFUND, exactly once per refund.
pub async fn refund_succeeded(
    env: &Env,
    db: &D1Database,
    no: &str,
    out_refund_no: &str,
    source: &str,
) -> ApiResult<bool> {
    let claimed = store::run_changes(store::stmt(
        db,
        "UPDATE refunds SET status = 'SUCCESS', updated_at = ?2 WHERE out_refund_no = ?1 AND status != 'SUCCESS'",
        &[store::s(out_refund_no), store::num(now())],
    )?)
    .await?;
    if claimed == 0 {
        return Ok(false);
    }
    let amount = store::stmt(
        db,
        "SELECT amount FROM refunds WHERE out_refund_no = ?1",
        &[store::s(out_refund_no)],
    )?
    .first::<i64>(Some("amount"))
    .await?
    .unwrap_or(0);
    let event_id = format!("evt_refund_{out_refund_no}");
    store::apply(
        db,
        &Transition {
            out_trade_no: no,
            from: &["SUCCESS", "REFUND"],
            to: "REFUND",
            transaction_id: None,
            paid_at: None,
            refund_add: amount,
            source,
            event: Some(("order.refunded", event_id.clone())),
            notification: None,
        },
    )
    .await?;
    webhook::enqueue(env, db, &event_id).await?;
    Ok(true)
}
