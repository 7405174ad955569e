#![no_main]
//! Fuzz target `alipay_response`: see `edgepay_fuzz::alipay_response` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::alipay_response(data));
