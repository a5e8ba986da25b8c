#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kanoon_fuzz::stick(data));
