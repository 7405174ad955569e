//! WeChat Pay upstream calls (v2 XML with MD5/HMAC, v3 JSON with RSA through
//! WebCrypto) and v3 answer/notify verification with the platform keys.

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Answer};
use crate::util::{nonce, now};
use crate::webcrypto;
use edgepay::crypto::encoding::b64decode;
use edgepay::crypto::RsaHash;
use edgepay::wechat::v2::{self, SignType};
use edgepay::wechat::v3::{self, KeySet, SignedHeaders};
use edgepay::Error;
use std::cell::RefCell;
use worker::{Env, Method};

/// v2 credentials.
pub struct V2 {
    /// API key (v2).
    pub key: String,
    /// MD5 or HMAC-SHA256.
    pub sign_type: SignType,
    /// Merchant id.
    pub mchid: String,
}

/// v2 settings from the environment.
pub fn v2_config(env: &Env) -> ApiResult<V2> {
    Ok(V2 {
        key: config::require(env, "WECHAT_API_KEY")?,
        sign_type: config::get_or(env, "WECHAT_SIGN_TYPE", "MD5")
            .parse()
            .map_err(|_| ApiError::not_configured("a valid WECHAT_SIGN_TYPE (MD5|HMAC-SHA256)"))?,
        mchid: config::require(env, "WECHAT_MCHID")?,
    })
}

/// POSTs a signed v2 XML request; returns the raw answer text (verify with the core).
pub async fn v2_post(env: &Env, req: &v2::orders::Request) -> ApiResult<String> {
    let base = Upstreams::from_env(env).wechat_pay;
    let a = http::send(
        Method::Post,
        &format!("{base}{}", req.path),
        &[("content-type", "text/xml; charset=utf-8".into())],
        Some(req.body.clone()),
        http::timeout_ms(env),
    )
    .await?;
    if a.status != 200 {
        return Err(ApiError::upstream(format!(
            "WeChat Pay v2 answered HTTP {}",
            a.status
        )));
    }
    Ok(a.text())
}

/// Sends a v3 request signed with the merchant key (WebCrypto) and verifies
/// the answer's signature over its raw bytes; returns `(status, body)`.
pub async fn v3_send(env: &Env, req: &v3::HttpRequest) -> ApiResult<(u16, Vec<u8>)> {
    let a = v3_send_unverified(env, req).await?;
    verify_answer(env, &a).await?;
    Ok((a.status, a.body))
}

async fn v3_send_unverified(env: &Env, req: &v3::HttpRequest) -> ApiResult<Answer> {
    let mchid = config::require(env, "WECHAT_MCHID")?;
    let serial = config::require(env, "WECHAT_MERCHANT_SERIAL")?;
    let key = config::require(env, "WECHAT_MERCHANT_PRIVATE_KEY")?;
    let ts = now();
    let n = nonce();
    // Two steps: the core builds the message, WebCrypto signs, the core assembles.
    let message = v3::authorization_message(req.method, &req.path, ts, &n, &req.body)?;
    let sig = webcrypto::rsa_sign_b64(&key, RsaHash::Sha256, message.as_bytes())
        .await
        .map_err(ApiError::internal)?;
    let auth = v3::authorization_header(&mchid, &serial, ts, &n, &sig)?;
    let base = Upstreams::from_env(env).wechat_pay;
    let method = if req.method == "GET" {
        Method::Get
    } else {
        Method::Post
    };
    let mut headers = vec![
        ("authorization", auth),
        ("accept", "application/json".to_string()),
        ("user-agent", "edgepay-worker/0.1".to_string()),
    ];
    let body = if req.method == "GET" {
        None
    } else {
        headers.push(("content-type", "application/json".into()));
        Some(req.body.clone())
    };
    http::send(
        method,
        &req.url(&base),
        &headers,
        body,
        http::timeout_ms(env),
    )
    .await
}

fn signed_headers(a: &Answer) -> Result<SignedHeaders, Error> {
    let names = [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Signature",
        "Wechatpay-Serial",
        "Wechatpay-Signature-Type",
    ];
    let pairs: Vec<(String, String)> = names
        .iter()
        .filter_map(|n| a.header(n).map(|v| (n.to_string(), v)))
        .collect();
    SignedHeaders::from_headers(pairs)
}

