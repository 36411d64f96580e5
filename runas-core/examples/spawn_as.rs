//! Start a helper as another user, with the switch made and proved in the
//! child before its exec: `spawn_as USER -- PROGRAM [ARGS...]`.
//!
//! ```text
//! sudo target/debug/examples/spawn_as nobody -- /usr/bin/id
//! ```
//!
//! Everything is resolved and allocated here, before the fork; between
//! fork and exec the child makes system calls only (setgroups, setresgid,
//! setresuid, the keyring, the capability sets, then the read-back and
//! the regain attempt). If any of it fails, the helper never runs and the
//! spawn fails. The parent, which may have any number of threads, keeps
//! its own credentials. Prints the child's pid, then waits for it.

use runas_core::Target;
use std::io::Write;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (user, program) = match args.iter().position(|a| a == "--") {
        Some(1) if args.len() > 2 => (&args[0], &args[2..]),
        _ => {
            eprintln!("usage: spawn_as USER -- PROGRAM [ARGS...]");
            return ExitCode::from(2);
        }
    };
    let mut command = Command::new(&program[0]);
    command.args(&program[1..]);
    let prepared = Target::user(user)
        .and_then(|target| target.resolve())
        .and_then(|switch| switch.command(&mut command));
    if let Err(e) = prepared {
        eprintln!("spawn_as: {e}");
        return ExitCode::FAILURE;
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("spawn_as: starting {:?} as {user:?}: {e}", program[0]);
            return ExitCode::FAILURE;
        }
    };
    println!("spawned {}", child.id());
    let _ = std::io::stdout().flush();
    match child.wait() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("spawn_as: {:?} ended: {status}", program[0]);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("spawn_as: waiting: {e}");
            ExitCode::FAILURE
        }
    }
}
