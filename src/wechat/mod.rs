//! WeChat Pay: API v2 (XML, shared-secret signatures), API v3 (JSON, RSA),
//! client parameters, JS-SDK and legacy APP pay.

pub mod client_params;
pub mod jssdk;
pub mod legacy;
pub mod v2;
pub mod v3;
pub mod xml;
