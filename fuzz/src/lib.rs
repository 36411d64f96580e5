//! The properties the fuzz targets check (checks.rs) and the glibc oracle
//! for the account files (glibc.rs). The ordinary test suite includes both
//! files (tests/fuzz_corpus.rs) to replay the checked-in corpora and every
//! regression through the same code, on stable Rust.

pub mod checks;
pub mod glibc;
