//! Alipay: request signing (RSA2 through WebCrypto, two-step with the core),
//! gateway calls with response verification over the raw `…_response` text.

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::util::now;
use crate::webcrypto;
use edgepay::alipay::{self, request::BizRequest, request::CommonParams, SignType};
use edgepay::Params;
use worker::{Env, Method};

/// Alipay settings.
pub struct Settings {
    /// App id.
    pub app_id: String,
    /// Seller id (PID), checked on notifies when set.
    pub seller_id: Option<String>,
    /// App private key (text).
    pub private_key: String,
    /// Alipay public key (text).
    pub alipay_public_key: String,
    /// The content-encryption key (`ALIPAY_AES_KEY`, base64, set in the Alipay
    /// console): gateway calls are then sent with `encrypt_type=AES` and their
    /// answers decrypted after the signature check.
    pub aes_key: Option<String>,
}

/// From the environment.
pub fn settings(env: &Env) -> ApiResult<Settings> {
    Ok(Settings {
        app_id: config::require(env, "ALIPAY_APP_ID")?,
        seller_id: config::get(env, "ALIPAY_SELLER_ID"),
        private_key: config::require(env, "ALIPAY_APP_PRIVATE_KEY")?,
        alipay_public_key: config::require(env, "ALIPAY_PUBLIC_KEY")?,
        aes_key: config::get(env, "ALIPAY_AES_KEY"),
    })
}

/// Common parameters (Beijing timestamp from the Worker clock).
pub fn common(env: &Env, s: &Settings, base: &str) -> ApiResult<CommonParams> {
    let _ = env;
    Ok(CommonParams::new(s.app_id.clone(), now())?.notify_url(format!("{base}/notify/alipay")))
}

/// Signs the parameters (two steps: the core's string, WebCrypto RSA2, the core assembles).
pub async fn sign(s: &Settings, params: Params) -> ApiResult<Params> {
    let (params, text) = alipay::sign::prepare_sign(params, SignType::Rsa2);
    let sig = webcrypto::rsa_sign_b64(&s.private_key, SignType::Rsa2.hash(), text.as_bytes())
        .await
        .map_err(ApiError::internal)?;
    Ok(alipay::sign::assemble_signed(params, &sig)?)
}

/// Calls the gateway with a business request and returns the verified
/// business result (the `…_response` node); business errors become upstream
/// errors. With an AES key the request goes encrypted and the answer's node is
/// decrypted after its signature (over the ciphertext as sent) holds.
pub async fn call(
    env: &Env,
    s: &Settings,
    base: &str,
    req: &BizRequest,
) -> ApiResult<serde_json::Value> {
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
    let raw =
        String::from_utf8(a.body).map_err(|_| ApiError::upstream("Alipay answered non-UTF-8"))?;
    let signed = alipay::response::extract(&raw, Some(&req.method))?;
    let sign = signed.sign.as_deref().ok_or_else(|| {
        ApiError::new(
            502,
            "upstream_verification_failed",
            "unsigned Alipay answer",
        )
    })?;
    let sig = edgepay::crypto::encoding::b64decode("sign", sign)?;
    let ok = webcrypto::rsa_verify_text(
        &s.alipay_public_key,
        SignType::Rsa2.hash(),
        signed.signed_text.as_bytes(),
        &sig,
    )
    .await
    .map_err(ApiError::internal)?;
    if !ok {
        return Err(ApiError::new(
            502,
            "upstream_verification_failed",
            "Alipay answer signature does not verify",
        ));
    }
    Ok(alipay::response::business_result(
        &signed.node_text(s.aes_key.as_deref())?,
    )?)
}
