//! Write bash, zsh and fish completions for runas, generated from the very
//! clap definition the binary uses, into a directory:
//!
//!     cargo run --example completions -- target/completions
//!
//! The packages run this at build time and install the three files.

use clap_complete::{Shell, generate_to};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: completions DIR");
        return ExitCode::from(2);
    };
    let mut command = runas::cli::command();
    let result = std::fs::create_dir_all(&dir).and_then(|()| {
        [Shell::Bash, Shell::Zsh, Shell::Fish]
            .into_iter()
            .try_for_each(|shell| generate_to(shell, &mut command, "runas", &dir).map(drop))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("completions: {e}");
            ExitCode::FAILURE
        }
    }
}
