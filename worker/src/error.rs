//! One error type for the Worker layer, rendered as the contract's JSON:
//! `{"error":{"code":"…","message":"…"}}` with a fitting HTTP status.

use serde_json::json;
use worker::{Headers, Response};

/// An error answered to a client of the gateway.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status (4xx/5xx).
    pub status: u16,
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable message (never a secret).
    pub message: String,
}

/// Result alias for the Worker layer.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    /// Any status and code.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    /// 400.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    /// 401: missing or wrong Bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "unauthorized",
            "a valid Authorization: Bearer token is required",
        )
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }
    /// 409.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    /// 500 for an internal failure; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        crate::log::error("internal_error", &[("detail", detail.to_string())]);
        Self::new(500, "internal_error", "internal error")
    }
    /// 503: a required setting is missing.
    pub fn not_configured(what: &str) -> Self {
        Self::new(
            503,
            "not_configured",
            format!("the gateway is not configured for this: {what} is not set"),
        )
    }
    /// 502 from an upstream failure.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(502, "upstream_error", message)
    }

    /// The JSON response.
    pub fn to_response(&self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}}).to_string();
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json; charset=utf-8");
        let _ = headers.set("cache-control", "no-store");
        Response::from_bytes(body.into_bytes())
            .map(|r| r.with_status(self.status).with_headers(headers))
            .unwrap_or_else(|_| Response::empty().expect("empty response").with_status(500))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl From<edgepay::Error> for ApiError {
    fn from(e: edgepay::Error) -> Self {
        use edgepay::Error as E;
        match &e {
            E::Upstream(u) => {
                let sub = u.sub_code.clone().unwrap_or_default();
                let code = if sub.is_empty() { u.code.clone() } else { sub };
                let status = match code.as_str() {
                    "ORDERPAID"
                    | "OUT_TRADE_NO_USED"
                    | "ORDERCLOSED"
                    | "ORDER_CLOSED"
                    | "ACQ.TRADE_HAS_SUCCESS"
                    | "ACQ.TRADE_HAS_CLOSE"
                    | "ACQ.CONTEXT_INCONSISTENT" => 409,
                    "ORDERNOTEXIST"
                    | "ORDER_NOT_EXIST"
                    | "ACQ.TRADE_NOT_EXIST"
                    | "RESOURCE_NOT_EXISTS"
                    | "REFUNDNOTEXIST" => 404,
                    _ => 502,
                };
                let msg = [u.message.as_str(), u.sub_message.as_deref().unwrap_or("")]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(": ");
                ApiError::new(status, "upstream_error", format!("{code}: {msg}"))
            }
            E::OrderMismatch { .. } => ApiError::conflict("order_mismatch", e.to_string()),
            _ if e.is_verification_failure() => {
                ApiError::new(502, "upstream_verification_failed", e.to_string())
            }
            _ => ApiError::bad_request(e.code(), e.to_string()),
        }
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<worker::kv::KvError> for ApiError {
    fn from(e: worker::kv::KvError) -> Self {
        ApiError::internal(format!("kv: {e:?}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::internal(format!("json: {e}"))
    }
}
