//! The LVM2 text configuration format, as used in on-disk VG metadata:
//!
//! ```text
//! vg0 {                          # a section
//!     id = "abc-def"             # a string (with \" and \\ escapes)
//!     seqno = 3                  # an integer
//!     status = ["READ", "WRITE"] # a flat array
//!     physical_volumes { pv0 { pe_start = 2048 } }
//! }
//! ```
//!
//! A tokenizer and a recursive-descent parser, both bounded: the input size is capped
//! by the caller ([`LVM_MAX_METADATA_SIZE`](super::LVM_MAX_METADATA_SIZE)) and nesting by
//! [`LVM_MAX_NESTING`], so hostile metadata cannot exhaust the stack.

use crate::{ErrorKind, VolumeError};

/// Deepest nesting of sections and arrays accepted. Real metadata nests 4 deep
/// (vg → logical_volumes → lv → segment); the bound protects the recursive parser.
pub const LVM_MAX_NESTING: usize = 32;

/// A value in LVM text metadata.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (escapes resolved).
    Str(String),
    /// A flat array of values.
    Array(Vec<ConfigValue>),
    /// A nested section.
    Section(ConfigNode),
}

/// A section: keys and values in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigNode {
    /// The items, in order. Keys may repeat; lookups take the first.
    pub items: Vec<(String, ConfigValue)>,
}

impl ConfigNode {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// The integer value of `key`.
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            ConfigValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// The string value of `key`.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            ConfigValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The array value of `key`.
    pub fn array(&self, key: &str) -> Option<&[ConfigValue]> {
        match self.get(key)? {
            ConfigValue::Array(a) => Some(a),
            _ => None,
        }
    }
    /// The section called `key`.
    pub fn section(&self, key: &str) -> Option<&ConfigNode> {
        match self.get(key)? {
            ConfigValue::Section(s) => Some(s),
            _ => None,
        }
    }
    /// Every nested section with its name, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &ConfigNode)> {
        self.items.iter().filter_map(|(k, v)| match v {
            ConfigValue::Section(s) => Some((k.as_str(), s)),
            _ => None,
        })
    }
    /// Whether the string array `key` contains `flag` (e.g. `status` has "VISIBLE").
    pub fn has_flag(&self, key: &str, flag: &str) -> bool {
        self.array(key).is_some_and(|a| {
            a.iter()
                .any(|v| matches!(v, ConfigValue::Str(s) if s == flag))
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Equals,
    Open,
    Close,
    ArrOpen,
    ArrClose,
    Comma,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'+')
}

fn tokenize(text: &[u8]) -> Result<Vec<(Token, usize)>, VolumeError> {
    let err =
        |at: usize, m: &str| VolumeError::corrupt("LVM metadata", format!("{m} at byte {at}"));
    let mut out = Vec::new();
    let mut i = 0usize;
    // Bounded: every iteration advances `i` by at least one byte.
    while let Some(&b) = text.get(i) {
        let start = i;
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | 0 => i += 1,
            b'#' => {
                while text.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'=' => {
                out.push((Token::Equals, start));
                i += 1;
            }
            b'{' => {
                out.push((Token::Open, start));
                i += 1;
            }
            b'}' => {
                out.push((Token::Close, start));
                i += 1;
            }
            b'[' => {
                out.push((Token::ArrOpen, start));
                i += 1;
            }
            b']' => {
                out.push((Token::ArrClose, start));
                i += 1;
            }
            b',' => {
                out.push((Token::Comma, start));
                i += 1;
            }
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    match text.get(i) {
                        None => return Err(err(start, "unterminated string")),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let c = *text
                                .get(i + 1)
                                .ok_or_else(|| err(start, "unterminated string"))?;
                            s.push(c);
                            i += 2;
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push((Token::Str(String::from_utf8_lossy(&s).into_owned()), start));
            }
            c if is_word_byte(c) => {
                while text.get(i).is_some_and(|&c| is_word_byte(c)) {
                    i += 1;
                }
                let w = text.get(start..i).unwrap_or(&[]);
                out.push((Token::Word(String::from_utf8_lossy(w).into_owned()), start));
            }
            _ => return Err(err(start, &format!("unexpected byte {b:#04x}"))),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(t, _)| t.clone());
        self.pos += 1;
        t
    }
    fn err(&self, m: &str) -> VolumeError {
        let at = self
            .tokens
            .get(self.pos)
            .or(self.tokens.last())
            .map(|(_, a)| *a)
            .unwrap_or(0);
        VolumeError::corrupt("LVM metadata", format!("{m} at byte {at}"))
    }

    /// Items until `}` (nested) or the end of input (top level).
    fn items(&mut self, depth: usize) -> Result<ConfigNode, VolumeError> {
        if depth > LVM_MAX_NESTING {
            return Err(VolumeError::new(
                ErrorKind::LimitExceeded,
                "LVM metadata",
                format!("nesting deeper than {LVM_MAX_NESTING}"),
            ));
        }
        let mut node = ConfigNode::default();
        loop {
            match self.next() {
                None if depth == 0 => return Ok(node),
                None => return Err(self.err("missing '}'")),
                Some(Token::Close) if depth > 0 => return Ok(node),
                Some(Token::Word(key)) | Some(Token::Str(key)) => match self.next() {
                    Some(Token::Equals) => {
                        let v = self.value()?;
                        node.items.push((key, v));
                    }
                    Some(Token::Open) => {
                        let s = self.items(depth + 1)?;
                        node.items.push((key, ConfigValue::Section(s)));
                    }
                    _ => return Err(self.err(&format!("expected '=' or '{{' after {key:?}"))),
                },
                Some(_) => return Err(self.err("expected a key")),
            }
        }
    }

    /// A value; arrays are flat (LVM metadata never nests them), so no recursion.
    fn value(&mut self) -> Result<ConfigValue, VolumeError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(ConfigValue::Str(s)),
            Some(Token::Word(w)) => Ok(word_value(w)),
            Some(Token::ArrOpen) => {
                let mut a = Vec::new();
                loop {
                    match self.peek() {
                        Some(Token::ArrClose) => {
                            self.pos += 1;
                            return Ok(ConfigValue::Array(a));
                        }
                        Some(Token::Str(_)) | Some(Token::Word(_)) => {
                            a.push(self.value()?);
                            match self.next() {
                                Some(Token::Comma) => {}
                                Some(Token::ArrClose) => return Ok(ConfigValue::Array(a)),
                                _ => return Err(self.err("expected ',' or ']' in array")),
                            }
                        }
                        _ => return Err(self.err("expected a string or number in array")),
                    }
                }
            }
            _ => Err(self.err("expected a value")),
        }
    }
}

