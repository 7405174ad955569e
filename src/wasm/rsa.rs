//! The pure-Rust RSA exports (feature `wasm-rsa`): signing and verification
//! without WebCrypto, and AES-256-GCM decryption likewise (the `'wasm'`
//! backend does both in Rust; the signing module leaves AES-GCM to WebCrypto
//! through [`super::wechat_v3_decrypt_input`]). Built into a second module, `pkg/wasm-rsa/`, that
//! `pkg/index.js` loads only for the `'wasm'` backend (no `crypto.subtle`, or
//! chosen with `setBackend('wasm')`): the `rsa` crate and its big-integer
//! arithmetic are most of its size, and the signing module of the package
//! (`pkg/wasm/`) leaves RSA to WebCrypto through the two-step exports.

use super::*;
use crate::crypto::encoding::b64encode;
use crate::crypto::{PrivateKey, PublicKey, RsaHash, Signer};
use crate::wechat;
use crate::wechat::v3::{KeySet, SignedHeaders};

fn rsa_hash(name: &str) -> JsResult<RsaHash> {
    match name {
        "SHA256" | "SHA-256" => Ok(RsaHash::Sha256),
        "SHA1" | "SHA-1" => Ok(RsaHash::Sha1),
        other => Err(js_error(&Error::invalid(
            "hash",
            format!("{} is not SHA256 or SHA1", crate::error::quoted(other)),
        ))),
    }
}

pub(super) fn private_key(text: &str) -> JsResult<PrivateKey> {
    core(PrivateKey::parse(text))
}

pub(super) fn public_key(text: &str) -> JsResult<PublicKey> {
    core(PublicKey::parse(text))
}

/// RSA PKCS#1 v1.5 signature of `message` (hash `SHA256` or `SHA1`) in pure
/// Rust, base64.
#[wasm_bindgen]
pub fn rsa_sign(private_key_text: &str, hash: &str, message: &[u8]) -> JsResult<String> {
    let hash = rsa_hash(hash)?;
    let key = private_key(private_key_text)?;
    Ok(b64encode(core(key.sign(hash, message))?))
}

/// v3 client parameters signed in pure Rust.
#[wasm_bindgen]
pub fn wechat_pay_params_v3(
    kind_name: &str,
    input: Vec<String>,
    timestamp: f64,
    private_key_text: &str,
) -> JsResult<String> {
    let kind = kind(kind_name)?;
    let input = pay_input(&input, timestamp)?;
    let key = private_key(private_key_text)?;
    to_json(&core(client_params::v3(kind, &input, &key))?)
}

/// The v3 `Authorization` header value, signed in pure Rust.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wechat_v3_authorization(
    private_key_text: &str,
    mchid: &str,
    serial_no: &str,
    method: &str,
    url: &str,
    timestamp: f64,
    nonce: &str,
    body: &str,
) -> JsResult<String> {
    let ts = int_in("timestamp", timestamp)?;
    let key = private_key(private_key_text)?;
    let creds = v3::Credentials::new(mchid, serial_no);
    core(v3::authorization(
        &key, &creds, method, url, ts, nonce, body,
    ))
}

/// Verifies a v3 response or notify: `public_key` is one key/certificate text
/// (serial not checked) or an object `{serial: key or certificate text}`.
fn verify_v3(headers: Vec<String>, body: &[u8], public_key: JsValue, now: i64) -> JsResult<()> {
    let headers = pairs_in(headers)?;
    let headers = core(SignedHeaders::from_headers(headers.iter()))?;
    if let Some(text) = public_key.as_string() {
        let key = self::public_key(&text)?;
        return core(v3::verify_with_key(&key, &headers, body, now));
    }
    // Otherwise `[serial, key text, …]` (the JS layer flattens `{serial: key text}`).
    let flat: Option<Vec<String>> = public_key
        .dyn_ref::<js_sys::Array>()
        .and_then(|a| a.iter().map(|v| v.as_string()).collect());
    let flat = flat.ok_or_else(|| {
        js_error(&Error::invalid(
            "publicKey",
            "must be key text or {serial: key text}",
        ))
    })?;
    let keys = pairs_in(flat)?;
    let mut set = KeySet::new();
    for (serial, text) in &keys {
        core(set.insert_public_key(serial, self::public_key(text)?))?;
    }
    core(v3::verify(&set, &headers, body, now))
}

/// Verifies a v3 signature over the raw body bytes (300 s window, SIGNTEST probes refused).
#[wasm_bindgen]
pub fn wechat_v3_verify(
    headers: Vec<String>,
    body: &[u8],
    public_key: JsValue,
    now: f64,
) -> JsResult<()> {
    let now = int_in("now", now)?;
    verify_v3(headers, body, public_key, now)
}

/// A whole v3 notify in pure Rust: verify, decrypt, type.
#[wasm_bindgen]
pub fn wechat_v3_notify(
    headers: Vec<String>,
    body: &[u8],
    public_key: JsValue,
    apiv3_key: &str,
    now: f64,
) -> JsResult<String> {
    let now = int_in("now", now)?;
    verify_v3(headers, body, public_key, now)?;
    let env = core(NotifyEnvelope::parse(body))?;
    notify_out(&core(wechat::v3::decrypt_notify(
        env,
        apiv3_key.as_bytes(),
    ))?)
}

/// Alipay request signing in pure Rust: the parameters with `sign_type` and `sign`,
/// as `[key, value, …]`.
#[wasm_bindgen]
pub fn alipay_sign(
    params: Vec<String>,
    private_key_text: &str,
    sign_type: &str,
) -> JsResult<Vec<String>> {
    let st = alipay_sign_type(sign_type)?;
    let params = pairs_in(params)?;
    let key = private_key(private_key_text)?;
    Ok(pairs_out(core(alipay::sign_params(params, &key, st))?))
}

/// Verifies an Alipay notify from its raw form body; returns its parameters.
/// `v2`: the signature covers `sign_type` too (rsaCheckV2).
#[wasm_bindgen]
pub fn alipay_verify_notify(raw_body: &[u8], public_key_text: &str, v2: bool) -> JsResult<String> {
    let key = public_key(public_key_text)?;
    let params = if v2 {
        core(alipay::notify::verify_notify_v2(raw_body, &key))?
    } else {
        core(alipay::verify_notify(raw_body, &key))?
    };
    to_json(&params)
}

/// Verifies a raw Alipay JSON response; returns the business result node's
/// JSON text (decrypted with `aes_key`, base64, when AES-encrypted).
#[wasm_bindgen]
pub fn alipay_verify_response(
    raw_json: &str,
    public_key_text: &str,
    method: Option<String>,
    sign_type: &str,
    aes_key: Option<String>,
) -> JsResult<String> {
    let st = alipay_sign_type(sign_type)?;
    let key = public_key(public_key_text)?;
    let method = method.as_deref().filter(|m| !m.is_empty());
    // The node's text, as the signing module returns it (JSON.parse in JS).
    core(alipay::response::verified_node_text(
        raw_json,
        method,
        &key,
        st,
        aes_key.as_deref().filter(|k| !k.is_empty()),
    ))
}

/// AES-256-GCM decryption of a v3 resource in pure Rust, as UTF-8 text.
#[wasm_bindgen]
pub fn wechat_v3_decrypt(
    apiv3_key: &str,
    nonce: &str,
    associated_data: &str,
    ciphertext: &str,
) -> JsResult<String> {
    let plain = core(v3::decrypt(
        apiv3_key.as_bytes(),
        nonce,
        associated_data,
        ciphertext,
    ))?;
    core(utf8("plaintext", plain))
}
