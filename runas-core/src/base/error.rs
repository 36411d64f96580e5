//! Every way runas itself can fail, each with the exit status it maps to.
//!
//! There is exactly one place that prints these (`lib.rs::main`), so every
//! message is printed once, as `runas: <message>`.

use crate::base::quote::quote;
use crate::sys::errno_text;
use nix::errno::Errno;
use std::ffi::OsString;

/// Exit status when runas itself fails (usage, lookup, transition, verification).
pub const EXIT_FAILURE: u8 = 125;
/// Exit status when the target was found but could not be executed.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// Exit status when the target was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// What failed, in the words runas prints after `runas: `.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A switch made in this very process (the library's
    /// [`Switch::apply`](crate::Switch::apply)) failed after a first
    /// credential change: the process holds neither the old identity nor
    /// the new one whole, and must not go on (exit, as runas does).
    #[error("{0} (the process is partly switched: exit rather than go on)")]
    PartlySwitched(Box<Error>),

    /// Command-line misuse. The text already says what to change.
    #[error("{0}")]
    Usage(String),

    /// A user, group or list did not follow the id/name rules.
    #[error("invalid {kind} {}: {reason}", quote(.value))]
    InvalidSpec {
        kind: &'static str,
        value: String,
        reason: String,
    },

    #[error("unknown user {}: there is no such entry in the passwd database", quote(.0))]
    UnknownUser(String),

    #[error("unknown group {}: there is no such entry in the group database", quote(.0))]
    UnknownGroup(String),

    #[error(
        "uid {0} has no passwd entry, so it has no primary group: give --group (for example --user {0}:{0} or --group GROUP)"
    )]
    UidWithoutEntry(u32),

    /// The name service answered with an error (not "not found"): fail
    /// closed. `why`: the database's error, in words.
    #[error("looking up {what}: {why}")]
    Lookup { what: String, why: String },

    /// A credential system call failed. `call` shows the call and its arguments.
    #[error("{call}: {}", errno_text(*.errno))]
    Syscall { call: String, errno: Errno },

    /// The caller may not make the requested change at all.
    #[error("{0}")]
    NotPermitted(String),

    /// A post-transition check did not hold. The target never runs.
    #[error("verification failed: {0}")]
    Verification(String),

    #[error(
        "refusing to run: runas is installed set-user-ID or set-group-ID (real {kind} {real}, effective {effective}); install it mode 0755 and never set-user-ID"
    )]
    SetIdInstall {
        kind: &'static str,
        real: u32,
        effective: u32,
    },

    /// A gosu/su-exec spec failed; names the whole spec as well as the part.
    #[error("{source} (in {mode} {})", quote(.spec))]
    InCompatSpec {
        mode: &'static str,
        spec: String,
        source: Box<Error>,
    },

    /// --dry-run: the real run would certainly fail so (its own message;
    /// the dry run's status is 125 whatever the real run's would be).
    #[error("{0}")]
    Predicted(Box<Error>),

    /// A failure reported by the daemon process through its status pipe.
    #[error("{message}")]
    Relayed { code: u8, message: String },

    /// A path root would open or inspect for the target could be steered
    /// by someone other than root.
    /// `why`: what is wrong and how to fix it (src/paths/ words it).
    #[error("{option} {}: {why}", quote(.path))]
    UnsafePath {
        option: &'static str,
        path: std::path::PathBuf,
        why: String,
    },

    /// The daemon's log, opened with the target's rights, could not be.
    #[error(
        "--log {}: {}, opening it as uid {uid} (the log is opened with the target's rights: let the target create or write it, for example: install -d -o {uid} /var/log/app)",
        quote(.path),
        errno_text(*.errno)
    )]
    LogAsTarget {
        path: std::path::PathBuf,
        uid: u32,
        errno: Errno,
    },

    /// A read or write of runas's own failed (its output, a file).
    #[error("{what}: {}", io_text(.source))]
    Io {
        what: String,
        source: std::io::Error,
    },

    /// The target could not be executed.
    #[error("{}: {}", quote(.program), reason_text(.errno))]
    Exec { program: OsString, errno: Errno },

    /// Not found, but some PATH entries could not be searched as the target.
    #[error(
        "{}: command not found (the target user may not search: {})",
        quote(.program),
        .places.iter().map(quote).collect::<Vec<_>>().join(", ")
    )]
    NotFoundUnsearchable {
        program: OsString,
        places: Vec<String>,
    },

    /// The same, where PATH was read from --env-file or --envdir: its
    /// directories are that file's secret and are not named.
    #[error(
        "{}: command not found (the target user may not search some directories of PATH, which was read from --env-file or --envdir and is not shown)",
        quote(.program)
    )]
    NotFoundUnsearchableSecretPath { program: OsString },
}

/// An I/O error's reason in the same words as every other message (the
/// C library's), without Rust's "(os error N)" suffix.
pub fn io_text(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => crate::sys::errno_text_raw(code).to_string(),
        None => error.to_string(),
    }
}

fn reason_text(errno: &Errno) -> String {
    match errno {
        Errno::ENOENT => "command not found".to_owned(),
        Errno::ENOEXEC => {
            "cannot execute: not a valid executable (a script needs a #! line)".to_owned()
        }
        Errno::EACCES => "cannot execute: permission denied".to_owned(),
        // Not execve's own errno: the search's word for EACCES on a directory.
        Errno::EISDIR => "cannot execute: it is a directory".to_owned(),
        // After a uid change the kernel defers the RLIMIT_NPROC check to execve.
        Errno::EAGAIN => {
            "cannot execute: the target user has reached its process limit (RLIMIT_NPROC)"
                .to_owned()
        }
        other => format!("cannot execute: {}", errno_text(*other)),
    }
}

impl Error {
    /// The status runas exits with for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Exec { errno, .. } => match errno {
                Errno::ENOENT | Errno::ENOTDIR => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_EXECUTE,
            },
            Error::NotFoundUnsearchable { .. } | Error::NotFoundUnsearchableSecretPath { .. } => {
                EXIT_NOT_FOUND
            }
            Error::Relayed { code, .. } => *code,
            _ => EXIT_FAILURE,
        }
    }

    // A failure's: never inlined, so that the code every run executes does
    // not hold it (docs/performance.md, round 8).
    #[inline(never)]
    pub fn syscall(call: impl Into<String>, errno: Errno) -> Self {
        Error::Syscall {
            call: call.into(),
            errno,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_map_to_126_and_127() {
        let exec = |errno| Error::Exec {
            program: "x".into(),
            errno,
        };
        assert_eq!(exec(Errno::ENOENT).exit_code(), 127);
        assert_eq!(exec(Errno::ENOTDIR).exit_code(), 127);
        assert_eq!(exec(Errno::EACCES).exit_code(), 126);
        assert_eq!(exec(Errno::ENOEXEC).exit_code(), 126);
        assert_eq!(exec(Errno::E2BIG).exit_code(), 126);
        assert_eq!(Error::UnknownUser("x".into()).exit_code(), 125);
    }

    #[test]
    fn syscall_message_names_the_call_and_the_reason() {
        let e = Error::syscall("setresgid(1001)", Errno::EPERM);
        assert_eq!(e.to_string(), "setresgid(1001): Operation not permitted");
    }
}
