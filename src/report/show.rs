//! --dump and --dry-run: the credential model made visible, as text or as
//! one JSON object (field names are documented in the README and pinned by
//! a test). Each builds one list of fields (model.rs), rendered either way.

use crate::accounts::db::UserDb;
use crate::base::error::{Error, Result};
use crate::base::quote::{json_str, text_str};
use crate::core::steps::Step;
use crate::core::transition;
use crate::options::resources;
use crate::report::Outcome;
use crate::report::model::{Field, Text, Value, render, step_value};
use crate::request::caps::{CapSet, ROOT_EQUIVALENT};
use crate::request::ids::{Gid, Uid};
use crate::sys;
use std::ffi::OsStr;

/// Names for display only, from the same reader the plan used (in the
/// static build, files.rs rather than musl's reader). A name that cannot
/// be looked up is shown as missing; it decides nothing.
fn user(db: &dyn UserDb, uid: Uid) -> Value {
    Value::Id(
        uid.raw(),
        db.user_by_uid(uid).ok().flatten().map(|u| u.name),
    )
}

fn group(db: &dyn UserDb, gid: Gid) -> Value {
    Value::Id(gid.raw(), db.group_name(gid).ok().flatten())
}

/// A supplementary list with names, looked up in one pass (a user may be
/// in thousands of groups).
fn groups(db: &dyn UserDb, gids: &[Gid]) -> Value {
    Value::List(
        gids.iter()
            .zip(db.group_names(gids))
            .map(|(gid, name)| Value::Id(gid.raw(), name))
            .collect(),
    )
}

/// Capability names, as JSON lists them.
pub fn caps(set: CapSet) -> Value {
    Value::List(set.iter().map(|cap| Value::str(cap.name())).collect())
}

/// A limit: a number, or the string "unlimited".
fn limit_value(value: u64) -> Value {
    if value == resources::UNLIMITED {
        Value::str("unlimited")
    } else {
        Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

fn os(text: &OsStr) -> Value {
    Value::str(text.to_string_lossy())
}

/// Fields of /proc/self/status and /proc/self/stat that no system call
/// returns as directly.
struct ProcView {
    status: String,
    stat_fields: Vec<String>,
}

impl ProcView {
    fn read() -> Result<ProcView> {
        let read = |f: &str| {
            std::fs::read_to_string(f).map_err(|e| Error::Io {
                what: format!("--dump reads {f} (is /proc mounted?)"),
                source: e,
            })
        };
        let status = read("/proc/self/status")?;
        let stat = read("/proc/self/stat")?;
        // Fields after the command name, which is in parentheses and may
        // itself hold spaces: state, ppid, pgrp, session, tty_nr, tpgid...
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        Ok(ProcView {
            status,
            stat_fields: rest.split_whitespace().map(str::to_owned).collect(),
        })
    }

    fn status(&self, key: &str) -> &str {
        self.status
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .map_or("", str::trim)
    }

    fn stat(&self, index: usize) -> i64 {
        self.stat_fields
            .get(index)
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1)
    }

    fn ids(&self, key: &str) -> Vec<u32> {
        self.status(key)
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect()
    }

    fn mask(&self, key: &str) -> u64 {
        u64::from_str_radix(self.status(key), 16).unwrap_or(0)
    }
}

/// The name of a terminal from its device number, as ps shows it.
fn tty_name(tty_nr: i64) -> Option<String> {
    if tty_nr <= 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("{major}:{minor}"),
    })
}

