//! --dump and --dry-run: the credential model made visible, as text or as
//! one JSON object (field names are documented in the README and pinned by
//! a test).

use crate::base::error::{Error, Result};
use crate::base::quote::{json_str, text_str};
use crate::core::accounts::db::UserDb;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Step;
use crate::core::transition;
use crate::request::caps;
use crate::request::spec::Session;
use crate::sys;
use std::ffi::OsStr;
use std::fmt::Write as _;

fn json_os(s: &OsStr) -> String {
    json_str(&s.to_string_lossy())
}

fn json_list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(","))
}

/// Names for display only, from the same reader the plan used (in the
/// static build, files.rs rather than musl's reader). A name that cannot
/// be looked up is shown as missing; it decides nothing.
struct Names<'a>(&'a dyn UserDb);

impl Names<'_> {
    fn user(&self, uid: u32) -> Option<String> {
        self.0.user_by_uid(uid).ok().flatten().map(|u| u.name)
    }

    fn group(&self, gid: u32) -> Option<String> {
        self.0.group_name(gid).ok().flatten()
    }
}

fn id_text(id: u32, name: Option<String>) -> String {
    match name {
        Some(name) => format!("{id}({})", text_str(&name)),
        None => id.to_string(),
    }
}

fn id_json(id: u32, name: Option<String>) -> String {
    format!(
        "{{\"id\":{id},\"name\":{}}}",
        name.map_or("null".to_owned(), |n| json_str(&n))
    )
}

/// A supplementary list with names, looked up in one pass (a user may be
/// in thousands of groups).
fn groups_json(groups: &[u32], db: &dyn UserDb) -> String {
    let names = db.group_names(groups);
    let items: Vec<String> = groups
        .iter()
        .zip(names)
        .map(|(g, name)| id_json(*g, name))
        .collect();
    format!("[{}]", items.join(","))
}

fn groups_text(groups: &[u32], db: &dyn UserDb) -> Vec<String> {
    let names = db.group_names(groups);
    groups
        .iter()
        .zip(names)
        .map(|(g, name)| id_text(*g, name))
        .collect()
}

fn cap_names(mask: u64) -> Vec<String> {
    caps::each(mask).map(caps::name).collect()
}

