//! Environment from files, parsed without I/O: systemd's `EnvironmentFile=`
//! syntax (systemd.exec(5)) and one file of a daemontools/s6 envdir.
//!
//! The env-file parser is a transcription of systemd's own,
//! `parse_env_file_internal()` in src/basic/env-file.c, state for state,
//! so that a file means here exactly what it means to a unit: same
//! quoting, same escapes, same whitespace, same line ends (a CR ends a
//! line too), same odd corners (text after a closing quote is appended).
//! Its upstream test vectors (src/test/test-env-file.c) are in the tests.
//!
//! Where systemd keeps going past something it cannot use, runas stops.
//! systemd drops a line without `=`, drops an assignment whose name is not
//! a valid name (it only logs that), stops reading at a NUL byte, and lets
//! an unclosed quote swallow the rest of the file into one value. For a
//! service manager that is resilience; for a launcher that sets up the
//! environment a command runs with, each is a variable silently missing
//! or silently wrong, and the mistake surfaces later, far away
//! (`DATABASE-URL=...` sets nothing; a stray `"` on line 3 makes every
//! later line part of one value). runas's rule is that any doubt is an
//! error: every one of those cases is an [`EnvFileError`] naming the
//! line, and nothing from the file is used.
//! What systemd accepts and gives a meaning to, runas accepts with the
//! same meaning.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;

/// The largest environment file accepted. Real ones are a few hundred
/// bytes; the bound keeps a wrong path (a log, a device) from being read
/// into memory whole. A caller reading the file can stop after this many
/// bytes plus one: that is enough to be refused.
pub const MAX_ENVIRONMENT_FILE: usize = 1024 * 1024;

/// Why an environment file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    /// 1-based line where the offending assignment starts (a value can
    /// span lines), counting `\n` bytes; for a bad byte, its own line.
    /// 0 when the problem is the file as a whole (its size).
    pub line: usize,
    /// Short, lower-case, no trailing period; file text in it is quoted.
    pub reason: String,
}

impl fmt::Display for EnvFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

impl std::error::Error for EnvFileError {}

fn error(line: usize, reason: impl Into<String>) -> EnvFileError {
    EnvFileError {
        line,
        reason: reason.into(),
    }
}

/// systemd's WHITESPACE, NEWLINE, COMMENTS and SHELL_NEED_ESCAPE
/// (src/basic/string-util.h, escape.h). A CR is a newline to systemd, so
/// CRLF ends a line (the LF is then skipped as whitespace), and so does a
/// lone CR outside quotes.
fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_newline(c: u8) -> bool {
    matches!(c, b'\n' | b'\r')
}

fn is_comment(c: u8) -> bool {
    matches!(c, b'#' | b';')
}

/// Escapable inside double quotes, as in POSIX sh.
fn is_shell_need_escape(c: u8) -> bool {
    matches!(c, b'"' | b'\\' | b'`' | b'$')
}

/// `[A-Za-z_][A-Za-z0-9_]*`: systemd's env_name_is_valid() (it follows
/// bash), which is also the set every shell can expand.
fn is_valid_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}

/// Unicode noncharacters, which systemd's utf8_is_valid() refuses
/// (unichar_is_valid() in src/basic/utf8.c): U+FDD0 to U+FDEF and the
/// last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

fn line_at(text: &[u8], offset: usize) -> usize {
    1 + text[..offset].iter().filter(|&&c| c == b'\n').count()
}

/// What a message says of a piece of the file: its length, never its
/// text. A file root reads for a service holds its secrets, and a token
/// pasted on a line of its own (no `=`), or a secret whose name part has a
/// `-`, would otherwise be quoted into the error, and from there into the
/// journal or a CI log.
fn shape(text: &[u8]) -> String {
    let chars = String::from_utf8_lossy(text).chars().count();
    format!("{chars} character{}", if chars == 1 { "" } else { "s" })
}

/// The first byte of a name that cannot be in one, and where: a character
/// of ASCII punctuation or white space is shown (it tells `A-B` from `A+`,
/// and says nothing of a secret); anything else only by its position.
fn first_bad(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    let Some((at, c)) = name
        .chars()
        .enumerate()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())))
    else {
        return "no character is wrong".into();
    };
    let what = match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        c if c.is_ascii_punctuation() => format!("'{c}'"),
        c if c.is_ascii_digit() => "a digit".to_owned(),
        c if c.is_ascii() => "a control character".to_owned(),
        _ => "not ASCII".to_owned(),
    };
    format!("character {} is {what}", at + 1)
}

/// The whole-file rules, checked before any parsing so that no part of a
/// bad file is ever used: size, UTF-8 (systemd refuses the whole file for
/// invalid UTF-8 or a noncharacter in a key or value; runas, anywhere),
/// and the characters systemd.exec(5) says a file must not contain: NUL
/// (systemd would silently stop reading there) and U+FEFF.
fn check_text(text: &[u8]) -> Result<(), EnvFileError> {
    if text.len() > MAX_ENVIRONMENT_FILE {
        return Err(error(0, "the file is larger than 1 MiB"));
    }
    let mut offset = 0;
    for chunk in text.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            let problem = match c {
                '\0' => "the file contains a NUL byte".to_owned(),
                '\u{feff}' => "the file contains a byte order mark (U+FEFF)".to_owned(),
                c if is_noncharacter(c) => {
                    format!(
                        "the file contains U+{:04X}, a Unicode noncharacter",
                        u32::from(c)
                    )
                }
                _ => continue,
            };
            return Err(error(line_at(text, offset + i), problem));
        }
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            return Err(error(line_at(text, offset), "the file is not valid UTF-8"));
        }
    }
    Ok(())
}

