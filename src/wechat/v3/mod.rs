//! WeChat Pay API v3: JSON bodies, RSA-SHA256 signatures, AES-256-GCM resources.
//!
//! - [`auth`]: the request `Authorization` header (two-step or one-step).
//! - [`verify`](mod@verify): response/notify signatures over the raw body bytes, [`KeySet`].
//! - [`resource`]: `AEAD_AES_256_GCM` resources.
//! - [`notify`]: notify parsing (verify → parse → decrypt → typed) and replies.
//! - [`certificates`]: `/v3/certificates` → platform keys.
//! - [`sensitive`]: RSA-OAEP encryption of sensitive fields.
//! - [`requests`]: sans-IO request builders and response parsers.
//!
//! # A notify, end to end
//!
//! ```
//! use edgepay::wechat::v3::{parse_notify, KeySet, NotifyEvent, NotifyReply, SignedHeaders};
//! # use edgepay::crypto::{PrivateKey, PublicKey};
//! # use edgepay::wechat::v3::{encrypt_resource, sign_base64, verification_message};
//! # let pem = std::fs::read_to_string("../shared/vectors/wechatpay-go-test-key.pem").unwrap();
//! # let wechat_key = PrivateKey::parse(&pem).unwrap();
//! let apiv3_key = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
//! // The merchant keeps WeChat Pay's public key (or platform certificates) by serial.
//! let mut keys = KeySet::new();
//! keys.insert_public_key("PUB_KEY_ID_0114232134912410000000000000", wechat_key.public_key()).unwrap();
//! # let plain = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018","transaction_id":"1217752501201407033233368018","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC","success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;
//! # let resource = encrypt_resource(apiv3_key, "fdasflkja484", "transaction", "transaction", plain.as_bytes()).unwrap();
//! # let raw_body = serde_json::json!({"id":"EV-2018022511223320873","create_time":"2018-06-08T10:34:56+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功","resource":resource}).to_string().into_bytes();
//! # let sig = sign_base64(&wechat_key, &String::from_utf8(verification_message("1700000000", "nonce123", &raw_body)).unwrap()).unwrap();
//! # let http_headers = vec![("Wechatpay-Timestamp", "1700000000".to_string()), ("Wechatpay-Nonce", "nonce123".into()), ("Wechatpay-Signature", sig), ("Wechatpay-Serial", "PUB_KEY_ID_0114232134912410000000000000".into())];
//! // On POST notify_url: take the headers and the RAW body bytes (never re-serialise).
//! let headers = SignedHeaders::from_headers(http_headers).unwrap();
//! let now = 1_700_000_010; // your clock, Unix seconds
//! let notify = parse_notify(&keys, &headers, &raw_body, apiv3_key, now).unwrap();
//! match notify.event {
//!     NotifyEvent::Transaction(t) => {
//!         assert!(t.is_paid());
//!         assert_eq!(t.out_trade_no, "1217752501201407033233368018");
//!         // check against the stored order, store, then reply
//!     }
//!     _ => {}
//! }
//! assert_eq!(NotifyReply::success().status, 204);
//! ```

pub mod auth;
pub mod certificates;
mod json;
pub mod notify;
pub mod requests;
pub mod resource;
pub mod sensitive;
pub mod verify;

pub use auth::{
    authorization, authorization_header, authorization_message, sign_base64, Credentials,
    AUTH_SCHEME,
};
pub use certificates::{load_certificates, parse_certificates, PlatformCertificate};
pub use notify::{
    decrypt_notify, notify_from_plaintext, parse_notify, ExpectedOrder, Notify, NotifyEnvelope,
    NotifyEvent, NotifyReply, RefundResource, Transaction,
};
pub use requests::{
    check_response, close, parse_empty_response, parse_prepay_response, parse_refund_response,
    parse_transaction_response, query_by_out_trade_no, query_by_transaction_id, query_refund,
    HttpRequest, Prepay, PrepayKind, PrepayResponse, Refund, RefundResponse, RefundTarget,
    SceneInfo,
};
pub use resource::{
    decrypt, decrypt_input, decrypt_resource, decrypt_resource_input, decrypt_to_string,
    encrypt_resource, EncryptedResource,
};
pub use sensitive::{decrypt_sensitive, encrypt_sensitive};
pub use verify::{
    precheck, serial_index, verification_message, verify, verify_with_key, KeySet, SignedHeaders,
    TIMESTAMP_WINDOW,
};
