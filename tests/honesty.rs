//! The dry run shows what the real run executes. For representative
//! command lines, every session mode and --daemon included, the list
//! `--dry-run --json` prints (each step's system calls, with their
//! arguments) is compared with what the real run did, traced by strace,
//! in both directions:
//!
//! - forward: each listed call happened, with those arguments, in the
//!   listed order, in the processes that lead to the exec; the calls a
//!   step lists for another process (the waiting parent of a new session,
//!   a daemon's middle process) happened there, in order;
//! - backward: every call the real run made that changes something the
//!   command inherits (credentials, capabilities, prctl settings, the
//!   terminal through ioctl, descriptors through dup, keyrings, limits,
//!   sessions, files created) is one the list shows, or one the dry run
//!   made too (reading, which both runs do before the steps start).

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

/// The calls whose every occurrence in the real run must be accounted for.
const CHANGES: &[&str] = &[
    "setgroups",
    "setresuid",
    "setresgid",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setfsuid",
    "setfsgid",
    "capset",
    "prctl",
    "ioctl",
    "dup",
    "dup2",
    "dup3",
    "keyctl",
    "add_key",
    "request_key",
    "setsid",
    "setpgid",
    "chdir",
    "fchdir",
    "umask",
    "close_range",
    "prlimit64",
    "setrlimit",
    "setpriority",
    "ioprio_set",
    "sched_setaffinity",
    "rt_sigaction",
    "rt_sigprocmask",
    "kill",
    "flock",
];

/// Names a listed call may have in the trace.
fn traced_names(call: &str) -> Vec<&str> {
    match call {
        "fork" => vec!["clone", "clone3", "fork", "vfork"],
        // musl opens with open(2), glibc with openat(2).
        "openat" => vec!["open", "openat"],
        "dup2" => vec!["dup2", "dup3"],
        name => vec![name],
    }
}

/// One argument of a listed call.
#[derive(Debug, Clone)]
enum Arg {
    Num(i64),
    /// A constant, flags or a signal set: each of its words must be in
    /// the traced argument.
    Name(String),
    List(Vec<i64>),
    Field(String, Box<Arg>),
    /// Known only at run time: any one argument. `<each ...>` first: the
    /// call is made once for each (a run of such calls, in a row).
    Later(String),
}

/// One listed call.
#[derive(Debug, Clone)]
struct Listed {
    name: String,
    args: Vec<Arg>,
    /// The error it must fail with.
    fails: Option<String>,
}

impl Listed {
    fn show(&self) -> String {
        format!("{}({:?})", self.name, self.args)
    }
}

/// The steps of a dry run: the calls of the process that goes on to exec,
/// in order, and the calls of other processes, by process.
#[derive(Debug, Default)]
struct Listing {
    main: Vec<Listed>,
    elsewhere: BTreeMap<String, Vec<Listed>>,
}

/// The steps of `--dry-run --json`, flattened by python into lines:
/// `M name<TAB>arg...` or `E process<TAB>name<TAB>arg...`, each argument
/// one token (`N:5`, `S:text` (a path with its quotes), `L:1,2`, `F:name=<token>`).
const FLATTEN: &str = r#"
import json, sys
d = json.load(sys.stdin)
def tok(a):
    if isinstance(a, bool): return "S:%s" % a
    if isinstance(a, int): return "N:%d" % a
    if isinstance(a, list): return "L:" + ",".join(str(x) for x in a)
    if isinstance(a, dict):
        (k, v), = a.items()
        return "F:%s=%s" % (k, tok(v))
    return "S:" + a.replace("\t", " ").replace("\n", "\\n")
def call(c):
    return [c["call"] + ("=" + c["fails"] if "fails" in c else "")] + [tok(a) for a in c["args"]]
for step in d["steps"]:
    for c in step["calls"]:
        print("\t".join(["M"] + call(c)))
    for e in step.get("elsewhere", []):
        for c in e["calls"]:
            print("\t".join(["E", e["process"]] + call(c)))
