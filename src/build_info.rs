//! What `build.rs` baked into this binary: the git commit it was built from and the
//! cargo profile, for `guestctl --version` and for the commit `perf validate` records.

use std::sync::OnceLock;

/// vergen's placeholder when git could not be asked (a tarball without `.git`).
const VERGEN_PLACEHOLDER: &str = "VERGEN_IDEMPOTENT_OUTPUT";

/// The full commit hash this binary was built from, or `unknown`.
pub fn git_commit() -> &'static str {
    match option_env!("VERGEN_GIT_SHA") {
        Some(sha) if !sha.is_empty() && sha != VERGEN_PLACEHOLDER => sha,
        _ => "unknown",
    }
}

/// The cargo profile (`release`, `debug`) and optimisation level of this build.
pub fn profile() -> String {
    let profile = option_env!("GUESTCTL_BUILD_PROFILE").unwrap_or("unknown");
    match option_env!("GUESTCTL_BUILD_OPT_LEVEL") {
        Some(level) => format!("{profile}, opt-level {level}"),
        None => profile.to_string(),
    }
}

/// The `--version` text after the name: `0.1.0 (commit 1a2b3c4d5e6f, release, opt-level 3)`.
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let commit = git_commit();
        let short = commit.get(..12).unwrap_or(commit);
        format!(
            "{} (commit {short}, {})",
            env!("CARGO_PKG_VERSION"),
            profile()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_the_commit_and_the_profile() {
        let v = long_version();
        assert!(v.starts_with(env!("CARGO_PKG_VERSION")), "{v}");
        assert!(v.contains(&format!(
            "commit {}",
            &git_commit()[..git_commit().len().min(12)]
        )));
        assert!(
            v.contains(option_env!("GUESTCTL_BUILD_PROFILE").unwrap_or("?")),
            "{v}"
        );
    }
}
