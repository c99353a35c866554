//! dpkg status (`/var/lib/dpkg/status`): RFC 822-like stanzas separated by
//! blank lines; continuation lines start with a space or tab.
//!
//! Which packages are listed: those whose state is `installed`,
//! `triggers-awaited` or `triggers-pending` — the states in which the package's
//! files are on disk and configured, whatever the wanted action (`install`,
//! `hold`, `deinstall`, `purge`). Excluded: `not-installed`, `config-files`,
//! `half-installed`, `unpacked` and `half-configured`.
//!
//! Finding the state: dpkg writes `Status: WANT EFLAG STATE`, and its three word
//! lists are disjoint (want: `unknown install hold deinstall purge`; eflag: `ok
//! reinstreq`; state: the eight words above). The state is therefore the one
//! word of the field that is a state word, wherever it stands, so a field
//! written by another tool as `installed ok` or `installed` still counts. A
//! field with no state word, or with two, is not a package we can call
//! installed. libguestfs tests `strstr(status, "installed")`, which also admits
//! `half-installed` and `not-installed` by accident of spelling; `dpkg -l` shows
//! those as not installed, and so do we.

use crate::error::limit;
use crate::text::{text, trim, Lines};
use crate::{
    check_len, detail, split_evr, Package, PackageFormat, PkgError, MAX_PACKAGES, MAX_STANZA_BYTES,
};

/// dpkg's package states (the third word of `Status:`), none of which is also
/// a want or an error flag word.
pub const DPKG_STATES: &[&str] = &[
    "not-installed",
    "config-files",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaited",
    "triggers-pending",
    "installed",
];

/// Is a dpkg `Status:` value one whose package counts as installed (see the
/// module rule)? `status` is the whole value, e.g. `install ok installed`.
pub fn dpkg_state_is_installed(status: &str) -> bool {
    let mut states = status
        .split_ascii_whitespace()
        .filter(|w| DPKG_STATES.contains(w));
    let state = states.next();
    states.next().is_none()
        && matches!(
            state,
            Some("installed" | "triggers-awaited" | "triggers-pending")
        )
}

#[derive(Default)]
struct Stanza<'a> {
    start_line: usize,
    bytes: usize,
    package: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    homepage: Option<&'a [u8]>,
    source: Option<&'a [u8]>,
    summary: Option<&'a [u8]>,
    /// The continuation lines of `Description` (the body), as found.
    body: Vec<&'a [u8]>,
    /// Whether continuation lines now belong to `Description`.
    in_description: bool,
    any_field: bool,
}

/// Parse a dpkg status file and return its installed packages, sorted by name
/// (then version and architecture, so `Multi-Arch: same` packages appear once
/// per architecture).
///
/// Errors: a line that is neither a field, a continuation nor blank; a
/// continuation line with no field before it; an installed stanza without
/// `Package` or `Version`; a malformed epoch; a limit exceeded.
pub fn parse_dpkg_status(bytes: &[u8]) -> Result<Vec<Package>, PkgError> {
    crate::check_db_size(bytes.len())?;
    let mut out = Vec::new();
    let mut st = Stanza::default();
    for (line_no, line) in Lines::new(bytes) {
        if trim(line).is_empty() {
            finish(&mut st, &mut out)?;
            continue;
        }
        if !st.any_field {
            st.start_line = line_no;
        }
        st.bytes = st.bytes.saturating_add(line.len()).saturating_add(1);
        if st.bytes > MAX_STANZA_BYTES {
            return Err(limit(
                "dpkg stanza size in bytes",
                MAX_STANZA_BYTES,
                st.bytes,
            ));
        }
        match line.first() {
            Some(b' ' | b'\t') => {
                if !st.any_field {
                    return Err(syntax(line_no, "continuation line without a field"));
                }
                // Continuation of a multi-line field: only Description's is kept.
                if st.in_description {
                    st.body.push(line);
                }
                continue;
            }
            Some(b'#') => continue, // deb822 comment
            _ => {}
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return Err(syntax(line_no, "expected `Field: value`"));
        };
        let (name, value) = line.split_at(colon);
        let value = trim(value.get(1..).unwrap_or_default());
        if name.is_empty() || name.iter().any(|c| c.is_ascii_whitespace()) {
            return Err(syntax(line_no, "malformed field name"));
        }
        st.any_field = true;
        st.in_description = false;
        // Field names are case-insensitive in deb822.
        if name.eq_ignore_ascii_case(b"Package") {
            st.package = Some(value);
        } else if name.eq_ignore_ascii_case(b"Status") {
            st.status = Some(value);
        } else if name.eq_ignore_ascii_case(b"Version") {
            st.version = Some(value);
        } else if name.eq_ignore_ascii_case(b"Architecture") {
            st.arch = Some(value);
        } else {
            st.set_detail(name, value);
        }
    }
    finish(&mut st, &mut out)?;
    out.sort_unstable();
    Ok(out)
}