async fn verify_answer(env: &Env, a: &Answer) -> ApiResult<()> {
    let headers = signed_headers(a).map_err(|e| {
        ApiError::new(
            502,
            "upstream_verification_failed",
            format!("unsigned WeChat Pay answer: {e}"),
        )
    })?;
    verify_signed(env, &headers, &a.body).await.map_err(|e| {
        ApiError::new(
            502,
            "upstream_verification_failed",
            format!("WeChat Pay answer: {e}"),
        )
    })
}

thread_local! {
    static KEYS: RefCell<Option<(KeySet, i64)>> = const { RefCell::new(None) };
}

const KV_CERTS: &str = "wechat:v3:platform_certs";

/// The platform keys: the configured WeChat Pay public key (public-key mode)
/// and the platform certificates cached by serial (isolate, then KV).
async fn keyset(env: &Env) -> ApiResult<KeySet> {
    if let Some((k, _)) = KEYS.with(|c| c.borrow().clone()) {
        return Ok(k);
    }
    let mut keys = KeySet::new();
    if let (Some(id), Some(pk)) = (
        config::get(env, "WECHATPAY_PUBLIC_KEY_ID"),
        config::get(env, "WECHATPAY_PUBLIC_KEY"),
    ) {
        let key = edgepay::crypto::PublicKey::parse(&pk)
            .map_err(|_| ApiError::not_configured("a valid WECHATPAY_PUBLIC_KEY"))?;
        keys.insert_public_key(&id, key)
            .map_err(|_| ApiError::not_configured("a valid WECHATPAY_PUBLIC_KEY_ID"))?;
    }
    if let Ok(kv) = env.kv("CACHE") {
        if let Ok(Some(list)) = kv.get(KV_CERTS).json::<Vec<String>>().await {
            for pem in list {
                let _ = keys.insert_certificate_pem(&pem);
            }
        }
    }
    KEYS.with(|c| *c.borrow_mut() = Some((keys.clone(), 0)));
    Ok(keys)
}

/// Fetches `/v3/certificates`, decrypts them, checks the answer was signed by
/// one of them, caches them (isolate + KV). At most once per
/// `PLATFORM_CERT_REFRESH_MIN_SECONDS` (default 60) per isolate: anyone can
/// send an unknown serial.
async fn refresh_certificates(env: &Env) -> ApiResult<KeySet> {
    let last = KEYS.with(|c| c.borrow().as_ref().map(|(_, t)| *t).unwrap_or(0));
    if now() - last < config::get_i64(env, "PLATFORM_CERT_REFRESH_MIN_SECONDS", 60) {
        return keyset(env).await;
    }
    KEYS.with(|c| {
        if let Some((_, t)) = c.borrow_mut().as_mut() {
            *t = now();
        }
    });
    let apiv3 = config::require(env, "WECHAT_APIV3_KEY")?;
    let req = v3::HttpRequest {
        method: "GET",
        path: v3::certificates::CERTIFICATES_PATH.to_string(),
        body: String::new(),
    };
    let a = v3_send_unverified(env, &req).await?;
    v3::check_response(a.status, &a.body)?;
    let certs = v3::parse_certificates(apiv3.as_bytes(), &a.body)?;
    let mut fresh = KeySet::new();
    let mut pems = vec![];
    for c in &certs {
        if c.is_valid_at(now()) {
            fresh
                .insert_certificate(&c.certificate)
                .map_err(ApiError::from)?;
            pems.push(c.pem.clone());
        }
    }
    // The answer must verify with one of the keys it carries.
    let headers = signed_headers(&a)?;
    verify_with(&fresh, &headers, &a.body).await?;
    let mut keys = keyset(env).await?;
    keys.merge(fresh);
    if let Ok(kv) = env.kv("CACHE") {
        let _ = kv
            .put(KV_CERTS, serde_json::to_string(&pems)?)?
            .expiration_ttl(12 * 3600)
            .execute()
            .await;
    }
    KEYS.with(|c| *c.borrow_mut() = Some((keys.clone(), now())));
    crate::log::info(
        "platform_certificates_refreshed",
        &[("count", pems.len().to_string())],
    );
    Ok(keys)
}

