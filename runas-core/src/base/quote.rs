//! Text that came from someone else (the command line, the environment,
//! an account database, a file), made safe to print: one style for every
//! message, --dump and --dry-run. Control characters never reach a
//! terminal raw: C0, DEL and the C1 controls (U+0080 to U+009F, which some
//! terminals obey as escape sequences) become `\uXXXX`, and so do the
//! invisible characters that change how a line reads without being
//! controls: the bidirectional overrides and isolates (U+202A-U+202E,
//! U+2066-U+2069, "Trojan Source"), the marks U+200E/U+200F/U+061C, the
//! zero-width and line/paragraph separators, and the byte-order mark.

use std::ffi::OsStr;
use std::fmt::Write as _;

/// A JSON string literal (also the quoting of every message).
pub fn json_str(s: &str) -> String {
    format!("\"{}\"", escaped(s, true))
}

/// Text for a terminal, unquoted: control characters escaped, backslashes
/// doubled so that the escapes are unambiguous.
pub fn text_str(s: &str) -> String {
    escaped(s, false)
}

/// User input in a message: `"value"`, escaped as JSON. Bytes that are
/// not UTF-8 show as U+FFFD.
pub fn quote(s: impl AsRef<OsStr>) -> String {
    json_str(&s.as_ref().to_string_lossy())
}

fn escaped(s: &str, json: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' if json => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if json => out.push_str("\\n"),
            '\r' if json => out.push_str("\\r"),
            '\t' if json => out.push_str("\\t"),
            c if c.is_control() || invisible(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that are not controls but change what a terminal shows:
/// reordering, hiding or breaking text.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        // DEL and the C1 controls (CSI is U+009B) too.
        assert_eq!(json_str("\u{7f}\u{9b}2J"), "\"\\u007f\\u009b2J\"");
    }

    #[test]
    fn text_for_a_terminal_escapes_every_control_character() {
        assert_eq!(
            text_str("/home/\u{1b}]2;x\u{7}"),
            "/home/\\u001b]2;x\\u0007"
        );
        assert_eq!(text_str("a\tb\\c \u{9b}"), "a\\u0009b\\\\c \\u009b");
        // A right-to-left override would reorder what follows it.
        assert_eq!(text_str("ab\u{202e}cd"), "ab\\u202ecd");
        assert_eq!(json_str("\u{2066}x\u{feff}"), "\"\\u2066x\\ufeff\"");
    }

    #[test]
    fn quoted_input_is_json_and_lossy() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(quote("mallory"), "\"mallory\"");
        assert_eq!(quote(OsStr::from_bytes(b"a\xffb")), "\"a\u{fffd}b\"");
        assert_eq!(quote("\u{1b}[2J"), "\"\\u001b[2J\"");
    }
}