/// --dump: this process's identity and process model.
pub fn dump(json: bool, db: &dyn UserDb) -> Result<String> {
    let proc = ProcView::read()?;
    let uids = proc.ids("Uid");
    let gids = proc.ids("Gid");
    let supplementary: Vec<Gid> = proc.ids("Groups").into_iter().map(Gid::new).collect();
    let mut fields = session_fields(&proc);
    fields.push(ids_field("uid", &uids, &|uid| user(db, Uid::new(uid))));
    fields.push(ids_field("gid", &gids, &|gid| group(db, Gid::new(gid))));
    fields.push(Field::plain("groups", groups(db, &supplementary)));
    fields.extend(privilege_fields(&proc, uids.first() == Some(&0))?);
    // The branch runas --if-root takes when started like this process.
    let switches = uids
        .first()
        .is_some_and(|&uid| crate::core::plan::if_root_switches(Uid::new(uid)));
    fields.push(Field::with_text(
        "if_root",
        Value::str(if switches { "switch" } else { "caller" }),
        Text::Lines(vec![format!(
            "if-root: {}",
            if switches {
                "switch (real uid 0: runas --if-root here makes the switch)"
            } else {
                "caller (real uid not 0: runas --if-root here runs the command as this identity)"
            }
        )]),
    ));
    fields.extend(resource_fields(&resources::Current::read()?));
    Ok(render(&fields, json))
}

/// The process, its group, session and terminal.
fn session_fields(proc: &ProcView) -> Vec<Field> {
    let (ppid, pgid, sid, tty_nr, tpgid) = (
        proc.stat(1),
        proc.stat(2),
        proc.stat(3),
        proc.stat(4),
        proc.stat(5),
    );
    let tty = tty_name(tty_nr);
    vec![
        Field::plain("pid", Value::Int(std::process::id().into())),
        Field::plain("ppid", Value::Int(ppid)),
        Field::plain("pgid", Value::Int(pgid)),
        Field::plain("sid", Value::Int(sid)),
        Field::with_text(
            "tty",
            Value::opt(tty.clone(), Value::Str),
            Text::Lines(vec![match &tty {
                Some(name) => format!("tty: {name} (foreground process group {tpgid})"),
                None => "tty: none".into(),
            }]),
        ),
        Field::with_text(
            "foreground_pgid",
            if tty.is_some() && tpgid > 0 {
                Value::Int(tpgid)
            } else {
                Value::Null
            },
            Text::Omitted,
        ),
    ]
}

