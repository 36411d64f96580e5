//! runas: run a command as another user and/or group, in place.
//!
//! This file only wires the parts (docs/architecture.md walks through
//! them): the command line (cli/) gives the identity asked for and the
//! options' request; the core (core/) observes the process, resolves the
//! identity into a plan, and, with the steps the options (options/) add,
//! builds the complete list of what the run does; the list is either
//! executed (core::run) or shown (report/, --dry-run).
#![deny(unsafe_code)]

mod base;
mod cli;
mod options;
mod paths;
mod report;
mod sys;
#[cfg(test)]
mod testing;

// The parts the binary takes from runas-core, under the names the rest of
// the launcher uses.
use runas_core::{accounts, core, request};

/// The one door to the inside, for src/main.rs, the integration tests and
/// examples/completions.rs: what they need, nothing more.
#[doc(hidden)]
pub mod door {
    pub use crate::accounts::files;
    pub use crate::cli::completion::{bash, fish, zsh};
    pub use crate::options::env::file::{
        EnvdirName, classify_envdir_name, envdir_value, parse_environment_file,
    };
    pub use crate::request::caps::{Cap, ROOT_EQUIVALENT};
    pub use crate::request::ids::{
        IdSpec, Kind, MAX_ID, parse_group_list, parse_id, parse_user_spec,
    };
    pub use crate::sys::{BumpAllocator, WholeProgram, args_from_c_main};

    /// For tests/fuzz.rs: the numeric ids a runas command line (argv\[0\]
    /// first) names for the switch, user, group and group list, where it is
    /// accepted with a command to run; `None` where it is refused.
    pub fn ids_of_command_line(
        args: impl IntoIterator<Item = std::ffi::OsString>,
    ) -> Option<Vec<u32>> {
        use crate::request::GroupPolicy;
        let Ok(crate::cli::Invocation::Run(run)) = crate::cli::parse(args) else {
            return None;
        };
        let identity = &run.identity;
        let mut ids: Vec<&IdSpec> = identity.user.iter().chain(identity.group.iter()).collect();
        if let GroupPolicy::List(items) = &identity.policy {
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

use crate::accounts::db;
use crate::base::error::{Error, Result};
use crate::cli::{Invocation, compat};
use crate::core::{facts, plan, run, steps};
use crate::options::newgrp;
use crate::report::show;
use crate::request::Rules;
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

use runas_core::core::run::bench_stage;

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
    let inherited = options::Inherited::observe(&facts, promise);
    newgrp::check_install(&facts)?;
    let invocation = match Rules::from_program_name(&argv0) {
        Rules::Runas => cli::parse(args)?,
        rules => compat::parse_args(rules, &args)?,
    };
    bench_stage("parse", promise);
    let db = db::SystemDb::default();
    let run = match invocation {
        Invocation::Print(text) => return print(&text),
        Invocation::Dump { json } => return print(&show::dump(json, &db)?),
        Invocation::Run(run) => *run,
    };
    let cli::Run {
        mut identity,
        options: mut request,
        command,
        dry_run,
        show_env_values,
        json,
    } = run;
    let planned = (|| {
        if facts.restricted() {
            newgrp::restrict(&mut identity, &mut request, &facts)?;
        }
        plan::resolve(&identity, &facts, &db)
    })();
    // A dry run asked for JSON answers in JSON even when the plan is
    // invalid, so that a tool parsing it gets an object, not nothing; the
    // one message still goes to stderr and the status is still runas's.
    let invalid = |error: Error| {
        if dry_run && json {
            let object = report::model::Value::Object(vec![
                ("valid", report::model::Value::Bool(false)),
                ("error", report::model::Value::str(error.to_string())),
                (
                    "exit_status",
                    report::model::Value::Int(error.exit_code().into()),
                ),
            ]);
            let _ = print(&format!("{}\n", object.json()));
        }
        error
    };
    let mut plan = planned.map_err(invalid)?;
    let resolved = options::resolve(
        request,
        &mut plan,
        &facts,
        &inherited,
        &db,
        &paths::SystemFiles,
    )
    .map_err(invalid)?;
    bench_stage("plan", promise);
    let extras = options::steps(&resolved, &plan, &facts).map_err(invalid)?;
    let steps = steps::build(&plan, &facts, &command, extras).map_err(invalid)?;
    bench_stage("checks", promise);
    if dry_run {
        let outcome = report::Outcome {
            plan: &plan,
            options: &resolved,
            steps: &steps,
            facts: &facts,
            command: &command,
        };
        let report = show::Report {
            json,
            show_env_values,
        };
        let fields = cli::report_fields(&outcome);
        print(&show::dry_run(&outcome, report, fields, &db, promise).map_err(invalid)?)
    } else {
        run::execute(steps, &plan, &facts, resolved.env, &command, promise)
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
