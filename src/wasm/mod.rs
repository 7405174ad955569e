//! Thin `wasm-bindgen` layer (feature `wasm`) for the npm package `edgepay`.
//!
//! Each function converts JS values, calls the core and converts the result
//! back; there is no protocol logic here. Errors become JS `Error`s named
//! `EdgepayError` with the core's [`Error::code`] as `code`, [`Error::field`]
//! as `field` (or `undefined`) and `verificationFailure`
//! ([`Error::is_verification_failure`]).
//!
//! These exports are the raw layer under `pkg/index.js`, which adds the
//! idiomatic JS API, automatic initialisation and the WebCrypto fast path for
//! RSA and AES-GCM (using the two-step functions below: build the message,
//! sign or decrypt outside, assemble).

use crate::alipay;
use crate::crypto::encoding::utf8;
use crate::crypto::{keys, RsaHash};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::wechat::client_params::{self, ClientKind, PayInput};
use crate::wechat::v3::{self, NotifyEnvelope, NotifyEvent};
use crate::wechat::{jssdk, v2, xml};
use serde::Serialize;
use wasm_bindgen::prelude::*;

mod deferred;
#[cfg(feature = "wasm-rsa")]
mod rsa;

pub use self::deferred::{alipay_notify_check, alipay_response_check, wechat_v3_check};
#[cfg(feature = "wasm-rsa")]
pub use self::rsa::{
    alipay_sign, alipay_verify_notify, alipay_verify_response, rsa_sign, wechat_pay_params_v3,
    wechat_v3_authorization, wechat_v3_decrypt, wechat_v3_notify, wechat_v3_verify,
};

type JsResult<T> = std::result::Result<T, JsValue>;

/// Converts a core error into a JS `Error` with `code`, `field` and `verificationFailure`.
pub fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("EdgepayError");
    let field = e.field().map_or(JsValue::UNDEFINED, JsValue::from_str);
    // Setting own properties on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code().into());
    let _ = js_sys::Reflect::set(&err, &"field".into(), &field);
    let _ = js_sys::Reflect::set(
        &err,
        &"verificationFailure".into(),
        &e.is_verification_failure().into(),
    );
    err.into()
}

fn core<T>(r: Result<T>) -> JsResult<T> {
    r.map_err(|e| js_error(&e))
}

/// A structured result as JSON text: `pkg/index.js` turns it into an object with
/// `JSON.parse` (one call, and no object-conversion code in the module).
fn to_json<T: Serialize + ?Sized>(value: &T) -> JsResult<String> {
    core(json_text(value))
}

/// [`to_json`] as a core result (for code that runs inside a core flow).
fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Crypto {
        reason: format!("cannot convert the result to JSON: {e}"),
    })
}

/// Sets an own data property of a plain object built here.
fn set(target: &js_sys::Object, key: &str, value: &JsValue) {
    // Own data properties on a fresh plain object: cannot fail.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

/// Parameters passed as a flat `[key, value, key, value, …]` array of strings (the JS
/// layer flattens objects: much cheaper than converting an object field by field).
fn pairs_in(flat: Vec<String>) -> JsResult<Params> {
    if flat.len() % 2 != 0 {
        return Err(js_error(&Error::invalid(
            "params",
            "must be a flat [key, value, …] list",
        )));
    }
    let mut out = Params::new();
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.insert(k, v);
    }
    Ok(out)
}

/// Parameters out as a flat `[key, value, …]` array (sorted by key).
fn pairs_out(params: Params) -> Vec<String> {
    let mut out = Vec::with_capacity(params.len() * 2);
    for (k, v) in params {
        out.push(k);
        out.push(v);
    }
    out
}

/// A JS number that must be a whole number of seconds.
fn int_in(field: &str, v: f64) -> JsResult<i64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_991.0 {
        Ok(v as i64)
    } else {
        Err(js_error(&Error::invalid(
            field,
            "must be a whole number (Unix seconds)",
        )))
    }
}

// ------------------------------------------------------------------ RSA keys

/// PKCS#8 DER of a private key given as PEM (PKCS#1 or PKCS#8) or bare base64,
/// for WebCrypto's `importKey("pkcs8", …)`.
#[wasm_bindgen]
pub fn private_key_pkcs8(private_key_text: &str) -> JsResult<Vec<u8>> {
    core(keys::private_key_pkcs8_der(private_key_text))
}

