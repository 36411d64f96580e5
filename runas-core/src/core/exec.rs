//! Replace runas with the target: same PID, no parent left behind.
//!
//! The PATH search runs here, after the drop, so only directories and files
//! the target user may search and execute are found, exactly as when the
//! target user runs the command itself.

use crate::base::error::{Error, Result};
use nix::errno::Errno;
use nix::unistd::execve;
use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// How the target's environment is made from runas's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvPlan {
    /// Start from nothing but [`RESET_ENV_KEPT`].
    pub clear: bool,
    /// Remove these...
    pub unset: Vec<OsString>,
    /// ...then set these, in order (later wins).
    pub set: Vec<(OsString, OsString)>,
    /// The names in `set` whose value was read from --env-file or --envdir:
    /// often secrets, which --dry-run shows only when asked.
    pub from_files: Vec<OsString>,
}

/// What --reset-env keeps: how the terminal looks, nothing that changes
/// what a program does.
pub const RESET_ENV_KEPT: [&str; 3] = ["TERM", "COLORTERM", "NO_COLOR"];

/// Used when the environment has no PATH; the same as glibc's execvp plus
/// /usr/local/bin, which every distribution puts first.
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// The name part of a `NAME=value` entry: the bytes before the first '='
/// (the whole entry if it has none).
fn entry_name(entry: &CStr) -> &[u8] {
    let bytes = entry.to_bytes();
    bytes.split(|&b| b == b'=').next().unwrap_or(bytes)
}

/// The target's environment: the inherited entries with the plan applied.
/// Inherited entries pass through as they are, byte for byte and uncopied
/// (even one without '='), but only the first of a name given twice; a
/// variable the plan unsets or sets loses every entry of that name.
pub fn build_environment<'a>(
    inherited: impl IntoIterator<Item = &'a CStr>,
    plan: &EnvPlan,
) -> Result<Vec<Cow<'a, CStr>>> {
    let changed = |name: &[u8]| {
        plan.unset
            .iter()
            .chain(plan.set.iter().map(|(key, _)| key))
            .any(|key| key.as_bytes() == name)
    };
    // One entry per name, the first, which getenv(3) and the PATH search
    // see: a shell target would otherwise import the last one. Each
    // entry's name is found once (`names`, in step with `env`): finding it
    // again at every comparison made this the costliest loop of a run.
    let inherited = inherited.into_iter();
    // Sized once: two vectors growing in turn would each be copied as it
    // grows (the allocator grows only the block allocated last in place).
    let room = inherited.size_hint().0 + plan.set.len();
    let mut env: Vec<Cow<'a, CStr>> = Vec::with_capacity(room);
    let mut names: Vec<&[u8]> = Vec::with_capacity(room);
    for entry in inherited {
        let name = entry_name(entry);
        let wanted = (!plan.clear || RESET_ENV_KEPT.iter().any(|kept| kept.as_bytes() == name))
            && !changed(name);
        if wanted && !names.contains(&name) {
            env.push(Cow::Borrowed(entry));
            names.push(name);
        }
    }
    for (key, value) in &plan.set {
        // Set twice, the later value wins: at most one entry has the name.
        if let Some(at) = names.iter().position(|name| *name == key.as_bytes()) {
            env.remove(at);
            names.remove(at);
        }
        names.push(key.as_bytes());
        let mut entry = Vec::with_capacity(key.len() + 1 + value.len());
        entry.extend_from_slice(key.as_bytes());
        entry.push(b'=');
        entry.extend_from_slice(value.as_bytes());
        env.push(Cow::Owned(c_string(entry)?));
    }
    Ok(env)
}

