#![no_main]
//! Fuzz target `wechat_v2`: see `edgepay_fuzz::wechat_v2` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::wechat_v2(data));
