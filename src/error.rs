//! The one error type of the core crate.
//!
//! Every error says *what* was wrong and, where there is one, *which field*.
//! [`Error::code`] gives a stable machine-readable code (used by the CLI, the
//! npm package and the gateway), [`Error::field`] the field at fault.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A wire format that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// WeChat Pay v2 XML.
    Xml,
    /// JSON (WeChat v3 bodies, Alipay responses, CLI input).
    Json,
    /// `application/x-www-form-urlencoded` bodies.
    Form,
    /// Base64 text.
    Base64,
    /// Hex text.
    Hex,
    /// PEM / DER key or certificate material.
    Pem,
    /// Text that must be UTF-8 and is not.
    Utf8,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Xml => "XML",
            Format::Json => "JSON",
            Format::Form => "form body",
            Format::Base64 => "base64",
            Format::Hex => "hex",
            Format::Pem => "PEM/DER",
            Format::Utf8 => "UTF-8",
        })
    }
}

/// The business error an upstream (WeChat Pay or Alipay) answered with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamError {
    /// WeChat `return_code` / Alipay `code` (e.g. `FAIL`, `40004`).
    pub code: String,
    /// WeChat `return_msg` / Alipay `msg`.
    pub message: String,
    /// WeChat `err_code` / Alipay `sub_code` (e.g. `ORDERPAID`, `ACQ.TRADE_NOT_EXIST`).
    pub sub_code: Option<String>,
    /// WeChat `err_code_des` / Alipay `sub_msg`.
    pub sub_message: Option<String>,
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        if let Some(sub) = &self.sub_code {
            write!(f, ": {sub}")?;
            if let Some(des) = &self.sub_message {
                write!(f, " ({des})")?;
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A required field is absent or empty.
    MissingField {
        /// The field's name as it appears on the wire.
        field: String,
    },
    /// A field is present but its value is unacceptable.
    InvalidField {
        /// The field's name as it appears on the wire.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A body or value is not well-formed in its format.
    Malformed {
        /// The format that failed.
        format: Format,
        /// What is wrong, with a position when known.
        reason: String,
    },
    /// Key material is unusable (wrong length, wrong type, unparsable).
    InvalidKey {
        /// Which key (e.g. `apiv3_key`, `private_key`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A signature did not verify.
    SignatureMismatch {
        /// Why, as precisely as can be said without leaking secrets.
        reason: String,
    },
    /// A WeChat Pay `WECHATPAY/SIGNTEST/` probe: must never verify.
    SignatureProbe,
    /// A signed timestamp is outside the accepted window.
    TimestampOutOfWindow {
        /// The timestamp that was signed (Unix seconds).
        timestamp: i64,
        /// The verifier's clock (Unix seconds).
        now: i64,
        /// The largest accepted difference in seconds (exclusive).
        window: i64,
    },
    /// No verifying key is known for this serial: refresh platform certificates.
    UnknownSerial {
        /// The `Wechatpay-Serial` / `alipay_cert_sn` received.
        serial: String,
    },
    /// Decryption failed (bad key, bad tag, bad padding).
    DecryptFailed {
        /// What failed.
        reason: String,
    },
    /// The upstream answered with a communication or business error.
    Upstream(UpstreamError),
    /// A notify does not match the merchant's stored order.
    OrderMismatch {
        /// The field that differs.
        field: String,
        /// What the merchant's order says.
        expected: String,
        /// What the notify says.
        actual: String,
    },
    /// A cryptographic primitive failed unexpectedly.
    Crypto {
        /// What failed.
        reason: String,
    },
}

impl Error {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MissingField { .. } => "missing_field",
            Error::InvalidField { .. } => "invalid_field",
            Error::Malformed { .. } => "malformed",
            Error::InvalidKey { .. } => "invalid_key",
            Error::SignatureMismatch { .. } => "signature_mismatch",
            Error::SignatureProbe => "signature_probe",
            Error::TimestampOutOfWindow { .. } => "timestamp_out_of_window",
            Error::UnknownSerial { .. } => "unknown_serial",
            Error::DecryptFailed { .. } => "decrypt_failed",
            Error::Upstream(_) => "upstream_error",
            Error::OrderMismatch { .. } => "order_mismatch",
            Error::Crypto { .. } => "crypto_error",
        }
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::MissingField { field }
            | Error::InvalidField { field, .. }
            | Error::InvalidKey { field, .. }
            | Error::OrderMismatch { field, .. } => Some(field),
            _ => None,
        }
    }

    /// True when the error means "the signature (or its envelope) is not valid",
    /// as opposed to bad input or a malfunction. The CLI maps these to exit 1.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Error::SignatureMismatch { .. }
                | Error::SignatureProbe
                | Error::TimestampOutOfWindow { .. }
                | Error::UnknownSerial { .. }
                | Error::DecryptFailed { .. }
                | Error::OrderMismatch { .. }
        )
    }

    /// Shorthand for [`Error::MissingField`].
    pub fn missing(field: impl Into<String>) -> Self {
        Error::MissingField {
            field: field.into(),
        }
    }

    /// Shorthand for [`Error::InvalidField`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Malformed`].
    pub fn malformed(format: Format, reason: impl Into<String>) -> Self {
        Error::Malformed {
            format,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidKey`].
    pub fn invalid_key(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidKey {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::SignatureMismatch`].
    pub fn mismatch(reason: impl Into<String>) -> Self {
        Error::SignatureMismatch {
            reason: reason.into(),
        }
    }
}

