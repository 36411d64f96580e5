//! The bash, zsh and fish completion scripts, generated from the option
//! table and runas's own lists of capability, securebit and signal names, so
//! they cannot drift from what the parser accepts. examples/completions.rs
//! writes them for the packages; tests/completions.rs drives them in their
//! shells. Nothing here runs when runas runs.

use crate::cli::{Complete, Opt, options};
use std::fmt::Write as _;

/// What a value is completed from, as the scripts name it.
fn value_kind(opt: &Opt) -> &'static str {
    match opt.complete {
        Complete::None => "none",
        Complete::User => "user",
        Complete::Group => "group",
        Complete::GroupList => "group-list",
        Complete::CapList => "cap-list",
        Complete::BoundingList => "bounding-list",
        Complete::SecurebitList => "securebit-list",
        Complete::Signal => "signal",
        Complete::File => "file",
        Complete::Dir => "dir",
        Complete::Rlimit => "rlimit",
        Complete::Ioprio => "ioprio",
        Complete::Variable => "variable",
        Complete::Assignment => "assignment",
    }
}

/// The words a value of this kind is one of (an element, for the comma
/// lists), space-separated, for the kinds whose words are runas's own
/// tables; None for the kinds each shell completes by itself.
fn fixed_words(kind: &str) -> Option<String> {
    let caps = || crate::request::caps::Cap::known().map(|(_, name)| name);
    let words: Vec<String> = match kind {
        "cap-list" => caps().map(str::to_owned).collect(),
        "bounding-list" => std::iter::once("-all".to_owned())
            .chain(caps().flat_map(|c| [format!("-{c}"), format!("+{c}")]))
            .collect(),
        "securebit-list" => crate::request::securebits::NAMES
            .iter()
            .flat_map(|(n, _)| [n.to_string(), format!("-{n}")])
            .collect(),
        // Both spellings --pdeathsig accepts: TERM and SIGTERM.
        "signal" => nix::sys::signal::Signal::iterator()
            .flat_map(|s| {
                [
                    s.as_str().trim_start_matches("SIG").to_owned(),
                    s.as_str().to_owned(),
                ]
            })
            .collect(),
        "rlimit" => crate::options::resources::limits()
            .map(|(_, name)| format!("{name}="))
            .collect(),
        "ioprio" => ["realtime", "best-effort", "idle"]
            .iter()
            .map(|w| w.to_string())
            .collect(),
        _ => return None,
    };
    Some(words.join(" "))
}