async fn verify_with(keys: &KeySet, headers: &SignedHeaders, body: &[u8]) -> Result<(), Error> {
    let key = keys.lookup(&headers.serial)?;
    let spki = key.to_spki_der()?;
    let sig = b64decode("Wechatpay-Signature", &headers.signature)?;
    let msg = v3::verification_message(&headers.timestamp, &headers.nonce, body);
    match webcrypto::rsa_verify_spki(&spki, RsaHash::Sha256, &msg, &sig).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::mismatch(
            "Wechatpay-Signature does not match TIMESTAMP\\nNONCE\\nBODY\\n over the raw body bytes",
        )),
        Err(e) => Err(Error::mismatch(format!("signature check failed: {e}"))),
    }
}

/// Verifies a v3 answer or notify: the core's cheap checks (SIGNTEST probe,
/// signature type, 300 s window), the key by serial (refreshing the platform
/// certificates once on an unknown serial), then RSA in WebCrypto over the raw bytes.
pub async fn verify_signed(env: &Env, headers: &SignedHeaders, body: &[u8]) -> Result<(), Error> {
    v3::precheck(headers, now())?;
    let unknown = || Error::UnknownSerial {
        serial: headers.serial.clone(),
    };
    let keys = keyset(env).await.map_err(|_| unknown())?;
    match verify_with(&keys, headers, body).await {
        Err(Error::UnknownSerial { .. }) if keys.needs_refresh(&headers.serial) => {
            match refresh_certificates(env).await {
                Ok(keys) => verify_with(&keys, headers, body).await,
                Err(e) => {
                    crate::log::warn(
                        "platform_certificates_refresh_failed",
                        &[("error", e.to_string())],
                    );
                    Err(unknown())
                }
            }
        }
        other => other,
    }
}

/// Headers of an incoming request as `SignedHeaders`.
pub fn signed_headers_of(req: &worker::Request) -> Result<SignedHeaders, Error> {
    let pairs: Vec<(String, String)> = req.headers().entries().collect();
    SignedHeaders::from_headers(pairs)
}

/// Decrypts a v3 resource with WebCrypto AES-256-GCM (the tag is always checked).
pub async fn decrypt_resource(apiv3_key: &str, r: &v3::EncryptedResource) -> Result<String, Error> {
    if r.algorithm != v3::resource::AEAD_AES_256_GCM {
        return Err(Error::invalid("algorithm", "must be AEAD_AES_256_GCM"));
    }
    if r.nonce.len() != 12 {
        return Err(Error::invalid("nonce", "the GCM nonce must be 12 bytes"));
    }
    let ct = b64decode("ciphertext", &r.ciphertext)?;
    match webcrypto::aes_gcm_decrypt(
        apiv3_key.as_bytes(),
        r.nonce.as_bytes(),
        r.associated_data.as_bytes(),
        &ct,
    )
    .await
    {
        Ok(Some(pt)) => edgepay::crypto::encoding::utf8("plaintext", pt),
        Ok(None) => Err(Error::DecryptFailed {
            reason:
                "AES-GCM tag mismatch (wrong APIv3 key, nonce, associated data or tampered data)"
                    .into(),
        }),
        Err(e) => Err(Error::invalid_key("apiv3_key", e)),
    }
}

/// POSTs a v2 request that needs the merchant client certificate
/// (`/secapi/pay/refund`): through the `WECHAT_MTLS` binding
/// (`mtls_certificates` in wrangler.toml) when present, else plain (local
/// development against the emulator, which does not check certificates).
pub async fn v2_post_mtls(env: &Env, req: &v2::orders::Request) -> ApiResult<String> {
    let Ok(mtls) = env.service("WECHAT_MTLS") else {
        return v2_post(env, req).await;
    };
    let base = Upstreams::from_env(env).wechat_pay;
    let headers = worker::Headers::new();
    headers.set("content-type", "text/xml; charset=utf-8")?;
    let mut init = worker::RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(req.body.clone().into()));
    let mut resp = mtls
        .fetch(format!("{base}{}", req.path), Some(init))
        .await?;
    if resp.status_code() != 200 {
        return Err(ApiError::upstream(format!(
            "WeChat Pay v2 answered HTTP {}",
            resp.status_code()
        )));
    }
    Ok(resp.text().await?)
}
