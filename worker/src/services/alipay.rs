//! Alipay: request signing (RSA2 through WebCrypto, two-step with the core),
//! gateway calls with response verification over the raw `…_response` text,
//! content encryption (`ALIPAY_AES_KEY`), and certificate mode with the
//! download of a rotated Alipay certificate.

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::util::now;
use crate::webcrypto;
use edgepay::alipay::response::SignedResponse;
use edgepay::alipay::{self, cert_chain, request::BizRequest, request::CommonParams, SignType};
use edgepay::crypto::Certificate;
use edgepay::Params;
use std::cell::{Cell, RefCell};
use worker::{Env, Method};

/// The certificate SNs of public-key certificate mode (公钥证书模式).
#[derive(Clone)]
pub struct CertSns {
    /// `app_cert_sn`: of `ALIPAY_APP_CERT`.
    pub app: String,
    /// `alipay_root_cert_sn`: of `ALIPAY_ROOT_CERT`.
    pub root: String,
    /// The SN of `ALIPAY_PUBLIC_CERT`: answers must name it in `alipay_cert_sn`.
    pub alipay: String,
}

/// Alipay settings.
pub struct Settings {
    /// App id.
    pub app_id: String,
    /// Seller id (PID), checked on notifies when set.
    pub seller_id: Option<String>,
    /// App private key (text).
    pub private_key: String,
    /// The Alipay public key (text): `ALIPAY_PUBLIC_KEY`, or in certificate
    /// mode the Alipay public certificate `ALIPAY_PUBLIC_CERT`.
    pub alipay_public_key: String,
    /// Certificate mode: set when `ALIPAY_APP_CERT`, `ALIPAY_PUBLIC_CERT` and
    /// `ALIPAY_ROOT_CERT` are; every request then names the app certificate
    /// and the root, and answers are verified with the configured Alipay
    /// certificate, or after a rotation with the trusted download.
    pub cert: Option<CertSns>,
    /// The content-encryption key (`ALIPAY_AES_KEY`, base64, set in the Alipay
    /// console): gateway calls are then sent with `encrypt_type=AES` and their
    /// answers decrypted after the signature check.
    pub aes_key: Option<String>,
}

thread_local! {
    static CERT_SNS: RefCell<Option<(String, CertSns)>> = const { RefCell::new(None) };
}

/// The SNs of the three certificates (computed once per isolate and configuration).
fn cert_sns(app: &str, alipay: &str, root: &str) -> ApiResult<CertSns> {
    let key = format!("{app}\n{alipay}\n{root}");
    if let Some(sns) = CERT_SNS.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }) {
        return Ok(sns);
    }
    let bad = |name: &str| ApiError::not_configured(&format!("a valid {name} (PEM certificate)"));
    let sns = CertSns {
        app: alipay::cert_sn_pem(app).map_err(|_| bad("ALIPAY_APP_CERT"))?,
        alipay: alipay::cert_sn_pem(alipay).map_err(|_| bad("ALIPAY_PUBLIC_CERT"))?,
        root: alipay::root_cert_sn(root).map_err(|_| bad("ALIPAY_ROOT_CERT"))?,
    };
    CERT_SNS.with(|c| *c.borrow_mut() = Some((key, sns.clone())));
    Ok(sns)
}

/// From the environment: certificate mode when any of `ALIPAY_APP_CERT`,
/// `ALIPAY_PUBLIC_CERT`, `ALIPAY_ROOT_CERT` is set (then all three must be),
/// else public-key mode with `ALIPAY_PUBLIC_KEY`.
pub fn settings(env: &Env) -> ApiResult<Settings> {
    let certs = (
        config::get(env, "ALIPAY_APP_CERT"),
        config::get(env, "ALIPAY_PUBLIC_CERT"),
        config::get(env, "ALIPAY_ROOT_CERT"),
    );
    let (alipay_public_key, cert) = match certs {
        (None, None, None) => (config::require(env, "ALIPAY_PUBLIC_KEY")?, None),
        (app, alipay_cert, root) => {
            let app = app.ok_or_else(|| ApiError::not_configured("ALIPAY_APP_CERT"))?;
            let alipay_cert =
                alipay_cert.ok_or_else(|| ApiError::not_configured("ALIPAY_PUBLIC_CERT"))?;
            let root = root.ok_or_else(|| ApiError::not_configured("ALIPAY_ROOT_CERT"))?;
            let sns = cert_sns(&app, &alipay_cert, &root)?;
            (alipay_cert, Some(sns))
        }
    };
    Ok(Settings {
        app_id: config::require(env, "ALIPAY_APP_ID")?,
        seller_id: config::get(env, "ALIPAY_SELLER_ID"),
        private_key: config::require(env, "ALIPAY_APP_PRIVATE_KEY")?,
        alipay_public_key,
        cert,
        aes_key: config::get(env, "ALIPAY_AES_KEY"),
    })
}

