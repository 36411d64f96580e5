//! The coverage-guided fuzzers' inputs, replayed on stable Rust: every file
//! in fuzz/corpus/<target>/ (the checked-in corpora, minimized by
//! scripts/fuzz) and in fuzz/regressions/<target>/ (each crash a fuzzer
//! ever found, kept after its fix) goes through the same property the fuzz
//! target checks (fuzz/src/checks.rs, included here as is). The account
//! files are checked against glibc in a private mount namespace, so that
//! replay needs root.

#[path = "../fuzz/src/checks.rs"]
mod checks;
#[path = "../fuzz/src/glibc.rs"]
mod glibc;

mod common;

use std::path::{Path, PathBuf};

/// The inputs of one target, corpus and regressions, in a stable order.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("reading a corpus directory").path();
            if path.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let data = std::fs::read(&path).expect("reading a corpus file");
            found.push((path, data));
        }
    }
    found.sort();
    found
}

/// Run `check` over every input of `target`; the corpus must not be empty
/// (a replay of nothing would pass without testing).
fn replay(target: &str, mut check: impl FnMut(&[u8])) {
    let inputs = inputs(target);
    assert!(
        inputs.len() >= 4,
        "fuzz/corpus/{target} has {} inputs: the checked-in corpus is missing",
        inputs.len()
    );
    for (path, data) in &inputs {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(data)));
        assert!(
            outcome.is_ok(),
            "{} breaks the {target} property",
            path.display()
        );
    }
    eprintln!("{target}: {} inputs replayed", inputs.len());
}

#[test]
fn ids_corpus() {
    replay("ids", checks::ids);
}

#[test]
fn command_line_corpus() {
    replay("command_line", checks::command_line);
}

#[test]
fn env_file_corpus() {
    replay("env_file", checks::env_file);
}

#[test]
fn envdir_corpus() {
    replay("envdir", checks::envdir);
}

#[test]
#[ignore = "needs root: glibc reads the fixture account files bind-mounted over /etc in a private mount namespace"]
fn account_files_corpus_against_glibc() {
    if !common::privileged("account_files_corpus_against_glibc") {
        return;
    }
    let glibc = glibc::Glibc::enter();
    replay("account_files", |data| checks::account_files(data, &glibc));
}

/// The properties can fail: a wrong answer is caught, so a green replay
/// means something.
#[test]
#[should_panic(expected = "envdir")]
fn a_broken_input_fails_the_replay() {
    replay("envdir", |data| {
        assert!(data.len() > usize::MAX / 2, "envdir")
    });
}