/// Text quoted for an error message: `"…"`, with `"`, `\\` and control characters
/// escaped. Used instead of `{:?}` in every message: the npm package's wasm is built
/// with `-Zfmt-debug=none` (no `Debug` formatting and its Unicode tables), and the
/// messages must read the same there as natively.
pub(crate) struct Quoted<'a>(&'a str, char);

/// `"text"` for a message (see [`Quoted`]).
pub(crate) fn quoted(text: &str) -> Quoted<'_> {
    Quoted(text, '"')
}

/// A character quoted for a message: `'c'` (see [`Quoted`]).
pub(crate) fn quoted_char(c: char, buf: &mut [u8; 4]) -> Quoted<'_> {
    Quoted(c.encode_utf8(buf), '\'')
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(self.1)?;
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c == self.1 => {
                    f.write_char('\\')?;
                    f.write_char(c)?;
                }
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char(self.1)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingField { field } => write!(f, "{field}: missing or empty"),
            Error::InvalidField { field, reason } => write!(f, "{field}: {reason}"),
            Error::Malformed { format, reason } => write!(f, "malformed {format}: {reason}"),
            Error::InvalidKey { field, reason } => write!(f, "{field}: invalid key: {reason}"),
            Error::SignatureMismatch { reason } => write!(f, "signature mismatch: {reason}"),
            Error::SignatureProbe => write!(
                f,
                "signature is a WECHATPAY/SIGNTEST/ probe and is rejected by design"
            ),
            Error::TimestampOutOfWindow {
                timestamp,
                now,
                window,
            } => write!(
                f,
                "timestamp {timestamp} is {}s away from now ({now}); the window is {window}s",
                (now - timestamp).abs()
            ),
            Error::UnknownSerial { serial } => {
                write!(
                    f,
                    "no verifying key for serial {}: refresh the platform keys",
                    quoted(serial)
                )
            }
            Error::DecryptFailed { reason } => write!(f, "decryption failed: {reason}"),
            Error::Upstream(e) => write!(f, "upstream error: {e}"),
            Error::OrderMismatch {
                field,
                expected,
                actual,
            } => write!(
                f,
                "{field}: notify says {} but the stored order says {}",
                quoted(actual),
                quoted(expected)
            ),
            Error::Crypto { reason } => write!(f, "crypto error: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    /// `quoted` reads as std's `{:?}` (the independent reference) for ASCII and controls.
    #[test]
    fn quoted_matches_debug() {
        for text in [
            "",
            "RSA3",
            "a\"b\\c",
            "line\nbreak\tand\r",
            "\u{1}\u{7f}",
            "中文 ok",
        ] {
            assert_eq!(super::quoted(text).to_string(), format!("{text:?}"));
        }
        for c in ['a', '\'', '"', '\n', '\u{0}', '字'] {
            assert_eq!(
                super::quoted_char(c, &mut [0; 4]).to_string(),
                format!("{c:?}")
            );
        }
    }

    use super::*;

    #[test]
    fn codes_and_fields() {
        let e = Error::invalid("total_fee", "not an integer");
        assert_eq!(e.code(), "invalid_field");
        assert_eq!(e.field(), Some("total_fee"));
        assert_eq!(e.to_string(), "total_fee: not an integer");
        assert!(!e.is_verification_failure());
        assert!(Error::SignatureProbe.is_verification_failure());
    }
}
