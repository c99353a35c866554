//! Bakes the git commit and the build profile into the `guestctl` binary, for
//! `guestctl --version` and for the commit that `perf validate` records: the commit
//! of the code being measured, not whatever the current directory holds at run time.
//!
//! Git is asked through `vergen-gitcl` (the `git` command, no libgit2). Built from a
//! tarball without `.git`, or where `git` is missing, vergen emits a placeholder that
//! the binary shows as `unknown` (src/build_info.rs). The profile and optimisation
//! level are cargo's own build-script variables, passed on.

use vergen_gitcl::{Emitter, GitclBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let git = GitclBuilder::default().sha(false).build()?;
    Emitter::default().quiet().add_instructions(&git)?.emit()?;
    watch_branch_ref();
    for (from, to) in [
        ("PROFILE", "GUESTCTL_BUILD_PROFILE"),
        ("OPT_LEVEL", "GUESTCTL_BUILD_OPT_LEVEL"),
    ] {
        let value = std::env::var(from).unwrap_or_else(|_| "unknown".into());
        println!("cargo:rustc-env={to}={value}");
    }
    Ok(())
}

/// Rebuilds when the checked-out branch moves in a linked worktree too: vergen
/// watches `HEAD` and the branch's file under the worktree's own git directory, but a
/// worktree's branches live in the repository's common one.
fn watch_branch_ref() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
    };
    let Some(branch) = git(&["symbolic-ref", "HEAD"]) else {
        return;
    };
    if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