"#;

fn parse_token(token: &str) -> Arg {
    let (kind, value) = token.split_at(2);
    match kind {
        "N:" => Arg::Num(value.parse().unwrap()),
        "L:" => Arg::List(
            value
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| v.parse().unwrap())
                .collect(),
        ),
        "F:" => {
            let (name, value) = value.split_once('=').unwrap();
            Arg::Field(name.to_owned(), Box::new(parse_token(value)))
        }
        _ if value.starts_with('<') && value.ends_with('>') => Arg::Later(value.to_owned()),
        _ => Arg::Name(value.to_owned()),
    }
}

fn listing(json: &str) -> Listing {
    let flat = python_on_json(FLATTEN, json, &[]);
    let mut out = Listing::default();
    for line in flat.lines() {
        let mut fields = line.split('\t');
        let (process, name) = match fields.next() {
            Some("M") => (None, fields.next().unwrap()),
            Some("E") => (Some(fields.next().unwrap()), fields.next().unwrap()),
            other => panic!("{other:?}"),
        };
        let args = fields.map(parse_token).collect();
        let (name, fails) = match name.split_once('=') {
            Some((name, errno)) => (name, Some(errno.to_owned())),
            None => (name, None),
        };
        let call = Listed {
            name: name.to_owned(),
            args,
            fails,
        };
        match process {
            None => out.main.push(call),
            Some(p) => out.elsewhere.entry(p.to_owned()).or_default().push(call),
        }
    }
    out
}

/// One line of `strace -f -o`.
#[derive(Debug)]
struct Traced {
    pid: u32,
    name: String,
    /// The arguments, split at top-level commas.
    args: Vec<String>,
    result: String,
    line: String,
}

/// Split at top-level commas (not inside quotes, brackets or braces).
fn split_args(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    let mut current = String::new();
    for c in text.chars() {
        if quoted {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                current.push(c);
            }
            '[' | '{' | '(' => {
                depth += 1;
                current.push(c);
            }
            ']' | '}' | ')' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

fn parse_trace(text: &str) -> Vec<Traced> {
    // strace -f splits a call another process interrupted into
    // "<unfinished ...>" and "<... name resumed>": joined here, and placed
    // where the call started (a fork's child may run, and be traced,
    // before the parent's fork returns: its calls still follow the fork).
    let mut pending: BTreeMap<u32, (String, usize)> = BTreeMap::new();
    let mut out: Vec<Option<Traced>> = Vec::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, (head.to_owned(), out.len()));
            out.push(None);
            continue;
        }
        if rest.starts_with("<...") {
            let Some((_, tail)) = rest.split_once("resumed>") else {
                continue;
            };
            if let Some((head, at)) = pending.remove(&pid) {
                out[at] = traced_call(pid, &format!("{head}{tail}"));
            }
            continue;
        }
        out.push(traced_call(pid, rest));
    }
    out.into_iter().flatten().collect()
}

/// One whole call, `name(args) = result`, as strace -f prints it.
fn traced_call(pid: u32, whole: &str) -> Option<Traced> {
    if whole.starts_with("+++") || whole.starts_with("---") {
        return None;
    }
    let open = whole.find('(')?;
    let name = whole[..open].to_owned();
    // `name(args) = result`, the result padded to a column.
    let eq = whole.rfind(" = ").or_else(|| whole.rfind(" ?"))?;
    let close = whole[..eq].trim_end();
    if !close.ends_with(')') || close.len() <= open {
        return None;
    }
    Some(Traced {
        pid,
        args: split_args(&close[open + 1..close.len() - 1]),
        result: whole[eq..]
            .trim_start_matches(&[' ', '='][..])
            .trim()
            .to_owned(),
        name,
        line: whole.to_owned(),
    })
}

