//! The `num_files` "user" files: documentation under `/usr/share/doc/<pkg>`,
//! configuration under `/etc`, logs under `/var/log`, and documents in the user's
//! home, with deterministic text derived from the seed and the file's index.

use super::distro::Distro;
use super::names::Pkg;
use super::tree::Tree;
use crate::error::MockDiskError;
use crate::rng::Rng;
use std::collections::HashMap;
use std::fmt::Write as _;

const PROSE: &[&str] = &[
    "the",
    "system",
    "configuration",
    "package",
    "is",
    "installed",
    "with",
    "default",
    "settings",
    "and",
    "a",
    "service",
    "reads",
    "its",
    "options",
    "from",
    "this",
    "file",
    "when",
    "it",
    "starts",
    "network",
    "interface",
    "support",
    "for",
    "users",
    "may",
    "override",
    "values",
    "in",
    "local",
    "directory",
    "version",
    "release",
    "notes",
    "describe",
    "changes",
    "since",
    "previous",
    "upstream",
    "bug",
    "fixes",
    "security",
    "update",
    "performance",
    "improvements",
    "documentation",
    "examples",
    "build",
    "test",
];
const SERVICES: &[&str] = &[
    "nginx",
    "chrony",
    "rsyslog",
    "postfix",
    "cron",
    "sshd",
    "haproxy",
    "redis",
    "postgresql",
    "mariadb",
    "named",
    "dnsmasq",
    "unbound",
    "fail2ban",
    "logrotate",
    "smartd",
    "snmpd",
    "ntpsec",
    "squid",
    "vsftpd",
];
const DOC_NAMES: &[&str] = &[
    "README",
    "NEWS",
    "changelog",
    "AUTHORS",
    "THANKS",
    "TODO",
    "README.md",
    "FAQ",
    "copyright",
];
const HOME_DIRS: &[&str] = &[
    "Documents",
    "Documents/reports",
    "projects/website",
    "projects/scripts",
    "notes",
    ".config/app",
    "Downloads",
];
const HOME_NAMES: &[&str] = &[
    "notes.txt",
    "todo.md",
    "report.txt",
    "plan.md",
    "ideas.txt",
    "meeting.txt",
    "draft.md",
    "summary.txt",
];

