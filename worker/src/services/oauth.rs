//! WeChat OAuth (`snsapi_base`): the openid is kept in a signed HttpOnly
//! cookie; `return_to` must be a same-origin path. Also the mini program
//! login (`jscode2session`, never returning `session_key`) and the JS-SDK
//! `wx.config` parameters.

use crate::config::{self, Upstreams};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::services::tokens;
use crate::util::{ct_eq, nonce, now};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use worker::{Env, Method};

/// Name of the cookie carrying the payer's openid.
pub const OPENID_COOKIE: &str = "ep_openid";
/// Name of the short-lived cookie binding the OAuth `state` to the browser.
pub const STATE_COOKIE: &str = "ep_oauth";

fn mac(env: &Env, msg: &str) -> ApiResult<String> {
    let secret = config::require(env, "COOKIE_SECRET")?;
    Ok(hex::encode(edgepay::crypto::digest::hmac_sha256(
        secret.as_bytes(),
        msg.as_bytes(),
    )))
}

/// A same-origin path: starts with one `/`, no `//` or `\`, no control characters.
pub fn safe_return_to(r: &str) -> Option<String> {
    let ok = r.starts_with('/')
        && !r.starts_with("//")
        && !r.contains('\\')
        && !r.chars().any(|c| c.is_control())
        && r.len() <= 512;
    ok.then(|| r.to_string())
}

