//! The bash completion, driven in bash: each case sets the line as typed,
//! calls the completion function as readline would, and compares the
//! replies. Users and groups come from the machine's own database, read
//! only (root and daemon exist on every Debian system).

mod common;

use std::process::Command;

/// Where bash-completion's helpers live (Debian package bash-completion);
/// with it, the command after `--` completes with its own completion.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

const DRIVER: &str = r#"
for name in runas gosu su-exec; do
  complete -p "$name" >/dev/null || { echo "$name has no completion"; exit 1; }
done
t() {
  COMP_LINE=$1; COMP_POINT=${#1}
  read -ra COMP_WORDS <<<"$1"
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  [[ $1 == *" " ]] && COMP_CWORD=${#COMP_WORDS[@]} && COMP_WORDS+=("")
  COMPREPLY=()
  local name=${COMP_WORDS[0]} function
  function=$(complete -p "$name" | sed -E 's/.* -F ([^ ]+) .*/\1/')
  "$function" "$name" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  local IFS='|'
  printf '%s => %s\n' "$1" "${COMPREPLY[*]}"
}
while IFS= read -r line; do t "$line"; done
"#;

fn complete(line: &str, with_bash_completion: bool) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("runas.bash");
    std::fs::write(&script, runas::door::bash()).unwrap();
    let mut setup = String::new();
    if with_bash_completion {
        setup.push_str(&format!(". {BASH_COMPLETION}\n"));
    }
    setup.push_str(&format!(". {}\n{DRIVER}", script.display()));
    let mut child = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &setup])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = stdout
        .lines()
        .find_map(|l| l.split_once(" => "))
        .unwrap_or_else(|| panic!("no reply for {line:?}: {stdout}"))
        .1;
    reply
        .split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn replies(line: &str) -> Vec<String> {
    complete(line, false)
}

#[test]
fn option_names() {
    assert_eq!(replies("runas --us"), ["--user"]);
    assert!(replies("runas --").contains(&"--if-root".to_owned()));
}

#[test]
fn users_after_user_in_every_spelling() {
    for line in ["runas -u roo", "runas --user roo", "runas --user=roo"] {
        assert_eq!(replies(line), ["root"], "{line}");
    }
}

#[test]
fn groups_after_the_colon_replacing_only_what_bash_replaces() {
    // bash replaces the text after the last ':' (a word break), so the
    // reply is the group alone.
    assert_eq!(replies("runas -u root:dae"), ["daemon"]);
    assert_eq!(replies("runas --user=root:dae"), ["daemon"]);
    assert_eq!(replies("runas -g dae"), ["daemon"]);
}

#[test]
fn comma_lists_complete_their_last_element() {
    assert_eq!(replies("runas -G root,dae"), ["root,daemon"]);
    assert_eq!(
        replies("runas --keep-caps chown,net_b"),
        ["chown,net_bind_service", "chown,net_broadcast"]
    );
    assert_eq!(
        replies("runas --bounding-set -all,+net_bind"),
        ["-all,+net_bind_service"]
    );
    assert_eq!(
        replies("runas --securebits noro"),
        ["noroot", "noroot-locked"]
    );
}

#[test]
fn signals_directories_and_variables() {
    assert_eq!(replies("runas --pdeathsig TE"), ["TERM"]);
    assert_eq!(replies("runas --pdeathsig SIGTE"), ["SIGTERM"]);
    assert_eq!(replies("runas --chdir /us"), ["/usr"]);
    assert!(replies("runas -e PAT").contains(&"PATH=".to_owned()));
    assert!(replies("runas --unset PAT").contains(&"PATH".to_owned()));
    // Limits and priorities: names from runas's own tables.
    assert_eq!(replies("runas --rlimit nof"), ["nofile="]);
    assert_eq!(replies("runas --ioprio be"), ["best-effort"]);
    assert_eq!(replies("runas --envdir /us"), ["/usr"]);
}

