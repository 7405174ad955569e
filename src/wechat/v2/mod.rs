//! WeChat Pay API v2.
