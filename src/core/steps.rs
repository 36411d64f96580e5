//! The complete, ordered list of what a run does, as data: each step is
//! the system calls it makes, with their arguments. Built once, from the
//! plan and the process as it is (facts.rs), before any change; the real
//! run executes exactly this list (run.rs) and --dry-run renders exactly
//! this list (report/), as text or as JSON, so what the dry run shows is
//! what runs, by construction. The options add their steps around the
//! credential changes through [`Extra`] (core/mod.rs).

use crate::base::error::Result;
use crate::base::quote::quote;
use crate::core::Extra;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::transition::{self, Change};
use crate::core::verify::Proof;
use crate::request::ids::Uid;
use std::ffi::OsString;
use std::fmt;

/// One argument of a system call, as a step shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A number, in decimal.
    Num(i64),
    /// A mask, in hexadecimal.
    Hex(u64),
    /// A file mode, in octal, as strace shows it: `027`.
    Octal(u32),
    /// A constant's name, or flags joined with `|`: `PR_SET_KEEPCAPS`,
    /// `O_RDWR|O_CREAT`, `NULL`.
    Name(String),
    /// Text from elsewhere, quoted: a path, a program.
    Text(OsString),
    /// Ids, as a list.
    List(Vec<u32>),
    /// `name=value`, as in capset's sets.
    Field(&'static str, Box<Arg>),
    /// Known only once the run gets there: a descriptor, a pid.
    Later(&'static str),
}

impl Arg {
    pub fn name(name: impl Into<String>) -> Arg {
        Arg::Name(name.into())
    }

    pub fn field(name: &'static str, value: Arg) -> Arg {
        Arg::Field(name, Box::new(value))
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Num(n) => write!(f, "{n}"),
            Arg::Hex(n) => write!(f, "{n:#x}"),
            // C's %#03o: a leading 0, at least three digits.
            Arg::Octal(n) => write!(f, "0{n:02o}"),
            Arg::Name(name) => f.write_str(name),
            Arg::Text(text) => f.write_str(&quote(text)),
            // A long list is counted, not printed (the JSON has it all).
            Arg::List(ids) if ids.len() > 8 => write!(f, "{} ids", ids.len()),
            Arg::List(ids) => {
                let items: Vec<String> = ids.iter().map(u32::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
            Arg::Field(name, value) => write!(f, "{name}={value}"),
            Arg::Later(what) => write!(f, "<{what}>"),
        }
    }
}

/// One system call of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub name: &'static str,
    pub args: Vec<Arg>,
    /// The error it must fail with, where failing is the point (an attempt
    /// to take old ids back, a terminal that must no longer answer).
    pub fails: Option<&'static str>,
}

impl Call {
    pub fn new(name: &'static str, args: Vec<Arg>) -> Call {
        Call {
            name,
            args,
            fails: None,
        }
    }

    /// The same call, which must fail with `errno`.
    pub fn failing(mut self, errno: &'static str) -> Call {
        self.fails = Some(errno);
        self
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.args.iter().map(ToString::to_string).collect();
        write!(f, "{}({})", self.name, args.join(", "))?;
        match self.fails {
            Some(errno) => write!(f, " = -1 {errno}"),
            None => Ok(()),
        }
    }
}

/// A step's system calls, in order, and what they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The calls of the process that goes on to the exec.
    pub calls: Vec<Call>,
    /// The calls another process makes after a fork (the waiting parent of
    /// a new session, a daemon's middle process), by process, in order.
    pub elsewhere: Vec<(&'static str, Vec<Call>)>,
    /// Why, or what happens around the calls, in words.
    pub note: Option<String>,
}

fn joined(calls: &[Call]) -> String {
    calls
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&joined(&self.calls))?;
        for (process, calls) in &self.elsewhere {
            write!(f, "; {process}: {}", joined(calls))?;
        }
        match &self.note {
            Some(note) if self.calls.is_empty() && self.elsewhere.is_empty() => f.write_str(note),
            Some(note) => write!(f, " ({note})"),
            None => Ok(()),
        }
    }
}

