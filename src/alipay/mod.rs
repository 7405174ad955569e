//! Alipay open platform: the v2 gateway (`gateway.do`, RSA2/RSA signed form
//! parameters) and the v3 protocol (`Authorization: ALIPAY-SHA256withRSA …`).
//!
//! - [`sign`](mod@sign): request signatures ([`SignType`], [`string_to_sign`], [`sign_params`]).
//! - [`request`]: common parameters, Beijing timestamps and `alipay.trade.*` builders.
//! - [`order_string`](mod@order_string): the APP pay `orderString`, page/wap pay forms and URLs.
//! - [`notify`]: asynchronous notifications (raw form body → verified params, order checks).
//! - [`response`]: synchronous response verification over the raw `…_response` text.
//! - [`cert_sn`](mod@cert_sn): certificate-mode serial numbers (`app_cert_sn`, `alipay_root_cert_sn`).
//! - [`cert_chain`]: whether an Alipay public certificate chains to the root bundle.
//! - [`aes`]: AES content encryption (`encrypt_type=AES`).
//! - [`v3`]: the v3 `Authorization` header and response verification.
//!
//! Every RSA operation comes in two steps (build the exact text to sign or
//! verify; assemble from a base64 signature) and in one step through
//! [`Signer`](crate::crypto::Signer) / [`Verifier`](crate::crypto::Verifier).
//!
//! # Example: an APP pay `orderString`
//!
//! ```
//! use edgepay::alipay::{self, request::{CommonParams, TradeOrder}, SignType};
//! use edgepay::crypto::{PrivateKey, PublicKey, Verifier, RsaHash};
//!
//! let pem = std::fs::read_to_string("../shared/vectors/yansongda-app-private-key-pkcs1.pem").unwrap();
//! let key = PrivateKey::parse(&pem).unwrap();
//!
//! // 2023-12-21 06:54:37 in Beijing is 2023-12-20 22:54:37 UTC.
//! let common = CommonParams::new("9021000122682882", 1_703_112_877)
//!     .unwrap()
//!     .notify_url("https://merchant.example/notify/alipay");
//! assert_eq!(common.timestamp, "2023-12-21 06:54:37");
//! let order = TradeOrder::new("T20231221001", 1, "Coffee");
//! let unsigned = alipay::request::trade_app_pay(&order).unwrap().to_params(&common).unwrap();
//! let order_string = alipay::sign_order_string(unsigned, &key, SignType::Rsa2).unwrap();
//! assert!(order_string.contains("method=alipay.trade.app.pay"));
//! assert!(order_string.contains("timestamp=2023-12-21%2006%3A54%3A37"));
//!
//! // The app hands the string to the Alipay SDK; the gateway verifies it like this:
//! let decoded = alipay::notify::parse_form(order_string.as_bytes()).unwrap();
//! let signature = edgepay::crypto::encoding::b64decode("sign", &decoded["sign"]).unwrap();
//! key.public_key()
//!     .verify(RsaHash::Sha256, alipay::string_to_sign(&decoded).as_bytes(), &signature)
//!     .unwrap();
//! ```

pub mod aes;
pub mod cert_chain;
pub mod cert_sn;
pub mod notify;
pub mod order_string;
pub mod request;
pub mod response;
pub mod sign;
pub mod time;
pub mod v3;

pub use self::aes::{aes_decrypt, aes_encrypt};
pub use self::cert_chain::verify_cert_chain;
pub use self::cert_sn::{cert_sn, cert_sn_pem, root_cert_sn};
pub use self::notify::{
    check_notify, verify_notify, verify_notify_v2, ExpectedOrder, NOTIFY_FAIL, NOTIFY_SUCCESS,
};
pub use self::order_string::{order_string, page_pay_form, page_pay_url, sign_order_string};
pub use self::response::{verify_encrypted_response, verify_response, verify_response_any};
pub use self::sign::{sign, sign_params, string_to_sign, SignType};
pub use self::time::beijing_timestamp;
pub use self::v3::{v3_auth_string, verify_v3_response, V3Request};

/// The production v2 gateway.
pub const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// The sandbox v2 gateway.
pub const SANDBOX_GATEWAY: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";