#[test]
fn the_command_after_the_options_or_after_the_separator() {
    assert!(replies("runas -u root -- ech").contains(&"echo".to_owned()));
    assert!(replies("runas -u root ech").contains(&"echo".to_owned()));
    // An option's value is not the command.
    assert_eq!(replies("runas -u roo"), ["root"]);
    // Past the command: its arguments (files, without bash-completion).
    assert_eq!(replies("runas -u root -- ls /us"), ["/usr"]);
}

#[test]
fn the_command_completes_with_its_own_completion() {
    if !std::path::Path::new(BASH_COMPLETION).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{BASH_COMPLETION} is missing (Debian package bash-completion)"
        );
        common::skip(
            "completion_command_offset",
            &format!("no {BASH_COMPLETION} (Debian package bash-completion)"),
        );
        return;
    }
    // runas after runas: the inner one's options come from runas's own
    // completion, reached through bash-completion's _command_offset.
    assert_eq!(complete("runas -u root -- runas --us", true), ["--user"]);
    assert_eq!(complete("runas -u root runas -g dae", true), ["daemon"]);
}

/// The fish completion's replies for a line, from fish's own
/// `complete -C` (Debian package fish); None where fish is missing outside
/// CI (said, and counted as not applicable).
fn fish_replies(test: &str, line: &str) -> Option<Vec<String>> {
    if !std::path::Path::new("/usr/bin/fish").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "/usr/bin/fish is missing (Debian package fish)"
        );
        common::skip(test, "no /usr/bin/fish (Debian package fish)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("runas.fish");
    std::fs::write(&script, runas::door::fish()).unwrap();
    let out = Command::new("fish")
        .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
        .arg(&script)
        .arg(line)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect(),
    )
}

#[test]
fn fish_completes_options_values_and_the_command() {
    let cases: &[(&str, &[&str])] = &[
        ("runas --us", &["--user"]),
        ("runas -u roo", &["root"]),
        ("runas --user=roo", &["--user=root"]),
        ("runas -u root:dae", &["root:daemon"]),
        ("runas -G root,dae", &["root,daemon"]),
        (
            "runas --keep-caps chown,net_b",
            &["chown,net_bind_service", "chown,net_broadcast"],
        ),
        // A value that starts with '-' is completed in the --opt= form
        // (fish takes a separate "-..." word for an option).
        (
            "runas --bounding-set=-all,+net_bind",
            &["--bounding-set=-all,+net_bind_service"],
        ),
        ("runas --securebits noro", &["noroot", "noroot-locked"]),
        ("runas --pdeathsig TE", &["TERM"]),
        ("runas --pdeathsig SIGTE", &["SIGTERM"]),
        ("runas --ioprio be", &["best-effort"]),
        ("runas --chdir /us", &["/usr/"]),
        ("runas -u root -- ls /us", &["/usr/"]),
        // The command's own completion: runas after runas.
        ("runas -u root -- runas --us", &["--user"]),
        ("runas -u root runas -g dae", &["daemon"]),
    ];
    for (line, want) in cases {
        let Some(got) = fish_replies("completion_fish", line) else {
            return;
        };
        assert_eq!(&got, want, "{line}");
    }
    let Some(got) = fish_replies("completion_fish", "runas -u root ech") else {
        return;
    };
    assert!(got.contains(&"echo".to_owned()), "{got:?}");
    let Some(got) = fish_replies("completion_fish", "runas -e PAT") else {
        return;
    };
    assert!(got.contains(&"PATH=".to_owned()), "{got:?}");
}

/// Drives an interactive zsh in a pty (zsh/zpty): TAB at the end of the
/// line, with a compadd wrapper printing every candidate offered.
const ZSH_CAPTURE: &str = r##"# zsh -f capture.zsh FPATH_DIR LINE: the candidates zsh's completion offers
# for LINE (TAB at its end), one per line, from an interactive zsh in a pty.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'compprefuncs=( _capture_start ); comppostfuncs=( _capture_end )'
# The markers are spelled in two pieces so that the echo of these lines
# does not contain them.
zpty -w z '_capture_start() { compadd() { local -a __hits; local m="<H""IT>"; builtin compadd -O __hits "$@"; if (( $#__hits )); then print -n "\n"; print -rn -- "${(pj:\n:)${(@)__hits/#/$m}}"; fi; builtin compadd "$@" } }'
zpty -w z '_capture_end() { print -n "\n<DO""NE>"; exit }'
zpty -w z 'bindkey "^I" complete-word'
zpty -w z "$2"$'\t'
local line
while zpty -r z line; do
  [[ $line == *"<DONE>"* ]] && break
  [[ $line == *"<HIT>"* ]] && print -r -- "${${line##*<HIT>}%%$'\r'}"
