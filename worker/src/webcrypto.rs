//! RSA (PKCS#1 v1.5) and AES-256-GCM through WebCrypto (`crypto.subtle`).
//!
//! The `rsa` crate compiled to wasm takes 16–22 ms per 2048-bit signature, over
//! the free plan's 10 ms CPU budget; WebCrypto runs natively. The core builds
//! the exact message (two-step API) and assembles the result; only the
//! primitive runs here. Imported keys are cached per isolate.

use edgepay::crypto::{PrivateKey, PublicKey, RsaHash};
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

thread_local! {
    static KEYS: RefCell<HashMap<Vec<u8>, CryptoKey>> = RefCell::new(HashMap::new());
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "WebCrypto error".into())
}

fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(js_err)?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).map_err(js_err)?;
    Ok(subtle.unchecked_into())
}

fn obj(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

fn bytes(b: &[u8]) -> Uint8Array {
    Uint8Array::from(b)
}

fn hash_name(hash: RsaHash) -> &'static str {
    match hash {
        RsaHash::Sha1 => "SHA-1",
        RsaHash::Sha256 => "SHA-256",
    }
}

/// The cache key of an imported key: what it is, its hash, and the key material
/// itself (no digest: hashing a 1.7 KB PEM per call measurably cost CPU).
fn cache_key(kind: &str, hash: RsaHash, material: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(kind.len() + 8 + material.len());
    k.extend_from_slice(kind.as_bytes());
    k.push(b':');
    k.extend_from_slice(hash_name(hash).as_bytes());
    k.push(b':');
    k.extend_from_slice(material);
    k
}

async fn import(
    format: &str,
    der: &[u8],
    algorithm: Object,
    usage: &str,
    key: Vec<u8>,
) -> Result<CryptoKey, String> {
    if let Some(k) = KEYS.with(|m| m.borrow().get(&key).cloned()) {
        return Ok(k);
    }
    let usages = Array::of1(&usage.into());
    let promise = subtle()?
        .import_key_with_object(format, &bytes(der), &algorithm, false, &usages)
        .map_err(js_err)?;
    let k: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(js_err)?
        .unchecked_into();
    KEYS.with(|m| m.borrow_mut().insert(key, k.clone()));
    Ok(k)
}

fn rsa_algorithm(hash: RsaHash) -> Object {
    obj(&[
        ("name", "RSASSA-PKCS1-v1_5".into()),
        ("hash", obj(&[("name", hash_name(hash).into())]).into()),
    ])
}

/// Signs `message` with a private key given as text (PEM PKCS#1/PKCS#8 or bare
/// base64: parsed by the core once per isolate, imported as PKCS#8).
pub async fn rsa_sign(
    private_key_text: &str,
    hash: RsaHash,
    message: &[u8],
) -> Result<Vec<u8>, String> {
    let ck = cache_key("priv", hash, private_key_text.as_bytes());
    let key = if let Some(k) = KEYS.with(|m| m.borrow().get(&ck).cloned()) {
        k
    } else {
        let der = PrivateKey::parse(private_key_text)
            .and_then(|k| k.to_pkcs8_der())
            .map_err(|e| format!("private key: {}", e.code()))?;
        import("pkcs8", &der, rsa_algorithm(hash), "sign", ck).await?
    };
    let promise = subtle()?
        .sign_with_object_and_buffer_source(
            &obj(&[("name", "RSASSA-PKCS1-v1_5".into())]),
            &key,
            &bytes(message),
        )
        .map_err(js_err)?;
    let buf = JsFuture::from(promise).await.map_err(js_err)?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// [`rsa_sign`], base64.
pub async fn rsa_sign_b64(
    private_key_text: &str,
    hash: RsaHash,
    message: &[u8],
) -> Result<String, String> {
    Ok(edgepay::crypto::encoding::b64encode(
        rsa_sign(private_key_text, hash, message).await?,
    ))
}

/// Verifies a PKCS#1 v1.5 signature with a public key (SPKI DER).
pub async fn rsa_verify_spki(
    spki_der: &[u8],
    hash: RsaHash,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let ck = cache_key("pub", hash, spki_der);
    let key = import("spki", spki_der, rsa_algorithm(hash), "verify", ck).await?;
    let promise = subtle()?
        .verify_with_object_and_buffer_source_and_buffer_source(
            &obj(&[("name", "RSASSA-PKCS1-v1_5".into())]),
            &key,
            &bytes(signature),
            &bytes(message),
        )
        .map_err(js_err)?;
    Ok(JsFuture::from(promise)
        .await
        .map_err(js_err)?
        .as_bool()
        .unwrap_or(false))
}

/// Verifies with a public key given as text (PEM SPKI/PKCS#1/certificate or bare base64).
pub async fn rsa_verify_text(
    public_key_text: &str,
    hash: RsaHash,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let der = spki_of_text(public_key_text)?;
    rsa_verify_spki(&der, hash, message, signature).await
}

thread_local! {
    static SPKI: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
}

/// SPKI DER of a public key text (cached per isolate).
pub fn spki_of_text(public_key_text: &str) -> Result<Vec<u8>, String> {
    if let Some(d) = SPKI.with(|m| m.borrow().get(public_key_text).cloned()) {
        return Ok(d);
    }
    let der = PublicKey::parse(public_key_text)
        .and_then(|p| p.to_spki_der())
        .map_err(|e| format!("public key: {}", e.code()))?;
    SPKI.with(|m| {
        m.borrow_mut()
            .insert(public_key_text.to_string(), der.clone())
    });
    Ok(der)
}

/// AES-256-GCM decryption (`ciphertext` = ct ‖ 16-byte tag). `None` when the
/// tag does not verify (wrong key, nonce, AAD or tampered data).
pub async fn aes_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    if key.len() != 32 {
        return Err("the APIv3 key must be 32 bytes".into());
    }
    let ck = [b"aes:".as_slice(), key].concat();
    let k = import(
        "raw",
        key,
        obj(&[("name", "AES-GCM".into())]),
        "decrypt",
        ck,
    )
    .await?;
    let alg = obj(&[
        ("name", "AES-GCM".into()),
        ("iv", bytes(nonce).into()),
        ("additionalData", bytes(aad).into()),
        ("tagLength", JsValue::from(128)),
    ]);
    let promise = subtle()?
        .decrypt_with_object_and_buffer_source(&alg, &k, &bytes(ciphertext))
        .map_err(js_err)?;
    match JsFuture::from(promise).await {
        Ok(buf) => Ok(Some(Uint8Array::new(&buf).to_vec())),
        Err(_) => Ok(None),
    }
}
