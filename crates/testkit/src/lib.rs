//! Test support shared by the workspace's tests (a dev-dependency only; nothing
//! shipped links it): the one rule for a test that needs something this machine
//! may lack, such as an external tool (`mkfs.vfat`, `rpm`, `chromium`) or a
//! device (`/dev/fuse`).
//!
//! The rule: when it is missing, the test says so on stderr and returns early
//! (passes), unless [`REQUIRE_TOOLS`] is set in the environment, in which case it
//! fails naming what is missing. CI sets the variable, so a green CI run means
//! every such test ran.
//!
//! [`bounded`] reruns a test in a child process under `prlimit` and checks its
//! peak memory and CPU time: the proof that work on hostile input is bounded.
//!
//! ```no_run
//! # fn main() {
//! let Some(mkswap) = guestctl_testkit::tool("mkswap") else {
//!     return; // skipped, and said so (or failed, under GUESTCTL_REQUIRE_TOOLS)
//! };
//! # let _ = mkswap;
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bounded;

use std::path::PathBuf;

/// The environment variable that turns "skipped: missing" into a failure.
pub const REQUIRE_TOOLS: &str = "GUESTCTL_REQUIRE_TOOLS";

/// Directories searched after `$PATH`: the system tools tests use (`mkntfs`,
/// `debugfs`, `mkswap`) live in sbin directories that a user's `$PATH` may omit.
const SBIN_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Whether missing prerequisites must fail the test ([`REQUIRE_TOOLS`] is set
/// to anything but the empty string or `0`).
pub fn required() -> bool {
    std::env::var_os(REQUIRE_TOOLS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The first executable file `name` on `$PATH`, then in the sbin directories.
/// No rule applied: see [`tool`] for that.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN_DIRS.map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable_file(p))
}

/// The tool `name` for a test that needs it. `None` (after saying "skipping" on
/// stderr) when it is not installed, and the caller returns; a panic instead
/// when [`required`].
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = find(name);
    if found.is_none() {
        unavailable(&format!("{name} is not installed"));
    }
    found
}

/// Whether the tool `name` is installed, under the same rule as [`tool`].
pub fn have(name: &str) -> bool {
    tool(name).is_some()
}

/// Applies the rule to a prerequisite that is not a tool: returns `available`,
/// and when it is false, says `why` and skips, or panics when [`required`].
pub fn available(available: bool, why: &str) -> bool {
    if !available {
        unavailable(why);
    }
    available
}

/// Reports a missing prerequisite: a panic when [`required`], else a note on
/// stderr (the caller then returns early).
pub fn unavailable(why: &str) {
    assert!(
        !required(),
        "{why}, and {REQUIRE_TOOLS} is set: this test must run here"
    );
    eprintln!("skipping: {why} (set {REQUIRE_TOOLS}=1 to make this a failure)");
}

fn is_executable_file(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_tool_every_machine_has_and_not_a_made_up_one() {
        let sh = find("sh").map(|p| p.is_file());
        assert_eq!(sh, Some(true));
        assert_eq!(find("guestctl-no-such-tool-anywhere"), None);
    }

    #[test]
    fn a_missing_tool_skips_or_fails_as_the_environment_says() {
        let outcome = std::panic::catch_unwind(|| tool("guestctl-no-such-tool-anywhere"));
        match outcome {
            Ok(found) => {
                assert!(!required());
                assert_eq!(found, None);
            }
            Err(_) => assert!(required()),
        }
    }
}