/// SPKI DER of a public key given as PEM (SPKI, PKCS#1, certificate) or bare
/// base64, for WebCrypto's `importKey("spki", …)`.
#[wasm_bindgen]
pub fn public_key_spki(public_key_text: &str) -> JsResult<Vec<u8>> {
    core(keys::public_key_spki_der(public_key_text))
}

// ------------------------------------------------------------- WeChat v2

fn v2_sign_type(name: &str) -> JsResult<v2::SignType> {
    core(name.parse())
}

/// WeChat Pay v2 signature (upper-case hex) of `params` with the API key.
#[wasm_bindgen]
pub fn wechat_v2_sign(params: Vec<String>, key: &str, sign_type: &str) -> JsResult<String> {
    let params = pairs_in(params)?;
    let sign_type = v2_sign_type(sign_type)?;
    if key.is_empty() {
        return Err(js_error(&Error::invalid_key(
            "api_key",
            "the API key is empty",
        )));
    }
    Ok(v2::sign(&params, key, sign_type))
}

/// Verifies the `sign` of `params`; returns the sign type that matched.
#[wasm_bindgen]
pub fn wechat_v2_verify(params: Vec<String>, key: &str) -> JsResult<String> {
    let params = pairs_in(params)?;
    Ok(core(v2::verify(&params, key))?.as_str().to_string())
}

/// The v2 string to sign with the key masked (for showing what was signed).
#[wasm_bindgen]
pub fn wechat_v2_string_to_sign(params: Vec<String>) -> JsResult<String> {
    Ok(v2::string_to_sign_masked(&pairs_in(params)?))
}

/// Encodes parameters as a WeChat Pay v2 `<xml>` body.
#[wasm_bindgen]
pub fn wechat_xml_encode(params: Vec<String>) -> JsResult<String> {
    Ok(xml::encode(&pairs_in(params)?))
}

/// Decodes a WeChat Pay v2 XML body into an object of strings.
#[wasm_bindgen]
pub fn wechat_xml_decode(text: &str) -> JsResult<String> {
    to_json(&core(xml::decode(text))?)
}

/// Decrypts a v2 refund notify `req_info` into its parameters.
#[wasm_bindgen]
pub fn wechat_refund_decrypt(api_key: &str, req_info: &str) -> JsResult<String> {
    to_json(&core(v2::decrypt_refund_req_info(api_key, req_info))?)
}

// ----------------------------------------------------- client parameters

/// The client-parameter input as the JS layer passes it: `[appid, prepay_id,
/// nonce, partnerid]` (strings, `partnerid` empty but for APP) and the timestamp.
fn pay_input(fields: &[String], timestamp: f64) -> JsResult<PayInput<'_>> {
    let [appid, prepay_id, nonce, partnerid] = fields else {
        return Err(js_error(&Error::invalid(
            "input",
            "must be [appid, prepayId, nonce, partnerid]",
        )));
    };
    Ok(PayInput {
        appid,
        prepay_id,
        timestamp: int_in("timestamp", timestamp)?,
        nonce,
        partnerid,
    })
}

fn kind(name: &str) -> JsResult<ClientKind> {
    core(name.parse())
}

/// Client parameters signed with the v2 API key (`kind`: jsapi, jssdk, miniprogram, app).
#[wasm_bindgen]
pub fn wechat_pay_params_v2(
    kind_name: &str,
    input: Vec<String>,
    timestamp: f64,
    key: &str,
    sign_type: &str,
) -> JsResult<String> {
    let kind = kind(kind_name)?;
    let input = pay_input(&input, timestamp)?;
    let sign_type = v2_sign_type(sign_type)?;
    to_json(&core(client_params::v2(kind, &input, key, sign_type))?)
}

/// Step 1 of v3 client parameters: the message to sign with SHA256withRSA.
#[wasm_bindgen]
pub fn wechat_pay_params_v3_message(
    kind_name: &str,
    input: Vec<String>,
    timestamp: f64,
) -> JsResult<String> {
    let kind = kind(kind_name)?;
    let input = pay_input(&input, timestamp)?;
    core(client_params::v3_message(kind, &input))
}

