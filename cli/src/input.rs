//! Reading parameters from stdin: a JSON object, WeChat XML, or a form body,
//! detected by the first non-blank character (`{`, `<`, otherwise form).

use crate::fail::Fail;
use edgepay::{wechat, Params};
use std::io::Read;

/// What kind of body stdin held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// `{…}`
    Json,
    /// `<xml>…</xml>`
    Xml,
    /// `a=1&b=2`
    Form,
}

/// Reads all of stdin as bytes.
pub fn read_stdin_bytes() -> Result<Vec<u8>, Fail> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Fail::usage(format!("stdin: cannot read: {e}")))?;
    Ok(buf)
}

/// Reads all of stdin as UTF-8 text.
pub fn read_stdin_text() -> Result<String, Fail> {
    let bytes = read_stdin_bytes()?;
    String::from_utf8(bytes).map_err(|e| {
        Fail::usage(format!(
            "stdin: not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Detects the input kind from the first non-blank character.
pub fn detect(text: &str) -> InputKind {
    match text.trim_start().chars().next() {
        Some('{') => InputKind::Json,
        Some('<') => InputKind::Xml,
        _ => InputKind::Form,
    }
}

/// Parses parameters from text in any of the three forms.
pub fn parse_params(text: &str) -> Result<(InputKind, Params), Fail> {
    if text.trim().is_empty() {
        return Err(Fail::usage(
            "stdin: no parameters given (expected a JSON object, WeChat XML or a form body)",
        ));
    }
    let kind = detect(text);
    let params = match kind {
        InputKind::Json => parse_json(text)?,
        InputKind::Xml => wechat::xml::decode(text).map_err(Fail::from)?,
        InputKind::Form => parse_form(text.trim_end_matches(['\r', '\n']).as_bytes())?,
    };
    Ok((kind, params))
}

/// A JSON object of string, number or boolean values. Objects and arrays are
/// kept as their compact JSON text (handy for Alipay's `biz_content`).
pub fn parse_json(text: &str) -> Result<Params, Fail> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Fail::usage(format!("stdin: malformed JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| Fail::usage("stdin: expected a JSON object of parameters"))?;
    let mut params = Params::new();
    for (k, v) in obj {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => {
                return Err(Fail::usage(format!(
                    "{k}: null is not a parameter value (omit the key or use \"\")"
                )))
            }
            other => other.to_string(),
        };
        params.insert(k.clone(), s);
    }
    Ok(params)
}

/// A form body, decoded exactly once (`+` is a space, `%2B` a plus).
pub fn parse_form(body: &[u8]) -> Result<Params, Fail> {
    let mut params = Params::new();
    for (k, v) in form_urlencoded::parse(body) {
        if params.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Fail::usage(format!(
                "{k}: appears more than once in the form body"
            )));
        }
    }
    Ok(params)
}

/// Reads a file given on the command line (keys, bodies).
pub fn read_file(flag: &str, path: &str) -> Result<Vec<u8>, Fail> {
    std::fs::read(path).map_err(|e| Fail::usage(format!("{flag} {path}: cannot read: {e}")))
}

/// Reads a text file given on the command line.
pub fn read_text_file(flag: &str, path: &str) -> Result<String, Fail> {
    String::from_utf8(read_file(flag, path)?)
        .map_err(|_| Fail::usage(format!("{flag} {path}: not UTF-8 text")))
}
