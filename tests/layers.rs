//! The layout is the architecture, and this test keeps it so: the parts of
//! the two crates (runas-core/src/: sys, base, request, accounts, core, and
//! the library's api.rs over them; and
//! the launcher's src/, which takes those from runas-core under the same
//! names) form layers, each of which may use only the ones below it; an
//! option never reaches into another option's code; `unsafe` lives in
//! src/sys/ alone; and only src/core/transition.rs calls what changes
//! credentials. Unit tests (`#[cfg(test)]` modules) are not production
//! code and are not held to the layering.

use std::path::{Path, PathBuf};

/// The parts, lowest first (docs/architecture.md).
const LAYERS: &[&str] = &[
    "sys", "base", "request", "accounts", "core", "api", "paths", "options", "report", "cli",
];

/// The sys functions that change credentials: transition.rs alone calls
/// them.
const CREDENTIAL_CALLS: &[&str] = &[
    "set_groups",
    "set_resgid",
    "set_resuid",
    "child_setgroups",
    "child_setresgid",
    "child_setresuid",
    "capset",
    "clear_ambient_caps",
    "raise_ambient_cap",
    "bounding_drop",
    "set_securebits",
    "join_new_session_keyring",
    "set_keepcaps",
    "set_no_new_privs",
];

/// The production code of a file: up to its first `#[cfg(test)]` module.
fn production(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        at += line.len();
    }
    &text[..at]
}

/// Code without comments (the words of a comment may name anything).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rank(part: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == part)
}

/// The part a source file belongs to, and for an option its name.
fn part_of(path: &str) -> Option<(&str, Option<&str>)> {
    let mut parts = path.split('/');
    let top = parts.next()?.trim_end_matches(".rs");
    rank(top)?;
    let option = if top == "options" {
        let next = parts.next()?;
        Some(next.trim_end_matches(".rs")).filter(|n| *n != "mod")
    } else {
        None
    };
    Some((top, option))
}

