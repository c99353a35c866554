//! virt-ls's listing habits for `guestctl ls`: `-l` rows (type, permissions,
//! size, path), `-R` (every path below the directory, as `find` gives them),
//! `-lR` (rows for the directory and everything below, depth first) and
//! `--csv` (the same rows as CSV, quoted where a field holds a space, a quote, a
//! comma or a newline); and virt-style disk arguments (`-a DISK`).

use anyhow::{bail, Context};
use guestctl_fs::FileType;
use guestctl_inspect::GuestFs;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Deepest directory level `-R` descends to (a hostile image may nest deeper).
pub const MAX_DEPTH: usize = 256;
/// Most entries one `-R` listing prints.
pub const MAX_ENTRIES: usize = 1_000_000;

/// The disk and the remaining positional arguments: with `-a DISK` every
/// positional argument is an operand; without, the first one is the disk.
pub fn disk_and_operands(
    add: Vec<PathBuf>,
    mut positional: Vec<String>,
) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let disk = match add.len() {
        0 if positional.is_empty() => bail!("no disk image given (DISK or -a DISK)"),
        0 => PathBuf::from(positional.remove(0)),
        1 => add.into_iter().next().unwrap_or_default(),
        n => bail!(
            "{n} disks given with -a: a guest spread over several disks is not supported yet; give one"
        ),
    };
    Ok((disk, positional))
}

/// The one disk of a command that takes `DISK` or `-a DISK`.
pub fn one_disk(disk: Option<PathBuf>, add: Vec<PathBuf>) -> anyhow::Result<PathBuf> {
    let positional = disk.map(|d| d.to_string_lossy().into_owned());
    let (disk, rest) = disk_and_operands(add, positional.into_iter().collect())?;
    if let Some(extra) = rest.first() {
        bail!("{extra}: a disk was already given with -a");
    }
    Ok(disk)
}

/// How `ls` prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct LsMode {
    /// `-l`: a row per entry.
    pub long: bool,
    /// `-R`: everything below.
    pub recursive: bool,
    /// `--csv`: rows as CSV.
    pub csv: bool,
}