fn cookie(name: &str, value: &str, max_age: i64, path: &str, secure: bool) -> String {
    format!(
        "{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Reads one cookie from a `Cookie` header.
pub fn read_cookie(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// `(location, set-cookie)` for `/oauth/wechat/authorize`.
pub fn authorize(env: &Env, base: &str, return_to: &str) -> ApiResult<(String, String)> {
    let return_to = safe_return_to(return_to).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "return_to must be a same-origin path such as /pay",
        )
    })?;
    let appid = config::require(env, "WECHAT_APPID")?;
    let state = nonce();
    let exp = now() + 600;
    let rt = URL_SAFE_NO_PAD.encode(return_to.as_bytes());
    let sig = mac(env, &format!("oauth|{state}|{rt}|{exp}"))?;
    let open = Upstreams::from_env(env).wechat_open;
    let mut url = worker::Url::parse(&format!("{open}/connect/oauth2/authorize"))
        .map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("appid", &appid)
        .append_pair("redirect_uri", &format!("{base}/oauth/wechat/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "snsapi_base")
        .append_pair("state", &state);
    url.set_fragment(Some("wechat_redirect"));
    let secure = base.starts_with("https://");
    Ok((
        url.to_string(),
        cookie(
            STATE_COOKIE,
            &format!("{state}.{rt}.{exp}.{sig}"),
            600,
            "/oauth/wechat",
            secure,
        ),
    ))
}

/// `/oauth/wechat/callback`: checks the state against the cookie, exchanges
/// the code, returns `(return_to, set-cookie headers)`.
pub async fn callback(
    env: &Env,
    base: &str,
    code: &str,
    state: &str,
    cookie_header: &str,
) -> ApiResult<(String, Vec<String>)> {
    let bad = || ApiError::forbidden("the OAuth state does not match this browser (start again)");
    let c = read_cookie(cookie_header, STATE_COOKIE).ok_or_else(bad)?;
    let parts: Vec<&str> = c.split('.').collect();
    let [st, rt, exp, sig] = parts.as_slice() else {
        return Err(bad());
    };
    let expected = mac(env, &format!("oauth|{st}|{rt}|{exp}"))?;
    if !ct_eq(&expected, sig) || !ct_eq(st, state) || exp.parse::<i64>().unwrap_or(0) < now() {
        return Err(bad());
    }
    let return_to = URL_SAFE_NO_PAD
        .decode(rt)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|r| safe_return_to(&r))
        .ok_or_else(bad)?;
    if code.is_empty() {
        return Err(ApiError::bad_request("missing_field", "code"));
    }
    let appid = config::require(env, "WECHAT_APPID")?;
    let secret = config::require(env, "WECHAT_APP_SECRET")?;
    let api = Upstreams::from_env(env).wechat_api;
    let mut url = worker::Url::parse(&format!("{api}/sns/oauth2/access_token"))
        .map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("appid", &appid)
        .append_pair("secret", &secret)
        .append_pair("code", code)
        .append_pair("grant_type", "authorization_code");
    let a = http::send(Method::Get, url.as_str(), &[], None, http::timeout_ms(env)).await?;
    let v: Value = serde_json::from_slice(&a.body)
        .map_err(|_| ApiError::upstream("OAuth answer is not JSON"))?;
    let openid = v
        .get("openid")
        .and_then(Value::as_str)
        .filter(|o| {
            !o.is_empty()
                && o.len() <= 128
                && o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .ok_or_else(|| {
            ApiError::upstream(format!(
                "OAuth: errcode {} {}",
                v.get("errcode").and_then(Value::as_i64).unwrap_or(0),
                v.get("errmsg").and_then(Value::as_str).unwrap_or("")
            ))
        })?;
    let exp = now() + 7 * 86400;
    let sig = mac(env, &format!("openid|{openid}|{exp}"))?;
    let secure = base.starts_with("https://");
    Ok((
        return_to,
        vec![
            cookie(
                OPENID_COOKIE,
                &format!("{openid}.{exp}.{sig}"),
                7 * 86400,
                "/",
                secure,
            ),
            cookie(STATE_COOKIE, "", 0, "/oauth/wechat", secure),
        ],
    ))
}

/// The openid from a valid signed cookie.
pub fn openid_from_cookie(env: &Env, cookie_header: &str) -> Option<String> {
    let c = read_cookie(cookie_header, OPENID_COOKIE)?;
    let parts: Vec<&str> = c.split('.').collect();
    let [openid, exp, sig] = parts.as_slice() else {
        return None;
    };
    let expected = mac(env, &format!("openid|{openid}|{exp}")).ok()?;
    (ct_eq(&expected, sig) && exp.parse::<i64>().ok()? > now()).then(|| openid.to_string())
}

/// `POST /v1/miniprogram/login`: `{code}` → `{openid}` (session_key stays here).
pub async fn miniprogram_login(env: &Env, code: &str) -> ApiResult<Value> {
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::bad_request("missing_field", "code"));
    }
    let appid = config::get(env, "WECHAT_MINIPROGRAM_APPID")
        .map(Ok)
        .unwrap_or_else(|| config::require(env, "WECHAT_APPID"))?;
    let secret = config::get(env, "WECHAT_MINIPROGRAM_SECRET")
        .map(Ok)
        .unwrap_or_else(|| config::require(env, "WECHAT_APP_SECRET"))?;
    let api = Upstreams::from_env(env).wechat_api;
    let mut url =
        worker::Url::parse(&format!("{api}/sns/jscode2session")).map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("appid", &appid)
        .append_pair("secret", &secret)
        .append_pair("js_code", code)
        .append_pair("grant_type", "authorization_code");
    let a = http::send(Method::Get, url.as_str(), &[], None, http::timeout_ms(env)).await?;
    let v: Value = serde_json::from_slice(&a.body)
        .map_err(|_| ApiError::upstream("jscode2session answer is not JSON"))?;
    match v.get("openid").and_then(Value::as_str) {
        Some(openid) if !openid.is_empty() => Ok(serde_json::json!({ "openid": openid })),
        _ => Err(ApiError::new(
            400,
            "login_failed",
            format!(
                "jscode2session: errcode {} {}",
                v.get("errcode").and_then(Value::as_i64).unwrap_or(0),
                v.get("errmsg").and_then(Value::as_str).unwrap_or("")
            ),
        )),
    }
}

/// `GET /v1/jssdk/config?url=…`: the page URL must be on an allowed origin.
pub async fn jssdk_config(env: &Env, page_url: &str) -> ApiResult<Value> {
    let parsed = worker::Url::parse(page_url)
        .map_err(|_| ApiError::bad_request("invalid_field", "url must be an absolute URL"))?;
    let origin = parsed.origin().ascii_serialization();
    if !config::allowed_origins(env).contains(&origin) {
        return Err(ApiError::forbidden(format!(
            "{origin} is not an allowed origin"
        )));
    }
    let appid = config::require(env, "WECHAT_APPID")?;
    let ticket = tokens::get(env, tokens::JSAPI_TICKET).await?;
    let cfg = edgepay::wechat::jssdk::config(&appid, &ticket, &nonce(), now(), page_url);
    Ok(serde_json::to_value(cfg)?)
}

#[cfg(test)]
mod tests {
    use super::{read_cookie, safe_return_to};

    #[test]
    fn return_to_must_be_a_same_origin_path() {
        for ok in ["/", "/pay", "/pay?item=1&x=%2F", "/a/b#frag"] {
            assert_eq!(safe_return_to(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "pay",
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\nb",
            "/a\rLocation: x",
            "\t/",
            " /a",
        ] {
            assert_eq!(safe_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_to(&format!("/{}", "a".repeat(600))), None);
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let h = "a=1; ep_openid=o1.2.sig; ep_openid_x=evil; b=";
        assert_eq!(read_cookie(h, "ep_openid").as_deref(), Some("o1.2.sig"));
        assert_eq!(read_cookie(h, "b").as_deref(), Some(""));
        assert_eq!(read_cookie(h, "c"), None);
        assert_eq!(read_cookie("", "a"), None);
        assert_eq!(read_cookie("garbage;;;==", "a"), None);
    }
}