impl<'a> Stanza<'a> {
    fn set_detail(&mut self, name: &[u8], value: &'a [u8]) {
        if name.eq_ignore_ascii_case(b"Homepage") {
            self.homepage = Some(value);
        } else if name.eq_ignore_ascii_case(b"Source") {
            self.source = Some(value);
        } else if name.eq_ignore_ascii_case(b"Description") {
            self.summary = Some(value);
            self.in_description = true;
        }
    }

    /// Copy the details into `p`: `Source` loses a `(version)` after the name,
    /// the body's lines lose their first space (a ` .` line stays `.`, as
    /// virt-inspector keeps it).
    fn details_into(&self, p: &mut Package) {
        let keep = |b: Option<&[u8]>| b.and_then(|b| detail(&text(b)));
        p.url = keep(self.homepage);
        p.source_package = keep(self.source.and_then(|s| s.split(|c| *c == b' ').next()));
        p.summary = keep(self.summary);
        if !self.body.is_empty() {
            let mut body = Vec::with_capacity(self.body.iter().map(|l| l.len()).sum());
            for (i, line) in self.body.iter().enumerate() {
                if i > 0 {
                    body.push(b'\n');
                }
                body.extend_from_slice(line.get(1..).unwrap_or_default());
            }
            p.description = detail(&text(&body));
        }
    }
}

fn syntax(line: usize, reason: &str) -> PkgError {
    PkgError::Syntax {
        format: PackageFormat::Deb,
        line,
        reason: reason.to_owned(),
    }
}