/// The words of a text: names, numbers.
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// A capability mask as strace shows it (`1<<CAP_CHOWN|1<<CAP_KILL`, `0`).
fn cap_mask(text: &str) -> Option<u64> {
    if text == "0" {
        return Some(0);
    }
    text.split('|').try_fold(0u64, |mask, part| {
        let name = part.strip_prefix("1<<")?;
        let cap = runas::door::Cap::parse(name)?;
        Some(mask | 1 << cap.number())
    })
}

/// Whether a listed argument is the traced one.
fn arg_matches(listed: &Arg, traced: &str) -> bool {
    match listed {
        Arg::Later(_) => true,
        Arg::Num(n) => {
            traced == n.to_string()
                // umask's mode and the like, in octal.
                || (traced.starts_with('0') && i64::from_str_radix(traced, 8).ok() == Some(*n))
        }
        Arg::List(ids) => {
            let inner = traced.trim_start_matches('[').trim_end_matches(']');
            let got: Vec<i64> = inner
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .filter_map(|v| v.parse().ok())
                .collect();
            traced.starts_with('[') && got == *ids
        }
        Arg::Name(name) if name.starts_with("0x") => {
            // A mask: strace shows securebits in hexadecimal too.
            let want = u64::from_str_radix(&name[2..], 16).ok();
            want.is_some()
                && (u64::from_str_radix(traced.trim_start_matches("0x"), 16).ok() == want
                    || traced.parse::<u64>().ok() == want)
        }
        Arg::Name(name) if name.starts_with('0') && name.len() > 1 => {
            // An octal mode.
            i64::from_str_radix(name, 8).ok() == i64::from_str_radix(traced, 8).ok()
        }
        Arg::Name(name) if name.starts_with('"') => traced == name,
        Arg::Name(name) => words(name).is_subset(&words(traced)),
        Arg::Field(field, value) => {
            let inner = traced.trim_start_matches('{').trim_end_matches('}');
            split_args(inner).iter().any(|part| {
                let Some((k, v)) = part.split_once('=') else {
                    return false;
                };
                k.trim() == field
                    && match value.as_ref() {
                        Arg::Name(hex) if hex.starts_with("0x") => {
                            cap_mask(v.trim()) == u64::from_str_radix(&hex[2..], 16).ok()
                        }
                        other => arg_matches(other, v.trim()),
                    }
            })
        }
    }
}

/// Whether a listed call is the traced one: the name, then each listed
/// argument matched by a traced one, in order (strace shows arguments the
/// list leaves implicit, such as setgroups's count).
fn call_matches(call: &Listed, traced: &Traced) -> bool {
    if !traced_names(&call.name).contains(&traced.name.as_str()) {
        return false;
    }
    // A failed call was not made, unless failing is what the list says
    // (with that error).
    let failed = traced.result.starts_with("-1 ");
    match &call.fails {
        None if failed => return false,
        Some(errno) if !traced.result.starts_with(&format!("-1 {errno} ")) => return false,
        _ => {}
    }
    if traced.name.starts_with("clone") || traced.name.ends_with("fork") {
        return true;
    }
    let args: Vec<&Arg> = call.args.iter().collect();
    let mut at = 0;
    for arg in args {
        match traced.args[at..].iter().position(|t| arg_matches(arg, t)) {
            // The fields of one structure are in one argument.
            Some(found) if matches!(arg, Arg::Field(..)) => at += found,
            Some(found) => at += found + 1,
            None => return false,
        }
    }
    true
}

/// The child a clone or fork made, if it did.
fn child_of(t: &Traced) -> Option<u32> {
    if !(t.name.starts_with("clone") || t.name.ends_with("fork")) {
        return None;
    }
    t.result.split_whitespace().next()?.parse().ok()
}

