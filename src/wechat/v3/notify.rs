//! Notifies (`POST notify_url`): verify the raw bytes, parse the envelope,
//! decrypt the resource, give a typed payload; and the reply WeChat Pay expects.

use super::json::from_json;
use super::resource::{decrypt_to_string, EncryptedResource};
use super::verify::{verify, KeySet, SignedHeaders};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The notify body: `{id, create_time, event_type, resource_type, summary, resource}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyEnvelope {
    /// The notify id (stable across retries of the same notify).
    pub id: String,
    /// When WeChat Pay created the notify (RFC 3339).
    pub create_time: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`, …
    pub event_type: String,
    /// `encrypt-resource`.
    pub resource_type: String,
    /// A human-readable summary (e.g. `支付成功`).
    #[serde(default)]
    pub summary: String,
    /// The encrypted payload.
    pub resource: EncryptedResource,
}

impl NotifyEnvelope {
    /// Parses the envelope from the body (after verification!).
    pub fn parse(raw_body: &[u8]) -> Result<Self> {
        from_json("notify body", raw_body)
    }
}

/// The payer of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Payer {
    /// The payer's openid under `appid`.
    #[serde(default)]
    pub openid: String,
}

/// The amounts of a transaction, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    /// Order total.
    pub total: u64,
    /// What the payer paid (total minus coupons).
    #[serde(default)]
    pub payer_total: Option<u64>,
    /// Currency of `total` (`CNY`).
    #[serde(default)]
    pub currency: Option<String>,
    /// Currency the payer paid in.
    #[serde(default)]
    pub payer_currency: Option<String>,
}

/// A payment: the `TRANSACTION.*` notify payload and the order-query response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The app id the order was made under.
    pub appid: String,
    /// The merchant id.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id (absent before payment).
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// `JSAPI`, `NATIVE`, `APP`, `MWEB`, …
    #[serde(default)]
    pub trade_type: Option<String>,
    /// `SUCCESS`, `REFUND`, `NOTPAY`, `CLOSED`, `REVOKED`, `USERPAYING`, `PAYERROR`.
    pub trade_state: String,
    /// Description of the state.
    #[serde(default)]
    pub trade_state_desc: Option<String>,
    /// The payer's bank (`OTHERS`, `CMC`, …).
    #[serde(default)]
    pub bank_type: Option<String>,
    /// The merchant's `attach`, echoed.
    #[serde(default)]
    pub attach: Option<String>,
    /// When the payment succeeded (RFC 3339).
    #[serde(default)]
    pub success_time: Option<String>,
    /// The payer.
    #[serde(default)]
    pub payer: Option<Payer>,
    /// The amounts.
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
}

/// What the merchant stored for an order, to check a notify against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedOrder<'a> {
    /// The app id the order was made under.
    pub appid: &'a str,
    /// The merchant id.
    pub mchid: &'a str,
    /// The merchant's order number.
    pub out_trade_no: &'a str,
    /// The order total in fen.
    pub total: u64,
}

impl Transaction {
    /// Checks the payment against the stored order: `appid`, `mchid`,
    /// `out_trade_no` and `amount.total`; [`Error::OrderMismatch`] names the
    /// first field that differs. (Whether it is paid: [`Transaction::is_paid`].)
    pub fn check(&self, expected: &ExpectedOrder<'_>) -> Result<()> {
        let mismatch = |field: &str, expected: &str, actual: &str| Error::OrderMismatch {
            field: field.to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        };
        if self.appid != expected.appid {
            return Err(mismatch("appid", expected.appid, &self.appid));
        }
        if self.mchid != expected.mchid {
            return Err(mismatch("mchid", expected.mchid, &self.mchid));
        }
        if self.out_trade_no != expected.out_trade_no {
            return Err(mismatch(
                "out_trade_no",
                expected.out_trade_no,
                &self.out_trade_no,
            ));
        }
        let total = self.amount.as_ref().map(|a| a.total);
        if total != Some(expected.total) {
            return Err(mismatch(
                "amount.total",
                &expected.total.to_string(),
                &total.map(|t| t.to_string()).unwrap_or_default(),
            ));
        }
        Ok(())
    }

    /// True when `trade_state` is `SUCCESS`.
    pub fn is_paid(&self) -> bool {
        self.trade_state == "SUCCESS"
    }
}

