#![no_main]
//! Fuzz target `wechat_v3_notify`: see `edgepay_fuzz::wechat_v3_notify` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::wechat_v3_notify(data));
