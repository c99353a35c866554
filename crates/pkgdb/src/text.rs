//! Line splitting shared by the text formats: `\n` or `\r\n` line ends, 1-based
//! line numbers, bytes decoded as UTF-8 with replacement (package databases are
//! UTF-8 in practice; a stray Latin-1 byte in a description must not fail a listing).

use std::borrow::Cow;

/// Iterator over `(line_number, line)` with the line end (and a trailing `\r`) removed.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    line_no: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Lines {
            rest: bytes,
            line_no: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (mut line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => {
                let (l, r) = self.rest.split_at(i);
                (l, r.get(1..).unwrap_or_default())
            }
            None => (self.rest, &[][..]),
        };
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        self.rest = rest;
        self.line_no = self.line_no.saturating_add(1);
        Some((self.line_no, line))
    }
}

/// Decode bytes as UTF-8, replacing invalid sequences.
pub(crate) fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Trim ASCII spaces and tabs at both ends.
pub(crate) fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(start, |e| e.saturating_add(1));
    b.get(start..end).unwrap_or_default()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    clippy::manual_div_ceil,
    clippy::manual_is_multiple_of
)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_numbers() {
        let v: Vec<_> = Lines::new(b"a\r\nb\n\nc").collect();
        assert_eq!(
            v,
            vec![
                (1, &b"a"[..]),
                (2, &b"b"[..]),
                (3, &b""[..]),
                (4, &b"c"[..])
            ]
        );
        assert_eq!(trim(b" \tx y \t"), b"x y");
        assert_eq!(trim(b"   "), b"");
    }
}
