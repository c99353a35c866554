//! What a human-readable printer shows of a string it did not write itself
//! (guest names, hostnames, os-release fields, file names, error messages that
//! quote them): control characters escaped, as `ls` and `git` do, so a guest
//! cannot move the cursor, retitle or clear the terminal, or forge a line of
//! output with a newline. JSON output is not passed through here: serde_json
//! escapes control characters itself.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character (C0, DEL and C1) written as an escape:
/// `\n`, `\r`, `\t`, `\e` for ESC, `\xNN` for the others below U+0080 and
/// `\u{NN}` for C1. Borrowed when there is nothing to escape (the usual case).
pub fn shown(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() && u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`shown`] of an optional field, `-` when absent.
pub fn shown_opt(s: &Option<String>) -> Cow<'_, str> {
    s.as_deref().map_or(Cow::Borrowed("-"), shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_and_newlines_are_escaped() {
        let hostile = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mred\nforged line\r\u{7f}\u{9b}1m";
        assert_eq!(
            shown(hostile),
            "x\\e]0;owned\\x07\\e[2J\\e[31mred\\nforged line\\r\\x7f\\u{9b}1m"
        );
        let out = shown(hostile);
        assert!(!out.chars().any(char::is_control), "{out}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in ["debian", "Ubuntu 24.04 LTS", "C:\\Windows", "café ☕", ""] {
            assert!(matches!(shown(s), Cow::Borrowed(b) if b == s));
        }
        assert_eq!(shown_opt(&None), "-");
        assert_eq!(shown_opt(&Some("a\tb".into())), "a\\tb");
    }
}
