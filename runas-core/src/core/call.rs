//! A system call as the steps show it: its name and its arguments. The
//! dry run renders these, as text or JSON, and tests/honesty.rs compares
//! them with what strace sees the real run do.

use crate::base::quote::quote;
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
