//! Text that came from someone else (the command line, the environment,
//! an account database, a file), made safe to print: one style for every
//! message, --dump and --dry-run. Control characters never reach a
//! terminal raw: C0, DEL and the C1 controls (U+0080 to U+009F, which some
//! terminals obey as escape sequences) become `\uXXXX`, and so do the
//! invisible characters that change how a line reads without being
//! controls ([`invisible`]): the bidirectional overrides and isolates
//! ("Trojan Source"), the zero-width characters, the soft hyphen, the
//! line/paragraph separators, the byte-order mark, the other format and
//! default-ignorable characters.

use std::ffi::OsStr;
use std::fmt::Write as _;

/// A JSON string literal (also the quoting of every message).
// For messages and reports: never inlined, so that the code every run
// executes does not hold copies of it (docs/performance.md, round 8).
#[inline(never)]
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
// For messages and reports: never inlined, so that the code every run
// executes does not hold copies of it (docs/performance.md, round 8).
#[inline(never)]
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
                // Outside the BMP, as JSON writes it: a surrogate pair.
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that are not controls but change what a terminal shows, or
/// show nothing at all: reordering, hiding, joining or breaking text, so
/// that one name can look like another. Unicode's default-ignorable code
/// points, the format characters (general category Cf), the line and
/// paragraph separators, and the blank-looking symbols (Hangul fillers,
/// the blank Braille pattern, the null notehead). One list, used by every
/// message and by the id rules (request/ids.rs), which refuse such names.
pub fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1345F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D159}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_as_json_writes_them() {
        assert_eq!(json_str("ro\u{AD}ot"), "\"ro\\u00adot\"");
        // Outside the BMP: a surrogate pair, so the JSON stays valid.
        assert_eq!(json_str("\u{1BCA0}"), "\"\\ud82f\\udca0\"");
        assert_eq!(text_str("a\u{2800}b"), "a\\u2800b");
    }

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
