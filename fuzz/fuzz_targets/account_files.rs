#![no_main]

use runas_fuzz::glibc::Glibc;
use std::sync::OnceLock;

// The oracle: this thread's private mount namespace, with the files under
// test bind-mounted over /etc (libFuzzer runs every input on one thread).
static GLIBC: OnceLock<Glibc> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let glibc = GLIBC.get_or_init(Glibc::enter);
    runas_fuzz::checks::account_files(data, glibc);
});