/// The states of parse_env_file_internal(). Its COMMENT_ESCAPE is left
/// out: since systemd v254 a backslash does not continue a comment, and
/// COMMENT_ESCAPE then behaves exactly like COMMENT (a newline ends the
/// comment, anything else stays in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    SingleQuote,
    DoubleQuote,
    DoubleQuoteEscape,
    Comment,
}

/// The assignment being read.
#[derive(Default)]
struct Assignment {
    /// Where it starts, for errors.
    line: usize,
    key: Vec<u8>,
    /// Where the key's trailing whitespace starts, if it has any.
    key_space: Option<usize>,
    value: Vec<u8>,
    /// Where the unquoted value's trailing whitespace starts, if any.
    value_space: Option<usize>,
    /// The line a quote was opened on, for an unclosed quote.
    quote_line: usize,
}

impl Assignment {
    /// A new assignment, from the first byte of its key.
    fn start(line: usize, first: u8) -> Self {
        Assignment {
            line,
            quote_line: line,
            key: vec![first],
            ..Assignment::default()
        }
    }

    fn key(&self) -> &[u8] {
        &self.key[..self.key_space.unwrap_or(self.key.len())]
    }

    /// `export FOO=1` reads as the key "export FOO": a shell habit, worth
    /// its own message.
    fn is_export(&self) -> bool {
        self.key()
            .strip_prefix(b"export")
            .is_some_and(|rest| rest.first().is_some_and(|c| is_whitespace(*c)))
    }

    fn shell_syntax_error(&self) -> EnvFileError {
        error(
            self.line,
            "it starts with 'export': runas does not take shell syntax such as 'export'",
        )
    }

    /// A line that ended (or a file that ended) inside the key.
    fn no_equals(&self) -> EnvFileError {
        if self.is_export() {
            return self.shell_syntax_error();
        }
        error(
            self.line,
            format!(
                "expected NAME=value, found a line of {} without '=' (its text is not shown: it may be a secret)",
                shape(self.key())
            ),
        )
    }

    fn unclosed(&self, which: &str) -> EnvFileError {
        let reason = if self.quote_line == self.line {
            format!("the {which} quote is never closed")
        } else {
            format!(
                "the {which} quote opened on line {} is never closed",
                self.quote_line
            )
        };
        error(self.line, reason)
    }

    /// The end of an assignment: systemd's push(), with the name check
    /// systemd leaves to strv_env_clean_with_callback() (which drops the
    /// assignment) made an error instead.
    fn finish(&mut self, trim_value: bool) -> Result<(OsString, OsString), EnvFileError> {
        if trim_value && let Some(end) = self.value_space {
            self.value.truncate(end);
        }
        if !is_valid_name(self.key()) {
            if self.is_export() {
                return Err(self.shell_syntax_error());
            }
            return Err(error(
                self.line,
                format!(
                    "invalid variable name ({}; {}): use letters, digits and '_', no leading digit",
                    shape(self.key()),
                    first_bad(self.key())
                ),
            ));
        }
        let end = self.key().len();
        self.key.truncate(end);
        Ok((
            OsString::from_vec(std::mem::take(&mut self.key)),
            OsString::from_vec(std::mem::take(&mut self.value)),
        ))
    }
}

