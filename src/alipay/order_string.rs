//! What the client side takes: the APP pay `orderString` (for the Alipay app
//! SDK's `payOrder`), and the page / wap pay auto-submit form or GET URL.
//!
//! Values are percent-encoded with everything but the RFC 3986 unreserved
//! characters (`A-Z a-z 0-9 - _ . ~`) escaped, so a space is `%20` (as
//! alipay-sdk-nodejs `sdkExec`, whose `encodeURIComponent` also gives `%20`;
//! the Java SDK's `URLEncoder` writes `+`, which the gateway also accepts)
//! and `sign`'s `+ / =` become `%2B %2F %3D`. Keys come in sorted order
//! (as the Java SDK's `sdkExecute`).

use super::sign::{sign_params, SignType};
use crate::crypto::Signer;
use crate::error::{Error, Result};
use crate::params::Params;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but `A-Z a-z 0-9 - _ . ~` is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one value (UTF-8 bytes, `%XX` upper-case hex, space `%20`).
///
/// ```
/// assert_eq!(edgepay::alipay::order_string::encode_component("a+b/c= 测"), "a%2Bb%2Fc%3D%20%E6%B5%8B");
/// ```
pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

fn encode_pairs<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(k));
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

fn require_sign(signed: &Params) -> Result<()> {
    match signed.get("sign") {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err(Error::missing("sign")),
    }
}

/// The `orderString` of already signed parameters: every top-level `k=v`
/// (including `sign`) URL-encoded, sorted, joined with `&`. Empty values are
/// left out, as they are out of the signature.
pub fn order_string(signed: &Params) -> Result<String> {
    require_sign(signed)?;
    Ok(encode_pairs(signed.iter().filter(|(_, v)| !v.is_empty())))
}

/// Signs (setting `sign_type`) and builds the `orderString` in one step.
pub fn sign_order_string(
    params: Params,
    signer: &impl Signer,
    sign_type: SignType,
) -> Result<String> {
    order_string(&sign_params(params, signer, sign_type)?)
}

/// Parameters the official SDKs put in the gateway URL's query; the rest
/// (`biz_content`, …) go in the form body.
const URL_ARGS: &[&str] = &[
    "alipay_root_cert_sn",
    "app_auth_token",
    "app_cert_sn",
    "app_id",
    "auth_token",
    "charset",
    "format",
    "method",
    "notify_url",
    "return_url",
    "sign",
    "sign_type",
    "timestamp",
    "version",
];

fn check_gateway(gateway: &str) -> Result<()> {
    if !(gateway.starts_with("https://") || gateway.starts_with("http://")) {
        return Err(Error::invalid("gateway", "must be an http(s) URL"));
    }
    if gateway.contains(['"', '<', '>', '\'', ' ', '#']) {
        return Err(Error::invalid(
            "gateway",
            "must not contain quotes, angle brackets, spaces or #",
        ));
    }
    Ok(())
}

fn join_query(gateway: &str, query: &str) -> String {
    let sep = if gateway.contains('?') { '&' } else { '?' };
    format!("{gateway}{sep}{query}")
}

/// The GET URL for page / wap pay: `gateway?` followed by every signed
/// parameter, encoded as in [`order_string`].
pub fn page_pay_url(gateway: &str, signed: &Params) -> Result<String> {
    check_gateway(gateway)?;
    Ok(join_query(gateway, &order_string(signed)?))
}

/// Escapes `& < > " '` for an HTML attribute value.
pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML form that POSTs to the gateway and submits itself (page / wap
/// pay): the protocol parameters go in the action URL's query, the others
/// (`biz_content`) in hidden inputs whose values are HTML-escaped.
pub fn page_pay_form(gateway: &str, signed: &Params) -> Result<String> {
    check_gateway(gateway)?;
    require_sign(signed)?;
    let present = signed.iter().filter(|(_, v)| !v.is_empty());
    let query = encode_pairs(
        present
            .clone()
            .filter(|(k, _)| URL_ARGS.contains(&k.as_str())),
    );
    let action = join_query(gateway, &query);
    let mut html = format!(
        "<form id=\"alipaysubmit\" name=\"alipaysubmit\" action=\"{}\" method=\"POST\">",
        html_escape(&action)
    );
    for (k, v) in present.filter(|(k, _)| !URL_ARGS.contains(&k.as_str())) {
        html.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
            html_escape(k),
            html_escape(v)
        ));
    }
    html.push_str("<input type=\"submit\" value=\"ok\" style=\"display:none;\"></form>");
    html.push_str("<script>document.forms['alipaysubmit'].submit();</script>");
    Ok(html)
}