/// Write `n` files; returns how many were written (always `n`).
pub(crate) fn write(
    tree: &mut Tree,
    distro: &Distro,
    pkgs: &[Pkg],
    hostname: &str,
    n: usize,
    seed: u64,
) -> Result<usize, MockDiskError> {
    let mut rng = Rng::derive(seed, "user-files");
    let mut counters: HashMap<String, usize> = HashMap::new();
    let home = format!("home/{}", distro.user);
    let fallback_pkgs = ["base", "misc", "local"];
    for i in 0..n {
        let size = if rng.below(10) < 7 {
            32 + rng.below(600)
        } else {
            600 + rng.below(3500)
        };
        let size = usize::try_from(size).unwrap_or(512);
        let kind = rng.below(100);
        let (dir, base_names, stem_ext): (String, &[&str], (&str, &str)) = if kind < 35 {
            let pkg = if pkgs.is_empty() {
                fallback_pkgs[i % fallback_pkgs.len()].to_string()
            } else {
                pkgs[usize::try_from(rng.below(pkgs.len() as u64)).unwrap_or(0) % pkgs.len()]
                    .name
                    .clone()
            };
            (format!("usr/share/doc/{pkg}"), DOC_NAMES, ("notes", ".txt"))
        } else if kind < 50 {
            let svc = SERVICES
                [usize::try_from(rng.below(SERVICES.len() as u64)).unwrap_or(0) % SERVICES.len()];
            (format!("etc/{svc}"), &[][..], ("conf", ".conf"))
        } else if kind < 70 {
            let svc = SERVICES
                [usize::try_from(rng.below(SERVICES.len() as u64)).unwrap_or(0) % SERVICES.len()];
            (format!("var/log/{svc}"), &[][..], ("log", ".log"))
        } else {
            let sub = HOME_DIRS
                [usize::try_from(rng.below(HOME_DIRS.len() as u64)).unwrap_or(0) % HOME_DIRS.len()];
            (format!("{home}/{sub}"), HOME_NAMES, ("file", ".txt"))
        };
        // A name unique in its directory: the next of the list, then numbered ones
        // (`stem-N.ext`, a form no list name has). Bounded: each try bumps the counter.
        let mut path = String::new();
        for _ in 0..64 {
            let c = counters.entry(dir.clone()).or_insert(0);
            let name = match base_names.get(*c) {
                Some(n) => (*n).to_string(),
                None => {
                    let svc = dir.rsplit('/').next().unwrap_or("file");
                    if stem_ext.0 == "conf" {
                        if *c == 0 {
                            format!("{svc}.conf")
                        } else {
                            format!("{svc}-{c}.conf")
                        }
                    } else if stem_ext.0 == "log" {
                        if *c == 0 {
                            format!("{svc}.log")
                        } else {
                            format!("{svc}.log.{c}")
                        }
                    } else {
                        format!("{}-{c}{}", stem_ext.0, stem_ext.1)
                    }
                }
            };
            *c += 1;
            let candidate = format!("{dir}/{name}");
            if !tree.exists(&candidate) {
                path = candidate;
                break;
            }
        }
        if path.is_empty() {
            path = format!("{dir}/file-{i}.txt");
        }
        let content = match kind {
            0..=34 => doc_text(&mut rng, &path, size),
            35..=49 => conf_text(&mut rng, &path, size),
            50..=69 => log_text(&mut rng, &path, hostname, distro.epoch_time, size),
            _ => doc_text(&mut rng, &path, size),
        };
        tree.file(&path, content, 0o644)?;
    }
    Ok(n)
}

fn word(rng: &mut Rng) -> &'static str {
    PROSE[usize::try_from(rng.below(PROSE.len() as u64)).unwrap_or(0) % PROSE.len()]
}

fn doc_text(rng: &mut Rng, path: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + 80);
    let title = path.rsplit('/').next().unwrap_or(path);
    let _ = writeln!(s, "{title}\n{}\n", "=".repeat(title.len().min(60)));
    let mut col = 0;
    while s.len() < size {
        let w = word(rng);
        if col + w.len() > 72 {
            s.push('\n');
            col = 0;
            if rng.below(6) == 0 {
                s.push('\n');
            }
        } else if col > 0 {
            s.push(' ');
            col += 1;
        }
        s.push_str(w);
        col += w.len();
    }
    s.push('\n');
    s
}

fn conf_text(rng: &mut Rng, path: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + 80);
    let _ = writeln!(
        s,
        "# /{path}\n# Generated configuration; see the manual page for details.\n"
    );
    let mut section = 0;
    while s.len() < size {
        if rng.below(8) == 0 || section == 0 {
            section += 1;
            let _ = writeln!(s, "\n[{}{}]", word(rng), section);
        }
        let _ = writeln!(s, "{}_{} = {}", word(rng), word(rng), rng.below(10_000));
    }
    s
}

fn log_text(rng: &mut Rng, path: &str, hostname: &str, epoch: u64, size: usize) -> String {
    let mut s = String::with_capacity(size + 120);
    let prog = path.split('/').nth(2).unwrap_or("daemon");
    let mut t = epoch.saturating_sub(86_400);
    while s.len() < size {
        t += rng.below(120);
        let (y, mo, d) = civil_from_days(t / 86_400);
        let (h, m, sec) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
        let _ = writeln!(
            s,
            "{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{sec:02}+00:00 {hostname} {prog}[{}]: {} {} {}",
            100 + rng.below(30_000),
            word(rng),
            word(rng),
            word(rng)
        );
    }
    s
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            super::civil_from_days(1_724_889_600 / 86_400),
            (2024, 8, 29)
        );
        assert_eq!(super::civil_from_days(19_782), (2024, 2, 29));
    }
}