/// The bash completion: the lists come from runas's own tables, the logic
/// is fixed. Words are split from COMP_LINE rather than COMP_WORDS, whose
/// splits at '=' and ':' would break `--user=app:media`; the replies are
/// then trimmed to what bash replaces (after its last '=' or ':').
#[allow(
    clippy::too_many_lines,
    reason = "the script is one template; its lines are bash, not Rust"
)]
pub fn bash() -> String {
    let mut options = Vec::new();
    let mut valued = Vec::new();
    let mut kinds = String::new();
    for spec in super::options() {
        let mut names = vec![format!("--{}", spec.long)];
        if let Some(short) = spec.short {
            names.push(format!("-{short}"));
        }
        options.extend(names.iter().cloned());
        if spec.value.is_some() {
            valued.extend(names.iter().cloned());
            let _ = writeln!(
                kinds,
                "    {}) echo {} ;;",
                names.join("|"),
                value_kind(&spec)
            );
        }
    }
    let words = |kind| fixed_words(kind).unwrap_or_default();
    format!(
        r#"# bash completion for runas, generated from its option table
# (examples/completions.rs); works with or without the bash-completion package.

_runas_option_kind() {{
  case $1 in
{kinds}    *) echo none ;;
  esac
}}

_runas() {{
  local line=${{COMP_LINE:0:COMP_POINT}}
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:space:]] || ${{#words[@]}} -eq 0 ]] && words+=("")
  # Separate statements: within one, $n would still be a caller's n.
  local n=${{#words[@]}}
  local cur=${{words[n-1]}} i word kind="" value prefix=""
  local valued=" {valued} "
  # The command starts after "--", or at the first word that is neither an
  # option nor an option's value.
  for ((i = 1; i < n - 1; i++)); do
    word=${{words[i]}}
    if [[ $word == -- ]]; then
      _runas_command $((i + 1)) "${{words[@]}}"
      return
    elif [[ $valued == *" $word "* ]]; then
      ((i++))
    elif [[ $word != -* ]]; then
      _runas_command "$i" "${{words[@]}}"
      return
    fi
  done
  if ((n >= 2)) && [[ $valued == *" ${{words[n-2]}} "* ]]; then
    kind=$(_runas_option_kind "${{words[n-2]}}")
    value=$cur
  elif [[ $cur == --*=* ]]; then
    kind=$(_runas_option_kind "${{cur%%=*}}")
    prefix=${{cur%%=*}}=
    value=${{cur#*=}}
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "{options}" -- "$cur")
    return
  else
    mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
    return
  fi
  local head=""
  local -a candidates=()
  case $kind in
    user)
      if [[ $value == *:* ]]; then
        head=${{value%%:*}}:
        mapfile -t candidates < <(compgen -g -- "${{value#*:}}")
      else
        mapfile -t candidates < <(compgen -u -- "$value")
      fi ;;
    group) mapfile -t candidates < <(compgen -g -- "$value") ;;
    *-list)
      [[ $value == *,* ]] && head=${{value%,*}},
      local last=${{value##*,}}
      case $kind in
        group-list) mapfile -t candidates < <(compgen -g -- "$last") ;;
        cap-list) mapfile -t candidates < <(compgen -W "{caps}" -- "$last") ;;
        bounding-list) mapfile -t candidates < <(compgen -W "{bounding}" -- "$last") ;;
        securebit-list) mapfile -t candidates < <(compgen -W "{securebits}" -- "$last") ;;
      esac
      compopt -o nospace 2>/dev/null ;;
    signal) mapfile -t candidates < <(compgen -W "{signals}" -- "$value") ;;
    rlimit) mapfile -t candidates < <(compgen -W "{rlimits}" -- "$value"); compopt -o nospace 2>/dev/null ;;
    ioprio) mapfile -t candidates < <(compgen -W "{ioprios}" -- "$value") ;;
    file) mapfile -t candidates < <(compgen -f -- "$value"); compopt -o filenames 2>/dev/null ;;
    dir) mapfile -t candidates < <(compgen -d -- "$value"); compopt -o filenames 2>/dev/null ;;
    variable) mapfile -t candidates < <(compgen -e -- "$value") ;;
    assignment) mapfile -t candidates < <(compgen -e -S = -- "$value"); compopt -o nospace 2>/dev/null ;;
  esac
  # bash replaces only what follows the last '=' or ':' of the word.
  local full=$prefix$head strip
  strip=${{full%"${{full##*[=:]}}"}}
  COMPREPLY=()
  for word in "${{candidates[@]}}"; do
    word=$full$word
    COMPREPLY+=("${{word#"$strip"}}")
  done
}}

