//! Peer comparison with libguestfs: the same disks inspected by `guestctl inspect`
//! and by `virt-inspector`, each as a whole process through
//! [`crate::process::bench_command`] (wall, user, sys, peak RSS), so the report can
//! put guestctl's time next to the incumbent's with the ratio and the libguestfs
//! backend (KVM or TCG) that was used.
//!
//! Peer results are ordinary [`TestResult`]s named `peer/<tool>/<disk>` with the
//! parameters `peer` (`libguestfs`), `tool`, `disk` and, for libguestfs, `backend`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use guestctl_stats::Options;

use crate::error::PerfError;
use crate::measure::Observer;
use crate::process::{bench_command, CommandBench};
use crate::record::{RunResults, TestResult};

/// The libguestfs program run as the peer.
pub const VIRT_INSPECTOR: &str = "virt-inspector";
/// The Debian package that provides it.
pub const PEER_PACKAGE: &str = "libguestfs-tools";

/// The libguestfs backend a run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Hardware virtualisation (/dev/kvm).
    Kvm,
    /// QEMU's software emulation (much slower to boot the appliance).
    Tcg,
}

impl Backend {
    /// `KVM` or `TCG`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Kvm => "KVM",
            Backend::Tcg => "TCG",
        }
    }

    /// Which backend libguestfs will use: TCG when `force_tcg` (ours) or
    /// `LIBGUESTFS_BACKEND_SETTINGS` (the environment's) says `force_tcg`, or when
    /// KVM is not usable; KVM otherwise.
    pub fn choose(force_tcg: bool, env_settings: Option<&str>, kvm_usable: bool) -> Backend {
        let env_forces = env_settings
            .map(|s| s.split(':').any(|p| p.trim() == "force_tcg"))
            .unwrap_or(false);
        if force_tcg || env_forces || !kvm_usable {
            Backend::Tcg
        } else {
            Backend::Kvm
        }
    }

    /// [`Backend::choose`] on this machine: the environment and whether /dev/kvm can
    /// be opened for reading and writing.
    pub fn detect(force_tcg: bool) -> Backend {
        let settings = std::env::var("LIBGUESTFS_BACKEND_SETTINGS").ok();
        let kvm = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        Backend::choose(force_tcg, settings.as_deref(), kvm)
    }
}

/// Environment variable naming the virt-inspector program to run instead of the
/// one on `$PATH` (a path; empty or missing file: treated as not installed).
pub const VIRT_INSPECTOR_ENV: &str = "GUESTCTL_VIRT_INSPECTOR";

/// `virt-inspector`'s path: [`VIRT_INSPECTOR_ENV`] when set, else the first on
/// `$PATH`; `None` when not installed.
pub fn find_virt_inspector() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(VIRT_INSPECTOR_ENV) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    crate::process::which(VIRT_INSPECTOR)
}

/// The sentence the report carries when the peer could not run.
pub fn skipped_note() -> String {
    format!(
        "peer libguestfs skipped: `{VIRT_INSPECTOR}` was not found on PATH (Debian package \
         {PEER_PACKAGE})"
    )
}

/// What to run.
#[derive(Debug, Clone)]
pub struct PeerPlan {
    /// The guestctl executable (normally the running one).
    pub guestctl: PathBuf,
    /// The virt-inspector executable.
    pub virt_inspector: PathBuf,
    /// The disks both tools inspect.
    pub disks: Vec<PathBuf>,
    /// Measured runs per tool and disk.
    pub runs: usize,
    /// Discarded warm-up runs per tool and disk.
    pub warmup: usize,
    /// Force TCG (sets `LIBGUESTFS_BACKEND=direct` and
    /// `LIBGUESTFS_BACKEND_SETTINGS=force_tcg` for virt-inspector).
    pub force_tcg: bool,
}

/// The command lines of one disk: guestctl's (uncached, JSON, as virt-inspector
/// does the whole job each time) and virt-inspector's.
pub fn commands(plan: &PeerPlan, disk: &Path) -> (Vec<String>, Vec<String>) {
    let d = disk.display().to_string();
    let guestctl = vec![
        plan.guestctl.display().to_string(),
        "inspect".into(),
        "--no-cache".into(),
        "--json".into(),
        d.clone(),
    ];
    let mut peer = Vec::new();
    if plan.force_tcg {
        peer.extend([
            "env".to_string(),
            "LIBGUESTFS_BACKEND=direct".to_string(),
            "LIBGUESTFS_BACKEND_SETTINGS=force_tcg".to_string(),
        ]);
    }
    // virt-inspector lists applications by default, as guestctl inspect does.
    peer.extend([
        plan.virt_inspector.display().to_string(),
        "-a".to_string(),
        d,
    ]);
    (guestctl, peer)
}

fn disk_label(disk: &Path) -> String {
    disk.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| disk.display().to_string())
}

