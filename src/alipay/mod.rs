//! Alipay open platform.