# Complete the command at words[$1] and, past it, its own arguments with
# its own completion (bash-completion's _command_offset, when present).
_runas_command() {{
  local start=$1
  shift
  local -a words=("$@")
  local n=${{#words[@]}}
  if ((start >= n - 1)); then
    mapfile -t COMPREPLY < <(compgen -c -- "${{words[n-1]}}" | sort -u)
  elif declare -F _command_offset >/dev/null; then
    local j
    for ((j = start; j < COMP_CWORD; j++)); do
      if [[ ${{COMP_WORDS[j]}} == "${{words[start]}}" ]]; then
        _command_offset "$j"
        return
      fi
    done
    mapfile -t COMPREPLY < <(compgen -f -- "${{words[n-1]}}")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "${{words[n-1]}}")
  fi
}}

# gosu's and su-exec's names (a link to runas): USER[:GROUP], then the
# command.
_runas_compat() {{
  local line=${{COMP_LINE:0:COMP_POINT}}
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:space:]] || ${{#words[@]}} -eq 0 ]] && words+=("")
  local n=${{#words[@]}}
  if ((n > 2)); then
    _runas_command 2 "${{words[@]}}"
    return
  fi
  local value=${{words[1]}} head="" word strip
  local -a candidates=()
  if [[ $value == *:* ]]; then
    head=${{value%%:*}}:
    mapfile -t candidates < <(compgen -g -- "${{value#*:}}")
  else
    mapfile -t candidates < <(compgen -u -- "$value")
  fi
  strip=${{head%"${{head##*[=:]}}"}}
  COMPREPLY=()
  for word in "${{candidates[@]}}"; do
    word=$head$word
    COMPREPLY+=("${{word#"$strip"}}")
  done
}}

complete -F _runas runas
complete -F _runas_compat gosu su-exec
"#,
        valued = valued.join(" "),
        options = options.join(" "),
        caps = words("cap-list"),
        bounding = words("bounding-list"),
        securebits = words("securebit-list"),
        signals = words("signal"),
        rlimits = words("rlimit"),
        ioprios = words("ioprio"),
    )
}

/// The names a value kind completes from, as one fish command that prints
/// them (one per line), or None for kinds fish completes by itself.
fn fish_source(kind: &str) -> Option<String> {
    if let Some(words) = fixed_words(kind) {
        let print = format!("printf '%s\\n' {words}");
        return Some(if kind.ends_with("-list") {
            format!("__fish_complete_list , \"{print}\"")
        } else {
            print
        });
    }
    Some(match kind {
        "group" => "__fish_complete_groups".into(),
        "group-list" => "__fish_complete_list , __fish_complete_groups".into(),
        "dir" => "__fish_complete_directories".into(),
        "variable" => "set -xn".into(),
        "assignment" => "set -xn | string replace -r '$' =".into(),
        _ => return None,
    })
}

/// The fish completion: options and their values while runas's own words
/// are being typed; then the command, and its arguments with the command's
/// own completion.
pub fn fish() -> String {
    let mut valued = Vec::new();
    let mut lines = String::new();
    for spec in options() {
        let mut names = vec![format!("--{}", spec.long)];
        let mut flags = format!("-l {}", spec.long);
        if let Some(short) = spec.short {
            names.push(format!("-{short}"));
            flags.push_str(&format!(" -s {short}"));
        }
        let help = spec.help.replace('\'', "\\'");
        let mut line = format!("complete -c runas -n 'not __runas_in_command' {flags} -d '{help}'");
        if spec.value.is_some() {
            valued.extend(names);
            let kind = value_kind(&spec);
            match (kind, fish_source(kind)) {
                ("user", _) => line.push_str(" -x -a '(__runas_user)'"),
                ("file", _) => line.push_str(" -r -F"),
                (_, Some(source)) => {
                    line.push_str(&format!(" -x -a '({})'", source.replace('\'', "\\'")))
                }
                _ => line.push_str(" -x"),
            }
        }
        lines.push_str(&line);
        lines.push('\n');
    }
    format!(
        r#"# fish completion for runas, generated from its option table
# (examples/completions.rs).

# Where the command starts in the words typed so far (after "--", or at the
# first word that is neither an option nor an option's value); empty while
# runas's own options are being typed.
function __runas_command_start
    set -l valued {valued}
    set -l words (commandline -opc)
    set -l i 2
    while test $i -le (count $words)
        set -l word $words[$i]
        if test "$word" = --
            echo (math $i + 1)
            return
        else if contains -- $word $valued
            set i (math $i + 1)
        else if not string match -q -- '-*' $word
            echo $i
            return
        end
        set i (math $i + 1)
    end
end

function __runas_in_command
    set -l start (__runas_command_start)
    test -n "$start"
end

# USER, or USER:GROUP once a ':' is typed.
function __runas_user
    set -l value (commandline -ct | string replace -r -- '^--user=' '')
    if string match -q -- '*:*' $value
        set -l user (string split -m1 : -- $value)[1]
        __fish_complete_groups | string replace -r -- '^' "$user:"
    else
        __fish_complete_users
    end
end

# The command, then its arguments with its own completion; from word
# $argv[1] when given (gosu's and su-exec's command line), else where
# runas's options end.
function __runas_command
    set -l start $argv[1]
    test -n "$start"; or set start (__runas_command_start)
    set -l words (commandline -opc)
    if test $start -gt (count $words)
        __fish_complete_command
    else
        complete -C (string join -- ' ' (string escape -- $words[$start..-1]) (commandline -ct))
    end
end

complete -c runas -f
{lines}complete -c runas -n '__runas_in_command' -x -a '(__runas_command)'
complete -c runas -n 'not __runas_in_command; and not string match -q -- "-*" (commandline -ct)' -x -a '(__fish_complete_command)'

# gosu's and su-exec's names (a link to runas): USER[:GROUP], then the
# command.
for name in gosu su-exec
    complete -c $name -f
    complete -c $name -n 'test (count (commandline -opc)) -eq 1' -x -a '(__runas_user)'
    complete -c $name -n 'test (count (commandline -opc)) -ge 2' -x -a '(__runas_command 3)'
end
"#,
        valued = valued.join(" "),
    )
}

/// What completes a value of this kind, as a zsh action.
fn zsh_action(kind: &str) -> String {
    if let Some(words) = fixed_words(kind) {
        return if kind.ends_with("-list") {
            format!("_sequence compadd - {words}")
        } else {
            format!("compadd - {words}")
        };
    }
    match kind {
        "user" => "_runas_user".into(),
        "group" => "_groups".into(),
        "group-list" => "_sequence _groups".into(),
        "file" => "_files".into(),
        "dir" => "_files -/".into(),
        "variable" => "_parameters -g \"*export*\"".into(),
        "assignment" => "_parameters -g \"*export*\" -qS=".into(),
        _ => " ".into(),
    }
}

/// The zsh completion (_arguments): options and their values, then the
/// command and its arguments with the command's own completion.
pub fn zsh() -> String {
    // Inside '...' in the script, and inside _arguments' [help].
    let quote = |text: &str| {
        text.replace('\\', "\\\\")
            .replace('[', "\\[")
            .replace(']', "\\]")
            .replace(':', "\\:")
            .replace('\'', "'\\''")
    };
    let mut specs = String::new();
    for spec in options() {
        let help = quote(spec.help);
        let (suffix_long, suffix_short, action, repeatable) = match spec.value {
            None => ("", "", String::new(), false),
            Some(value) => (
                "=",
                "+",
                format!(
                    ":{}:{}",
                    quote(&value.to_ascii_lowercase()),
                    zsh_action(value_kind(&spec)).replace('\'', "'\\''")
                ),
                spec.repeatable,
            ),
        };
        let line = match spec.short {
            Some(short) => {
                let exclude = if repeatable {
                    "'*'".to_owned()
                } else {
                    format!("'(-{short} --{})'", spec.long)
                };
                format!(
                    "{exclude}{{-{short}{suffix_short},--{}{suffix_long}}}'[{help}]{action}'",
                    spec.long
                )
            }
            None => format!(
                "'{}--{}{suffix_long}[{help}]{action}'",
                if repeatable { "*" } else { "" },
                spec.long
            ),
        };
        let _ = writeln!(specs, "    {line} \\");
    }
    format!(
        r#"#compdef runas gosu su-exec
# zsh completion for runas, generated from its option table
# (examples/completions.rs).

# USER, or GROUP once USER: is typed.
_runas_user() {{
  if compset -P '*:'; then
    _groups
  else
    _users
  fi
}}

_runas() {{
  _arguments -s -S \
{specs}    '(-)1:command:_command_names -e' \
    '*::arguments:_normal'
}}

if [[ $service == (gosu|su-exec) ]]; then
  # gosu's and su-exec's command line: USER[:GROUP], then the command.
  _arguments '1:user:_runas_user' '*:::command:_normal'
else
  _runas "$@"
fi
"#
    )
}