/// Parse the contents of a systemd `EnvironmentFile=`: every assignment,
/// in file order (a name may come more than once; the caller applies them
/// in order, so the last one wins, as in systemd).
///
/// The syntax, from systemd.exec(5) and parse_env_file_internal():
/// * `NAME=value` per line; whitespace around the name is dropped
///   (`FOO = bar` sets FOO); empty lines are skipped; a line whose first
///   non-blank character is `#` or `;` is a comment (nowhere else: in
///   `FOO=bar # x` the value is `bar # x`). A backslash does not continue
///   a comment.
/// * Unquoted value: leading and trailing space, tab and CR dropped,
///   interior whitespace kept; `\x` is `x`; backslash-newline continues
///   the value on the next line (the newline dropped, the next line's
///   leading whitespace kept). Quotes inside it are plain characters.
/// * `'...'`: verbatim, may span lines, no escapes.
/// * `"..."`: may span lines; `\"` `\\` `` \` `` `\$` give the character,
///   backslash-newline is dropped, any other backslash pair stays as is.
/// * After a closing quote the value goes on: blanks are skipped, and
///   what follows on the line is appended, quoted or not
///   (`A="x" y` is `xy`, `A="sevenval" #no` is `sevenval#no`).
/// * Lines end at LF, CR or CRLF (outside quotes); inside quotes a CR is
///   kept. The last line needs no newline; a backslash ending the file is
///   dropped.
///
/// Refused, where systemd would go on: a non-comment line without `=`;
/// an empty or invalid name (only `[A-Za-z_][A-Za-z0-9_]*`, so also
/// `export FOO=1`); a quote still open at the end of the file; NUL, U+FEFF,
/// a noncharacter or invalid UTF-8 anywhere; more than
/// `MAX_ENVIRONMENT_FILE` bytes.
#[allow(
    clippy::too_many_lines,
    reason = "a transcription of systemd's parse_env_file_internal(), state for state, read beside it"
)]
pub fn parse_environment_file(text: &[u8]) -> Result<Vec<(OsString, OsString)>, EnvFileError> {
    check_text(text)?;
    let mut pairs = Vec::new();
    let mut state = State::PreKey;
    // Meaningful from the first byte of a key until pushed.
    let mut a = Assignment::default();
    let mut line = 1;

    for &c in text {
        match state {
            State::PreKey => {
                if is_comment(c) {
                    state = State::Comment;
                } else if c == b'=' {
                    // systemd would read "=" as the first byte of a key
                    // and then drop the line or the name; either way an
                    // error here, and this one says what is wrong.
                    return Err(error(line, "the variable name is empty"));
                } else if !is_whitespace(c) {
                    state = State::Key;
                    a = Assignment::start(line, c);
                }
            }
            State::Comment => {
                if is_newline(c) {
                    state = State::PreKey;
                }
            }
            State::Key => {
                if is_newline(c) {
                    return Err(a.no_equals());
                } else if c == b'=' {
                    state = State::PreValue;
                } else {
                    if !is_whitespace(c) {
                        a.key_space = None;
                    } else if a.key_space.is_none() {
                        a.key_space = Some(a.key.len());
                    }
                    a.key.push(c);
                }
            }
            State::PreValue => {
                if is_newline(c) {
                    pairs.push(a.finish(false)?);
                    state = State::PreKey;
                } else if c == b'\'' {
                    a.quote_line = line;
                    state = State::SingleQuote;
                } else if c == b'"' {
                    a.quote_line = line;
                    state = State::DoubleQuote;
                } else if c == b'\\' {
                    state = State::ValueEscape;
                } else if !is_whitespace(c) {
                    a.value.push(c);
                    state = State::Value;
                }
            }
            State::Value => {
                if is_newline(c) {
                    pairs.push(a.finish(true)?);
                    state = State::PreKey;
                } else if c == b'\\' {
                    // An escaped character is never trailing whitespace.
                    a.value_space = None;
                    state = State::ValueEscape;
                } else {
                    if !is_whitespace(c) {
                        a.value_space = None;
                    } else if a.value_space.is_none() {
                        a.value_space = Some(a.value.len());
                    }
                    a.value.push(c);
                }
            }
            State::ValueEscape => {
                // Backslash-newline (LF or CR) is a continuation: both go.
                if !is_newline(c) {
                    a.value.push(c);
                }
                state = State::Value;
            }
            State::SingleQuote => {
                if c == b'\'' {
                    state = State::PreValue;
                } else {
                    a.value.push(c);
                }
            }
            State::DoubleQuote => {
                if c == b'"' {
                    state = State::PreValue;
                } else if c == b'\\' {
                    state = State::DoubleQuoteEscape;
                } else {
                    a.value.push(c);
                }
            }
            State::DoubleQuoteEscape => {
                if is_shell_need_escape(c) {
                    a.value.push(c);
                } else if c != b'\n' {
                    // As in sh, and as in systemd: only LF continues here,
                    // so a CRLF keeps the backslash and the CR.
                    a.value.extend_from_slice(&[b'\\', c]);
                }
                state = State::DoubleQuote;
            }
        }
        if c == b'\n' {
            line += 1;
        }
    }

    // The end of the file, as systemd handles it: an assignment under way
    // is pushed (trimmed only if in an unquoted value; a dangling
    // backslash is dropped), a line without `=` is (for us) an error. An
    // open quote systemd also pushes, with the rest of the file in it:
    // runas refuses it, since every later line was read as part of the
    // value.
    match state {
        State::PreKey | State::Comment => {}
        State::Key => return Err(a.no_equals()),
        State::SingleQuote => return Err(a.unclosed("single")),
        State::DoubleQuote | State::DoubleQuoteEscape => return Err(a.unclosed("double")),
        State::PreValue | State::ValueEscape => pairs.push(a.finish(false)?),
        State::Value => pairs.push(a.finish(true)?),
    }
    Ok(pairs)
}

/// The value one file of an envdir gives its variable, as daemontools
/// envdir(8) and s6-envdir (without options) compute it: `None` for an
/// empty file (0 bytes: the variable is removed); otherwise the first
/// line (up to the first `\n`, or the whole file), with trailing spaces
/// and tabs removed, then NUL bytes turned into newlines. In that order,
/// as in daemontools' envdir.c (byte_chr for `\n`, the while loop for
/// ' ' and '\t', then NUL to '\n'), so `"a \0"` is `"a \n"`.
/// A file holding only a newline sets the variable to the empty string.
/// A CR is not stripped (`"x\r\n"` is `"x\r"`), exactly as in both.
///
/// References: <https://cr.yp.to/daemontools/envdir.html>,
/// <https://skarnet.org/software/s6/s6-envdir.html>.
pub fn envdir_value(contents: &[u8]) -> Option<OsString> {
    if contents.is_empty() {
        return None;
    }
    let first_line = match contents.iter().position(|&c| c == b'\n') {
        Some(end) => &contents[..end],
        None => contents,
    };
    let end = first_line
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |last| last + 1);
    let value = first_line[..end]
        .iter()
        .map(|&c| if c == 0 { b'\n' } else { c })
        .collect();
    Some(OsString::from_vec(value))
}