/// The indices of the trace lines in the processes that lead from runas's
/// start to the exec of the command by `target`: each ancestor up to its
/// fork of the next, then the next.
fn lineage(traced: &[Traced], target: u32, exec: usize) -> Vec<usize> {
    let mut parent: BTreeMap<u32, (u32, usize)> = BTreeMap::new();
    for (i, t) in traced.iter().enumerate() {
        if let Some(child) = child_of(t) {
            parent.insert(child, (t.pid, i));
        }
    }
    let mut chain = vec![(target, exec)];
    let mut pid = target;
    while let Some(&(up, at)) = parent.get(&pid) {
        chain.push((up, at));
        pid = up;
    }
    chain.reverse();
    let mut out = Vec::new();
    let mut from = 0;
    for (pid, until) in chain {
        out.extend((from..=until).filter(|&i| traced[i].pid == pid));
        from = until + 1;
    }
    out
}

/// musl's fork blocks every signal around the clone and restores the mask
/// after it, in the parent and in the child: the C library's fork, not a
/// change of runas's. The indices of those calls.
fn libc_fork_masks(traced: &[Traced]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    // The mask to restore, by process.
    let mut saved: BTreeMap<u32, String> = BTreeMap::new();
    for (i, t) in traced.iter().enumerate() {
        if let Some(child) = child_of(t)
            && let Some(mask) = saved.get(&t.pid).cloned()
        {
            saved.insert(child, mask);
        }
        if t.name != "rt_sigprocmask" || t.args.len() < 3 {
            continue;
        }
        let (how, set, old) = (&t.args[0], &t.args[1], &t.args[2]);
        if how == "SIG_BLOCK" && set.starts_with("~[") {
            saved.entry(t.pid).or_insert_with(|| old.clone());
            out.insert(i);
        } else if how == "SIG_SETMASK" && saved.contains_key(&t.pid) {
            if set.starts_with("~[") {
                out.insert(i);
            } else if saved.get(&t.pid) == Some(set) {
                out.insert(i);
                saved.remove(&t.pid);
            }
        }
    }
    out
}

/// The run's calls that change something, with their text as compared
/// between the two runs (the pointers and results left out).
fn normalized(t: &Traced) -> String {
    let keep = match t.name.as_str() {
        // The request and its first argument: what is read or set.
        "prctl" | "ioctl" | "keyctl" => 2,
        _ => t.args.len(),
    };
    let args: Vec<String> = t
        .args
        .iter()
        .take(keep)
        .map(|a| {
            if a.starts_with("0x") {
                "<address>".to_owned()
            } else {
                a.clone()
            }
        })
        .collect();
    format!("{}({})", t.name, args.join(", "))
}