/// Step 2 of v3 client parameters: assemble them around a base64 signature.
#[wasm_bindgen]
pub fn wechat_pay_params_v3_assemble(
    kind_name: &str,
    input: Vec<String>,
    timestamp: f64,
    signature_b64: &str,
) -> JsResult<String> {
    let kind = kind(kind_name)?;
    let input = pay_input(&input, timestamp)?;
    to_json(&core(client_params::v3_assemble(
        kind,
        &input,
        signature_b64,
    ))?)
}

// ---------------------------------------------------------------- JS-SDK

/// The `wx.config` signature (SHA1 hex).
#[wasm_bindgen]
pub fn wechat_jssdk_signature(
    jsapi_ticket: &str,
    noncestr: &str,
    timestamp: f64,
    url: &str,
) -> JsResult<String> {
    let ts = int_in("timestamp", timestamp)?;
    Ok(jssdk::signature(jsapi_ticket, noncestr, ts, url))
}

/// The signed `wx.config` fields `{appId, timestamp, nonceStr, signature}`.
#[wasm_bindgen]
pub fn wechat_jssdk_config(
    appid: &str,
    jsapi_ticket: &str,
    noncestr: &str,
    timestamp: f64,
    url: &str,
) -> JsResult<String> {
    let ts = int_in("timestamp", timestamp)?;
    to_json(&jssdk::config(appid, jsapi_ticket, noncestr, ts, url))
}

// ------------------------------------------------------------- WeChat v3

/// Step 1 of the v3 `Authorization`: the message to sign (also checks mchid and serial).
#[wasm_bindgen]
pub fn wechat_v3_auth_message(
    mchid: &str,
    serial_no: &str,
    method: &str,
    url: &str,
    timestamp: f64,
    nonce: &str,
    body: &str,
) -> JsResult<String> {
    let ts = int_in("timestamp", timestamp)?;
    // The header step checks mchid and serial; run it with a placeholder
    // signature first so bad input fails before an RSA operation.
    core(v3::authorization_header(mchid, serial_no, ts, nonce, "x"))?;
    core(v3::authorization_message(method, url, ts, nonce, body))
}

/// Step 2 of the v3 `Authorization`: the header value around a base64 signature.
#[wasm_bindgen]
pub fn wechat_v3_auth_header(
    mchid: &str,
    serial_no: &str,
    timestamp: f64,
    nonce: &str,
    signature_b64: &str,
) -> JsResult<String> {
    let ts = int_in("timestamp", timestamp)?;
    core(v3::authorization_header(
        mchid,
        serial_no,
        ts,
        nonce,
        signature_b64,
    ))
}

/// Step 1 of an outside AES-GCM decryption: checks and returns `ciphertext ‖ tag`.
#[wasm_bindgen]
pub fn wechat_v3_decrypt_input(
    apiv3_key: &str,
    nonce: &str,
    ciphertext: &str,
) -> JsResult<Vec<u8>> {
    core(v3::decrypt_input(apiv3_key.as_bytes(), nonce, ciphertext))
}

/// Checks that outside-decrypted bytes are UTF-8 text, as the core does.
#[wasm_bindgen]
pub fn plaintext_utf8(bytes: Vec<u8>) -> JsResult<String> {
    core(utf8("plaintext", bytes))
}

/// Step 2 of a v3 notify verified outside ([`deferred::wechat_v3_check`]):
/// parses the envelope and returns `{nonce, associated_data, ciphertext}` to
/// decrypt with AES-256-GCM (checks the APIv3 key and the resource first).
#[wasm_bindgen]
pub fn wechat_v3_notify_decrypt_input(body: &[u8], apiv3_key: &str) -> JsResult<JsValue> {
    let env = core(NotifyEnvelope::parse(body))?;
    let ciphertext = core(v3::decrypt_resource_input(
        apiv3_key.as_bytes(),
        &env.resource,
    ))?;
    let out = js_sys::Object::new();
    set(&out, "nonce", &JsValue::from_str(&env.resource.nonce));
    set(
        &out,
        "associated_data",
        &JsValue::from_str(&env.resource.associated_data),
    );
    set(
        &out,
        "ciphertext",
        &js_sys::Uint8Array::from(&ciphertext[..]).into(),
    );
    Ok(out.into())
}

