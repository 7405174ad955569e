#![no_main]
//! Fuzz target `keys`: see `edgepay_fuzz::keys` (fuzz/src/lib.rs) for what it feeds.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edgepay_fuzz::keys(data));