/// Common parameters (Beijing timestamp from the Worker clock; the
/// certificate SNs in certificate mode).
pub fn common(env: &Env, s: &Settings, base: &str) -> ApiResult<CommonParams> {
    let _ = env;
    let common =
        CommonParams::new(s.app_id.clone(), now())?.notify_url(format!("{base}/notify/alipay"));
    Ok(match &s.cert {
        Some(sns) => common.cert_mode(sns.app.clone(), sns.root.clone()),
        None => common,
    })
}

/// Signs the parameters (two steps: the core's string, WebCrypto RSA2, the core assembles).
pub async fn sign(s: &Settings, params: Params) -> ApiResult<Params> {
    let (params, text) = alipay::sign::prepare_sign(params, SignType::Rsa2);
    let sig = webcrypto::rsa_sign_b64(&s.private_key, SignType::Rsa2.hash(), text.as_bytes())
        .await
        .map_err(ApiError::internal)?;
    Ok(alipay::sign::assemble_signed(params, &sig)?)
}

/// Sends a business request (signed; encrypted with an AES key) to the gateway;
/// returns the raw answer text.
async fn send_request(env: &Env, s: &Settings, base: &str, req: &BizRequest) -> ApiResult<String> {
    let common = common(env, s, base)?;
    let params = match &s.aes_key {
        Some(key) => req.to_encrypted_params(&common, key)?,
        None => req.to_params(&common)?,
    };
    let signed = sign(s, params).await?;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(signed.iter())
        .finish();
    let gateway = Upstreams::from_env(env).alipay_gateway;
    let a = http::send(
        Method::Post,
        &gateway,
        &[(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8".into(),
        )],
        Some(body),
        http::timeout_ms(env),
    )
    .await?;
    String::from_utf8(a.body).map_err(|_| ApiError::upstream("Alipay answered non-UTF-8"))
}

fn verification_failed(message: impl Into<String>) -> ApiError {
    ApiError::new(502, "upstream_verification_failed", message)
}

/// Checks an answer's signature over its raw node text with `key_text` (a
/// public key or a certificate, PEM).
async fn verify_answer(signed: &SignedResponse<'_>, key_text: &str) -> ApiResult<()> {
    let sign = signed
        .sign
        .as_deref()
        .ok_or_else(|| verification_failed("unsigned Alipay answer"))?;
    let sig = edgepay::crypto::encoding::b64decode("sign", sign)?;
    let ok = webcrypto::rsa_verify_text(
        key_text,
        SignType::Rsa2.hash(),
        signed.signed_text.as_bytes(),
        &sig,
    )
    .await
    .map_err(ApiError::internal)?;
    if !ok {
        return Err(verification_failed(
            "Alipay answer signature does not verify",
        ));
    }
    Ok(())
}

/// Calls the gateway with a business request and returns the verified
/// business result (the `…_response` node); business errors become upstream
/// errors. With an AES key the request goes encrypted and the answer's node is
/// decrypted after its signature (over the ciphertext as sent) holds. In
/// certificate mode an answer signed with another Alipay certificate than the
/// configured one (Alipay rotated it) is verified with that certificate once it
/// is downloaded and trusted ([`rotated_certificate`]).
pub async fn call(
    env: &Env,
    s: &Settings,
    base: &str,
    req: &BizRequest,
) -> ApiResult<serde_json::Value> {
    let raw = send_request(env, s, base, req).await?;
    let signed = alipay::response::extract(&raw, Some(&req.method))?;
    let key = match (&s.cert, &signed.alipay_cert_sn) {
        (Some(sns), Some(got)) if *got != sns.alipay => {
            rotated_certificate(env, s, base, got).await?
        }
        _ => s.alipay_public_key.clone(),
    };
    verify_answer(&signed, &key).await?;
    Ok(alipay::response::business_result(
        &signed.node_text(s.aes_key.as_deref())?,
    )?)
}

