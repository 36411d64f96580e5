//! --env-file and --envdir: environment read from files before the switch.
//!
//! runas reads them while it still has root's rights, on the target's
//! behalf: a file the target (or anyone but root) could write or replace
//! would let it choose what root hands the next start of the service
//! (LD_PRELOAD, PATH, ...). So with root's rights the files are read under
//! trusted_path.rs's rules: reached through root-owned directories, never
//! through a link in the last component, a regular file with one name,
//! root's and writable by root alone. The same rules hold for any caller
//! that switches to another uid, privileged for reading files or not: a
//! launcher with CAP_SETUID alone still reads on behalf of a target that
//! could plant a link to the launcher's own secrets. Only where the
//! target is the caller itself (newgrp mode, --if-root's caller branch, a
//! group switch) is a file read with the caller's own rights, as the
//! caller could read it anyway.
//!
//! The syntax of each is in envfile.rs. The changes then apply in
//! command-line order with -e and --unset (plan.rs).

use crate::base::error::{Error, Result};
use crate::core::accounts::db::UserDb;
use crate::core::facts::Facts;
use crate::options::envfile;
use crate::request::spec::EnvChange;
use std::ffi::OsString;
use std::path::Path;

/// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: either reads any file.
const READS_ANY_FILE: u64 = (1 << 1) | (1 << 2);

/// Whether the files must pass the trusted-path rules: this process reads
/// with more than a user's rights, or on behalf of another uid.
pub fn trusted_rules(facts: &Facts, target_uid: u32) -> bool {
    facts.credentials.uid.effective == 0
        || facts.caps.effective & READS_ANY_FILE != 0
        || target_uid != facts.credentials.uid.effective
}

/// One variable set (`Some`) or removed (`None`), and where that was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: OsString,
    pub value: Option<OsString>,
    /// The file it came from; `None` for -e and --unset.
    pub file: Option<std::path::PathBuf>,
}

fn unsafe_path(
    option: &'static str,
    path: &Path,
) -> impl FnOnce(crate::paths::trusted::Problem) -> Error {
    let path = path.to_owned();
    move |problem| Error::UnsafePath {
        option,
        path,
        problem,
    }
}

/// The changes with every file read, in command-line order. `restricted`:
/// newgrp mode, where a file may be read only with the caller's rights
/// and may not set what the C library removes in secure-execution mode.
pub fn resolve(
    changes: &[EnvChange],
    db: &dyn UserDb,
    trusted: bool,
    restricted: bool,
) -> Result<Vec<Resolved>> {
    let mut resolved = Vec::new();
    for change in changes {
        match change {
            EnvChange::Set(name, value) => resolved.push(Resolved {
                name: name.clone(),
                value: Some(value.clone()),
                file: None,
            }),
            EnvChange::Unset(name) => resolved.push(Resolved {
                name: name.clone(),
                value: None,
                file: None,
            }),
            EnvChange::File(path) | EnvChange::Dir(path) => {
                let option = match change {
                    EnvChange::File(_) => "--env-file",
                    _ => "--envdir",
                };
                if restricted && trusted {
                    return Err(crate::options::newgrp::refuse(&format!(
                        "{option} with a file capability that reads any file"
                    )));
                }
                let start = resolved.len();
                if let EnvChange::File(_) = change {
                    let text = db
                        .env_file(path, trusted)
                        .map_err(unsafe_path(option, path))?;
                    let pairs = envfile::parse_environment_file(&text).map_err(|e| {
                        Error::Usage(format!(
                            "--env-file {}: {e}",
                            crate::base::quote::quote(path)
                        ))
                    })?;
                    resolved.extend(pairs.into_iter().map(|(name, value)| Resolved {
                        name,
                        value: Some(value),
                        file: Some(path.clone()),
                    }));
                } else {
                    let entries = db
                        .env_dir(path, trusted)
                        .map_err(unsafe_path(option, path))?;
                    resolved.extend(entries.into_iter().map(|(name, bytes)| Resolved {
                        name,
                        value: envfile::envdir_value(&bytes),
                        file: Some(path.clone()),
                    }));
                }
                if restricted
                    && let Some(bad) = resolved[start..]
                        .iter()
                        .find(|r| r.value.is_some() && crate::options::newgrp::is_unsecure(&r.name))
                {
                    return Err(crate::options::newgrp::refuse(&format!(
                        "{option} {} setting {}",
                        crate::base::quote::quote(path),
                        crate::base::quote::text_str(&bad.name.to_string_lossy())
                    )));
                }
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeDb;

    #[test]
    fn files_expand_in_place_in_command_line_order() {
        let db = FakeDb::default()
            .file("/etc/app.env", "A=from-file\nB='two words'\n")
            .file("/etc/app.d/C", "dir value  \nsecond line")
            .file("/etc/app.d/A", "");
        let changes = vec![
            EnvChange::Set("A".into(), "first".into()),
            EnvChange::File("/etc/app.env".into()),
            EnvChange::Dir("/etc/app.d".into()),
            EnvChange::Set("B".into(), "last".into()),
        ];
        let got: Vec<(String, Option<String>)> = resolve(&changes, &db, true, false)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.name.to_string_lossy().into_owned(),
                    r.value.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let pair = |n: &str, v: Option<&str>| (n.to_owned(), v.map(str::to_owned));
        assert_eq!(
            got,
            [
                pair("A", Some("first")),
                pair("A", Some("from-file")),
                pair("B", Some("two words")),
                pair("A", None),
                pair("C", Some("dir value")),
                pair("B", Some("last")),
            ]
        );
    }

    #[test]
    fn a_missing_file_or_bad_syntax_is_an_error_naming_the_file() {
        let db = FakeDb::default().file("/etc/bad.env", "export A=1\n");
        let err = resolve(&[EnvChange::File("/etc/none".into())], &db, true, false).unwrap_err();
        assert!(
            err.to_string().starts_with("--env-file \"/etc/none\""),
            "{err}"
        );
        let err = resolve(&[EnvChange::File("/etc/bad.env".into())], &db, true, false).unwrap_err();
        assert!(err.to_string().contains("\"/etc/bad.env\""), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn newgrp_mode_reads_as_the_caller_and_sets_nothing_unsecure() {
        let db = FakeDb::default().file("/home/u/app.env", "LD_PRELOAD=/tmp/x.so\n");
        let file = [EnvChange::File("/home/u/app.env".into())];
        let err = resolve(&file, &db, false, true).unwrap_err();
        assert!(err.to_string().contains("LD_PRELOAD"), "{err}");
        assert!(err.to_string().contains("newgrp mode"), "{err}");
        let err = resolve(&file, &db, true, true).unwrap_err();
        assert!(err.to_string().contains("reads any file"), "{err}");
    }
}
