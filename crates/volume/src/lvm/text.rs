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
//! [`LVM_MAX_NESTING`], so hostile metadata cannot exhaust the stack, and the tree by
//! [`LVM_MAX_ITEMS`]; tokens are read one at a time, never collected.

use crate::{ErrorKind, VolumeError};

/// Deepest nesting of sections and arrays accepted. Real metadata nests 4 deep
/// (vg → logical_volumes → lv → segment); the bound protects the recursive parser.
pub const LVM_MAX_NESTING: usize = 32;

/// Most items (keys, sections, array elements) parsed from one metadata text.
/// Real metadata of [`LVM_MAX_VOLUMES`](super::LVM_MAX_VOLUMES) LVs of a few
/// segments each holds tens of thousands; the bound keeps millions of empty
/// sections packed into the size cap from building a tree of gigabytes.
pub const LVM_MAX_ITEMS: usize = 1 << 18;

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

/// The tokens of `text`, one at a time: nothing is collected, so a text of
/// millions of one-byte tokens costs no memory beyond the tree the parser keeps.
struct Lexer<'t> {
    text: &'t [u8],
    at: usize,
}

impl Lexer<'_> {
    fn err(at: usize, m: &str) -> VolumeError {
        VolumeError::corrupt("LVM metadata", format!("{m} at byte {at}"))
    }

    /// The next token and its byte offset, `None` at the end of the text.
    fn next_token(&mut self) -> Result<Option<(Token, usize)>, VolumeError> {
        let text = self.text;
        let mut i = self.at;
        // Bounded: every iteration advances `i` by at least one byte.
        let found = loop {
            let Some(&b) = text.get(i) else { break None };
            let start = i;
            let punct = match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0 => {
                    i += 1;
                    continue;
                }
                b'#' => {
                    while text.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                    continue;
                }
                b'=' => Token::Equals,
                b'{' => Token::Open,
                b'}' => Token::Close,
                b'[' => Token::ArrOpen,
                b']' => Token::ArrClose,
                b',' => Token::Comma,
                b'"' => {
                    let (s, end) = Self::string(text, start)?;
                    i = end;
                    break Some((Token::Str(s), start));
                }
                c if is_word_byte(c) => {
                    while text.get(i).is_some_and(|&c| is_word_byte(c)) {
                        i += 1;
                    }
                    let w = text.get(start..i).unwrap_or(&[]);
                    break Some((Token::Word(String::from_utf8_lossy(w).into_owned()), start));
                }
                _ => return Err(Self::err(start, &format!("unexpected byte {b:#04x}"))),
            };
            i += 1;
            break Some((punct, start));
        };
        self.at = i;
        Ok(found)
    }

    /// The quoted string opening at `start`, escapes resolved, and the offset after it.
    fn string(text: &[u8], start: usize) -> Result<(String, usize), VolumeError> {
        let mut i = start + 1;
        let mut s = Vec::new();
        loop {
            match text.get(i) {
                None => return Err(Self::err(start, "unterminated string")),
                Some(b'"') => return Ok((String::from_utf8_lossy(&s).into_owned(), i + 1)),
                Some(b'\\') => {
                    let c = *text
                        .get(i + 1)
                        .ok_or_else(|| Self::err(start, "unterminated string"))?;
                    s.push(c);
                    i += 2;
                }
                Some(&c) => {
                    s.push(c);
                    i += 1;
                }
            }
        }
    }
}

struct Parser<'t> {
    lexer: Lexer<'t>,
    /// The token after the last one taken, once looked at.
    peeked: Option<(Token, usize)>,
    /// Offset of the last token taken (for error positions).
    last_at: usize,
    /// Items (keys, sections, array elements) parsed so far.
    items: usize,
}

impl Parser<'_> {
    fn peek(&mut self) -> Result<Option<&Token>, VolumeError> {
        if self.peeked.is_none() {
            self.peeked = self.lexer.next_token()?;
        }
        Ok(self.peeked.as_ref().map(|(t, _)| t))
    }
    fn next(&mut self) -> Result<Option<Token>, VolumeError> {
        let t = match self.peeked.take() {
            Some(t) => Some(t),
            None => self.lexer.next_token()?,
        };
        Ok(t.map(|(t, at)| {
            self.last_at = at;
            t
        }))
    }
    fn err(&self, m: &str) -> VolumeError {
        VolumeError::corrupt("LVM metadata", format!("{m} at byte {}", self.last_at))
    }
    /// Count one more item against [`LVM_MAX_ITEMS`].
    fn count_item(&mut self) -> Result<(), VolumeError> {
        self.items += 1;
        if self.items > LVM_MAX_ITEMS {
            return Err(VolumeError::new(
                ErrorKind::LimitExceeded,
                "LVM metadata",
                format!("more than {LVM_MAX_ITEMS} keys, sections and array elements"),
            ));
        }
        Ok(())
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
            match self.next()? {
                None if depth == 0 => return Ok(node),
                None => return Err(self.err("missing '}'")),
                Some(Token::Close) if depth > 0 => return Ok(node),
                Some(Token::Word(key)) | Some(Token::Str(key)) => {
                    self.count_item()?;
                    match self.next()? {
                        Some(Token::Equals) => {
                            let v = self.value()?;
                            node.items.push((key, v));
                        }
                        Some(Token::Open) => {
                            let s = self.items(depth + 1)?;
                            node.items.push((key, ConfigValue::Section(s)));
                        }
                        _ => return Err(self.err(&format!("expected '=' or '{{' after {key:?}"))),
                    }
                }
                Some(_) => return Err(self.err("expected a key")),
            }
        }
    }

    /// A value; arrays are flat (LVM metadata never nests them), so no recursion.
    fn value(&mut self) -> Result<ConfigValue, VolumeError> {
        match self.next()? {
            Some(Token::Str(s)) => Ok(ConfigValue::Str(s)),
            Some(Token::Word(w)) => Ok(word_value(w)),
            Some(Token::ArrOpen) => self.array(),
            _ => Err(self.err("expected a value")),
        }
    }

    /// The rest of an array, after its `[`.
    fn array(&mut self) -> Result<ConfigValue, VolumeError> {
        let mut a = Vec::new();
        loop {
            match self.peek()? {
                Some(Token::ArrClose) => {
                    self.next()?;
                    return Ok(ConfigValue::Array(a));
                }
                Some(Token::Str(_)) | Some(Token::Word(_)) => {
                    self.count_item()?;
                    a.push(self.value()?);
                    match self.next()? {
                        Some(Token::Comma) => {}
                        Some(Token::ArrClose) => return Ok(ConfigValue::Array(a)),
                        _ => return Err(self.err("expected ',' or ']' in array")),
                    }
                }
                _ => {
                    self.next()?;
                    return Err(self.err("expected a string or number in array"));
                }
            }
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
    Parser {
        lexer: Lexer { text, at: 0 },
        peeked: None,
        last_at: 0,
        items: 0,
    }
    .items(0)
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
