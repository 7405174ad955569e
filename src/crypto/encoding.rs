//! Base64 and hex decoding with errors that name the field.

use crate::error::{quoted, Error, Format, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Standard base64 (with padding) of `bytes`.
pub fn b64encode(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64, ignoring ASCII whitespace (line breaks in PEM
/// bodies and pasted keys). `field` names the value in the error.
pub fn b64decode(field: &str, text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(Error::missing(field));
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| Error::invalid(field, format!("not valid {}: {e}", Format::Base64)))
}

/// Decodes hex (either case). `field` names the value in the error.
pub fn hexdecode(field: &str, text: &str) -> Result<Vec<u8>> {
    hex::decode(text.trim())
        .map_err(|e| Error::invalid(field, format!("not valid {}: {e}", Format::Hex)))
}

/// Interprets `bytes` as UTF-8, naming `field` in the error.
pub fn utf8(field: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::invalid(
            field,
            format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_errors() {
        assert_eq!(b64encode(b"hi"), "aGk=");
        assert_eq!(b64decode("k", "aG\nk=").unwrap(), b"hi");
        assert_eq!(b64decode("k", "  ").unwrap_err().code(), "missing_field");
        let e = b64decode("sign", "aGk").unwrap_err();
        assert_eq!(e.field(), Some("sign"));
    }
}

/// Joins `parts` with every part followed by `\n` (`a\nb\nc\n`): the message
/// shape of WeChat Pay v3 and Alipay v3 signatures.
///
/// ```
/// use edgepay::crypto::encoding::newline_terminated;
/// assert_eq!(newline_terminated(&[b"1624523846", b"n", b"{}"]), b"1624523846\nn\n{}\n");
/// ```
pub fn newline_terminated(parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`…) and DER body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label between `-----BEGIN ` and `-----`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
}

/// Splits PEM text into its blocks. Lenient about line width (Alipay's
/// certificates use 76-column lines, which strict RFC 7468 parsers refuse) and
/// about `\r\n`, strict about base64 and matching BEGIN/END labels.
pub fn pem_blocks(field: &str, text: &str) -> Result<Vec<PemBlock>> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| Error::invalid(field, "PEM BEGIN line is not closed by -----"))?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start.find(&end_marker).ok_or_else(|| {
            Error::invalid(
                field,
                format!("PEM block {} has no {end_marker}", quoted(label)),
            )
        })?;
        let body = &body_start[..end];
        // Skip RFC 1421 headers (e.g. "Proc-Type: …") if present.
        let body: String = if body.contains(':') {
            body.split("\n\n").last().unwrap_or("").to_string()
        } else {
            body.to_string()
        };
        blocks.push(PemBlock {
            label: label.to_string(),
            der: b64decode(field, &body)?,
        });
        rest = &body_start[end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(Error::invalid(
            field,
            "no PEM block (-----BEGIN …-----) found",
        ));
    }
    Ok(blocks)
}