/// The listing of `dir` in `g` as virt-ls prints it in `mode`.
pub fn listing(g: &GuestFs, dir: &str, mode: LsMode) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut count = 0usize;
    if mode.recursive && !mode.long {
        find(g, dir, "", 0, &mut count, &mut out)?;
        return Ok(out);
    }
    if mode.recursive {
        row(g, dir, mode.csv, &mut out)?;
    }
    walk(g, dir, mode, 0, &mut count, &mut out)?;
    Ok(out)
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn sorted_entries(g: &GuestFs, dir: &str) -> anyhow::Result<Vec<(String, FileType)>> {
    let mut v: Vec<(String, FileType)> = g
        .read_dir(dir)
        .with_context(|| format!("cannot list {dir}"))?
        .into_iter()
        .map(|e| (e.name, e.file_type))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

fn bump(count: &mut usize, depth: usize) -> anyhow::Result<()> {
    *count = count.saturating_add(1);
    if *count > MAX_ENTRIES || depth > MAX_DEPTH {
        bail!("listing stopped: more than {MAX_ENTRIES} entries or {MAX_DEPTH} levels");
    }
    Ok(())
}

fn walk(
    g: &GuestFs,
    dir: &str,
    mode: LsMode,
    depth: usize,
    count: &mut usize,
    out: &mut String,
) -> anyhow::Result<()> {
    for (name, ty) in sorted_entries(g, dir)? {
        bump(count, depth)?;
        let path = join(dir, &name);
        row(g, &path, mode.csv, out)?;
        if mode.recursive && ty == FileType::Dir {
            walk(g, &path, mode, depth.saturating_add(1), count, out)?;
        }
    }
    Ok(())
}

/// `-R` alone: paths relative to the listed directory, parents first.
fn find(
    g: &GuestFs,
    dir: &str,
    prefix: &str,
    depth: usize,
    count: &mut usize,
    out: &mut String,
) -> anyhow::Result<()> {
    for (name, ty) in sorted_entries(g, dir)? {
        bump(count, depth)?;
        let rel = format!("{prefix}{name}");
        writeln!(out, "{rel}")?;
        if ty == FileType::Dir {
            let sub = join(dir, &name);
            find(
                g,
                &sub,
                &format!("{rel}/"),
                depth.saturating_add(1),
                count,
                out,
            )?;
        }
    }
    Ok(())
}

/// One row: type, permissions (octal), size, path, and a symlink's target.
fn row(g: &GuestFs, path: &str, csv: bool, out: &mut String) -> anyhow::Result<()> {
    let md = g
        .lstat(path)
        .with_context(|| format!("cannot stat {path}"))?;
    let kind = match md.file_type {
        FileType::File => "-",
        FileType::Dir => "d",
        FileType::Symlink => "l",
        FileType::Other => "u",
    };
    let perms = format!("{:04o}", md.mode.unwrap_or(0) & 0o7777);
    let target = if md.file_type == FileType::Symlink {
        g.read_link(path).ok()
    } else {
        None
    };
    if csv {
        let mut fields = vec![kind.to_string(), perms, md.len.to_string(), csv_field(path)];
        fields.extend(target.as_deref().map(csv_field));
        writeln!(out, "{}", fields.join(","))?;
    } else {
        let tail = target.map(|t| format!(" -> {t}")).unwrap_or_default();
        writeln!(out, "{kind} {perms} {:>10} {path}{tail}", md.len)?;
    }
    Ok(())
}

/// A CSV field as virt-ls quotes it.
fn csv_field(s: &str) -> String {
    if s.contains([' ', '"', '\n', ',']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use guestctl_inspect::MemFs;
    use std::sync::Arc;

    fn guest() -> GuestFs {
        let fs = MemFs::new("ext4")
            .file("/etc/hosts", "127.0.0.1 localhost\n")
            .file("/etc/a b,c", "x")
            .file("/etc/sub/deep", "12345")
            .symlink("/etc/link", "hosts");
        GuestFs::with_root("/dev/sda1", Arc::new(fs))
    }

    #[test]
    fn recursive_names_are_relative_and_parents_first() {
        let mode = LsMode {
            recursive: true,
            ..LsMode::default()
        };
        let got = listing(&guest(), "/etc", mode).unwrap();
        assert_eq!(got, "a b,c\nhosts\nlink\nsub\nsub/deep\n");
    }

    #[test]
    fn long_recursive_csv_rows() {
        let mode = LsMode {
            long: true,
            recursive: true,
            csv: true,
        };
        let got = listing(&guest(), "/etc", mode).unwrap();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), 6, "{got}");
        assert!(
            lines[0].starts_with("d,") && lines[0].ends_with(",/etc"),
            "{got}"
        );
        assert!(lines[1].ends_with(",\"/etc/a b,c\""), "{got}");
        assert!(
            lines[2].starts_with("-,") && lines[2].ends_with(",20,/etc/hosts"),
            "{got}"
        );
        assert!(
            lines[3].starts_with("l,") && lines[3].ends_with(",/etc/link,hosts"),
            "{got}"
        );
        assert!(lines[5].ends_with(",5,/etc/sub/deep"), "{got}");
    }

    #[test]
    fn long_rows_one_level() {
        let mode = LsMode {
            long: true,
            ..LsMode::default()
        };
        let got = listing(&guest(), "/etc", mode).unwrap();
        assert_eq!(got.lines().count(), 4, "{got}");
        assert!(got.contains("         20 /etc/hosts\n"), "{got}");
        assert!(got.contains(" /etc/link -> hosts\n"), "{got}");
        assert!(!got.contains("deep"), "{got}");
    }

    #[test]
    fn disk_arguments() {
        let (d, rest) = disk_and_operands(vec![], vec!["d.img".into(), "/etc".into()]).unwrap();
        assert_eq!(
            (d, rest),
            (PathBuf::from("d.img"), vec!["/etc".to_string()])
        );
        let (d, rest) = disk_and_operands(vec!["d.img".into()], vec!["/etc".into()]).unwrap();
        assert_eq!(
            (d, rest),
            (PathBuf::from("d.img"), vec!["/etc".to_string()])
        );
        assert!(disk_and_operands(vec!["a".into(), "b".into()], vec![]).is_err());
        assert!(disk_and_operands(vec![], vec![]).is_err());
        assert_eq!(
            one_disk(None, vec!["x".into()]).unwrap(),
            PathBuf::from("x")
        );
        assert!(one_disk(Some("y".into()), vec!["x".into()]).is_err());
    }
}