/// What is wrong with one file's use of the others.
fn violations(path: &str, text: &str) -> Vec<String> {
    let Some((part, option)) = part_of(path) else {
        return Vec::new();
    };
    let code = code(production(text)).replace("runas_core::", "crate::");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + 7..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if let (Some(used), Some(own)) = (rank(&name), rank(part))
            && used > own
        {
            out.push(format!("{path}: {part} uses crate::{name}, a higher part"));
        }
        // An option naming another option's function (its types, the
        // options' shared vocabulary, are allowed).
        if let (Some(own), "options") = (option, name.as_str()) {
            let after = &tail[name.len()..];
            let segments: Vec<&str> = after
                .trim_start_matches("::")
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .collect();
            if let [other, item, ..] = segments.as_slice()
                && *other != own
                && item.starts_with(|c: char| c.is_ascii_lowercase())
            {
                out.push(format!(
                    "{path}: the {own} option reaches into the {other} option ({item})"
                ));
            }
        }
        rest = &rest[at + 7..];
    }
    if let Some(own) = option {
        for (i, _) in code.match_indices("super::") {
            let after = &code[i + 7..];
            let segments: Vec<&str> = after
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .collect();
            if let [other, item, ..] = segments.as_slice()
                && *other != own
                && *other != "super"
                && item.starts_with(|c: char| c.is_ascii_lowercase())
            {
                out.push(format!(
                    "{path}: the {own} option reaches into the {other} option ({item})"
                ));
            }
        }
    }
    if part != "sys"
        && code
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w == "unsafe")
    {
        out.push(format!("{path}: unsafe outside src/sys/"));
    }
    if path != "core/transition.rs" && part != "sys" {
        for call in CREDENTIAL_CALLS {
            if code.contains(&format!("sys::{call}(")) || code.contains(&format!("prctl::{call}("))
            {
                out.push(format!(
                    "{path}: changes credentials ({call}) outside core/transition.rs"
                ));
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Both crates' sources, each with its path inside its `src/`.
fn all_sources() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for src in [root.join("src"), root.join("runas-core/src")] {
        let mut files = Vec::new();
        sources(&src, &mut files);
        for file in files {
            let relative = file
                .strip_prefix(&src)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            out.push((relative, file));
        }
    }
    out
}

#[test]
fn each_part_uses_only_the_parts_below_it() {
    let mut found = Vec::new();
    let mut checked = 0;
    for (relative, file) in &all_sources() {
        if part_of(relative).is_some() {
            checked += 1;
        }
        found.extend(violations(
            relative,
            &std::fs::read_to_string(file).unwrap(),
        ));
    }
    assert!(checked > 40, "only {checked} files were checked");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The module a file is (`core/plan`, `options/env`), and the modules of
/// other parts or files its production code names (`crate::core::facts`).
fn module_edges(path: &str, text: &str) -> (String, Vec<String>) {
    let module = path
        .trim_end_matches(".rs")
        .trim_end_matches("/mod")
        .to_owned();
    let code = code(production(text)).replace("runas_core::", "crate::");
    let mut used = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let segments: Vec<&str> = code[at + 7..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .take(2)
            .filter(|s| s.starts_with(|c: char| c.is_ascii_lowercase()))
            .collect();
        // The deepest module it names: a file's, or a part's own mod.rs.
        for depth in (1..=segments.len()).rev() {
            let candidate = segments[..depth].join("/");
            if candidate != module {
                used.push(candidate);
                break;
            }
        }
    }
    (module, used)
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut edges: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (relative, file) in &all_sources() {
        if part_of(relative).is_none() {
            continue;
        }
        let (module, used) = module_edges(relative, &std::fs::read_to_string(file).unwrap());
        edges.entry(module).or_default().extend(used);
    }
    let modules: Vec<String> = edges.keys().cloned().collect();
    // A depth-first walk from each module: reaching it again is a cycle.
    for start in &modules {
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = std::collections::BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    panic!("import cycle: {} -> {start}", path.join(" -> "));
                }
                if edges.contains_key(next) && seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
}

#[test]
fn the_checker_sees_each_kind_of_violation() {
    let upward = violations("core/plan.rs", "use crate::options::env;\n");
    assert_eq!(upward.len(), 1, "{upward:?}");
    assert!(violations("options/env/mod.rs", "use crate::core::plan::Plan;\n").is_empty());
    let sideways = violations(
        "options/terminal.rs",
        "let x = crate::options::session::enter_new_session(a);\n",
    );
    assert_eq!(sideways.len(), 1, "{sideways:?}");
    let types = violations("options/newgrp.rs", "use crate::options::env::Change;\n");
    assert!(types.is_empty(), "{types:?}");
    let via_super = violations("options/newgrp.rs", "super::env::plan(x)\n");
    assert_eq!(via_super.len(), 1, "{via_super:?}");
    assert_eq!(violations("report/show.rs", "unsafe { x() }\n").len(), 1);
    // The library's api.rs sits over the core, under the launcher's parts.
    assert_eq!(violations("api.rs", "use crate::options::env;\n").len(), 1);
    assert_eq!(violations("core/run.rs", "crate::api::Target\n").len(), 1);
    assert!(violations("api.rs", "use crate::core::run;\n").is_empty());
    assert_eq!(
        violations("options/session.rs", "sys::capset(m)\n").len(),
        1
    );
    assert!(violations("core/transition.rs", "sys::capset(m)\n").is_empty());
    let (module, used) = module_edges(
        "core/plan.rs",
        "use crate::core::facts::Facts;\nuse crate::request::ids::Uid;\n",
    );
    assert_eq!(module, "core/plan");
    assert_eq!(used, ["core/facts", "request/ids"]);
    // Tests and comments are not production code.
    assert!(
        violations(
            "core/plan.rs",
            "// crate::cli\n#[cfg(test)]\nmod tests { use crate::cli; }\n"
        )
        .is_empty()
    );
}

#[test]
fn the_core_reads_in_one_sitting() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("runas-core/src/core");
    let mut files = Vec::new();
    sources(&core, &mut files);
    let lines: usize = files
        .iter()
        .map(|f| {
            production(&std::fs::read_to_string(f).unwrap())
                .lines()
                .count()
        })
        .sum();
    assert!(
        lines <= 3000,
        "src/core/ has {lines} lines of production code, more than the 3,000 a reviewer reads in one sitting"
    );
}