done
zpty -d z
"##;

/// The candidates zsh offers for a line (the part being completed, as
/// compadd receives it); None where zsh is missing outside CI.
fn zsh_replies(test: &str, line: &str) -> Option<Vec<String>> {
    if !std::path::Path::new("/usr/bin/zsh").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "/usr/bin/zsh is missing (Debian package zsh)"
        );
        common::skip(test, "no /usr/bin/zsh (Debian package zsh)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_runas"), runas::door::zsh()).unwrap();
    let capture = dir.path().join("capture.zsh");
    std::fs::write(&capture, ZSH_CAPTURE).unwrap();
    let out = Command::new("timeout")
        .args(["20", "zsh", "-f"])
        .arg(&capture)
        .arg(dir.path())
        .arg(line)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut hits: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    hits.sort();
    hits.dedup();
    Some(hits)
}

#[test]
fn zsh_completes_options_values_and_the_command() {
    let cases: &[(&str, &[&str])] = &[
        ("runas --us", &["--user"]),
        ("runas -u roo", &["root"]),
        ("runas --user=roo", &["root"]),
        ("runas -u root:dae", &["daemon"]),
        ("runas -G root,dae", &["daemon"]),
        (
            "runas --keep-caps chown,net_b",
            &["net_bind_service", "net_broadcast"],
        ),
        ("runas --securebits noro", &["noroot", "noroot-locked"]),
        ("runas --pdeathsig TE", &["TERM"]),
        ("runas --pdeathsig SIGTE", &["SIGTERM"]),
        ("runas --ioprio be", &["best-effort"]),
        ("runas --chdir /us", &["usr"]),
        ("runas -u root -- ls /us", &["usr"]),
        // The command's own completion: runas after runas.
        ("runas -u root -- runas --us", &["--user"]),
        ("runas -u root runas -g dae", &["daemon"]),
    ];
    for (line, want) in cases {
        let Some(got) = zsh_replies("completion_zsh", line) else {
            return;
        };
        assert_eq!(&got, want, "{line}");
    }
    for (line, member) in [("runas -u root ech", "echo"), ("runas -e PAT", "PATH")] {
        let Some(got) = zsh_replies("completion_zsh", line) else {
            return;
        };
        assert!(got.contains(&member.to_owned()), "{line}: {got:?}");
    }
}

/// Under gosu's and su-exec's names (a link to runas): USER[:GROUP], then
/// the command, in each shell.
#[test]
fn gosu_and_su_exec_names_complete_user_group_and_command() {
    assert_eq!(replies("gosu roo"), ["root"]);
    assert_eq!(replies("gosu root:dae"), ["daemon"]);
    assert!(replies("su-exec root ech").contains(&"echo".to_owned()));
    assert_eq!(replies("gosu root ls /us"), ["/usr"]);
    let fish: &[(&str, &[&str])] = &[
        ("gosu roo", &["root"]),
        ("su-exec root:dae", &["root:daemon"]),
        ("gosu root ls /us", &["/usr/"]),
    ];
    for (line, want) in fish {
        let Some(got) = fish_replies("completion_fish_compat", line) else {
            break;
        };
        assert_eq!(&got, want, "{line}");
    }
    let zsh: &[(&str, &[&str])] = &[
        ("gosu roo", &["root"]),
        ("su-exec root:dae", &["daemon"]),
        ("gosu root runas --us", &["--user"]),
    ];
    for (line, want) in zsh {
        let Some(got) = zsh_replies("completion_zsh_compat", line) else {
            break;
        };
        assert_eq!(&got, want, "{line}");
    }
}