/// strace, tracing the calls that change something, those the list names,
/// and the forks and execs.
fn strace(trace: &std::path::Path, listed: &Listing) -> Vec<OsString> {
    let mut names: BTreeSet<&str> = CHANGES.iter().copied().collect();
    names.extend([
        "execve", "clone", "clone3", "fork", "vfork", "open", "openat",
    ]);
    for call in listed
        .main
        .iter()
        .chain(listed.elsewhere.values().flatten())
    {
        names.extend(traced_names(&call.name));
    }
    let names: Vec<&str> = names.into_iter().collect();
    [
        "strace".to_owned(),
        "-f".into(),
        "-qq".into(),
        "-s".into(),
        "256".into(),
        "-e".into(),
        format!("trace={}", names.join(",")),
        "-e".into(),
        "signal=none".into(),
        "-o".into(),
        trace.to_str().unwrap().to_owned(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// The two runs of one command line: what the dry run listed, what the
/// real run did, and what the dry run itself did (it reads what the real
/// run reads before its steps).
struct Runs {
    listed: Listing,
    text: String,
    traced: Vec<Traced>,
    dry_traced: Vec<Traced>,
}

/// Run `args` both ways under the same launcher, traced.
fn run_both(w: &World, name: &str, launcher: &[&str], args: &[&str], command: &[&str]) -> Runs {
    let with = |prefix: Vec<OsString>| -> Vec<OsString> {
        prefix
            .into_iter()
            .chain(launcher.iter().map(OsString::from))
            .collect()
    };
    let mut dry: Vec<&str> = vec!["--dry-run", "--json"];
    dry.extend_from_slice(args);
    dry.push("--");
    dry.extend_from_slice(command);
    let dry_run = w.runas_under(&with(Vec::new()), &dry);
    assert!(
        dry_run.output.status.success(),
        "{name}: dry run\n{}",
        dry_run.describe()
    );
    let json = dry_run
        .stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{name}: no JSON\n{}", dry_run.describe()));
    let listed = listing(json);
    // Again, traced: what the dry run reads, the real run may read too.
    let dry_trace = w.path().join(format!("{name}.dry.trace"));
    let traced_dry = w.runas_under(&with(strace(&dry_trace, &listed)), &dry);
    assert!(
        traced_dry.output.status.success(),
        "{}",
        traced_dry.describe()
    );
    let mut real: Vec<&str> = args.to_vec();
    real.push("--");
    real.extend_from_slice(command);
    let trace = w.path().join(format!("{name}.trace"));
    let run = w.runas_under(&with(strace(&trace, &listed)), &real);
    assert!(
        run.output.status.success(),
        "{name}: real run\n{}",
        run.describe()
    );
    // strace -f returns once every process it followed has exited, the
    // daemon's included.
    let text = std::fs::read_to_string(&trace).unwrap();
    Runs {
        listed,
        traced: parse_trace(&text),
        dry_traced: parse_trace(&std::fs::read_to_string(&dry_trace).unwrap()),
        text,
    }
}

/// Forward: each listed call of the process that execs, in order, in its
/// lineage (`line`); then each other process's calls, in order, outside
/// it. Marks what matched in `matched`; the first call not found, if any.
fn check_forward(
    runs: &Runs,
    line: &[usize],
    start: usize,
    matched: &mut [bool],
) -> Option<String> {
    let traced = &runs.traced;
    let mut at = 0;
    for call in &runs.listed.main {
        let Some(found) = line[at..]
            .iter()
            .position(|&i| i > start && !matched[i] && call_matches(call, &traced[i]))
        else {
            return Some(format!(
                "the list shows {}, which the real run did not make (in this order)",
                call.show()
            ));
        };
        matched[line[at + found]] = true;
        at += found + 1;
        let each = matches!(call.args.first(), Some(Arg::Later(what)) if what.starts_with("<each"));
        while each && at < line.len() && call_matches(call, &traced[line[at]]) {
            matched[line[at]] = true;
            at += 1;
        }
    }
    let in_line: BTreeSet<usize> = line.iter().copied().collect();
    for (process, calls) in &runs.listed.elsewhere {
        let mut from = 0;
        for call in calls {
            let Some(found) = (from..traced.len())
                .find(|&i| !in_line.contains(&i) && !matched[i] && call_matches(call, &traced[i]))
            else {
                return Some(format!(
                    "the list shows {} in {process}, which the real run did not make",
                    call.show()
                ));
            };
            matched[found] = true;
            from = found + 1;
        }
    }
    None
}

/// Backward: each change runas's processes made (from `start`, up to
/// their exec of the command) is listed (`matched`), or is a read the dry
/// run made as well. The first that is neither, if any.
fn check_backward(runs: &Runs, start: usize, matched: &[bool]) -> Option<String> {
    let mut observed: BTreeMap<String, usize> = BTreeMap::new();
    for t in &runs.dry_traced {
        *observed.entry(normalized(t)).or_default() += 1;
    }
    let mut execed: BTreeSet<u32> = BTreeSet::new();
    // runas's processes: the one that exec'd it and what it forked.
    let mut ours: BTreeSet<u32> = BTreeSet::from([runs.traced[start].pid]);
    for (i, t) in runs.traced.iter().enumerate().skip(start + 1) {
        if let Some(child) = child_of(t)
            && ours.contains(&t.pid)
        {
            ours.insert(child);
        }
        if !ours.contains(&t.pid) {
            continue;
        }
        if t.name == "execve" && t.result == "0" {
            execed.insert(t.pid);
        }
        let reads = (t.name == "prlimit64" && t.args.get(2).is_some_and(|a| a == "NULL"))
            || (t.name.starts_with("rt_sig") && t.args.get(1).is_some_and(|a| a == "NULL"));
        if execed.contains(&t.pid) || matched[i] || reads || !CHANGES.contains(&t.name.as_str()) {
            continue;
        }
        match observed.get_mut(&normalized(t)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                return Some(format!(
                    "runas made {:?} (pid {}), which the list does not show",
                    t.line, t.pid
                ));
            }
        }
    }
    None
}

/// Run `args` both ways under the same launcher and compare.
fn compare(w: &World, name: &str, launcher: &[&str], args: &[&str], command: &[&str]) {
    let runs = run_both(w, name, launcher, args, command);
    let traced = &runs.traced;
    let fail = |what: String| -> ! {
        panic!(
            "{name}: {what}\nlisted: {:#?}\nreal run:\n{}",
            runs.listed
                .main
                .iter()
                .map(Listed::show)
                .collect::<Vec<_>>(),
            runs.text
        )
    };
    // The exec of the command, by the process that made the steps.
    let exec = traced
        .iter()
        .rposition(|t| {
            t.name == "execve"
                && t.args.first().is_some_and(|a| a.contains(command[0]))
                && t.result == "0"
        })
        .unwrap_or_else(|| fail("the command was not exec'd".into()));
    // Where runas starts (after any launcher's own start-up).
    let start = traced
        .iter()
        .position(|t| {
            t.name == "execve"
                && t.result == "0"
                && t.args.first().is_some_and(|a| a.ends_with("runas\""))
        })
        .unwrap_or_else(|| fail("runas was not exec'd".into()));
    let line = lineage(traced, traced[exec].pid, exec);
    // The C library's own are no step's.
    let libc_fork = libc_fork_masks(traced);
    let mut matched: Vec<bool> = (0..traced.len()).map(|i| libc_fork.contains(&i)).collect();
    if let Some(failure) = check_forward(&runs, &line, start, &mut matched) {
        fail(failure);
    }
    if let Some(failure) = check_backward(&runs, start, &matched) {
        fail(failure);
    }
}

/// Run argv[1:] in a new session whose controlling terminal is a
/// pseudo-terminal, as a child of the session's leader.
const PTY_MEMBER: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    child = os.fork()
    if child == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status))
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// The same, argv[1:] leading the session.
const PTY_LEADER: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
#[allow(clippy::too_many_lines, reason = "a table of cases")]
fn the_dry_run_lists_what_the_real_run_executes() {
    let Some(w) = privileged("honesty").then(World::new) else {
        return;
    };
    let log_dir = w.owned_dir("log", 1500, 1500);
    let log = log_dir.join("d.log");
    let pidfile = w.path().join("d.pid");
    let leader = ["perl", "-e", "setpgrp(0, 0) or die; exec @ARGV or die"];
    // A terminal: runas started in the session a pseudo-terminal is the
    // controlling terminal of, as a shell's command (`in_session`) or as
    // the session's leader.
    let on_terminal = |leads: bool| ["python3", "-c", if leads { PTY_LEADER } else { PTY_MEMBER }];
    let member = on_terminal(false);
    let session_leader = on_terminal(true);
    let cases: &[(&str, &[&str], Vec<&str>)] = &[
        ("default", &[], vec!["-u", "alice"]),
        (
            "numeric",
            &[],
            vec!["-u", "1500", "-g", "1500", "--clear-groups", "--keep-env"],
        ),
        ("group only", &[], vec!["-g", "jupiter"]),
        (
            "process options",
            &[],
            vec![
                "-u",
                "alice",
                "--no-new-privs",
                "--umask",
                "027",
                "--chdir",
                "/tmp",
                "--close-fds",
                "--pdeathsig",
                "TERM",
            ],
        ),
        (
            "capabilities",
            &[],
            vec![
                "-u",
                "nobody",
                "--keep-caps",
                "net_bind_service",
                "--bounding-set",
                "-net_raw",
            ],
        ),
        (
            "root with securebits",
            &[],
            vec!["-u", "root", "--securebits", "noroot"],
        ),
        (
            "limits and priorities",
            &[],
            vec![
                "-u",
                "alice",
                "--rlimit",
                "nofile=512:1024",
                "--rlimit",
                "core=0",
                "--nice",
                "3",
                "--oom-score-adj",
                "100",
                "--ioprio",
                "best-effort:6",
                "--cpu-affinity",
                "0",
            ],
        ),
        (
            "new process group",
            &[],
            vec!["-u", "alice", "--new-pgroup"],
        ),
        ("setsid", &[], vec!["-u", "alice", "--setsid"]),
        (
            "setsid from a group leader",
            &leader,
            vec!["-u", "alice", "--setsid", "--pdeathsig", "TERM"],
        ),
        ("terminal", &member, vec!["-u", "alice"]),
        (
            "terminal of a session leader",
            &session_leader,
            vec!["-u", "alice"],
        ),
        (
            "daemon",
            &[],
            vec![
                "-u",
                "alice",
                "--daemon",
                "--pidfile",
                pidfile.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ],
        ),
    ];
    for (name, launcher, args) in cases {
        compare(&w, name, launcher, args, &["/bin/true"]);
        let _ = std::fs::remove_file(&pidfile);
    }
}

