#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runas_fuzz::checks::envdir(data));
