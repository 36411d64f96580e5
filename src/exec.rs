//! Replace runas with the target: same PID, no parent left behind.
//!
//! The PATH search runs here, after the drop, so only directories and files
//! the target user may search and execute are found, exactly as when the
//! target user runs the command itself.

use crate::error::{Error, Result};
use crate::plan::{EnvPlan, RESET_ENV_KEPT};
use nix::errno::Errno;
use nix::unistd::execve;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Used when the environment has no PATH; the same as glibc's execvp plus
/// /usr/local/bin, which every distribution puts first.
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// The target's environment: the inherited one with the plan applied.
pub fn build_environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    plan: &EnvPlan,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = inherited
        .into_iter()
        .filter(|(key, _)| !plan.clear || RESET_ENV_KEPT.iter().any(|kept| key == kept))
        .filter(|(key, _)| !plan.unset.contains(key))
        .collect();
    for (key, value) in &plan.set {
        env.retain(|(existing, _)| existing != key);
        env.push((key.clone(), value.clone()));
    }
    env
}

fn c_string(bytes: Vec<u8>) -> Result<CString> {
    // Words from argv and the environment cannot hold NUL; a passwd field
    // could, in a corrupt database.
    CString::new(bytes).map_err(|e| {
        Error::Usage(format!(
            "{:?} contains a NUL byte",
            String::from_utf8_lossy(&e.into_vec())
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
pub fn exec(argv: &[OsString], env: &EnvPlan) -> Error {
    match try_exec(argv, env) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn try_exec(argv: &[OsString], env_plan: &EnvPlan) -> Result<std::convert::Infallible> {
    let program = argv
        .first()
        .ok_or_else(|| Error::Usage("missing the command to run".into()))?;
    let env = build_environment(std::env::vars_os(), env_plan);
    let path = env
        .iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value.as_os_str());
    let candidates = search_candidates(program, path);

    let c_argv = argv
        .iter()
        .map(|arg| c_string(arg.clone().into_vec()))
        .collect::<Result<Vec<_>>>()?;
    let c_env = env
        .into_iter()
        .map(|(key, value)| {
            let mut entry = key.into_vec();
            entry.push(b'=');
            entry.extend(value.into_vec());
            c_string(entry)
        })
        .collect::<Result<Vec<_>>>()?;

    // Like execvp: skip candidates that do not exist, stop at the first
    // failure of one that does. EACCES is ambiguous: a file that exists but
    // may not be executed (126), or a PATH directory the target user may not
    // search (root's PATH often holds /root/...), which only means "not
    // there as far as this user can see".
    let mut denied = false;
    let mut unsearchable = Vec::new();
    let mut failure = Errno::ENOENT;
    for candidate in candidates {
        let candidate = c_string(candidate)?;
        let Err(errno) = execve(&candidate, &c_argv, &c_env);
        match errno {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            Errno::EACCES if visible(&candidate) => denied = true,
            Errno::EACCES => {
                let dir = parent_dir(&candidate);
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
    if denied && failure == Errno::ENOENT {
        failure = Errno::EACCES;
    }
    if failure == Errno::ENOENT && !unsearchable.is_empty() {
        return Err(Error::NotFoundUnsearchable {
            program: program.clone(),
            places: unsearchable,
        });
    }
    Err(Error::Exec {
        program: program.clone(),
        source: failure,
    })
}

/// The directory part of a candidate, for messages.
fn parent_dir(path: &CString) -> String {
    let bytes = path.as_bytes();
    let dir = match bytes.iter().rposition(|&b| b == b'/') {
        Some(0) => &b"/"[..],
        Some(end) => &bytes[..end],
        None => &b"."[..],
    };
    String::from_utf8_lossy(dir).into_owned()
}

/// Whether the target user can see that `path` exists.
fn visible(path: &CString) -> bool {
    std::fs::symlink_metadata(OsStr::from_bytes(path.as_bytes())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(program: &str, path: Option<&str>) -> Vec<String> {
        search_candidates(OsStr::new(program), path.map(OsStr::new))
            .into_iter()
            .map(|c| String::from_utf8(c).unwrap())
            .collect()
    }

    #[test]
    fn reset_keeps_only_terminal_variables_and_unset_removes() {
        let inherited = vec![
            ("TERM".into(), "xterm".into()),
            ("LD_PRELOAD".into(), "/evil.so".into()),
            ("NO_COLOR".into(), "1".into()),
            ("KEEP".into(), "x".into()),
        ];
        let plan = EnvPlan {
            clear: true,
            set: vec![("PATH".into(), "/bin".into())],
            ..EnvPlan::default()
        };
        let env = build_environment(inherited.clone(), &plan);
        let keys: Vec<_> = env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(keys, ["TERM", "NO_COLOR", "PATH"]);
        let plan = EnvPlan {
            unset: vec!["LD_PRELOAD".into()],
            ..EnvPlan::default()
        };
        let env = build_environment(inherited, &plan);
        assert!(!env.iter().any(|(k, _)| k == "LD_PRELOAD"));
        assert_eq!(env.len(), 3);
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
        let inherited = vec![
            ("HOME".into(), "/root".into()),
            ("TERM".into(), "xterm".into()),
            ("USER".into(), "root".into()),
        ];
        let plan = EnvPlan {
            set: vec![
                ("HOME".into(), "/home/a".into()),
                ("USER".into(), "a".into()),
            ],
            ..EnvPlan::default()
        };
        let env = build_environment(inherited, &plan);
        let home: Vec<_> = env.iter().filter(|(k, _)| k == "HOME").collect();
        assert_eq!(home.len(), 1);
        assert_eq!(home[0].1, "/home/a");
        assert!(env.iter().any(|(k, v)| k == "TERM" && v == "xterm"));
        assert_eq!(env.len(), 3);
    }
}
