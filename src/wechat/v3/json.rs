//! JSON parsing with errors that name the field where serde can tell.

use crate::error::{Error, Format, Result};
use serde::de::DeserializeOwned;

/// Parses `bytes` as JSON into `T`; `what` says which document it is.
/// A missing field gives [`Error::MissingField`] naming it.
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        if let Some(rest) = text.strip_prefix("missing field `") {
            if let Some(end) = rest.find('`') {
                return Error::missing(&rest[..end]);
            }
        }
        Error::malformed(Format::Json, format!("{what}: {text}"))
    })
}