fn finish(st: &mut Stanza<'_>, out: &mut Vec<Package>) -> Result<(), PkgError> {
    let s = std::mem::take(st);
    if !s.any_field {
        return Ok(());
    }
    let installed = s
        .status
        .map(|v| dpkg_state_is_installed(&text(v)))
        .unwrap_or(false);
    if !installed {
        return Ok(());
    }
    let missing = |field| PkgError::MissingField {
        format: PackageFormat::Deb,
        line: s.start_line,
        field,
    };
    let name = text(s.package.ok_or_else(|| missing("Package"))?).into_owned();
    let version = text(s.version.ok_or_else(|| missing("Version"))?);
    let arch = s.arch.map(|a| text(a).into_owned()).unwrap_or_default();
    check_len("dpkg package name length", &name)?;
    check_len("dpkg version length", &version)?;
    check_len("dpkg architecture length", &arch)?;
    if name.is_empty() {
        return Err(syntax(s.start_line, "empty Package field"));
    }
    let Some((epoch, upstream, revision)) = split_evr(&version) else {
        return Err(syntax(
            s.start_line,
            &format!("malformed Version {version:?}"),
        ));
    };
    if out.len() >= MAX_PACKAGES {
        return Err(limit(
            "package count",
            MAX_PACKAGES,
            out.len().saturating_add(1),
        ));
    }
    let mut p = Package {
        name,
        epoch,
        version: upstream.to_owned(),
        release: revision.to_owned(),
        arch,
        ..Package::default()
    };
    s.details_into(&mut p);
    out.push(p);
    Ok(())
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
    use crate::PkgErrorKind;

    const SAMPLE: &str = "\
Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 164
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Provides: libz1
Depends: libc6 (>= 2.14)
Breaks: libxml2 (<< 2.7.6.dfsg-2), texlive-binaries (<< 2009-12)
Conflicts: zlib1 (<= 1:1.0.4-7)
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found
 in gzip and PKZIP.  This package includes the shared library.
Homepage: http://zlib.net/

Package: zlib1g
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime (i386)

Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Architecture: amd64
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 47cb5bd1ad1b4e5e9bdb3a8b0a8c4f5e
 /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990
 /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6
 /etc/issue 53a6ea7e8ba4a2a87ba3d8e5b8b1e5ea
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,
 and the text of several common licenses in use on Debian systems.
 .
 Package: not-a-real-field
Important: yes

Package: broken-upgrade
Status: install reinstreq half-installed
Architecture: amd64
Version: 2.0-1

Package: old-kernel
Status: deinstall ok config-files
Architecture: amd64
Version: 5.10.0-20
Config-Version: 5.10.0-20
Conffiles:
 /etc/kernel/postinst.d/old 0123456789abcdef0123456789abcdef obsolete

Package: removed-pkg
Status: purge ok not-installed
Architecture: all

Package: unpacked-only
Status: install ok unpacked
Architecture: amd64
Version: 1.0

Package: held
Status: hold ok installed
Architecture: all
Version: 3.1-2

Package: dpkg
Status: install ok triggers-pending
Architecture: amd64
Version: 1.21.22
Triggers-Pending: ldconfig
";

    #[test]
    fn real_world_sample() {
        let pkgs = parse_dpkg_status(SAMPLE.as_bytes()).unwrap();
        let got: Vec<(String, String, String)> = pkgs
            .iter()
            .map(|p| (p.name.clone(), p.full_version(), p.arch.clone()))
            .collect();
        let want = vec![
            ("base-files", "12.4+deb12u5", "amd64"),
            ("dpkg", "1.21.22", "amd64"),
            ("held", "3.1-2", "all"),
            ("zlib1g", "1:1.2.13.dfsg-1", "amd64"),
            ("zlib1g", "1:1.2.13.dfsg-1", "i386"),
        ];
        let want: Vec<(String, String, String)> = want
            .into_iter()
            .map(|(a, b, c)| (a.into(), b.into(), c.into()))
            .collect();
        assert_eq!(got, want);
        let z = &pkgs[3];
        assert_eq!(
            (z.epoch, z.version.as_str(), z.release.as_str()),
            (1, "1.2.13.dfsg", "1")
        );
        let b = &pkgs[0];
        assert_eq!(
            (b.epoch, b.version.as_str(), b.release.as_str()),
            (0, "12.4+deb12u5", "")
        );
    }

    #[test]
    fn details() {
        let pkgs = parse_dpkg_status(SAMPLE.as_bytes()).unwrap();
        let z = &pkgs[3];
        assert_eq!(z.url.as_deref(), Some("http://zlib.net/"));
        assert_eq!(z.source_package.as_deref(), Some("zlib"));
        assert_eq!(z.summary.as_deref(), Some("compression library - runtime"));
        assert_eq!(
            z.description.as_deref(),
            Some(
                "zlib is a library implementing the deflate compression method found\n\
                 in gzip and PKZIP.  This package includes the shared library."
            )
        );
        let b = &pkgs[0];
        assert_eq!(b.source_package, None);
        assert_eq!(b.url, None);
        let body = b.description.as_deref().unwrap();
        assert!(
            body.starts_with("This package contains the basic"),
            "{body}"
        );
        assert!(
            body.ends_with("systems.\n.\nPackage: not-a-real-field"),
            "{body}"
        );
        // Conffiles' continuation lines are not part of any description.
        assert!(!body.contains("/etc/issue 53a6"), "{body}");
        // The i386 zlib1g has a summary and no body.
        assert_eq!(pkgs[4].description, None);
        let src = "Package: a\nStatus: install ok installed\nVersion: 1\nSource: glibc (2.36-9)\n";
        let p = parse_dpkg_status(src.as_bytes()).unwrap();
        assert_eq!(p[0].source_package.as_deref(), Some("glibc"));
    }

    #[test]
    fn status_rule() {
        assert!(dpkg_state_is_installed("install ok installed"));
        assert!(dpkg_state_is_installed("hold ok installed"));
        assert!(dpkg_state_is_installed("deinstall ok installed"));
        assert!(dpkg_state_is_installed("install ok triggers-awaited"));
        assert!(!dpkg_state_is_installed("install reinstreq half-installed"));
        assert!(!dpkg_state_is_installed("deinstall ok config-files"));
        assert!(!dpkg_state_is_installed("purge ok not-installed"));
        assert!(!dpkg_state_is_installed("install ok unpacked"));
        assert!(!dpkg_state_is_installed("install ok half-configured"));
        // The state word counts wherever it stands, in a field of any length.
        assert!(dpkg_state_is_installed("installed ok"));
        assert!(dpkg_state_is_installed("installed"));
        assert!(dpkg_state_is_installed("install ok installed extra"));
        assert!(!dpkg_state_is_installed("not-installed ok"));
        assert!(!dpkg_state_is_installed("half-installed"));
        // No state word, or two of them: not known to be installed.
        assert!(!dpkg_state_is_installed("install ok"));
        assert!(!dpkg_state_is_installed(""));
        assert!(!dpkg_state_is_installed("installed not-installed"));
    }

    #[test]
    fn short_status_fields_list_their_packages() {
        let s = "Package: a\nStatus: installed ok\nVersion: 1.0-1\n\n\
                 Package: b\nStatus: not-installed\nVersion: 2\n\n\
                 Package: c\nStatus: installed\nVersion: 3\n";
        let p = parse_dpkg_status(s.as_bytes()).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn crlf_no_trailing_newline_and_case() {
        let s = "package: a\r\nstatus: install ok installed\r\nversion: 1.0-1\r\narchitecture: all";
        let p = parse_dpkg_status(s.as_bytes()).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "a");
        assert_eq!(p[0].full_version(), "1.0-1");
        assert_eq!(p[0].arch, "all");
    }

    #[test]
    fn empty_and_blank_inputs() {
        assert!(parse_dpkg_status(b"").unwrap().is_empty());
        assert!(parse_dpkg_status(b"\n\n  \n").unwrap().is_empty());
    }

    #[test]
    fn errors() {
        let e = parse_dpkg_status(b" leading continuation\n").unwrap_err();
        assert!(matches!(e, PkgError::Syntax { line: 1, .. }), "{e}");
        let e = parse_dpkg_status(b"Package: a\nno colon here\n").unwrap_err();
        assert!(matches!(e, PkgError::Syntax { line: 2, .. }), "{e}");
        let e = parse_dpkg_status(b"\nPackage: a\nStatus: install ok installed\n").unwrap_err();
        assert!(
            matches!(
                e,
                PkgError::MissingField {
                    field: "Version",
                    line: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_dpkg_status(b"Status: install ok installed\nVersion: 1\n").unwrap_err();
        assert!(
            matches!(
                e,
                PkgError::MissingField {
                    field: "Package",
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_dpkg_status(b"Package: a\nStatus: install ok installed\nVersion: x:1\n")
            .unwrap_err();
        assert!(matches!(e, PkgError::Syntax { .. }), "{e}");
        // A not-installed stanza is not checked for a version.
        assert!(
            parse_dpkg_status(b"Package: a\nStatus: purge ok not-installed\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn limits() {
        let mut s =
            String::from("Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n");
        let line = format!(" {}\n", "y".repeat(1000));
        while s.len() <= MAX_STANZA_BYTES {
            s.push_str(&line);
        }
        let e = parse_dpkg_status(s.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), PkgErrorKind::LimitExceeded);
        let long = format!(
            "Package: {}\nStatus: install ok installed\nVersion: 1\n",
            "n".repeat(5000)
        );
        assert_eq!(
            parse_dpkg_status(long.as_bytes()).unwrap_err().kind(),
            PkgErrorKind::LimitExceeded
        );
    }

    /// Writes seed inputs for the fuzz targets when `GUESTCTL_FUZZ_SEEDS` names a
    /// directory (`<dir>/<target>/`); always checks that the seeds parse.
    fn write_seed(target: &str, name: &str, bytes: &[u8]) {
        if let Some(dir) = std::env::var_os("GUESTCTL_FUZZ_SEEDS") {
            let d = std::path::Path::new(&dir).join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn fuzz_seed() {
        assert_eq!(parse_dpkg_status(SAMPLE.as_bytes()).unwrap().len(), 5);
        write_seed("pkg_dpkg", "sample", SAMPLE.as_bytes());
    }
}
