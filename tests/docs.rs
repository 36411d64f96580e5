//! The documentation must stay true: every option --help lists is in the
//! man page and the README, and the man page documents no option that does
//! not exist.

use std::collections::BTreeSet;
use std::process::Command;

/// `--name` words in a text (roff escapes removed first).
fn long_options(text: &str) -> BTreeSet<String> {
    let text = text.replace("\\-", "-");
    let mut found = BTreeSet::new();
    for (start, _) in text.match_indices("--") {
        let name: String = text[start + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.len() > 1 && !name.starts_with('-') {
            found.insert(format!("--{name}"));
        }
    }
    found
}

fn help_options() -> BTreeSet<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_runas"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    // Option lines start (after indentation) with '-'; take the long name
    // each one defines, not the options its help text mentions.
    help.lines()
        .filter(|line| line.trim_start().starts_with('-'))
        .filter_map(|line| {
            let definition = line.trim_start().split("  ").next().unwrap_or("");
            long_options(definition).into_iter().next()
        })
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn every_option_in_help_is_in_the_man_page_and_readme() {
    let help = help_options();
    assert!(
        help.contains("--user") && help.contains("--clear-groups"),
        "{help:?}"
    );
    let man = long_options(&read("man/runas.1"));
    let readme = long_options(&read("README.md"));
    for option in &help {
        assert!(
            man.contains(option),
            "man/runas.1 does not document {option}"
        );
        if option != "--help" && option != "--version" {
            assert!(
                readme.contains(option),
                "README.md does not mention {option}"
            );
        }
    }
}

#[test]
fn the_man_page_documents_no_option_that_does_not_exist() {
    let help = help_options();
    let man = read("man/runas.1");
    let options_section = man
        .split(".SH OPTIONS")
        .nth(1)
        .unwrap()
        .split(".SH ")
        .next()
        .unwrap();
    for option in long_options(options_section) {
        assert!(
            help.contains(&option),
            "man/runas.1 documents {option}, which --help does not list"
        );
    }
}

#[test]
fn the_man_page_lists_every_capability_that_amounts_to_root_with_a_reason() {
    let man = read("man/runas.1").replace("\\-", "-");
    let list = man
        .split("Capabilities that amount to root are refused")
        .nth(1)
        .and_then(|rest| rest.split("Not on the list").next())
        .expect("the man page's list of root-equivalent capabilities");
    let words: BTreeSet<&str> = list
        .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .collect();
    for cap in runas::door::ROOT_EQUIVALENT.iter() {
        let name = cap.name();
        let name = name.trim_start_matches("cap_");
        assert!(
            words.contains(name),
            "man/runas.1 does not list {name} among the capabilities that amount to root"
        );
    }
}

/// The README's prerequisites line installs exactly what CI installs.
#[test]
fn the_readme_apt_get_line_is_the_list_ci_installs() {
    let ci = read(".ci/run");
    let list = ci
        .split("packages=(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect(".ci/run's packages=(...) list");
    let ci: BTreeSet<&str> = list.split_whitespace().collect();
    let readme = read("README.md");
    let line = readme
        .lines()
        .find(|line| line.starts_with("apt-get install "))
        .expect("README.md's apt-get install line");
    let readme: BTreeSet<&str> = line["apt-get install ".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(
        readme, ci,
        "README.md's apt-get line and .ci/run's list differ"
    );
}

/// The README starts with the job: short, and a working example early.
#[test]
fn the_readme_is_short_and_starts_with_an_example() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(lines.len() < 200, "README.md has {} lines", lines.len());
    let first = lines
        .iter()
        .position(|line| line.starts_with("```"))
        .expect("a code block");
    assert!(first < 40, "the first example starts at line {}", first + 1);
}

/// Every relative link in the README and docs/ names a file that exists.
#[test]
fn every_relative_link_resolves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (start, _) in text.match_indices("](") {
            let target: String = text[start + 2..]
                .chars()
                .take_while(|c| *c != ')' && *c != '#')
                .collect();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            let path = page.parent().unwrap().join(&target);
            assert!(
                path.exists(),
                "{} links to {target}, which does not exist",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} links found");
}
