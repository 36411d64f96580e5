//! runas: run a command as another user and/or group, in place.
//!
//! The flow is one straight line, each step in its own module:
//! cli / compat (words) → spec (meaning) → facts (the process as it is) →
//! plan (the one resolver: every lookup, before any change) → steps (the
//! complete, ordered list) → run (executes the list: terminal, transition,
//! session, process, verify, exec) or show (prints it: --dry-run).
//! This file only wires them.
#![deny(unsafe_code)]

mod base;
mod cli;
mod core;
mod options;
mod paths;
mod report;
mod request;
mod sys;
#[cfg(test)]
mod testing;

/// The one door to the inside, for src/main.rs, the integration tests and
/// examples/completions.rs: what they need, nothing more.
#[doc(hidden)]
pub mod door {
    pub use crate::cli::completion::{bash, fish, zsh};
    pub use crate::core::accounts::files;
    pub use crate::request::caps::{ROOT_EQUIVALENT, name as capability_name};
    pub use crate::request::spec::{
        IdSpec, Kind, MAX_ID, parse_group_list, parse_id, parse_user_spec,
    };
    pub use crate::sys::{BumpAllocator, WholeProgram, args_from_c_main};

    /// For tests/fuzz.rs: the numeric ids a runas command line (argv[0]
    /// first) names for the switch, user, group and group list, where it is
    /// accepted with a command to run; `None` where it is refused.
    pub fn ids_of_command_line(
        args: impl IntoIterator<Item = std::ffi::OsString>,
    ) -> Option<Vec<u32>> {
        use crate::request::spec::{GroupPolicy, Invocation};
        let Ok(Invocation::Run {
            request, command, ..
        }) = crate::request::spec::interpret(crate::cli::parse(args).ok()?)
        else {
            return None;
        };
        if command.is_empty() {
            return None;
        }
        let mut ids: Vec<&IdSpec> = request.user.iter().chain(request.group.iter()).collect();
        if let GroupPolicy::List(items) = &request.policy {
            ids.extend(items);
        }
        Some(
            ids.into_iter()
                .filter_map(|id| match id {
                    IdSpec::Id(n) => Some(*n),
                    IdSpec::Name(_) => None,
                })
                .collect(),
        )
    }
}

use crate::base::error::{Error, Result};
use crate::cli::compat;
use crate::core::accounts::db;
use crate::core::{exec, facts, plan, run, steps};
use crate::options::newgrp;
use crate::report::show;
use crate::request::spec::{self, Invocation, Rules};
use std::ffi::OsString;
use std::io::Write;

/// Print --help, --version, --dump or --dry-run text. A reader that went
/// away (`runas --help | head -1`, EPIPE) is not an error; any other
/// failure to write (`> /dev/full`) is: the output was asked for.
/// Flushed here: without std's start-up and shut-down code (src/main.rs),
/// nothing flushes stdout at exit.
fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            what: "writing to standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// bench/run's stage split: a build with the `bench-stages` feature and
/// RUNAS_BENCH_STOP_AT=STAGE in its environment execs /bin/true when it
/// reaches STAGE instead of going on, so the cost of each stage is the
/// difference between two builds. A compile-time constant, and without
/// the feature (every build but bench/run's) the variable is not even
/// read: a stray one cannot make a release build skip its command.
#[cfg(feature = "bench-stages")]
const BENCH_STOP_AT: Option<&str> = option_env!("RUNAS_BENCH_STOP_AT");
#[cfg(not(feature = "bench-stages"))]
const BENCH_STOP_AT: Option<&str> = None;

/// Stop here if this is the bench build for `stage` (see above).
pub fn bench_stage(stage: &str, promise: sys::WholeProgram) {
    if BENCH_STOP_AT == Some(stage) {
        let _ = exec::exec(&["/bin/true".into()], &plan::EnvPlan::default(), promise);
        std::process::exit(125);
    }
}

fn run(args: Vec<OsString>, promise: sys::WholeProgram) -> Result<()> {
    bench_stage("start", promise);
    // argc 0 (an execve with an empty argv, as in CVE-2021-4034, which the
    // kernel now turns into one empty argument): no program name to pick a
    // mode by, and argv[1] would be the first environment string.
    let argv0 = match args.first() {
        Some(argv0) if !argv0.is_empty() => argv0.clone(),
        _ => {
            return Err(Error::Usage(
                "refusing to run with an empty argument list: argv[0] must be the program's name"
                    .into(),
            ));
        }
    };
    let facts = facts::Facts::observe()?;
    newgrp::check_install(&facts)?;
    let invocation = match Rules::from_program_name(&argv0) {
        Rules::Runas => spec::interpret(cli::parse(args)?)?,
        rules => compat::parse_args(rules, &args)?,
    };
    bench_stage("parse", promise);
    let db = db::SystemDb;
    match invocation {
        Invocation::Print(text) => print(&text),
        Invocation::Dump { json } => print(&show::dump(json, &db)?),
        Invocation::Run {
            request,
            command,
            dry_run,
            show_env_values,
            json,
        } => {
            let plan = plan::resolve(&request, &facts, &db)?;
            bench_stage("plan", promise);
            let steps = steps::build(&plan, &facts, &command)?;
            bench_stage("checks", promise);
            if dry_run {
                let report = show::Report {
                    json,
                    show_env_values,
                };
                print(&show::dry_run(
                    &plan, &steps, &facts, &command, report, &db, promise,
                )?)
            } else {
                run::execute(steps, &plan, &facts, &command, promise)
            }
        }
    }
}

/// The program, given its argv and the whole-program promises: run, and
/// on failure print the one message and return the exit status the
/// failure maps to.
pub fn main(args: Vec<OsString>, promise: sys::WholeProgram) -> u8 {
    match run(args, promise) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("runas: {error}");
            error.exit_code()
        }
    }
}
