//! Plain text layouts of the inspection commands: aligned columns without borders
//! or rules (as `ls -l`, `dpkg -l` and `kubectl get` print), a key/value list, and
//! TSV/CSV for other programs.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

/// Spaces between two columns.
const GAP: u16 = 2;

/// `rows` under `header` (upper-cased), each column as wide as its widest cell,
/// never wrapped (a long name widens its column instead of breaking), no trailing
/// spaces. `right` lists the columns aligned right (numbers).
pub fn aligned(header: &[&str], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if !header.is_empty() {
        t.set_header(header.iter().map(|h| h.to_uppercase()));
    }
    t.add_rows(rows);
    let last = t.column_count().saturating_sub(1);
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, if i == last { 0 } else { GAP }));
        if right.contains(&i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut text = t.trim_fmt();
    text.push('\n');
    text
}

/// `pairs` as an indented key/value list, the values aligned:
/// `  hostname  web-01`.
pub fn key_values(indent: &str, pairs: &[(String, String)]) -> String {
    let rows = pairs
        .iter()
        .map(|(k, v)| vec![format!("{indent}{k}"), v.clone()])
        .collect();
    aligned(&[], rows, &[])
}

/// Machine-readable delimited text: one header line, then one line per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimited {
    /// Tab-separated values.
    Tsv,
    /// Comma-separated values (RFC 4180 quoting).
    Csv,
}

impl Delimited {
    /// `rows` under `header` in this format.
    pub fn render(self, header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
        let delimiter = match self {
            Delimited::Tsv => b'\t',
            Delimited::Csv => b',',
        };
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(Vec::new());
        w.write_record(header)?;
        for r in rows {
            w.write_record(r)?;
        }
        Ok(w.into_inner().map_err(|e| e.into_error())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_without_rules_or_trailing_spaces() {
        let text = aligned(
            &["name", "size"],
            vec![
                vec!["a-long-package-name".into(), "7".into()],
                vec!["b".into(), "1234".into()],
            ],
            &[1],
        );
        assert_eq!(
            text,
            "NAME                 SIZE\n\
             a-long-package-name     7\n\
             b                    1234\n"
        );
    }

    #[test]
    fn key_values_line_up() {
        let text = key_values(
            "  ",
            &[
                ("type".into(), "linux".into()),
                ("hostname".into(), "web-01".into()),
            ],
        );
        assert_eq!(text, "  type      linux\n  hostname  web-01\n");
    }

    #[test]
    fn csv_quotes_and_tsv_separates_with_tabs() {
        let rows = vec![vec!["a,b".to_string(), "1".to_string()]];
        let csv = Delimited::Csv.render(&["name", "n"], &rows).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "name,n\n\"a,b\",1\n");
        let tsv = Delimited::Tsv.render(&["name", "n"], &rows).unwrap();
        assert_eq!(String::from_utf8(tsv).unwrap(), "name\tn\na,b\t1\n");
    }
}