/// Real, effective, saved and filesystem ids, with their names.
fn ids_field(label: &'static str, values: &[u32], named: &dyn Fn(u32) -> Value) -> Field {
    let which = ["real", "effective", "saved", "filesystem"];
    let fields: Vec<(&'static str, Value)> = which
        .iter()
        .zip(values)
        .map(|(w, v)| (*w, named(*v)))
        .collect();
    let line = fields
        .iter()
        .map(|(w, v)| format!("{w}={}", v.text()))
        .collect::<Vec<_>>()
        .join(" ");
    Field::with_text(
        label,
        Value::Object(fields),
        Text::Lines(vec![format!("{label}: {line}")]),
    )
}

/// The capability sets, securebits, no_new_privs and the umask.
fn privilege_fields(proc: &ProcView, root: bool) -> Result<Vec<Field>> {
    let now = crate::core::facts::read_caps()?;
    let securebits =
        sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
    let sets = [
        ("effective", now.effective),
        ("permitted", now.permitted),
        ("inheritable", now.inheritable),
        ("ambient", CapSet::from_bits(proc.mask("CapAmb"))),
        ("bounding", CapSet::from_bits(proc.mask("CapBnd"))),
    ];
    // Held capabilities with which this process could make itself root.
    let root_equivalent = now.permitted & ROOT_EQUIVALENT;
    let mut lines: Vec<String> = sets
        .iter()
        .map(|(label, set)| format!("capabilities {label}: {}", set.describe()))
        .collect();
    lines.push(format!(
        "capabilities amounting to root: {}{}",
        root_equivalent.describe(),
        if !root_equivalent.is_empty() && !root {
            " (this process can make itself root again)"
        } else {
            ""
        }
    ));
    let mut values: Vec<(&'static str, Value)> = sets
        .iter()
        .map(|(label, set)| (*label, caps(*set)))
        .collect();
    values.push(("root_equivalent", caps(root_equivalent)));
    let umask = proc.status("Umask").to_owned();
    Ok(vec![
        Field::with_text("capabilities", Value::Object(values), Text::Lines(lines)),
        Field::with_text(
            "securebits",
            Value::Int(securebits.into()),
            Text::Lines(vec![format!("securebits: {securebits:#x}")]),
        ),
        Field::plain(
            "no_new_privs",
            Value::Bool(proc.status("NoNewPrivs") == "1"),
        ),
        Field::with_text(
            "umask",
            Value::str(&umask),
            Text::Lines(vec![format!("umask: {umask}")]),
        ),
    ])
}

/// Limits, nice value, OOM score adjustment, I/O priority, CPUs.
fn resource_fields(current: &resources::Current) -> Vec<Field> {
    let limits = current
        .limits
        .iter()
        .map(|(name, soft, hard)| {
            (
                *name,
                Value::Object(vec![
                    ("soft", limit_value(*soft)),
                    ("hard", limit_value(*hard)),
                ]),
            )
        })
        .collect();
    let cpus = resources::format_cpu_list(&current.cpu_affinity);
    let mut cpu_lines = vec![format!("cpu affinity: {cpus}")];
    cpu_lines.extend(current.limits.iter().map(|(name, soft, hard)| {
        format!(
            "limit {name}: soft={} hard={}",
            resources::format_limit(*soft),
            resources::format_limit(*hard)
        )
    }));
    vec![
        Field::with_text("limits", Value::Object(limits), Text::Omitted),
        Field::plain("nice", Value::Int(current.nice.into())),
        Field::with_text(
            "oom_score_adj",
            Value::opt(current.oom_score_adj, |s| Value::Int(s.into())),
            Text::Lines(vec![format!(
                "oom_score_adj: {}",
                current
                    .oom_score_adj
                    .map_or("unknown (no /proc)".into(), |s| s.to_string())
            )]),
        ),
        Field::with_text(
            "ioprio",
            Value::opt(current.ioprio, |p| Value::str(p.to_string())),
            Text::Lines(vec![format!(
                "ioprio: {}",
                current.ioprio.map_or_else(
                    || "none (from the nice value)".to_owned(),
                    |p| p.to_string()
                )
            )]),
        ),
        Field::with_text("cpu_affinity", Value::str(cpus), Text::Lines(cpu_lines)),
    ]
}

/// How --dry-run prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Report {
    pub json: bool,
    /// --show-env-values: the values read from files too.
    pub show_env_values: bool,
}

/// --dry-run: the whole plan, and the steps a real run executes, in
/// order (the same list, steps.rs). A value read from --env-file or
/// --envdir is shown only with --show-env-values: such files hold the
/// service's secrets, and a dry run's output goes to terminals, CI logs
/// and the journal. `options`: each option's report field, from the
/// option table (cli/).
pub fn dry_run(
    outcome: &Outcome<'_>,
    report: Report,
    options: Vec<(&'static str, Value)>,
    db: &dyn UserDb,
    promise: crate::sys::WholeProgram,
) -> Result<String> {
    let plan = outcome.plan;
    // What a real run reads from /proc only once a call failed: a user
    // namespace's maps.
    transition::check_namespace(plan, &outcome.facts.credentials)?;
    let warnings = crate::report::predict::predict(outcome, promise)?;
    let mut fields = vec![Field::with_text("valid", Value::Bool(true), Text::Omitted)];
    fields.extend(branch_fields(outcome));
    fields.extend([
        Field::plain("uid", user(db, plan.uid)),
        Field::plain("gid", group(db, plan.gid)),
        Field::plain("groups", groups(db, &plan.groups)),
        environment_field(&outcome.options.env, report.show_env_values),
    ]);
    // The text lists the options with the steps, after the command.
    let mut lines = vec!["options:".to_owned()];
    lines.extend(options.iter().map(|(k, v)| format!("  {k}: {}", v.json())));
    fields.push(Field::with_text(
        "options",
        Value::Object(options),
        Text::Omitted,
    ));
    fields.push(Field::with_text(
        "command",
        Value::List(outcome.command.iter().map(|c| os(c)).collect()),
        Text::Lines(vec![format!(
            "command: {}",
            outcome
                .command
                .iter()
                .map(|c| json_str(&c.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" ")
        )]),
    ));
    let shown: Vec<_> = outcome.steps.iter().map(Step::shown).collect();
    lines.push("steps, in order:".to_owned());
    // Each step's text quotes what it holds (quote.rs), which escapes
    // control characters already.
    lines.extend(shown.iter().map(|s| format!("  {s}")));
    fields.push(Field::with_text(
        "steps",
        Value::List(shown.iter().map(step_value).collect()),
        Text::Lines(lines),
    ));
    let mut lines = Vec::new();
    if !warnings.is_empty() {
        lines.push("warnings:".to_owned());
        lines.extend(warnings.iter().map(|w| format!("  {w}")));
    }
    fields.push(Field::with_text(
        "warnings",
        Value::List(warnings.iter().map(Value::str).collect()),
        Text::Lines(lines),
    ));
    Ok(render(&fields, report.json))
}

/// Whether the switch can be undone, and what --if-root decided.
fn branch_fields(outcome: &Outcome<'_>) -> [Field; 3] {
    let plan = outcome.plan;
    // Whether the target can never take back what it gave up: not for a
    // root target, nor one that keeps a capability amounting to root.
    let irreversible = plan.irreversible();
    let why = match (irreversible, plan.uid) {
        (true, _) if plan.branch.if_root == Some(false) => {
            "yes: no ids change (--if-root, and the caller is not root), and none of root's are held".to_owned()
        }
        (true, _) => "yes: the old ids cannot be taken back (verified before exec)".to_owned(),
        (false, Uid::ROOT) => "no: the target is root".to_owned(),
        (false, _) => format!(
            "no: the target keeps {}, which amounts to root",
            (plan.privileges.keep_caps & ROOT_EQUIVALENT).describe()
        ),
    };
    let (value, lines) = match plan.branch.if_root {
        None => (Value::Null, vec![]),
        Some(true) => (
            Value::str("switch"),
            vec!["if-root: the caller is root: the switch is made".to_owned()],
        ),
        Some(false) => (
            Value::str("caller"),
            vec![format!(
                "if-root: the caller (uid {}) is not root: the command runs as the caller; not applied: {}",
                outcome.facts.credentials.uid.real,
                if plan.branch.not_applied.is_empty() {
                    "nothing given".to_owned()
                } else {
                    plan.branch.not_applied.join(", ")
                }
            )],
        ),
    };
    let not_applied = plan
        .branch
        .not_applied
        .iter()
        .map(|n| Value::str(*n))
        .collect();
    [
        Field::with_text(
            "irreversible",
            Value::Bool(irreversible),
            Text::Lines(vec![format!("irreversible: {why}")]),
        ),
        Field::with_text("if_root", value, Text::Lines(lines)),
        Field::with_text("not_applied", Value::List(not_applied), Text::Omitted),
    ]
}

/// The environment the command gets. A value read from a file is hidden
/// (null in JSON) unless `show_values`.
fn environment_field(env: &crate::core::exec::EnvPlan, show_values: bool) -> Field {
    let set: Vec<(String, Option<String>)> = env
        .set
        .iter()
        .map(|(k, v)| {
            let hidden = !show_values && env.from_files.contains(k);
            (
                k.to_string_lossy().into_owned(),
                (!hidden).then(|| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let mut lines = vec![format!(
        "environment: {}",
        if env.clear { "reset" } else { "inherited" }
    )];
    for (k, v) in &set {
        lines.push(match v {
            Some(v) => format!("  set {}={}", text_str(k), text_str(v)),
            None => format!(
                "  set {} (from a file; --show-env-values shows the value)",
                text_str(k)
            ),
        });
    }
    for name in &env.unset {
        lines.push(format!("  unset {}", text_str(&name.to_string_lossy())));
    }
    let value = Value::Object(vec![
        ("clear", Value::Bool(env.clear)),
        (
            "set",
            Value::Map(
                set.into_iter()
                    .map(|(k, v)| (k, Value::opt(v, Value::Str)))
                    .collect(),
            ),
        ),
        (
            "unset",
            Value::List(env.unset.iter().map(|u| os(u)).collect()),
        ),
        (
            "from_files",
            Value::List(env.from_files.iter().map(|u| os(u)).collect()),
        ),
    ]);
    Field::with_text("environment", value, Text::Lines(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tty_names() {
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name((136 << 8) | 3), Some("pts/3".into()));
        assert_eq!(tty_name((4 << 8) | 1), Some("tty1".into()));
    }
}