/// The value of the first `name=` entry, as getenv(3) finds it.
pub fn lookup<'e>(env: &'e [Cow<'_, CStr>], name: &[u8]) -> Option<&'e OsStr> {
    env.iter().find_map(|entry| {
        let bytes = entry.to_bytes();
        let value = bytes.strip_prefix(name)?.strip_prefix(b"=")?;
        Some(OsStr::from_bytes(value))
    })
}

fn c_string(bytes: Vec<u8>) -> Result<CString> {
    // Words from argv and the environment cannot hold NUL; a passwd field
    // could, in a corrupt database.
    CString::new(bytes).map_err(|e| {
        Error::Usage(format!(
            "{} contains a NUL byte",
            crate::base::quote::quote(std::ffi::OsStr::from_bytes(&e.into_vec()))
        ))
    })
}

/// The candidate paths for `program`, in the order execvp(3) tries them.
pub fn search_candidates(program: &OsStr, path: Option<&OsStr>) -> Vec<Vec<u8>> {
    let name = program.as_bytes();
    if name.contains(&b'/') {
        return vec![name.to_vec()];
    }
    let path = path.map_or(DEFAULT_PATH, OsStr::as_bytes);
    path.split(|&b| b == b':')
        .map(|dir| {
            if dir.is_empty() {
                // An empty PATH element means the current directory.
                name.to_vec()
            } else {
                let mut candidate = dir.to_vec();
                if !dir.ends_with(b"/") {
                    candidate.push(b'/');
                }
                candidate.extend_from_slice(name);
                candidate
            }
        })
        .collect()
}

/// Exec the target. Returns only on failure.
pub fn exec(argv: &[OsString], env: &EnvPlan, promise: crate::sys::WholeProgram) -> Error {
    match try_exec(argv, env, promise) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn try_exec(
    argv: &[OsString],
    env_plan: &EnvPlan,
    promise: crate::sys::WholeProgram,
) -> Result<std::convert::Infallible> {
    let program = argv
        .first()
        .ok_or_else(|| Error::Usage("missing the command to run".into()))?;
    let c_env = build_environment(crate::sys::environ(promise), env_plan)?;
    let candidates = search_candidates(program, lookup(&c_env, b"PATH"))
        .into_iter()
        .map(c_string)
        .collect::<Result<Vec<_>>>()?;
    let c_argv = argv
        .iter()
        .map(|arg| c_string(arg.clone().into_vec()))
        .collect::<Result<Vec<_>>>()?;
    let searched = search(
        program,
        &candidates,
        |candidate| {
            let Err(errno) = execve(candidate, &c_argv, &c_env);
            // execve says EACCES for a directory: name it for what it is.
            match errno {
                Errno::EACCES if directory(candidate) => Err(Errno::EISDIR),
                errno => Err(errno),
            }
        },
        visible,
    );
    searched.map_err(|error| shown_error(error, env_plan))
}

/// A failed search's error as it may be shown: where PATH was read from
/// --env-file or --envdir (a secret, like every value read from a file),
/// the directories the target could not search are not named.
pub fn shown_error(error: Error, env: &EnvPlan) -> Error {
    match error {
        Error::NotFoundUnsearchable { program, .. }
            if env.from_files.iter().any(|name| name == "PATH") =>
        {
            Error::NotFoundUnsearchableSecretPath { program }
        }
        other => other,
    }
}

/// The PATH search of execvp(3), with `attempt` standing for execve: the
/// real run's, and the dry run's prediction from file modes (predict.rs),
/// so both report a failure with the same words.
pub fn search<T>(
    program: &OsStr,
    candidates: &[CString],
    mut attempt: impl FnMut(&CStr) -> std::result::Result<T, Errno>,
    visible: impl Fn(&CStr) -> bool,
) -> Result<T> {
    // Like execvp: skip candidates that do not exist, stop at the first
    // failure of one that does. EACCES is ambiguous: a file that exists but
    // may not be executed (126), or a PATH directory the target user may not
    // search (root's PATH often holds /root/...), which only means "not
    // there as far as this user can see".
    // The first refusal of a file that exists: EACCES, or EISDIR, the
    // attempt's word for an EACCES on a directory.
    let mut denied: Option<Errno> = None;
    let mut unsearchable = Vec::new();
    let mut failure = Errno::ENOENT;
    for candidate in candidates {
        let errno = match attempt(candidate) {
            Ok(found) => return Ok(found),
            Err(errno) => errno,
        };
        match errno {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            Errno::EACCES | Errno::EISDIR if visible(candidate) => {
                denied = denied.or(Some(errno));
            }
            Errno::EACCES => {
                let dir = parent_dir(candidate);
                if !unsearchable.contains(&dir) {
                    unsearchable.push(dir);
                }
            }
            other => {
                failure = other;
                break;
            }
        }
    }
    if let (Some(errno), Errno::ENOENT) = (denied, failure) {
        failure = errno;
    }
    if failure == Errno::ENOENT && !unsearchable.is_empty() {
        return Err(Error::NotFoundUnsearchable {
            program: program.to_owned(),
            places: unsearchable,
        });
    }
    Err(Error::Exec {
        program: program.to_owned(),
        errno: failure,
    })
}

/// The directory part of a candidate, for messages.
fn parent_dir(path: &CStr) -> String {
    let bytes = path.to_bytes();
    let dir = match bytes.iter().rposition(|&b| b == b'/') {
        Some(0) => &b"/"[..],
        Some(end) => &bytes[..end],
        None => &b"."[..],
    };
    String::from_utf8_lossy(dir).into_owned()
}

/// Whether `path` is a directory, following links as execve does (after
/// the switch: the target's own view).
fn directory(path: &CStr) -> bool {
    std::fs::metadata(OsStr::from_bytes(path.to_bytes())).is_ok_and(|m| m.is_dir())
}

/// Whether the target user can see that `path` exists.
fn visible(path: &CStr) -> bool {
    std::fs::symlink_metadata(OsStr::from_bytes(path.to_bytes())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[&str]) -> Vec<CString> {
        pairs.iter().map(|e| CString::new(*e).unwrap()).collect()
    }

    fn built(inherited: &[CString], plan: &EnvPlan) -> Vec<String> {
        build_environment(inherited.iter().map(CString::as_c_str), plan)
            .unwrap()
            .iter()
            .map(|e| e.to_str().unwrap().to_owned())
            .collect()
    }

    fn candidates(program: &str, path: Option<&str>) -> Vec<String> {
        search_candidates(OsStr::new(program), path.map(OsStr::new))
            .into_iter()
            .map(|c| String::from_utf8(c).unwrap())
            .collect()
    }

    #[test]
    fn reset_keeps_only_terminal_variables_and_unset_removes() {
        let inherited = entries(&[
            "TERM=xterm",
            "LD_PRELOAD=/evil.so",
            "NO_COLOR=1",
            "KEEP=x",
            "TERMINAL=not TERM",
            "TERM",
        ]);
        let plan = EnvPlan {
            clear: true,
            set: vec![("PATH".into(), "/bin".into())],
            ..EnvPlan::default()
        };
        // The bare "TERM" is a second entry of the name TERM: dropped.
        assert_eq!(
            built(&inherited, &plan),
            ["TERM=xterm", "NO_COLOR=1", "PATH=/bin"]
        );
        let plan = EnvPlan {
            unset: vec!["LD_PRELOAD".into()],
            ..EnvPlan::default()
        };
        let env = built(&inherited, &plan);
        assert!(!env.iter().any(|e| e.starts_with("LD_PRELOAD")));
        assert_eq!(env.len(), 4);
    }

    #[test]
    fn path_is_found_as_getenv_finds_it() {
        let env: Vec<Cow<'_, CStr>> = entries(&["PATHX=/no", "PATH=/first", "PATH=/second"])
            .into_iter()
            .map(Cow::Owned)
            .collect();
        assert_eq!(lookup(&env, b"PATH"), Some(OsStr::new("/first")));
        assert_eq!(lookup(&env, b"HOME"), None);
    }

    #[test]
    fn a_nul_in_a_value_to_set_is_refused() {
        let plan = EnvPlan {
            set: vec![("HOME".into(), OsString::from_vec(b"/a\0b".to_vec()))],
            ..EnvPlan::default()
        };
        assert!(build_environment(std::iter::empty(), &plan).is_err());
    }

    #[test]
    fn a_slash_means_no_search() {
        assert_eq!(candidates("./x", Some("/bin")), ["./x"]);
        assert_eq!(candidates("/bin/true", Some("/usr/bin")), ["/bin/true"]);
    }

    #[test]
    fn path_elements_in_order_with_empty_meaning_cwd() {
        assert_eq!(
            candidates("ls", Some("/a:/b/::/c")),
            ["/a/ls", "/b/ls", "ls", "/c/ls"]
        );
        assert_eq!(
            candidates("ls", None),
            ["/usr/local/bin/ls", "/usr/bin/ls", "/bin/ls"]
        );
    }

    #[test]
    fn changes_replace_inherited_values_and_the_rest_passes_through() {
        // HOME twice (a hostile parent can do that): both go.
        let inherited = entries(&["HOME=/root", "TERM=xterm", "USER=root", "HOME=/evil"]);
        let plan = EnvPlan {
            set: vec![
                ("HOME".into(), "/home/a".into()),
                ("USER".into(), "a".into()),
                ("USER".into(), "b".into()),
            ],
            ..EnvPlan::default()
        };
        assert_eq!(
            built(&inherited, &plan),
            ["TERM=xterm", "HOME=/home/a", "USER=b"]
        );
    }

    #[test]
    fn a_name_given_twice_reaches_the_target_once_as_getenv_sees_it() {
        let inherited = entries(&["PATH=/first", "TERM=xterm", "PATH=/evil", "PATH", "ODD"]);
        assert_eq!(
            built(&inherited, &EnvPlan::default()),
            ["PATH=/first", "TERM=xterm", "ODD"]
        );
    }
}