/// The amounts of a refund, in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    /// Order total.
    pub total: u64,
    /// Refunded amount.
    pub refund: u64,
    /// What the payer had paid.
    #[serde(default)]
    pub payer_total: Option<u64>,
    /// What the payer gets back.
    #[serde(default)]
    pub payer_refund: Option<u64>,
}

/// The `REFUND.*` notify payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResource {
    /// The merchant id.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id.
    pub transaction_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// `SUCCESS`, `CLOSED`, `ABNORMAL`.
    pub refund_status: String,
    /// When the refund succeeded (RFC 3339).
    #[serde(default)]
    pub success_time: Option<String>,
    /// Where the money went (e.g. `招商银行信用卡0403`).
    #[serde(default)]
    pub user_received_account: Option<String>,
    /// The amounts.
    pub amount: RefundAmount,
}

/// The decrypted, typed payload of a notify.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NotifyEvent {
    /// `TRANSACTION.*` (payment) notifies.
    Transaction(Transaction),
    /// `REFUND.*` notifies.
    Refund(RefundResource),
    /// Any other event type: the decrypted JSON as is.
    Other(serde_json::Value),
}

/// A verified and decrypted notify.
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    /// The envelope.
    pub envelope: NotifyEnvelope,
    /// The decrypted resource text (JSON), exactly as decrypted.
    pub plaintext: String,
    /// The typed payload.
    pub event: NotifyEvent,
}

/// Decrypts the envelope's resource and types it by `event_type`
/// (`TRANSACTION.` → [`Transaction`], `REFUND.` → [`RefundResource`], else JSON).
/// Does not verify: use [`parse_notify`] for bodies from the network.
pub fn decrypt_notify(envelope: NotifyEnvelope, apiv3_key: &[u8]) -> Result<Notify> {
    let plaintext = decrypt_to_string(apiv3_key, &envelope.resource)?;
    notify_from_plaintext(envelope, plaintext)
}

/// The last step of a two-step [`decrypt_notify`] for an outside AEAD
/// (WebCrypto): types the resource `plaintext` decrypted from `envelope`
/// (see [`super::resource::decrypt_resource_input`]) by `event_type`.
pub fn notify_from_plaintext(envelope: NotifyEnvelope, plaintext: String) -> Result<Notify> {
    let bytes = plaintext.as_bytes();
    let event = if envelope.event_type.starts_with("TRANSACTION.") {
        NotifyEvent::Transaction(from_json("transaction", bytes)?)
    } else if envelope.event_type.starts_with("REFUND.") {
        NotifyEvent::Refund(from_json("refund", bytes)?)
    } else {
        NotifyEvent::Other(from_json("resource plaintext", bytes)?)
    };
    Ok(Notify {
        envelope,
        plaintext,
        event,
    })
}

/// The whole notify flow: verify the signature over the **raw body bytes**
/// (see [`verify`]), then parse the envelope, decrypt the resource with the
/// APIv3 key and type it.
pub fn parse_notify(
    keys: &KeySet,
    headers: &SignedHeaders,
    raw_body: &[u8],
    apiv3_key: &[u8],
    now: i64,
) -> Result<Notify> {
    verify(keys, headers, raw_body, now)?;
    decrypt_notify(NotifyEnvelope::parse(raw_body)?, apiv3_key)
}

/// The HTTP answer to a notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyReply {
    /// HTTP status code.
    pub status: u16,
    /// Body (`application/json` when not empty).
    pub body: String,
}

impl NotifyReply {
    /// Success: `204 No Content`, empty body. Send it only once the notify is stored.
    pub fn success() -> Self {
        NotifyReply {
            status: 204,
            body: String::new(),
        }
    }

    /// Failure: `500` with `{"code":"FAIL","message":"…"}`; WeChat Pay retries.
    pub fn failure(message: &str) -> Self {
        Self::failure_with_status(500, message)
    }

    /// Failure with a chosen 4xx/5xx status (other statuses become 500).
    pub fn failure_with_status(status: u16, message: &str) -> Self {
        let status = if (400..=599).contains(&status) {
            status
        } else {
            500
        };
        let body = serde_json::json!({ "code": "FAIL", "message": message }).to_string();
        NotifyReply { status, body }
    }
}