fn word_value(w: String) -> ConfigValue {
    if let Ok(i) = w.parse::<i64>() {
        ConfigValue::Int(i)
    } else if w
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-')
    {
        match w.parse::<f64>() {
            Ok(f) => ConfigValue::Float(f),
            Err(_) => ConfigValue::Str(w),
        }
    } else {
        ConfigValue::Str(w)
    }
}

/// Parse LVM text metadata into its top-level section. Trailing NUL bytes (the
/// on-disk text is NUL-terminated) are ignored.
pub fn parse_metadata(text: &[u8]) -> Result<ConfigNode, VolumeError> {
    let tokens = tokenize(text)?;
    Parser { tokens, pos: 0 }.items(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_shaped_metadata() {
        let text = br#"vg0 {
id = "Aa1Bb2-Cc3D-d4Ee-5Ff6-Gg7H-h8Ii-9Jj0Kk"
seqno = 7
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 8192		# 4 Megabytes
logical_volumes {

root {
id = "x"
status = ["READ", "WRITE", "VISIBLE"]
segment1 {
start_extent = 0
extent_count = 25	# 100 Megabytes
type = "striped"
stripe_count = 1	# linear
stripes = [
"pv0", 0
]
}
}
}
}
# Generated by LVM2 version 2.03.16(2) (2022-05-18): Sat Nov 28 10:00:00 2026
contents = "Text Format Volume Group"
version = 1
description = "with \"quotes\" and \\ backslash"
creation_time = 1764323000	# Sat Nov 28 10:00:00 2026
ratio = 1.5
"#;
        let root = parse_metadata(text).unwrap();
        let vg = root.section("vg0").unwrap();
        assert_eq!(vg.int("seqno"), Some(7));
        assert_eq!(vg.int("extent_size"), Some(8192));
        assert!(vg.has_flag("status", "WRITE"));
        assert_eq!(vg.array("flags"), Some(&[][..]));
        let seg = vg
            .section("logical_volumes")
            .unwrap()
            .section("root")
            .unwrap()
            .section("segment1")
            .unwrap();
        assert_eq!(seg.str("type"), Some("striped"));
        assert_eq!(
            seg.array("stripes"),
            Some(&[ConfigValue::Str("pv0".into()), ConfigValue::Int(0)][..])
        );
        assert_eq!(
            root.str("description"),
            Some("with \"quotes\" and \\ backslash")
        );
        assert_eq!(root.get("ratio"), Some(&ConfigValue::Float(1.5)));
        assert_eq!(root.int("version"), Some(1));
        assert_eq!(root.sections().count(), 1);
    }

    #[test]
    fn bad_syntax_is_corrupt_with_position() {
        for (text, what) in [
            (&b"vg { a = 1 "[..], "missing '}'"),
            (b"vg { a = \"x }", "unterminated string"),
            (b"vg { a 1 }", "expected '='"),
            (b"a = [1 2]", "expected ','"),
            (b"a = [[1]]", "expected a string"),
            (b"a = ", "expected a value"),
            (b"} a = 1", "expected a key"),
            (b"a = 1 $", "unexpected byte"),
        ] {
            let e = parse_metadata(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{text:?}");
            assert!(e.message().contains(what), "{text:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_a_limit() {
        let mut t = Vec::new();
        for _ in 0..10_000 {
            t.extend_from_slice(b"a { ");
        }
        assert_eq!(
            parse_metadata(&t).unwrap_err().kind(),
            ErrorKind::LimitExceeded
        );
        let mut ok = Vec::new();
        for _ in 0..LVM_MAX_NESTING {
            ok.extend_from_slice(b"a { ");
        }
        for _ in 0..LVM_MAX_NESTING {
            ok.extend_from_slice(b"} ");
        }
        assert!(parse_metadata(&ok).is_ok());
    }

    #[test]
    fn trailing_nuls_and_comments_are_ignored() {
        let n = parse_metadata(b"# only a comment\nx = -5 # trailing\n\0\0\0").unwrap();
        assert_eq!(n.int("x"), Some(-5));
    }
}
