//! Signature checks left to the host: the signing module has no RSA of its
//! own, so the JS layer verifies with WebCrypto.
//!
//! Each export runs the core's whole verification flow with a [`Deferred`]
//! verifier, which records the one RSA check the core asks for. The export
//! returns that check — `{hash, message, signature}` — together with what the
//! core produced after it (`value`, or `error`: e.g. an Alipay business error),
//! and `pkg/index.js` releases the value only after `crypto.subtle.verify`
//! accepts the signature. When WebCrypto refuses it, the JS layer calls the
//! same export again with `reject = true`: the verifier then fails and the
//! core returns its own, specific mismatch error, which is thrown.
//!
//! Everything the core checks before the signature (SIGNTEST probes, the
//! 300 s window, missing `sign`, malformed bodies) still fails here, before
//! any RSA.

use super::{core, int_in, js_error, json_text, pairs_in, set, JsResult};
use crate::alipay;
use crate::crypto::{RsaHash, Verifier};
use crate::error::{Error, Result};
use crate::wechat::v3::{self, SignedHeaders};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// One RSA PKCS#1 v1.5 check for the host.
struct Check {
    hash: RsaHash,
    message: Vec<u8>,
    signature: Vec<u8>,
}

/// A [`Verifier`] that records the check and answers with the host's verdict so far.
struct Deferred {
    reject: bool,
    check: RefCell<Option<Check>>,
}

impl Verifier for Deferred {
    fn verify(&self, hash: RsaHash, message: &[u8], signature: &[u8]) -> Result<()> {
        *self.check.borrow_mut() = Some(Check {
            hash,
            message: message.to_vec(),
            signature: signature.to_vec(),
        });
        if self.reject {
            Err(Error::mismatch("WebCrypto refused the signature"))
        } else {
            Ok(())
        }
    }
}

/// Runs `flow` with a deferred verifier; see the module docs for the result.
/// `flow` gives the value as JSON text (`pkg/index.js` parses it once verified).
fn deferred(
    reject: bool,
    flow: impl FnOnce(&Deferred) -> Result<String>,
) -> JsResult<js_sys::Object> {
    let verifier = Deferred {
        reject,
        check: RefCell::new(None),
    };
    let result = flow(&verifier);
    let check = verifier.check.into_inner();
    let check = match (check, result) {
        // Failed before the signature, or the core's mismatch error on the second call.
        (None, Err(e)) => return Err(js_error(&e)),
        (Some(_), Err(e)) if reject => return Err(js_error(&e)),
        (Some(_), Ok(_)) if reject => {
            return Err(js_error(&Error::mismatch(
                "WebCrypto refused the signature",
            )))
        }
        (None, Ok(_)) => {
            return Err(js_error(&Error::Crypto {
                reason: "the core returned without asking for a signature check".into(),
            }))
        }
        (Some(check), result) => (check, result),
    };
    let (check, result) = check;
    let out = js_sys::Object::new();
    let hash = match check.hash {
        RsaHash::Sha256 => "SHA-256",
        RsaHash::Sha1 => "SHA-1",
    };
    set(&out, "hash", &JsValue::from_str(hash));
    set(
        &out,
        "message",
        &js_sys::Uint8Array::from(&check.message[..]).into(),
    );
    set(
        &out,
        "signature",
        &js_sys::Uint8Array::from(&check.signature[..]).into(),
    );
    match result {
        Ok(json) => set(&out, "value", &JsValue::from_str(&json)),
        Err(e) => set(&out, "error", &js_error(&e)),
    }
    Ok(out)
}

/// A v3 response or notify, verified by the host: the 300 s window and probes
/// are checked here, then `{hash, message, signature, index}` is returned, where
/// `index` is the position in `serials` of the key for `Wechatpay-Serial`
/// (`serials` empty: one key, serial not checked, `index` 0).
#[wasm_bindgen]
pub fn wechat_v3_check(
    headers: Vec<String>,
    body: &[u8],
    serials: Vec<String>,
    now: f64,
    reject: bool,
) -> JsResult<js_sys::Object> {
    let now = int_in("now", now)?;
    let headers = pairs_in(headers)?;
    let headers = core(SignedHeaders::from_headers(headers.iter()))?;
    let index = if serials.is_empty() {
        0
    } else {
        // As the core's `verify`: probe and window before the key lookup.
        core(v3::precheck(&headers, now))?;
        core(v3::serial_index(&serials, &headers.serial))?
    };
    let out = deferred(reject, |v| {
        v3::verify_with_key(v, &headers, body, now).map(|()| "null".to_string())
    })?;
    set(&out, "index", &JsValue::from_f64(index as f64));
    Ok(out)
}

/// An Alipay notify's raw form body, verified by the host; `value` is its
/// parameters. `v2`: the signature covers `sign_type` too (rsaCheckV2).
#[wasm_bindgen]
pub fn alipay_notify_check(raw_body: &[u8], v2: bool, reject: bool) -> JsResult<js_sys::Object> {
    deferred(reject, |v| {
        let params = if v2 {
            alipay::notify::verify_notify_v2(raw_body, v)?
        } else {
            alipay::verify_notify(raw_body, v)?
        };
        json_text(&params)
    })
}

/// A raw Alipay JSON response, verified by the host; `value` is the business
/// result node's JSON text (decrypted with `aes_key`, base64, when
/// AES-encrypted), or `error` the gateway's business error (thrown once verified).
#[wasm_bindgen]
pub fn alipay_response_check(
    raw_json: &str,
    method: Option<String>,
    sign_type: &str,
    aes_key: Option<String>,
    reject: bool,
) -> JsResult<js_sys::Object> {
    let st: alipay::SignType = core(sign_type.parse())?;
    let method = method.as_deref().filter(|m| !m.is_empty());
    let aes_key = aes_key.as_deref().filter(|k| !k.is_empty());
    // The node's text (JSON.parse in JS): no JSON value crosses into JS here.
    deferred(reject, |v| {
        alipay::response::verified_node_text(raw_json, method, v, st, aes_key)
    })
}