#[test]
fn traced_arguments_are_split_and_matched() {
    let t = &parse_trace(
        "42 setgroups(3, [0, 4, 27]) = 0\n42 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_NET_BIND_SERVICE, permitted=1<<CAP_NET_BIND_SERVICE, inheritable=0}) = 0\n42 umask(027) = 022\n",
    );
    assert_eq!(t.len(), 3);
    let call = |name: &str, args: Vec<Arg>| Listed {
        name: name.into(),
        args,
        fails: None,
    };
    assert!(call_matches(
        &call("setgroups", vec![Arg::List(vec![0, 4, 27])]),
        &t[0]
    ));
    assert!(!call_matches(
        &call("setgroups", vec![Arg::List(vec![0, 4])]),
        &t[0]
    ));
    let field = |k: &str, v: &str| Arg::Field(k.into(), Box::new(Arg::Name(v.into())));
    assert!(call_matches(
        &call(
            "capset",
            vec![field("effective", "0x400"), field("inheritable", "0x0")]
        ),
        &t[1]
    ));
    assert!(!call_matches(
        &call("capset", vec![field("effective", "0x0")]),
        &t[1]
    ));
    assert!(call_matches(
        &call("umask", vec![Arg::Name("027".into())]),
        &t[2]
    ));
    assert!(!call_matches(
        &call("umask", vec![Arg::Name("077".into())]),
        &t[2]
    ));
}

/// A fork's child can be traced before the parent's fork returns (strace
/// then splits the fork into "<unfinished ...>" and "<... fork resumed>"):
/// the child's calls still belong after the fork in the lineage, which
/// failed (now and then, as the scheduler decided) while the joined fork
/// sat where it resumed.
#[test]
fn a_child_traced_before_its_fork_returns_follows_the_fork() {
    let text = "\
10 getsid(0) = 10
10 fork( <unfinished ...>
11 rt_sigaction(SIGCHLD, {sa_handler=SIG_DFL}, NULL, 8) = 0
11 setsid() = 11
10 <... fork resumed>) = 11
11 execve(\"/bin/true\", [\"/bin/true\"], 0x1 /* 1 var */) = 0
";
    let traced = parse_trace(text);
    let names: Vec<&str> = traced.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["getsid", "fork", "rt_sigaction", "setsid", "execve"]
    );
    assert_eq!(traced[1].result, "11");
    let line = lineage(&traced, 11, 4);
    assert_eq!(line, [0, 1, 2, 3, 4]);
}
