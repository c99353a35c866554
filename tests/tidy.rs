//! Tidy checks: the rules ARCHITECTURE.md states that a test can enforce.
//!
//! - Processes are spawned (`Command::new`) only in the modules ARCHITECTURE.md lists
//!   between its `tidy:spawn` markers, in build scripts, and in test code.
//! - `unsafe` appears only in the files listed between its `tidy:unsafe` markers.
//! - No test asserts on wall-clock time.
//! - No source or document cites an issue number or a document outside the
//!   repository: the repository explains itself.
//!
//! Each check reads the tree as text. It is a guard against drift, not a parser: a
//! file's test code is everything from its first `#[cfg(test)]` line on, the layout
//! every crate here uses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// Folders never read: build output, patched third-party code, results, VCS data.
const SKIPPED_DIRS: [&str; 6] = [
    "target",
    "vendor",
    ".git",
    "performance-results",
    "corpus",
    "artifacts",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under the repository root with one of `extensions`, as paths relative
/// to the root with `/` separators, sorted.
fn files_with(extensions: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    stack.push(path);
                }
            } else if kind.is_file() && extensions.iter().any(|e| name.ends_with(e)) {
                out.push(relative(&path));
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(root()).unwrap();
    rel.to_string_lossy().replace('\\', "/")
}

fn read(rel: &str) -> String {
    fs::read_to_string(root().join(rel)).unwrap()
}

/// Whether a whole file is test or bench code by its place in the tree.
fn is_test_file(rel: &str) -> bool {
    rel.starts_with("tests/")
        || rel.contains("/tests/")
        || rel.starts_with("benches/")
        || rel.contains("/benches/")
        || rel.contains("/examples/")
        || rel.ends_with("/tests.rs")
        || rel.ends_with("_tests.rs")
        || rel.starts_with("fuzz/")
}

/// The lines of a source file that are not test code (everything before the first
/// `#[cfg(test)]`), numbered from 1.
fn non_test_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .map(|(i, l)| (i + 1, l))
}

/// Strip a line's `//` comment, so that prose mentioning a word is not code.
fn code_part(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// The backquoted paths listed in ARCHITECTURE.md between `<!-- tidy:NAME -->` and
/// `<!-- /tidy:NAME -->`.
fn architecture_list(name: &str) -> Vec<String> {
    let text = read("ARCHITECTURE.md");
    let open = format!("<!-- tidy:{name} -->");
    let close = format!("<!-- /tidy:{name} -->");
    let start = text
        .find(&open)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md lacks the marker {open}"));
    let end = text
        .find(&close)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md lacks the marker {close}"));
    let section = &text[start..end];
    let listed: Vec<String> = section
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert!(
        !listed.is_empty(),
        "the {name} list in ARCHITECTURE.md is empty"
    );
    for path in &listed {
        assert!(
            root().join(path).exists(),
            "ARCHITECTURE.md lists {path} under tidy:{name}, but it does not exist"
        );
    }
    listed
}

/// Whether `rel` is one of `listed` or inside a listed folder (ending in `/`).
fn is_listed(rel: &str, listed: &[String]) -> bool {
    listed
        .iter()
        .any(|l| rel == l || (l.ends_with('/') && rel.starts_with(l.as_str())))
}

fn fail_on(found: Vec<String>, what: &str) {
    assert!(found.is_empty(), "{what}:\n  {}", found.join("\n  "));
}

#[test]
fn processes_are_spawned_only_where_architecture_md_says() {
    let allowed = architecture_list("spawn");
    let mut found = Vec::new();
    for rel in files_with(&[".rs"]) {
        if is_test_file(&rel) || rel.ends_with("build.rs") || is_listed(&rel, &allowed) {
            continue;
        }
        let text = read(&rel);
        for (n, line) in non_test_lines(&text) {
            if code_part(line).contains("Command::new") {
                found.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    fail_on(
        found,
        "Command::new outside the modules ARCHITECTURE.md lists (add the module there, with why)",
    );
}

#[test]
fn unsafe_code_only_in_the_files_architecture_md_names() {
    let allowed = architecture_list("unsafe");
    let mut found = Vec::new();
    for rel in files_with(&[".rs"]) {
        if is_listed(&rel, &allowed) || rel == "tests/tidy.rs" {
            continue;
        }
        for (n, line) in read(&rel).lines().enumerate() {
            let code = code_part(line);
            let is_unsafe = code.contains("unsafe {")
                || code.contains("unsafe fn")
                || code.contains("unsafe impl")
                || code.contains("allow(unsafe_code)");
            if is_unsafe {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    fail_on(found, "unsafe code outside the files ARCHITECTURE.md names");
}

/// Words that, on an assertion's line, make it an assertion on wall-clock time.
const CLOCK_WORDS: [&str; 6] = [
    "elapsed",
    "Instant",
    "Duration::from",
    "as_secs",
    "as_millis",
    "as_nanos",
];

#[test]
fn no_test_asserts_on_wall_clock_time() {
    let mut found = Vec::new();
    for rel in files_with(&[".rs"]) {
        let text = read(&rel);
        let test_from = if is_test_file(&rel) {
            0
        } else {
            non_test_lines(&text).count()
        };
        for (n, line) in text.lines().enumerate().skip(test_from) {
            let code = code_part(line);
            let asserts = code.contains("assert");
            if asserts && CLOCK_WORDS.iter().any(|w| code.contains(w)) {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    fail_on(
        found,
        "timed assertions in tests (speed goals belong in benchmarks and `guestctl perf`)",
    );
}

/// Patterns of a citation of something outside the repository.
fn outside_citation(line: &str) -> Option<&'static str> {
    let lower = line.to_lowercase();
    let issue_number = lower.match_indices("issue").any(|(i, _)| {
        let rest = lower[i + "issue".len()..].trim_start_matches('s');
        let rest = rest.strip_prefix(' ').unwrap_or("");
        let rest = rest.strip_prefix('#').unwrap_or(rest);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let after = rest.as_bytes().get(digits).copied();
        digits > 0 && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    });
    if issue_number {
        return Some("an issue number");
    }
    if lower.contains(concat!("style", ".md")) || lower.contains(concat!("../", "shared")) {
        return Some("a document outside the repository");
    }
    if lower.contains("the spec's") || lower.contains("the spec ") || lower.contains("the spec)") {
        return Some("\"the spec\" (cite docs/requirements.md)");
    }
    None
}

#[test]
fn nothing_cites_an_issue_or_an_outside_document() {
    let mut found = Vec::new();
    let kinds = [".rs", ".md", ".toml", ".sh", ".yaml", ".yml"];
    for rel in files_with(&kinds) {
        if rel == "tests/tidy.rs" {
            continue;
        }
        for (n, line) in read(&rel).lines().enumerate() {
            if let Some(what) = outside_citation(line) {
                found.push(format!("{rel}:{}: {what}: {}", n + 1, line.trim()));
            }
        }
    }
    fail_on(
        found,
        "citations of issues or outside documents (say it here, in the repository's own words)",
    );
}

#[test]
fn the_citation_check_recognises_what_it_should() {
    assert!(outside_citation(concat!("// see ", "issue", " 12")).is_some());
    assert!(outside_citation(concat!("(", "issues", " #3)")).is_some());
    assert!(outside_citation("as the spec's table says").is_some());
    assert!(outside_citation(concat!("see ", "STYLE", ".md")).is_some());
    assert!(outside_citation("/etc/issue 53a6ea7e").is_none());
    assert!(outside_citation("the qcow2 spec names them").is_none());
    assert!(outside_citation("tree.file(\"etc/issue\", x)").is_none());
}