/// What to do with a file in an envdir, by its name: passed over (a dot
/// file, also `.` and `..`: envdir and s6-envdir pass over it), refused
/// with a reason, or its name is the variable's name.
pub use crate::paths::EntryName as EnvdirName;

/// Classify an envdir entry's name. Dot files are skipped, as in
/// daemontools envdir.c (`d->d_name[0] != '.'`) and s6-envdir. A name
/// with `=` cannot be a variable's name (daemontools' man page: "The name
/// s must not contain ="; s6-envdir ignores such files): runas refuses it
/// rather than pass over it. runas also refuses any other name outside
/// `[A-Za-z_][A-Za-z0-9_]*`, which neither tool checks, for the same names
/// as an environment file, and so that a stray `FOO~` or `FOO.orig`
/// left by an editor is an error rather than a variable.
pub fn classify_envdir_name(name: &[u8]) -> EnvdirName {
    if name.first() == Some(&b'.') {
        EnvdirName::Skip
    } else if name.is_empty() {
        EnvdirName::Invalid("the name is empty")
    } else if name.contains(&b'=') {
        EnvdirName::Invalid("a variable name cannot contain '='")
    } else if !is_valid_name(name) {
        EnvdirName::Invalid("a variable name is letters, digits and '_', not starting with a digit")
    } else {
        EnvdirName::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    fn parsed(text: &[u8]) -> Result<Vec<(String, String)>, EnvFileError> {
        Ok(parse_environment_file(text)?
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_str().unwrap().to_owned(),
                    v.to_str().unwrap().to_owned(),
                )
            })
            .collect())
    }

    /// (what the row shows, file text, every pair in order).
    type Accepted = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    const ACCEPTED: &[Accepted] = &[
        // Lines, comments, blanks.
        ("empty file", "", &[]),
        ("blank lines only", "\n \n\t\n\r\n", &[]),
        ("one assignment", "A=1\n", &[("A", "1")]),
        ("no trailing newline", "A=1", &[("A", "1")]),
        ("empty value", "A=\n", &[("A", "")]),
        ("empty value at end of file", "A=", &[("A", "")]),
        ("# comment", "# A=1\nB=2\n", &[("B", "2")]),
        ("; comment", "; A=1\nB=2\n", &[("B", "2")]),
        ("indented comments", "  # c\n\t; c\nB=2\n", &[("B", "2")]),
        ("comment at end, no newline", "B=2\n# end", &[("B", "2")]),
        (
            "a backslash does not continue a comment (since v254)",
            "# c \\\nA=1\n",
            &[("A", "1")],
        ),
        (
            "# inside a value is data",
            "A=1 # not a comment\n",
            &[("A", "1 # not a comment")],
        ),
        ("; inside a value is data", "A=1;2\n", &[("A", "1;2")]),
        (
            "repeats kept in order",
            "A=1\nA=2\n",
            &[("A", "1"), ("A", "2")],
        ),
        // Names.
        ("blanks around the name", "  FOO = bar\n", &[("FOO", "bar")]),
        ("tabs around the name", "\tFOO\t=\tbar\n", &[("FOO", "bar")]),
        ("underscore and digits", "_a1_B2=x\n", &[("_a1_B2", "x")]),
        ("the first = splits", "A=b=c\n", &[("A", "b=c")]),
        // Unquoted values.
        (
            "leading and trailing blanks dropped",
            "A=  x y\t \n",
            &[("A", "x y")],
        ),
        (
            "interior whitespace kept",
            "A=a  b\t c\n",
            &[("A", "a  b\t c")],
        ),
        (
            "trailing CR dropped (CRLF)",
            "A=x\r\nB=y\r\n",
            &[("A", "x"), ("B", "y")],
        ),
        ("lone CR ends a line", "A=x\rB=y", &[("A", "x"), ("B", "y")]),
        ("\\x is x", "A=\\a\\b\\'\n", &[("A", "ab'")]),
        ("\\\\ is \\ (systemd.exec(5))", "A=\\\\\n", &[("A", "\\")]),
        ("escaped blank is kept", "A=x\\ \n", &[("A", "x ")]),
        ("escaped blank, then a blank", "A=x\\  \n", &[("A", "x ")]),
        ("escaped leading blank", "A=\\ x\n", &[("A", " x")]),
        (
            "quotes inside an unquoted value",
            "A=it's \"x\"\n",
            &[("A", "it's \"x\"")],
        ),
        ("continuation", "A=a\\\nb\n", &[("A", "ab")]),
        (
            "continuation keeps the next line's blanks",
            "A=a\\\n  b\n",
            &[("A", "a  b")],
        ),
        ("continuation right after =", "A=\\\n  b\n", &[("A", "  b")]),
        (
            "continuation to the end of the file",
            "A=a\\\n",
            &[("A", "a")],
        ),
        (
            "backslash at the end of the file dropped",
            "A=a\\",
            &[("A", "a")],
        ),
        (
            "backslash at the end keeps blanks before it",
            "A=a \\",
            &[("A", "a ")],
        ),
        ("continuation by backslash-CR", "A=a\\\rb\n", &[("A", "ab")]),
        (
            "a quote after a continuation is data",
            "A=a\\\n'b\n",
            &[("A", "a'b")],
        ),
        (
            "$ is not expanded",
            "A=$HOME ${X}\n",
            &[("A", "$HOME ${X}")],
        ),
        // Single quotes.
        ("single quotes", "A='x'\n", &[("A", "x")]),
        ("single quotes keep blanks", "A=' x  '\n", &[("A", " x  ")]),
        (
            "single quotes: no escapes",
            "A='\\n\\'\n",
            &[("A", "\\n\\")],
        ),
        (
            "single quotes span lines",
            "A='a\nb'\nB=1\n",
            &[("A", "a\nb"), ("B", "1")],
        ),
        (
            "single quotes keep a CR",
            "A='a\r\nb'\r\n",
            &[("A", "a\r\nb")],
        ),
        ("empty single quotes", "A=''\n", &[("A", "")]),
        ("blanks around single quotes", "A=  'x'  \n", &[("A", "x")]),
        (
            "unclosed quote at the end: none, quotes are data",
            "A=x'\n",
            &[("A", "x'")],
        ),
        // Double quotes.
        ("double quotes", "A=\"x\"\n", &[("A", "x")]),
        ("double quotes keep blanks", "A=\" x \"\n", &[("A", " x ")]),
        (
            "double quotes: \\\" \\\\ \\` \\$",
            "A=\"\\\"\\\\\\`\\$\"\n",
            &[("A", "\"\\`$")],
        ),
        (
            "double quotes: other pairs verbatim",
            "A=\"\\n\\t\\'\"\n",
            &[("A", "\\n\\t\\'")],
        ),
        ("double quotes span lines", "A=\"a\nb\"\n", &[("A", "a\nb")]),
        (
            "double quotes: continuation",
            "A=\"a\\\nb\"\n",
            &[("A", "ab")],
        ),
        (
            "double quotes: backslash-CRLF is not a continuation",
            "A=\"a\\\r\nb\"\n",
            &[("A", "a\\\r\nb")],
        ),
        (
            "double quotes keep single quotes",
            "A=\"it's\"\n",
            &[("A", "it's")],
        ),
        (
            "single quotes keep double quotes",
            "A='say \"hi\"'\n",
            &[("A", "say \"hi\"")],
        ),
        (
            "double quotes, CRLF after",
            "A=\"x\"\r\nB=y\r\n",
            &[("A", "x"), ("B", "y")],
        ),
        (
            "double quote at the end of the file",
            "A=\"x\"",
            &[("A", "x")],
        ),
        // After a closing quote: blanks skipped, the rest appended.
        ("text after a closing quote", "A=\"x\"y\n", &[("A", "xy")]),
        (
            "blanks after a closing quote skipped",
            "A=\"x\"  y  \n",
            &[("A", "xy")],
        ),
        (
            "quotes after a closing quote",
            "A='a' \"b\" c\n",
            &[("A", "abc")],
        ),
        (
            "# after a closing quote is data",
            "A=\"x\" # c\n",
            &[("A", "x# c")],
        ),
        (
            "quotes after unquoted text are data",
            "A=\"a\" b \"c\"\n",
            &[("A", "ab \"c\"")],
        ),
        (
            "escape after a closing quote",
            "A=\"a\"\\ b\n",
            &[("A", "a b")],
        ),
        // systemd's src/test/test-env-file.c, load_env_file_1.
        (
            "upstream load_env_file_1",
            "a=a\na=b\na=b\na=a\nb=b\\\nc\nd= d\\\ne  \\\nf  \ng=g\\ \n\
             h= ąęół\\ śćńźżμ \ni=i\\",
            &[
                ("a", "a"),
                ("a", "b"),
                ("a", "b"),
                ("a", "a"),
                ("b", "bc"),
                ("d", "de  f"),
                ("g", "g "),
                ("h", "ąęół śćńźżμ"),
                ("i", "i"),
            ],
        ),
        ("upstream load_env_file_2", "a=a\\\n", &[("a", "a")]),
        (
            // Upstream's last line, "normal ignored \", has no '=': it is
            // in REJECTED.
            "upstream load_env_file_3, minus its line without =",
            "#SPAMD_ARGS=\"-d --socketpath=/var/lib/bulwark/spamd \\\n\
             #--nouser-config                                     \\\n\
             normal1=line\\\n\
             111\n\
             ;normal=ignored                                      \\\n\
             normal2=line222\n",
            &[("normal1", "line111"), ("normal2", "line222")],
        ),
        (
            "upstream load_env_file_4",
            "# Generated\n\nHWMON_MODULES=\"coretemp f71882fg\"\n\n\
             # For compatibility reasons\n\nMODULE_0=coretemp\nMODULE_1=f71882fg",
            &[
                ("HWMON_MODULES", "coretemp f71882fg"),
                ("MODULE_0", "coretemp"),
                ("MODULE_1", "f71882fg"),
            ],
        ),
        (
            "upstream load_env_file_5",
            "a=\nb=",
            &[("a", ""), ("b", "")],
        ),
        (
            "upstream load_env_file_6",
            "a=\\ \\n \\t \\x \\y \\' \n\
             b= \\$'                  \n\
             c= ' \\n\\t\\$\\`\\\\\n'   \n\
             d= \" \\n\\t\\$\\`\\\\\n\"   \n",
            &[
                ("a", " n t x y '"),
                ("b", "$'"),
                ("c", " \\n\\t\\$\\`\\\\\n"),
                ("d", " \\n\\t$`\\\n"),
            ],
        ),
        (
            // Upstream's "invalid line", "invalid line #comment" and
            // "export nine=nineval" are in REJECTED.
            "upstream parse_env_file, minus its invalid lines",
            "one=BAR   \n# comment\n # comment \n ; comment \n  two   =   bar    \n\
             three = \"333\nxxxx\"\nfour = '44\\\"44'\n\
             five = \"55\\\"55\" \"FIVE\" cinco   \nsix = seis sechs\\\n sis\n\
             seven=\"sevenval\" #nocomment\neight=eightval #nocomment\n\
             ten=ignored\nten=ignored\nten=\n\
             eleven=\\value\ntwelve=\"\\value\"\nthirteen='\\value'",
            &[
                ("one", "BAR"),
                ("two", "bar"),
                ("three", "333\nxxxx"),
                ("four", "44\\\"44"),
                ("five", "55\"55FIVEcinco"),
                ("six", "seis sechs sis"),
                ("seven", "sevenval#nocomment"),
                ("eight", "eightval #nocomment"),
                ("ten", "ignored"),
                ("ten", "ignored"),
                ("ten", ""),
                ("eleven", "value"),
                ("twelve", "\\value"),
                ("thirteen", "\\value"),
            ],
        ),
        (
            "upstream parse_multiline_env_file",
            "one=BAR\\\n\\ \\ \\ \\ VAR\\\n\\\tGAR\n#comment\n\
             two=\"bar\\\n    var\\\n\tgar\"\n#comment\n\
             tri=\"bar \\\n    var \\\n\tgar \"\n",
            &[
                ("one", "BAR    VAR\tGAR"),
                ("two", "bar    var\tgar"),
                ("tri", "bar     var \tgar "),
            ],
        ),
    ];

    #[test]
    fn accepted_files_mean_what_they_mean_to_systemd() {
        for (what, text, expected) in ACCEPTED {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(parsed(text.as_bytes()), Ok(expected), "{what}: {text:?}");
        }
    }

    /// (what the row shows, file bytes, line, reason).
    type Rejected = (&'static str, &'static [u8], usize, &'static str);

    const REJECTED: &[Rejected] = &[
        // Lines without '=' (systemd skips them).
        (
            "a word",
            b"A=1\nfoo\n",
            2,
            "expected NAME=value, found a line of 3 characters without '=' (its text is not shown: it may be a secret)",
        ),
        (
            "a word at the end, no newline",
            b"A=1\n\nfoo",
            3,
            "expected NAME=value, found a line of 3 characters without '=' (its text is not shown: it may be a secret)",
        ),
        (
            "blanks around the word",
            b"  foo  \n",
            1,
            "expected NAME=value, found a line of 3 characters without '=' (its text is not shown: it may be a secret)",
        ),
        (
            "upstream: invalid line #comment",
            b"invalid line #comment\n",
            1,
            "expected NAME=value, found a line of 21 characters without '=' (its text is not shown: it may be a secret)",
        ),
        (
            "upstream load_env_file_3's last line",
            b"normal2=line222\nnormal ignored                                       \\\n",
            2,
            "expected NAME=value, found a line of 54 characters without '=' (its text is not shown: it may be a secret)",
        ),
        (
            // CRLF after a backslash: the backslash eats the CR, the LF
            // ends the value, and "b" is a line of its own.
            "backslash-CRLF is not a continuation outside quotes",
            b"A=a\\\r\nb\r\n",
            2,
            "expected NAME=value, found a line of 1 character without '=' (its text is not shown: it may be a secret)",
        ),
        (
            "a long line is cut short in the message",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            1,
            "expected NAME=value, found a line of 69 characters without '=' (its text is not shown: it may be a secret)",
        ),
        // Names (systemd drops the assignment).
        ("empty name", b"=x\n", 1, "the variable name is empty"),
        (
            "empty name after blanks",
            b"A=1\n  = x\n",
            2,
            "the variable name is empty",
        ),
        (
            "leading digit",
            b"1A=x\n",
            1,
            "invalid variable name (2 characters; character 1 is a digit): use letters, digits and '_', no leading digit",
        ),
        (
            "dash",
            b"A-B=x\n",
            1,
            "invalid variable name (3 characters; character 2 is '-'): use letters, digits and '_', no leading digit",
        ),
        (
            "space inside",
            b"A B=x\n",
            1,
            "invalid variable name (3 characters; character 2 is a space): use letters, digits and '_', no leading digit",
        ),
        (
            "non-ASCII",
            "É=x\n".as_bytes(),
            1,
            "invalid variable name (1 character; character 1 is not ASCII): use letters, digits and '_', no leading digit",
        ),
        (
            "+= is shell syntax too",
            b"A+=x\n",
            1,
            "invalid variable name (2 characters; character 2 is '+'): use letters, digits and '_', no leading digit",
        ),
        (
            "export",
            b"export FOO=1\n",
            1,
            "it starts with 'export': runas does not take shell syntax such as 'export'",
        ),
        (
            "upstream: export nine=nineval",
            b"one=1\nexport nine=nineval\n",
            2,
            "it starts with 'export': runas does not take shell syntax such as 'export'",
        ),
        (
            "export with a tab, no value",
            b"export\tFOO\n",
            1,
            "it starts with 'export': runas does not take shell syntax such as 'export'",
        ),
        (
            "a name beginning with export is fine as a name, not as syntax",
            b"exportFOO-=1\n",
            1,
            "invalid variable name (10 characters; character 10 is '-'): use letters, digits and '_', no leading digit",
        ),
        (
            "the error is at the line the assignment starts",
            b"A='x\ny'\nB C=\"1\n2\"\n",
            3,
            "invalid variable name (3 characters; character 2 is a space): use letters, digits and '_', no leading digit",
        ),
        // Unclosed quotes (systemd takes the rest of the file as the value).
        (
            "unclosed double quote",
            b"A=\"x\n",
            1,
            "the double quote is never closed",
        ),
        (
            "unclosed single quote",
            b"A='x\nB=1\n",
            1,
            "the single quote is never closed",
        ),
        (
            "unclosed double quote after an escape",
            b"A=\"x\\",
            1,
            "the double quote is never closed",
        ),
        (
            "unclosed quote opened on a later line",
            b"A='x\ny' 'z\n",
            1,
            "the single quote opened on line 2 is never closed",
        ),
        (
            "a second quote left open",
            b"A=\"x\" \"y\n",
            1,
            "the double quote is never closed",
        ),
        // Bytes (systemd stops at a NUL, refuses bad UTF-8 in keys and values).
        ("NUL", b"A=1\nB=\0\n", 2, "the file contains a NUL byte"),
        (
            "NUL in a comment",
            b"# \0\nA=1\n",
            1,
            "the file contains a NUL byte",
        ),
        (
            "invalid UTF-8",
            b"A=1\nB=\xff\n",
            2,
            "the file is not valid UTF-8",
        ),
        (
            "invalid UTF-8 in a comment",
            b"#\xc3\n",
            1,
            "the file is not valid UTF-8",
        ),
        (
            "truncated UTF-8 at the end",
            b"A=\xc3",
            1,
            "the file is not valid UTF-8",
        ),
        (
            "surrogate",
            b"A=\xed\xa0\x80\n",
            1,
            "the file is not valid UTF-8",
        ),
        (
            "overlong encoding",
            b"A=\xc0\xaf\n",
            1,
            "the file is not valid UTF-8",
        ),
        (
            "the first bad byte is reported",
            b"A=\xff\nB=\0\n",
            1,
            "the file is not valid UTF-8",
        ),
        (
            "upstream load_env_file_invalid_utf8: U+FFFE in a key",
            "fo\u{fffe}o=bar".as_bytes(),
            1,
            "the file contains U+FFFE, a Unicode noncharacter",
        ),
        (
            "upstream load_env_file_invalid_utf8: U+FFFF in a value",
            "foo=b\u{ffff}ar".as_bytes(),
            1,
            "the file contains U+FFFF, a Unicode noncharacter",
        ),
        (
            "noncharacter U+FDD0",
            "A=1\nB=\u{fdd0}".as_bytes(),
            2,
            "the file contains U+FDD0, a Unicode noncharacter",
        ),
        (
            "noncharacter in plane 16",
            "A=\u{10ffff}".as_bytes(),
            1,
            "the file contains U+10FFFF, a Unicode noncharacter",
        ),
        (
            "byte order mark at the start",
            "\u{feff}A=1\n".as_bytes(),
            1,
            "the file contains a byte order mark (U+FEFF)",
        ),
        (
            "byte order mark in a value",
            "A=1\nB=x\u{feff}\n".as_bytes(),
            2,
            "the file contains a byte order mark (U+FEFF)",
        ),
    ];

    #[test]
    fn files_systemd_would_half_use_are_refused() {
        for (what, text, line, reason) in REJECTED {
            assert_eq!(
                parse_environment_file(text),
                Err(EnvFileError {
                    line: *line,
                    reason: (*reason).to_owned(),
                }),
                "{what}: {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn the_first_error_in_the_file_is_reported() {
        let err = parse_environment_file(b"A=1\nB-1=2\nfoo\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn size_limit() {
        let mut text = b"A=".to_vec();
        text.resize(MAX_ENVIRONMENT_FILE, b'x');
        let pairs = parse_environment_file(&text).unwrap();
        assert_eq!(pairs[0].1.len(), MAX_ENVIRONMENT_FILE - 2);

        text.push(b'x');
        let err = parse_environment_file(&text).unwrap_err();
        assert_eq!(err, error(0, "the file is larger than 1 MiB"));
        assert_eq!(err.to_string(), "the file is larger than 1 MiB");
    }

    #[test]
    fn display_names_the_line() {
        let err = parse_environment_file(b"A=1\nfoo\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: expected NAME=value, found a line of 3 characters without '=' (its text is not shown: it may be a secret)"
        );
    }

    #[test]
    fn values_are_bytes_exactly() {
        // Non-ASCII survives byte for byte (the parser only ever drops
        // ASCII bytes, so it never splits a character).
        let pairs = parse_environment_file("A= é\\ ü €\n".as_bytes()).unwrap();
        assert_eq!(pairs, vec![("A".into(), OsStr::new("é ü €").to_owned())]);
        // Control characters other than NUL are data, as in systemd.
        let pairs = parse_environment_file(b"A=\x1b[1m\x07\n").unwrap();
        assert_eq!(pairs[0].1.as_bytes(), b"\x1b[1m\x07");
    }

    #[test]
    fn no_message_contains_a_raw_control_character() {
        let hostile: &[&[u8]] = &[
            b"\x1b[2J\n",
            b"\x1b]2;owned\x07 x\n",
            b"A\x1bB=1\n",
            b"A\rB C\n",
            b"export\x0bFOO=1\n",
            b"export \x1b[31mFOO=1\n",
            b"\x7f=1\n",
            "A\u{9b}2J=1\n".as_bytes(),
            "\u{9b}31m\n".as_bytes(),
            b"A\x0cB=1\n",
            b"A=\"\x1b\n",
            b"A=\x00\x1b\n",
            b"A=\xff\x1b\n",
            b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1c\x1d\x1e\x1f\n",
        ];
        for text in hostile {
            let err = parse_environment_file(text).unwrap_err();
            let message = err.to_string();
            assert!(
                !message.chars().any(char::is_control),
                "{text:?} gave {message:?}"
            );
        }
        for (_, text, _, _) in REJECTED {
            let message = parse_environment_file(text).unwrap_err().to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
        for name in [&b"a=b"[..], b"", b"1x", b"x\x1b"] {
            if let EnvdirName::Invalid(reason) = classify_envdir_name(name) {
                assert!(!reason.chars().any(char::is_control));
            }
        }
    }

    #[test]
    fn messages_are_short_lower_case_sentences_without_a_period() {
        for (_, text, _, _) in REJECTED {
            let reason = parse_environment_file(text).unwrap_err().reason;
            assert!(!reason.ends_with('.'), "{reason}");
            let first = reason.chars().next().unwrap();
            assert!(!first.is_uppercase(), "{reason}");
            assert!(reason.len() < 120, "{reason}");
        }
    }

    #[test]
    fn envdir_values_follow_daemontools() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            // Empty file: remove the variable.
            (b"", None),
            // A newline alone: set it, empty.
            (b"\n", Some(b"")),
            (b"  \t\n", Some(b"")),
            (b"value", Some(b"value")),
            (b"value\n", Some(b"value")),
            // The first line only.
            (b"first\nsecond\n", Some(b"first")),
            // Trailing spaces and tabs go, leading ones and inner ones stay.
            (b"  a b \t \nx", Some(b"  a b")),
            (b"a \t", Some(b"a")),
            // NUL becomes a newline, after the trailing blanks are cut.
            (b"a\0b\n", Some(b"a\nb")),
            (b"a \0", Some(b"a \n")),
            (b"\0", Some(b"\n")),
            // A CR is not a blank to envdir.
            (b"x\r\n", Some(b"x\r")),
            // Bytes are bytes.
            (b"\xff\x1b", Some(b"\xff\x1b")),
        ];
        for (contents, expected) in cases {
            assert_eq!(
                envdir_value(contents),
                expected.map(|v| OsStr::from_bytes(v).to_owned()),
                "{contents:?}"
            );
        }
    }

    #[test]
    fn envdir_names() {
        assert_eq!(classify_envdir_name(b"PATH"), EnvdirName::Ok);
        assert_eq!(classify_envdir_name(b"_x9"), EnvdirName::Ok);
        for skipped in [&b"."[..], b"..", b".hidden", b".a=b", b".swp"] {
            assert_eq!(
                classify_envdir_name(skipped),
                EnvdirName::Skip,
                "{skipped:?}"
            );
        }
        assert_eq!(
            classify_envdir_name(b"A=B"),
            EnvdirName::Invalid("a variable name cannot contain '='")
        );
        assert_eq!(
            classify_envdir_name(b""),
            EnvdirName::Invalid("the name is empty")
        );
        for invalid in [&b"1A"[..], b"A-B", b"FOO~", b"FOO.orig", b"A B", b"\xff"] {
            assert!(
                matches!(classify_envdir_name(invalid), EnvdirName::Invalid(_)),
                "{invalid:?}"
            );
        }
    }
}