/// A checked notify for JS. `resource` is not sent: the JS layer sets it to
/// `JSON.parse(plaintext)` — every field WeChat Pay sent, after the core has
/// typed and checked the plaintext here (serialising the typed resource back
/// would only drop fields, and cost the signing module its serializers).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotifyJs<'a> {
    id: &'a str,
    create_time: &'a str,
    event_type: &'a str,
    resource_type: &'a str,
    summary: &'a str,
    original_type: &'a str,
    /// `transaction`, `refund` or `other`.
    kind: &'static str,
    plaintext: &'a str,
}

fn notify_out(n: &v3::Notify) -> JsResult<String> {
    let kind = match &n.event {
        NotifyEvent::Transaction(_) => "transaction",
        NotifyEvent::Refund(_) => "refund",
        NotifyEvent::Other(_) => "other",
    };
    to_json(&NotifyJs {
        id: &n.envelope.id,
        create_time: &n.envelope.create_time,
        event_type: &n.envelope.event_type,
        resource_type: &n.envelope.resource_type,
        summary: &n.envelope.summary,
        original_type: &n.envelope.resource.original_type,
        kind,
        plaintext: &n.plaintext,
    })
}

/// Step 2 of a v3 notify with outside AES-GCM: types the decrypted plaintext.
#[wasm_bindgen]
pub fn wechat_v3_notify_finish(body: &[u8], plaintext: Vec<u8>) -> JsResult<String> {
    let env = core(NotifyEnvelope::parse(body))?;
    let text = core(utf8("plaintext", plaintext))?;
    notify_out(&core(v3::notify_from_plaintext(env, text))?)
}

// ----------------------------------------------------------------- Alipay

fn alipay_sign_type(name: &str) -> JsResult<alipay::SignType> {
    core(name.parse())
}

/// Step 1 of Alipay signing: sets `sign_type`, drops `sign`; returns
/// `[text, hash, key, value, …]`: the string to sign, `SHA256` or `SHA1`, then the
/// parameters to pass to [`alipay_assemble_signed`].
#[wasm_bindgen]
pub fn alipay_prepare_sign(params: Vec<String>, sign_type: &str) -> JsResult<Vec<String>> {
    let st = alipay_sign_type(sign_type)?;
    let (params, text) = alipay::sign::prepare_sign(pairs_in(params)?, st);
    let hash = match st.hash() {
        RsaHash::Sha256 => "SHA256",
        RsaHash::Sha1 => "SHA1",
    };
    let mut out = vec![text, hash.to_string()];
    out.extend(pairs_out(params));
    Ok(out)
}

/// Step 2 of Alipay signing: adds the base64 `sign`; returns `[key, value, …]`.
#[wasm_bindgen]
pub fn alipay_assemble_signed(params: Vec<String>, signature_b64: &str) -> JsResult<Vec<String>> {
    let params = pairs_in(params)?;
    Ok(pairs_out(core(alipay::sign::assemble_signed(
        params,
        signature_b64,
    ))?))
}

/// The Alipay string to sign (sorted `k=v&…`, empty values and `sign` left out).
#[wasm_bindgen]
pub fn alipay_string_to_sign(params: Vec<String>) -> JsResult<String> {
    Ok(alipay::string_to_sign(&pairs_in(params)?))
}

/// The `orderString` of signed parameters (APP pay).
#[wasm_bindgen]
pub fn alipay_order_string(signed: Vec<String>) -> JsResult<String> {
    core(alipay::order_string(&pairs_in(signed)?))
}

/// `app_cert_sn` / `alipay_cert_sn` of a PEM certificate.
#[wasm_bindgen]
pub fn alipay_cert_sn(pem: &str) -> JsResult<String> {
    core(alipay::cert_sn_pem(pem))
}

/// `alipay_root_cert_sn` of the root certificate bundle.
#[wasm_bindgen]
pub fn alipay_root_cert_sn(pem: &str) -> JsResult<String> {
    core(alipay::root_cert_sn(pem))
}

/// Alipay content encryption (AES-CBC, zero IV, PKCS#7), base64.
#[wasm_bindgen]
pub fn alipay_aes_encrypt(key_b64: &str, plaintext: &str) -> JsResult<String> {
    core(alipay::aes_encrypt(key_b64, plaintext))
}

/// Alipay content decryption.
#[wasm_bindgen]
pub fn alipay_aes_decrypt(key_b64: &str, ciphertext_b64: &str) -> JsResult<String> {
    core(alipay::aes_decrypt(key_b64, ciphertext_b64))
}