/// Runs both tools on every disk of `plan`; results in the order guestctl, peer per
/// disk.
pub fn run_peer(
    plan: &PeerPlan,
    opts: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<TestResult>, PerfError> {
    let backend = Backend::detect(plan.force_tcg);
    let mut out = Vec::new();
    for disk in &plan.disks {
        let label = disk_label(disk);
        let (ours, theirs) = commands(plan, disk);
        for (tool, argv) in [("guestctl", ours), ("libguestfs", theirs)] {
            let spec = CommandBench {
                name: format!("peer/{tool}/{label}"),
                argv,
                runs: plan.runs,
                warmup: plan.warmup,
                show_output: false,
                ignore_failure: false,
                prepare: None,
            };
            let mut r = bench_command(&spec, opts, observer)?;
            r.operation = Some(format!("peer_{tool}"));
            r.params.insert("peer".into(), "libguestfs".into());
            r.params.insert("tool".into(), tool.into());
            r.params.insert("disk".into(), label.clone());
            if tool == "libguestfs" {
                r.params.insert("backend".into(), backend.name().into());
            }
            out.push(r);
        }
    }
    Ok(out)
}

/// One disk measured by both tools.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerPair {
    /// Disk label.
    pub disk: String,
    /// guestctl's median wall time (ns).
    pub guestctl_ns: f64,
    /// virt-inspector's median wall time (ns).
    pub libguestfs_ns: f64,
    /// The backend libguestfs used.
    pub backend: String,
}

impl PeerPair {
    /// How many times faster guestctl was.
    pub fn speedup(&self) -> f64 {
        self.libguestfs_ns / self.guestctl_ns
    }
}

/// The guestctl/libguestfs pairs of a run.
pub fn peer_pairs(run: &RunResults) -> Vec<PeerPair> {
    let mut by_disk: BTreeMap<&str, (Option<&TestResult>, Option<&TestResult>)> = BTreeMap::new();
    for t in &run.tests {
        if t.params.get("peer").map(String::as_str) != Some("libguestfs") {
            continue;
        }
        let (Some(tool), Some(disk)) = (t.params.get("tool"), t.params.get("disk")) else {
            continue;
        };
        let e = by_disk.entry(disk.as_str()).or_default();
        match tool.as_str() {
            "guestctl" => e.0 = Some(t),
            "libguestfs" => e.1 = Some(t),
            _ => {}
        }
    }
    by_disk
        .into_iter()
        .filter_map(|(disk, (g, l))| {
            let (g, l) = (g?, l?);
            Some(PeerPair {
                disk: disk.to_string(),
                guestctl_ns: g.summary.median,
                libguestfs_ns: l.summary.median,
                backend: l.params.get("backend").cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// `1234× faster`, `2.5× faster`, `1.3× slower`.
pub fn describe_speedup(x: f64) -> String {
    let (v, word) = if x >= 1.0 {
        (x, "faster")
    } else {
        (1.0 / x, "slower")
    };
    if v >= 10.0 {
        format!("{v:.0}× {word}")
    } else {
        format!("{v:.1}× {word}")
    }
}

/// The "Peer: libguestfs" section of the Markdown report (empty without pairs).
pub fn markdown_peer(run: &RunResults) -> String {
    let pairs = peer_pairs(run);
    let mut s = String::new();
    if pairs.is_empty() {
        return s;
    }
    let _ = writeln!(s, "\n## Peer: libguestfs\n");
    let _ = writeln!(
        s,
        "Whole-process medians of `guestctl inspect --no-cache --json DISK` and \
         `virt-inspector -a DISK` on the same disk.\n"
    );
    let _ = writeln!(
        s,
        "| Disk | guestctl | virt-inspector | Backend | guestctl is |"
    );
    let _ = writeln!(
        s,
        "|------|---------:|---------------:|---------|------------:|"
    );
    for p in &pairs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            p.disk,
            crate::report::format_ns(p.guestctl_ns),
            crate::report::format_ns(p.libguestfs_ns),
            p.backend,
            describe_speedup(p.speedup())
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_choice() {
        assert_eq!(Backend::choose(false, None, true), Backend::Kvm);
        assert_eq!(Backend::choose(false, None, false), Backend::Tcg);
        assert_eq!(Backend::choose(true, None, true), Backend::Tcg);
        assert_eq!(
            Backend::choose(false, Some("foo:force_tcg"), true),
            Backend::Tcg
        );
        assert_eq!(
            Backend::choose(false, Some("force_kvm"), true),
            Backend::Kvm
        );
    }

    #[test]
    fn command_lines() {
        let plan = PeerPlan {
            guestctl: "/bin/guestctl".into(),
            virt_inspector: "/usr/bin/virt-inspector".into(),
            disks: vec![],
            runs: 3,
            warmup: 0,
            force_tcg: true,
        };
        let (g, p) = commands(&plan, Path::new("/tmp/a.img"));
        assert_eq!(
            g,
            [
                "/bin/guestctl",
                "inspect",
                "--no-cache",
                "--json",
                "/tmp/a.img"
            ]
        );
        assert_eq!(
            p,
            [
                "env",
                "LIBGUESTFS_BACKEND=direct",
                "LIBGUESTFS_BACKEND_SETTINGS=force_tcg",
                "/usr/bin/virt-inspector",
                "-a",
                "/tmp/a.img"
            ]
        );
        assert!(skipped_note().contains(PEER_PACKAGE));
        assert_eq!(describe_speedup(4321.4), "4321× faster");
        assert_eq!(describe_speedup(2.54), "2.5× faster");
        assert_eq!(describe_speedup(0.5), "2.0× slower");
    }
}
