//! # edgepay
//!
//! WeChat Pay (API v2 and v3, JS-SDK, legacy APP pay) and Alipay (open
//! platform v2 and v3) signing, verification and wire formats, as a sans-IO
//! core: no network, no clock, no global state. Time and nonces are passed in;
//! RSA goes through the [`crypto::Signer`] / [`crypto::Verifier`] traits so a
//! host can plug in a faster implementation (WebCrypto in a Worker).
//!
//! Modules, one per protocol:
//! - [`wechat::v2`]: MD5 / HMAC-SHA256 signatures, XML bodies, orders, notifies, refunds.
//! - [`wechat::v3`]: RSA `Authorization`, response/notify verification, AES-GCM resources.
//! - [`wechat::client_params`]: the parameters a page, mini program or app passes to pay.
//! - [`wechat::jssdk`]: the `wx.config` signature.
//! - [`wechat::legacy`]: the retired 2014 APP pay signatures.
//! - [`alipay`]: RSA2/RSA request signing, orderString, notify and response verification.
//!
//! Errors: one enum, [`Error`], with a stable [`Error::code`] and the field at fault.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alipay;
pub mod crypto;
pub mod error;
pub mod params;
#[cfg(feature = "wasm")]
pub mod wasm;
pub mod wechat;

pub use error::{Error, Format, Result, UpstreamError};
pub use params::Params;
