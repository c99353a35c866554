//! Path normalisation shared by the drivers.

use crate::{FsError, FsErrorKind, MAX_NAME_LEN, MAX_PATH_DEPTH, MAX_PATH_LEN};

/// An absolute path split into its components, with `.` and empty components
/// dropped and `..` applied lexically (`/..` stays `/`).
///
/// Lexical `..` is correct here because the drivers refuse a symlink in any
/// intermediate component: every component before a `..` is a real directory.
pub(crate) fn components(path: &str) -> Result<Vec<&str>, FsError> {
    if path.len() > MAX_PATH_LEN {
        return Err(FsError::new(
            FsErrorKind::LimitExceeded,
            truncate(path),
            format!("path longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    if !path.starts_with('/') {
        return Err(FsError::new(
            FsErrorKind::InvalidPath,
            path,
            "path is not absolute",
        ));
    }
    if path.contains('\0') {
        return Err(FsError::new(
            FsErrorKind::InvalidPath,
            path,
            "path contains a NUL byte",
        ));
    }
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            name => {
                if name.len() > MAX_NAME_LEN {
                    return Err(FsError::new(
                        FsErrorKind::LimitExceeded,
                        path,
                        format!("a path component is longer than {MAX_NAME_LEN} bytes"),
                    ));
                }
                out.push(name);
                if out.len() > MAX_PATH_DEPTH {
                    return Err(FsError::new(
                        FsErrorKind::LimitExceeded,
                        path,
                        format!("path deeper than {MAX_PATH_DEPTH} components"),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// `/a/b/c` from components.
pub(crate) fn join(components: &[&str]) -> String {
    if components.is_empty() {
        return "/".to_string();
    }
    let mut s = String::new();
    for c in components {
        s.push('/');
        s.push_str(c);
    }
    s
}

/// `dir/name`, with exactly one `/` between them (`dir` may end in `/`).
pub(crate) fn join_child(dir: &str, name: &str) -> String {
    let sep = if dir.ends_with('/') { "" } else { "/" };
    format!("{dir}{sep}{name}")
}

/// The first bytes of an over-long path, for an error message.
fn truncate(path: &str) -> String {
    let mut end = 64.min(path.len());
    while !path.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    format!("{}...", path.get(..end).unwrap_or(""))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(components("/").unwrap(), Vec::<&str>::new());
        assert_eq!(
            components("//etc/./os-release/").unwrap(),
            vec!["etc", "os-release"]
        );
        assert_eq!(
            components("/../usr/lib/../bin").unwrap(),
            vec!["usr", "bin"]
        );
        assert_eq!(join(&["usr", "bin"]), "/usr/bin");
        assert_eq!(join(&[]), "/");
    }

    #[test]
    fn rejects_bad_paths() {
        assert_eq!(
            components("etc").unwrap_err().kind,
            FsErrorKind::InvalidPath
        );
        assert_eq!(
            components("/a\0b").unwrap_err().kind,
            FsErrorKind::InvalidPath
        );
        let deep = "/a".repeat(MAX_PATH_DEPTH + 1);
        assert_eq!(
            components(&deep).unwrap_err().kind,
            FsErrorKind::LimitExceeded
        );
        let long = format!("/{}", "x".repeat(MAX_NAME_LEN + 1));
        assert_eq!(
            components(&long).unwrap_err().kind,
            FsErrorKind::LimitExceeded
        );
        let huge = "/é".repeat(MAX_PATH_LEN);
        let e = components(&huge).unwrap_err();
        assert_eq!(e.kind, FsErrorKind::LimitExceeded);
        assert!(e.path.len() < 100);
    }
}
