//! Write bash, zsh and fish completions for runas into a directory,
//! generated from the very option table the binary parses with
//! (`runas::cli::options()`, through `runas::completion`):
//!
//!     cargo run --example completions -- target/completions
//!
//! The packages run this at build time and install the three files. Each
//! completes values as well as options: users after --user (and groups
//! after its ':'), groups after --group and in --groups lists, capability,
//! securebit and signal names, files and directories, and the command, whose
//! own arguments then complete with its own completion.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: completions DIR");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    let result = std::fs::create_dir_all(dir).and_then(|()| {
        std::fs::write(dir.join("runas.bash"), runas::door::bash())?;
        std::fs::write(dir.join("_runas"), runas::door::zsh())?;
        std::fs::write(dir.join("runas.fish"), runas::door::fish())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("completions: {e}");
            ExitCode::FAILURE
        }
    }
}
