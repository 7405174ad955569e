//! Services: the gateway's logic over the core, independent of HTTP routing.

pub mod alipay;
pub mod notify;
pub mod oauth;
pub mod orders;
pub mod tokens;
pub mod webhook;
pub mod wechat;
