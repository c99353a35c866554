//! Where and when a run was made: the machine fingerprint, the git commit, the time.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Largest system file read for the fingerprint (`/proc/cpuinfo` of a 256-core machine
/// is ~300 KiB; the fields we need are in the first processor block).
const MAX_SYSTEM_FILE: u64 = 1 << 20;

/// The machine and build a run was made on. Two runs are comparable without a
/// warning only when their fingerprints are equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// CPU model name from `/proc/cpuinfo` (`unknown` elsewhere).
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// `PRETTY_NAME` of `/etc/os-release`, or the target OS name.
    pub os: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// `rustc -V` of the compiler that built the measuring binary.
    pub rustc: String,
    /// `release` or `debug` (from `debug_assertions`).
    pub profile: String,
}

impl Fingerprint {
    /// The fingerprint of this machine and binary (computed once per process).
    pub fn current() -> Fingerprint {
        static CURRENT: OnceLock<Fingerprint> = OnceLock::new();
        CURRENT.get_or_init(Self::probe).clone()
    }

    fn probe() -> Fingerprint {
        Fingerprint {
            cpu_model: read_small(Path::new("/proc/cpuinfo"))
                .and_then(|s| cpu_model(&s))
                .unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            os: read_small(Path::new("/etc/os-release"))
                .and_then(|s| os_pretty_name(&s))
                .unwrap_or_else(|| std::env::consts::OS.to_string()),
            kernel: read_small(Path::new("/proc/sys/kernel/osrelease"))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".into()),
            rustc: env!("GUESTCTL_PERF_RUSTC_VERSION").to_string(),
            profile: if cfg!(debug_assertions) {
                "debug".into()
            } else {
                "release".into()
            },
        }
    }

    /// The fields that differ from `other`, as `field: ours ≠ theirs` lines (empty
    /// when equal).
    pub fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |field: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{field}: {a} ≠ {b}"));
            }
        };
        check("cpu_model", self.cpu_model.clone(), other.cpu_model.clone());
        check("cores", self.cores.to_string(), other.cores.to_string());
        check("os", self.os.clone(), other.os.clone());
        check("kernel", self.kernel.clone(), other.kernel.clone());
        check("rustc", self.rustc.clone(), other.rustc.clone());
        check("profile", self.profile.clone(), other.profile.clone());
        out
    }

    /// One line for reports: `CPU (N cores), OS, kernel K, rustc, profile`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} cores), {}, kernel {}, {}, {} build",
            self.cpu_model, self.cores, self.os, self.kernel, self.rustc, self.profile
        )
    }
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(MAX_SYSTEM_FILE).read_to_string(&mut s).ok()?;
    Some(s)
}

/// The first `model name` of a `/proc/cpuinfo` text.
pub(crate) fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "model name").then(|| v.trim().to_string())
    })
}

/// `PRETTY_NAME` (else `NAME`) of an os-release text, quotes removed.
pub(crate) fn os_pretty_name(text: &str) -> Option<String> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let v = l.strip_prefix(key)?.strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_string())
        })
    };
    get("PRETTY_NAME").or_else(|| get("NAME"))
}

static COMMIT: OnceLock<String> = OnceLock::new();

/// Sets the commit [`git_commit`] reports: the binary's own, baked in when it was
/// built (the code being measured), rather than whatever repository the current
/// directory happens to be in. The first call wins.
pub fn set_git_commit(commit: &str) {
    let _ = COMMIT.set(commit.to_string());
}

/// The commit given to [`set_git_commit`], or `unknown`.
pub fn git_commit() -> String {
    COMMIT.get().map_or_else(|| "unknown".into(), Clone::clone)
}

/// The current time as RFC 3339 UTC with second precision, e.g. `2026-01-26T10:30:00Z`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339_from_unix(secs)
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (`jiff`'s timestamp format);
/// a time past jiff's range (year 9999) is the range's end.
pub fn rfc3339_from_unix(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::MAX);
    // Whole seconds: jiff prints no fraction for them.
    ts.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_769_423_400), "2026-01-26T10:30:00Z");
    }

    #[test]
    fn parses_cpuinfo_and_os_release() {
        let cpu = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            cpu_model(cpu).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n";
        assert_eq!(
            os_pretty_name(os).as_deref(),
            Some("Debian GNU/Linux 13 (trixie)")
        );
        assert_eq!(os_pretty_name("NAME=Arch\n").as_deref(), Some("Arch"));
    }

    #[test]
    fn differences_name_fields() {
        let a = Fingerprint::current();
        assert!(a.differences(&a).is_empty());
        let mut b = a.clone();
        b.cores += 1;
        b.profile = "other".into();
        let d = a.differences(&b);
        assert_eq!(d.len(), 2);
        assert!(d[0].starts_with("cores: "));
        assert!(d[1].starts_with("profile: "));
    }
}
