#![no_main]
//! Fuzz target `wechat_v3_responses`: see `edgepay_fuzz::wechat_v3_responses` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::wechat_v3_responses(data));
