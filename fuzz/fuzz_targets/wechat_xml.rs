#![no_main]
//! Fuzz target `wechat_xml`: see `edgepay_fuzz::wechat_xml` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::wechat_xml(data));