/// One step of a run: the core's own, or an option's.
#[derive(Debug)]
pub enum Step<X> {
    /// One credential change (transition.rs).
    Credential(Change),
    /// An option's step.
    Extra(X),
    /// The proof (verify.rs).
    Verify(Proof),
    /// execve, after a PATH search as the target.
    Exec { program: OsString, uid: Uid },
}

impl<X: Extra> Step<X> {
    /// What the step does, as the dry run shows it.
    pub fn shown(&self) -> Shown {
        match self {
            Step::Credential(change) => Shown {
                calls: change.calls(),
                elsewhere: Vec::new(),
                note: None,
            },
            Step::Extra(extra) => Shown {
                calls: extra.calls(),
                elsewhere: extra.elsewhere(),
                note: extra.note(),
            },
            Step::Verify(proof) => Shown {
                calls: proof.calls(),
                elsewhere: Vec::new(),
                note: Some(proof.note()),
            },
            Step::Exec { program, uid } => Shown {
                calls: vec![Call::new("execve", vec![Arg::Text(program.clone())])],
                elsewhere: Vec::new(),
                note: Some(format!(
                    "searched in the new environment's PATH as uid {uid}"
                )),
            },
        }
    }
}

/// The options' steps, by where they go: before the credential changes,
/// after them, and after the core's proof, right before the exec.
pub struct Extras<X> {
    pub before: Vec<X>,
    pub after: Vec<X>,
    pub checks: Vec<X>,
}

impl<X> Default for Extras<X> {
    fn default() -> Self {
        Extras {
            before: Vec::new(),
            after: Vec::new(),
            checks: Vec::new(),
        }
    }
}

/// Every step of a run, in order. Reads what it needs of the process
/// (securebits), changes nothing, and refuses before any change what the
/// caller has no privilege for.
pub fn build<X>(
    plan: &Plan,
    facts: &Facts,
    command: &[OsString],
    extras: Extras<X>,
) -> Result<Vec<Step<X>>> {
    let before = &facts.credentials;
    transition::check_privilege(plan, before, facts.caps)?;
    let mut steps: Vec<Step<X>> = extras.before.into_iter().map(Step::Extra).collect();
    let securebits = transition::read_securebits(plan)?;
    let bounding = transition::read_bounding(plan)?;
    let changes = transition::changes(plan, before, facts.caps, securebits, bounding);
    let keyring = changes.contains(&Change::NewSessionKeyring);
    steps.extend(changes.into_iter().map(Step::Credential));
    steps.extend(extras.after.into_iter().map(Step::Extra));
    steps.push(Step::Verify(Proof::new(plan, before, facts.caps, keyring)));
    steps.extend(extras.checks.into_iter().map(Step::Extra));
    steps.push(Step::Exec {
        program: command.first().cloned().unwrap_or_default(),
        uid: plan.uid,
    });
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_show_as_strace_shows_them() {
        let call = Call::new(
            "x",
            vec![
                Arg::Num(-1),
                Arg::Hex(0x400),
                Arg::Octal(0o27),
                Arg::Octal(0),
                Arg::Text("a\"b".into()),
                Arg::List(vec![1, 2]),
                Arg::field("rlim_cur", Arg::Num(5)),
                Arg::Later("the log"),
            ],
        );
        assert_eq!(
            call.to_string(),
            "x(-1, 0x400, 027, 000, \"a\\\"b\", [1,2], rlim_cur=5, <the log>)"
        );
    }

    #[test]
    fn long_group_lists_are_summarised() {
        assert_eq!(Arg::List(vec![1, 2]).to_string(), "[1,2]");
        assert_eq!(Arg::List((0..2000).collect()).to_string(), "2000 ids");
    }
}