const KV_CERT: &str = "alipay:cert:";
const KV_LATEST_CERT: &str = "alipay:cert:latest";

thread_local! {
    static LAST_CERT_DOWNLOAD: Cell<i64> = const { Cell::new(0) };
}

/// Alipay's public certificate with SN `sn` after a rotation: from KV, or
/// downloaded (`alipay.open.app.alipaycert.download`, at most once per
/// `ALIPAY_CERT_REFRESH_MIN_SECONDS`, default 60, per isolate) and trusted only
/// when it chains to `ALIPAY_ROOT_CERT`, has that SN, keeps the subject of
/// `ALIPAY_PUBLIC_CERT` (a merchant's app certificate from the same CA does
/// not) and signed the download answer itself. Kept in KV (also as the latest,
/// for notifies).
async fn rotated_certificate(env: &Env, s: &Settings, base: &str, sn: &str) -> ApiResult<String> {
    let kv = env.kv("CACHE").ok();
    if let Some(kv) = &kv {
        if let Ok(Some(pem)) = kv.get(&format!("{KV_CERT}{sn}")).text().await {
            return Ok(pem);
        }
    }
    let configured_sn = s
        .cert
        .as_ref()
        .map(|c| c.alipay.clone())
        .unwrap_or_default();
    let min = config::get_i64(env, "ALIPAY_CERT_REFRESH_MIN_SECONDS", 60);
    if now() - LAST_CERT_DOWNLOAD.with(Cell::get) < min {
        return Err(verification_failed(format!(
            "Alipay signed with certificate SN {sn}, ALIPAY_PUBLIC_CERT has SN {configured_sn}; the last download of a new certificate was less than {min} s ago"
        )));
    }
    LAST_CERT_DOWNLOAD.with(|t| t.set(now()));
    let untrusted = |why: String| {
        verification_failed(format!(
            "Alipay signed with certificate SN {sn}, ALIPAY_PUBLIC_CERT has SN {configured_sn}; the downloaded certificate is not trusted: {why}"
        ))
    };
    let root = config::require(env, "ALIPAY_ROOT_CERT")?;
    let req = alipay::request::alipay_cert_download(sn)?;
    let raw = send_request(env, s, base, &req).await?;
    let signed = alipay::response::extract(&raw, Some(&req.method))?;
    // Read before it is verified: nothing is trusted until the checks below pass.
    let node = alipay::response::business_result(&signed.node_text(s.aes_key.as_deref())?)?;
    let pem = alipay::request::downloaded_cert_pem(&node)?;
    let leaf =
        cert_chain::verify_cert_chain(&pem, &root, now()).map_err(|e| untrusted(e.to_string()))?;
    if alipay::cert_sn(&leaf) != sn {
        return Err(untrusted(format!("its SN is {}", alipay::cert_sn(&leaf))));
    }
    let configured = Certificate::parse_pem(&s.alipay_public_key)?;
    if !cert_chain::same_subject(&configured, &leaf) {
        return Err(untrusted(
            "its subject is not ALIPAY_PUBLIC_CERT's".to_string(),
        ));
    }
    if signed.alipay_cert_sn.as_deref() != Some(sn) {
        return Err(untrusted(
            "the download answer is not signed with it".to_string(),
        ));
    }
    verify_answer(&signed, &pem).await?;
    if let Some(kv) = &kv {
        for key in [format!("{KV_CERT}{sn}"), KV_LATEST_CERT.to_string()] {
            if let Ok(put) = kv.put(&key, pem.clone()) {
                let _ = put.expiration_ttl(30 * 86400).execute().await;
            }
        }
    }
    crate::log::info(
        "alipay_certificate_rotated",
        &[("from", configured_sn), ("to", sn.to_string())],
    );
    Ok(pem)
}

/// Certificate mode: the latest rotated Alipay certificate trusted by
/// [`rotated_certificate`], when it differs from `ALIPAY_PUBLIC_CERT` (a notify
/// that the configured certificate does not verify may be signed with it).
pub async fn latest_rotated_certificate(env: &Env, s: &Settings) -> Option<String> {
    s.cert.as_ref()?;
    let pem = env
        .kv("CACHE")
        .ok()?
        .get(KV_LATEST_CERT)
        .text()
        .await
        .ok()??;
    (pem != s.alipay_public_key).then_some(pem)
}
