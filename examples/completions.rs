//! Write bash, zsh and fish completions for runas into a directory,
//! generated from the very option table the binary parses with
//! (`runas::cli::OPTIONS`):
//!
//!     cargo run --example completions -- target/completions
//!
//! The packages run this at build time and install the three files. The
//! bash and fish ones are runas's own (src/completion.rs): they complete
//! values, users after --user, groups after --group and in --groups lists,
//! capability, securebit and signal names, and the command and its own
//! arguments after it. zsh's comes from clap_complete, for which clap is
//! only the input format.

use clap::{Arg, ArgAction, Command, ValueHint};
use clap_complete::{Shell, generate_to};
use runas::cli::{OPTIONS, Takes};
use std::process::ExitCode;

fn hint(value_name: &str) -> ValueHint {
    match value_name {
        "USER[:GROUP]" => ValueHint::Username,
        "PATH" | "FILE" => ValueHint::FilePath,
        "DIR" => ValueHint::DirPath,
        _ => ValueHint::Other,
    }
}

fn command() -> Command {
    let mut command = Command::new("runas")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_flag(true)
        .disable_version_flag(true);
    for spec in OPTIONS {
        let mut arg = Arg::new(spec.long).long(spec.long).help(spec.help);
        if let Some(short) = spec.short {
            arg = arg.short(short);
        }
        arg = match spec.takes {
            Takes::Nothing => arg.action(ArgAction::SetTrue),
            Takes::Value(value) => arg
                .value_name(value.name)
                .value_hint(hint(value.name))
                .action(if value.repeatable {
                    ArgAction::Append
                } else {
                    ArgAction::Set
                }),
        };
        command = command.arg(arg);
    }
    command.arg(
        Arg::new("command")
            .value_name("COMMAND")
            .help(runas::cli::COMMAND_HELP)
            .num_args(1..)
            .trailing_var_arg(true)
            .value_hint(ValueHint::CommandWithArguments),
    )
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: completions DIR");
        return ExitCode::from(2);
    };
    let mut command = command();
    let result = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            std::path::Path::new(&dir).join("runas.bash"),
            runas::completion::bash(),
        )?;
        std::fs::write(
            std::path::Path::new(&dir).join("runas.fish"),
            runas::completion::fish(),
        )?;
        [Shell::Zsh]
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
