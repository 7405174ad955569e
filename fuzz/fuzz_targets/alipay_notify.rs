#![no_main]
//! Fuzz target `alipay_notify`: see `edgepay_fuzz::alipay_notify` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::alipay_notify(data));