fn caps_json(mask: u64) -> String {
    json_list(&cap_names(mask), |n| json_str(n))
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
    let names = Names(db);
    let user_name = |uid| names.user(uid);
    let group_name = |gid| names.group(gid);
    let proc = ProcView::read()?;
    let caps = sys::capget().map_err(|e| Error::syscall("capget", e))?;
    let securebits =
        sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
    let uids = proc.ids("Uid");
    let gids = proc.ids("Gid");
    let groups = proc.ids("Groups");
    let (ppid, pgid, sid, tty_nr, tpgid) = (
        proc.stat(1),
        proc.stat(2),
        proc.stat(3),
        proc.stat(4),
        proc.stat(5),
    );
    let pid = std::process::id();
    let tty = tty_name(tty_nr);
    let ambient = proc.mask("CapAmb");
    let bounding = proc.mask("CapBnd");
    let no_new_privs = proc.status("NoNewPrivs") == "1";
    let umask = proc.status("Umask").to_owned();
    // Held capabilities with which this process could make itself root.
    let root_equivalent = caps.permitted & caps::root_equivalent();
    // The branch runas --if-root takes when started like this process.
    let if_root_switches = uids
        .first()
        .is_some_and(|&uid| crate::core::plan::if_root_switches(uid));
    let current = crate::options::resources::Current::read()?;
    let ioprio = current.ioprio.map_or_else(
        || "none (from the nice value)".to_owned(),
        |p| p.to_string(),
    );
    let which = ["real", "effective", "saved", "filesystem"];
    if json {
        let limits = current
            .limits
            .iter()
            .map(|(name, soft, hard)| {
                format!(
                    "{}:{{\"soft\":{},\"hard\":{}}}",
                    json_str(name),
                    crate::options::resources::limit_json(*soft),
                    crate::options::resources::limit_json(*hard)
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let resources = format!(
            "\"limits\":{{{limits}}},\"nice\":{},\"oom_score_adj\":{},\"ioprio\":{},\"cpu_affinity\":{}",
            current.nice,
            current
                .oom_score_adj
                .map_or("null".into(), |s| s.to_string()),
            current
                .ioprio
                .map_or("null".into(), |p| json_str(&p.to_string())),
            json_str(&crate::options::resources::format_cpu_list(
                &current.cpu_affinity
            )),
        );
        let ids = |values: &[u32], name: &dyn Fn(u32) -> Option<String>| {
            let fields: Vec<String> = which
                .iter()
                .zip(values)
                .map(|(w, v)| format!("{}:{}", json_str(w), id_json(*v, name(*v))))
                .collect();
            format!("{{{}}}", fields.join(","))
        };
        return Ok(format!(
            "{{\"pid\":{pid},\"ppid\":{ppid},\"pgid\":{pgid},\"sid\":{sid},\"tty\":{},\"foreground_pgid\":{},\"uid\":{},\"gid\":{},\"groups\":{},\"capabilities\":{{\"effective\":{},\"permitted\":{},\"inheritable\":{},\"ambient\":{},\"bounding\":{},\"root_equivalent\":{}}},\"securebits\":{securebits},\"no_new_privs\":{no_new_privs},\"umask\":{},\"if_root\":{},{resources}}}\n",
            tty.as_deref().map_or("null".to_owned(), json_str),
            if tty.is_some() && tpgid > 0 {
                tpgid.to_string()
            } else {
                "null".into()
            },
            ids(&uids, &user_name),
            ids(&gids, &group_name),
            groups_json(&groups, db),
            caps_json(caps.effective),
            caps_json(caps.permitted),
            caps_json(caps.inheritable),
            caps_json(ambient),
            caps_json(bounding),
            caps_json(root_equivalent),
            json_str(&umask),
            json_str(if if_root_switches { "switch" } else { "caller" }),
        ));
    }
    let mut out = String::new();
    let _ = writeln!(out, "pid: {pid}\nppid: {ppid}\npgid: {pgid}\nsid: {sid}");
    match &tty {
        Some(name) => {
            let _ = writeln!(out, "tty: {name} (foreground process group {tpgid})");
        }
        None => out.push_str("tty: none\n"),
    }
    for (label, values, name) in [
        ("uid", &uids, &user_name as &dyn Fn(u32) -> Option<String>),
        ("gid", &gids, &group_name),
    ] {
        let parts: Vec<String> = which
            .iter()
            .zip(values.iter())
            .map(|(w, v)| format!("{w}={}", id_text(*v, name(*v))))
            .collect();
        let _ = writeln!(out, "{label}: {}", parts.join(" "));
    }
    let names = groups_text(&groups, db);
    let _ = writeln!(
        out,
        "groups: {}",
        if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        }
    );
    for (label, mask) in [
        ("effective", caps.effective),
        ("permitted", caps.permitted),
        ("inheritable", caps.inheritable),
        ("ambient", ambient),
        ("bounding", bounding),
    ] {
        let _ = writeln!(out, "capabilities {label}: {}", caps::describe(mask));
    }
    let _ = writeln!(
        out,
        "capabilities amounting to root: {}{}",
        caps::describe(root_equivalent),
        if root_equivalent != 0 && uids.first() != Some(&0) {
            " (this process can make itself root again)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "securebits: {securebits:#x}");
    let _ = writeln!(out, "no_new_privs: {}", u8::from(no_new_privs));
    let _ = writeln!(out, "umask: {umask}");
    let _ = writeln!(out, "nice: {}", current.nice);
    let _ = writeln!(
        out,
        "oom_score_adj: {}",
        current
            .oom_score_adj
            .map_or("unknown (no /proc)".into(), |s| s.to_string())
    );
    let _ = writeln!(out, "ioprio: {ioprio}");
    let _ = writeln!(
        out,
        "cpu affinity: {}",
        crate::options::resources::format_cpu_list(&current.cpu_affinity)
    );
    for (name, soft, hard) in &current.limits {
        let _ = writeln!(
            out,
            "limit {name}: soft={} hard={}",
            crate::options::resources::format_limit(*soft),
            crate::options::resources::format_limit(*hard)
        );
    }
    let _ = writeln!(
        out,
        "if-root: {}",
        if if_root_switches {
            "switch (real uid 0: runas --if-root here makes the switch)"
        } else {
            "caller (real uid not 0: runas --if-root here runs the command as this identity)"
        }
    );
    Ok(out)
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
/// and the journal.
pub fn dry_run(
    plan: &Plan,
    steps: &[Step],
    facts: &Facts,
    command: &[std::ffi::OsString],
    report: Report,
    db: &dyn UserDb,
    promise: crate::sys::WholeProgram,
) -> Result<String> {
    let names = Names(db);
    let user_name = |uid| names.user(uid);
    let group_name = |gid| names.group(gid);
    // What a real run reads from /proc only once a call failed: a user
    // namespace's maps.
    transition::check_namespace(plan, &facts.credentials)?;
    let warnings = crate::report::predict::predict(plan, steps, facts, command, promise)?;
    let calls: Vec<String> = steps.iter().map(ToString::to_string).collect();
    let detach = steps.iter().any(|s| {
        matches!(
            s,
            Step::DetachTerminal(_) | Step::NewSession { why: Some(_), .. }
        )
    });

    let json = report.json;
    // A hidden value is None: null in JSON.
    let env_set: Vec<(String, Option<String>)> = plan
        .env
        .set
        .iter()
        .map(|(k, v)| {
            let hidden = !report.show_env_values && plan.env.from_files.contains(k);
            (
                k.to_string_lossy().into_owned(),
                (!hidden).then(|| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let p = &plan.process;
    // Whether the target can never take back what it gave up: not for a
    // root target, nor one that keeps a capability amounting to root.
    let irreversible = plan.uid != 0 && p.keep_caps & caps::root_equivalent() == 0;
    let limits = steps
        .iter()
        .filter_map(|s| match s {
            Step::Resource(crate::options::resources::Setting::Rlimit {
                resource,
                soft,
                hard,
            }) => Some(format!(
                "{}:{{\"soft\":{},\"hard\":{}}}",
                json_str(crate::options::resources::limit_name(*resource)),
                crate::options::resources::limit_json(*soft),
                crate::options::resources::limit_json(*hard)
            )),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(",");
    let r = &p.resources;
    let options: Vec<(&str, String)> = vec![
        ("keep_caps", caps_json(p.keep_caps)),
        ("allow_root_caps", caps_json(p.allow_root_caps)),
        ("bounding_drop", caps_json(p.bounding_drop)),
        ("securebits_set", p.securebits.set.to_string()),
        ("securebits_clear", p.securebits.clear.to_string()),
        ("no_new_privs", p.no_new_privs.to_string()),
        (
            "pdeathsig",
            p.pdeathsig.map_or("null".into(), |s| json_str(s.as_str())),
        ),
        ("detach_terminal", detach.to_string()),
        ("chdir", p.chdir.as_deref().map_or("null".into(), json_os)),
        (
            "umask",
            p.umask
                .map_or("null".into(), |m| json_str(&format!("{m:04o}"))),
        ),
        (
            "close_fds",
            p.close_fds
                .as_ref()
                .map_or("null".into(), |k| json_list(k, |fd| fd.to_string())),
        ),
        (
            "session",
            json_str(match (&p.session, &p.daemon) {
                (_, Some(_)) => "daemon",
                (Session::Inherit, None) => "inherit",
                (Session::NewProcessGroup, None) => "new-pgroup",
                (Session::Setsid, None) => "setsid",
            }),
        ),
        ("rlimits", format!("{{{limits}}}")),
        ("nice", r.nice.map_or("null".into(), |n| n.to_string())),
        (
            "oom_score_adj",
            r.oom_score_adj.map_or("null".into(), |n| n.to_string()),
        ),
        (
            "ioprio",
            r.ioprio.map_or("null".into(), |p| json_str(&p.to_string())),
        ),
        (
            "cpu_affinity",
            r.cpu_affinity.as_ref().map_or("null".into(), |c| {
                json_str(&crate::options::resources::format_cpu_list(c))
            }),
        ),
    ];
    if json {
        let env = format!(
            "{{\"clear\":{},\"set\":{{{}}},\"unset\":{},\"from_files\":{}}}",
            plan.env.clear,
            env_set
                .iter()
                .map(|(k, v)| format!(
                    "{}:{}",
                    json_str(k),
                    v.as_deref().map_or("null".into(), json_str)
                ))
                .collect::<Vec<_>>()
                .join(","),
            json_list(&plan.env.unset, |u| json_os(u)),
            json_list(&plan.env.from_files, |u| json_os(u)),
        );
        return Ok(format!(
            "{{\"valid\":true,\"irreversible\":{irreversible},\"if_root\":{},\"not_applied\":{},\"uid\":{},\"gid\":{},\"groups\":{},\"environment\":{env},\"options\":{{{}}},\"command\":{},\"steps\":{},\"warnings\":{}}}\n",
            match plan.branch.if_root {
                None => "null".to_owned(),
                Some(true) => json_str("switch"),
                Some(false) => json_str("caller"),
            },
            json_list(&plan.branch.not_applied, |n| json_str(n)),
            id_json(plan.uid, user_name(plan.uid)),
            id_json(plan.gid, group_name(plan.gid)),
            groups_json(&plan.groups, db),
            options
                .iter()
                .map(|(k, v)| format!("{}:{v}", json_str(k)))
                .collect::<Vec<_>>()
                .join(","),
            json_list(command, |c| json_os(c)),
            json_list(&calls, |c| json_str(c)),
            json_list(&warnings, |w| json_str(w)),
        ));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "irreversible: {}",
        match (irreversible, plan.uid) {
            (true, _) if plan.branch.if_root == Some(false) => {
                "yes: no ids change (--if-root, and the caller is not root), and none of root's are held".to_owned()
            }
            (true, _) => "yes: the old ids cannot be taken back (verified before exec)".to_owned(),
            (false, 0) => "no: the target is root".to_owned(),
            (false, _) => format!(
                "no: the target keeps {}, which amounts to root",
                caps::describe(plan.process.keep_caps & caps::root_equivalent())
            ),
        }
    );
    match plan.branch.if_root {
        None => {}
        Some(true) => {
            let _ = writeln!(out, "if-root: the caller is root: the switch is made");
        }
        Some(false) => {
            let _ = writeln!(
                out,
                "if-root: the caller (uid {}) is not root: the command runs as the caller; not applied: {}",
                facts.credentials.uid.real,
                if plan.branch.not_applied.is_empty() {
                    "nothing given".to_owned()
                } else {
                    plan.branch.not_applied.join(", ")
                }
            );
        }
    }
    let _ = writeln!(out, "uid: {}", id_text(plan.uid, user_name(plan.uid)));
    let _ = writeln!(out, "gid: {}", id_text(plan.gid, group_name(plan.gid)));
    let groups = groups_text(&plan.groups, db);
    let _ = writeln!(
        out,
        "groups: {}",
        if groups.is_empty() {
            "none".into()
        } else {
            groups.join(",")
        }
    );
    let _ = writeln!(
        out,
        "environment: {}",
        if plan.env.clear { "reset" } else { "inherited" }
    );
    for (k, v) in &env_set {
        match v {
            Some(v) => {
                let _ = writeln!(out, "  set {}={}", text_str(k), text_str(v));
            }
            None => {
                let _ = writeln!(
                    out,
                    "  set {} (from a file; --show-env-values shows the value)",
                    text_str(k)
                );
            }
        }
    }
    for name in &plan.env.unset {
        let _ = writeln!(out, "  unset {}", text_str(&name.to_string_lossy()));
    }
    let _ = writeln!(
        out,
        "command: {}",
        command
            .iter()
            .map(|c| json_os(c))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out.push_str("options:\n");
    for (k, v) in &options {
        let _ = writeln!(out, "  {k}: {v}");
    }
    out.push_str("steps, in order:\n");
    // Each step's text quotes what it holds (quote.rs), which escapes
    // control characters already.
    for call in &calls {
        let _ = writeln!(out, "  {call}");
    }
    if !warnings.is_empty() {
        out.push_str("warnings:\n");
        for warning in &warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    Ok(out)
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
