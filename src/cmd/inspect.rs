//! The inspection commands: `inspect`, `filesystems`, `packages`, `ls`, `cat`,
//! `batch` and `cache clear` (top-level subcommands of `guestctl`).
//!
//! Paths for `ls` and `cat`: `DEVICE:PATH` (`/dev/sda1:/etc`) reads one filesystem
//! alone; a plain `/PATH` is resolved in the namespace of the first operating
//! system found (its root plus the filesystems its fstab mounts, symlinks followed
//! inside the guest); `--root DEVICE` picks another OS on a multi-boot disk.

use anyhow::{bail, Context};
use comfy_table::{presets, Cell, ContentArrangement, Table};
use guestctl_inspect::{
    batch::{parse_shard, BatchOptions},
    os::{device_namespace, os_namespace},
    Cache, GuestFs, ImageOptions, InspectOptions, Inspection, LaunchOptions,
};
use std::fmt::Write as _;

use crate::cmd::{write_stdout, write_stdout_keep_status};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options shared by the commands that open an image.
#[derive(clap::Args, Debug, Clone)]
pub struct OpenArgs {
    /// Open backing files named by a qcow2 image (off by default: an image must not
    /// make guestctl read other host files unless you say so).
    #[arg(long)]
    allow_backing: bool,
}

/// Inspection subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Inspect a disk image: operating systems, versions, hostnames, mountpoints,
    /// packages (like virt-inspector).
    Inspect {
        /// The disk image (raw or qcow2).
        disk: PathBuf,
        /// Print the result as JSON (schema: docs/inspect-json.md).
        #[arg(long)]
        json: bool,
        /// Do not use the inspection cache (neither read nor write it).
        #[arg(long)]
        no_cache: bool,
        /// Do not list installed packages (faster).
        #[arg(long)]
        no_packages: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// List the partitions, logical volumes and filesystems of a disk image.
    Filesystems {
        /// The disk image.
        disk: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// List the installed packages of each operating system on a disk image.
    Packages {
        /// The disk image.
        disk: PathBuf,
        /// Print JSON: `[{"root": …, "applications": [{name, epoch, version, release, arch}]}]`.
        #[arg(long)]
        json: bool,
        /// Do not use the inspection cache.
        #[arg(long)]
        no_cache: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// List a directory inside a disk image.
    Ls {
        /// The disk image.
        disk: PathBuf,
        /// `/PATH` in the guest OS (with its mounts), or `DEVICE:/PATH` on one filesystem.
        path: String,
        /// The OS root to use on a multi-OS disk (`/dev/sda3`); default: the first.
        #[arg(long)]
        root: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// Print a file from inside a disk image.
    Cat {
        /// The disk image.
        disk: PathBuf,
        /// `/PATH` in the guest OS (with its mounts), or `DEVICE:/PATH` on one filesystem.
        path: String,
        /// The OS root to use on a multi-OS disk; default: the first.
        #[arg(long)]
        root: Option<String>,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// Inspect many disk images in parallel.
    Batch {
        /// The disk images.
        #[arg(required = true)]
        disks: Vec<PathBuf>,
        /// Worker threads (default: the number of cores).
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        /// Inspect only shard K of N (1-based): the images at positions i (0-based)
        /// with i % N == K-1, so N machines with the same list split it exactly.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// JSON Lines output: one object per image, in input order.
        #[arg(long)]
        json: bool,
        /// Do not use the inspection cache.
        #[arg(long)]
        no_cache: bool,
        /// Do not list installed packages.
        #[arg(long)]
        no_packages: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// The inspection cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// `guestctl cache ...`
#[derive(clap::Subcommand, Debug)]
pub enum CacheCommand {
    /// Remove every cached inspection result.
    Clear,
    /// Show where the cache is and how many entries it holds.
    Info,
}

fn image_options(open: &OpenArgs, no_cache: bool, no_packages: bool) -> ImageOptions {
    ImageOptions {
        launch: LaunchOptions {
            allow_backing: open.allow_backing,
        },
        inspect: InspectOptions {
            packages: !no_packages,
        },
        cache: if no_cache {
            None
        } else {
            Cache::open_default()
        },
    }
}

fn check_disk(disk: &Path) -> anyhow::Result<()> {
    if !disk.exists() {
        bail!(
            "{}: no such file (give the path of a raw or qcow2 disk image)",
            disk.display()
        );
    }
    if disk.is_dir() {
        bail!("{}: is a directory, not a disk image", disk.display());
    }
    Ok(())
}

fn inspect_one(disk: &Path, opts: &ImageOptions) -> anyhow::Result<Inspection> {
    check_disk(disk)?;
    guestctl_inspect::inspect_image(disk, opts).context("cannot inspect")
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn human_size(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The human summary of `ins` (its diagnostics: [`warn_diagnostics`]).
fn render_inspection(ins: &Inspection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} image, {}, {} partition table",
        ins.image,
        ins.format,
        human_size(ins.size),
        ins.partition_table
    );
    if ins.operatingsystems.is_empty() {
        let _ = writeln!(
            s,
            "No operating system found ({} filesystems; see `guestctl filesystems`).",
            ins.filesystems.len()
        );
    }
    for os in &ins.operatingsystems {
        s.push('\n');
        let mut t = table();
        t.set_header(vec![
            Cell::new(format!("{} ({})", opt(&os.product_name), os.root)),
            Cell::new(""),
        ]);
        let version = format!("{}.{}", os.major_version, os.minor_version);
        let pkgs = if os.applications.is_empty() && os.package_format.is_some() {
            "-".to_string()
        } else {
            os.applications.len().to_string()
        };
        let rows: Vec<(&str, String)> = vec![
            ("type", os.name.clone()),
            ("distro", opt(&os.distro).to_string()),
            ("version", version),
            ("arch", opt(&os.arch).to_string()),
            ("hostname", opt(&os.hostname).to_string()),
            (
                "packages",
                format!(
                    "{pkgs} ({} / {})",
                    opt(&os.package_format),
                    opt(&os.package_management)
                ),
            ),
        ];
        for (k, v) in rows {
            t.add_row(vec![k.to_string(), v]);
        }
        if let Some(b) = &os.build_id {
            t.add_row(vec!["build".to_string(), b.clone()]);
        }
        for m in &os.mountpoints {
            let fs = os.filesystems.iter().find(|f| f.device == m.device);
            let what = fs
                .map(|f| format!("{} {}", m.device, f.fs_type))
                .unwrap_or_else(|| m.device.clone());
            t.add_row(vec![format!("mount {}", m.mountpoint), what]);
        }
        let _ = writeln!(s, "{t}");
    }
    s
}

/// The diagnostics of `ins` as warnings on stderr.
fn warn_diagnostics(ins: &Inspection) {
    if !ins.diagnostics.is_empty() {
        eprintln!();
        for d in &ins.diagnostics {
            eprintln!("warning: {}", d.message);
        }
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    // Serialized first, then written in one go: stdout is line-buffered, and pretty
    // JSON is many lines (a write(2) per line cost more than the inspection of a
    // cached image). serde_json's own writer would also hide a closed pipe's
    // `BrokenPipe` from `main` (its error is not an io::Error).
    write_stdout(&guestctl_perf::report::to_json_bytes(v)?)
}

/// Split `DEVICE:PATH`; a plain `/PATH` has no device.
fn split_device_path(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once(':') {
        Some((dev, path)) if dev.starts_with("/dev/") || !dev.contains('/') && !dev.is_empty() => {
            (Some(dev), if path.is_empty() { "/" } else { path })
        }
        _ => (None, spec),
    }
}

fn namespace(
    disk: &Path,
    spec: &str,
    root: Option<&str>,
    open: &OpenArgs,
) -> anyhow::Result<(GuestFs, String)> {
    check_disk(disk)?;
    let launched = guestctl_inspect::launch(
        disk,
        &LaunchOptions {
            allow_backing: open.allow_backing,
        },
    )
    .context("cannot open")?;
    let (dev, path) = split_device_path(spec);
    if !path.starts_with('/') {
        bail!("{spec}: guest paths are absolute: /PATH, or DEVICE:/PATH such as /dev/sda1:/etc");
    }
    let g = match dev {
        Some(d) => device_namespace(&launched, d),
        None => os_namespace(&launched, root),
    }
    .context("cannot read")?;
    Ok((g, path.to_string()))
}

#[derive(serde::Serialize)]
struct LsEntry {
    name: String,
    #[serde(rename = "type")]
    file_type: guestctl_fs::FileType,
    size: Option<u64>,
    mode: Option<String>,
    target: Option<String>,
}

/// Run an inspection subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Inspect {
            disk,
            json,
            no_cache,
            no_packages,
            open,
        } => {
            let ins = inspect_one(&disk, &image_options(&open, no_cache, no_packages))?;
            if json {
                print_json(&ins)?;
            } else {
                write_stdout(render_inspection(&ins).as_bytes())?;
                warn_diagnostics(&ins);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Filesystems { disk, json, open } => {
            check_disk(&disk)?;
            let launched = guestctl_inspect::launch(
                &disk,
                &LaunchOptions {
                    allow_backing: open.allow_backing,
                },
            )
            .context("cannot open")?;
            let fss = launched.filesystems();
            if json {
                print_json(&fss)?;
            } else {
                let mut t = table();
                t.set_header(vec!["Name", "Type", "Label", "UUID", "Size"]);
                for f in &fss {
                    t.add_row(vec![
                        f.device.clone(),
                        f.fs_type.clone(),
                        opt(&f.label).to_string(),
                        opt(&f.uuid).to_string(),
                        human_size(f.size),
                    ]);
                }
                let text = format!(
                    "{}: {} image, {} partition table\n{t}\n",
                    disk.display(),
                    launched.format.name(),
                    launched.table.name()
                );
                write_stdout(text.as_bytes())?;
                for d in &launched.diagnostics {
                    eprintln!("warning: {}: {}", d.subject, d.message);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Packages {
            disk,
            json,
            no_cache,
            open,
        } => {
            let ins = inspect_one(&disk, &image_options(&open, no_cache, false))?;
            if ins.operatingsystems.is_empty() {
                bail!(
                    "{}: no operating system found, so no packages to list",
                    disk.display()
                );
            }
            if json {
                #[derive(serde::Serialize)]
                struct Pk<'a> {
                    root: &'a str,
                    package_format: &'a Option<String>,
                    applications: &'a [guestctl_inspect::Application],
                }
                let v: Vec<Pk> = ins
                    .operatingsystems
                    .iter()
                    .map(|o| Pk {
                        root: &o.root,
                        package_format: &o.package_format,
                        applications: &o.applications,
                    })
                    .collect();
                print_json(&v)?;
            } else {
                let mut out = String::new();
                for os in &ins.operatingsystems {
                    if ins.operatingsystems.len() > 1 {
                        writeln!(out, "# {} ({})", opt(&os.product_name), os.root)?;
                    }
                    let mut t = table();
                    t.set_header(vec!["Name", "Version", "Arch"]);
                    for a in &os.applications {
                        t.add_row(vec![a.name.clone(), a.full_version(), a.arch.clone()]);
                    }
                    writeln!(out, "{t}")?;
                    writeln!(
                        out,
                        "{} packages ({})",
                        os.applications.len(),
                        opt(&os.package_format)
                    )?;
                }
                write_stdout(out.as_bytes())?;
                for d in &ins.diagnostics {
                    eprintln!("warning: {}", d.message);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ls {
            disk,
            path,
            root,
            json,
            open,
        } => {
            let (g, p) = namespace(&disk, &path, root.as_deref(), &open)?;
            let entries = g
                .read_dir(&p)
                .with_context(|| format!("cannot list in {}", disk.display()))?;
            let base = if p.ends_with('/') {
                p.clone()
            } else {
                format!("{p}/")
            };
            let rows: Vec<LsEntry> = entries
                .into_iter()
                .map(|e| {
                    let full = format!("{base}{}", e.name);
                    let md = g.lstat(&full).ok();
                    let target = if e.file_type == guestctl_fs::FileType::Symlink {
                        g.read_link(&full).ok()
                    } else {
                        None
                    };
                    LsEntry {
                        name: e.name,
                        file_type: e.file_type,
                        size: md.as_ref().map(|m| m.len),
                        mode: md
                            .and_then(|m| m.mode)
                            .map(|m| format!("{:04o}", m & 0o7777)),
                        target,
                    }
                })
                .collect();
            if json {
                print_json(&rows)?;
            } else {
                let mut out = String::new();
                for r in &rows {
                    let kind = match r.file_type {
                        guestctl_fs::FileType::Dir => 'd',
                        guestctl_fs::FileType::Symlink => 'l',
                        guestctl_fs::FileType::File => '-',
                        guestctl_fs::FileType::Other => '?',
                    };
                    let tail = r
                        .target
                        .as_ref()
                        .map(|t| format!(" -> {t}"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{kind} {:>4} {:>10} {}{tail}",
                        r.mode.as_deref().unwrap_or("-"),
                        r.size.map(|s| s.to_string()).unwrap_or_default(),
                        r.name
                    )?;
                }
                write_stdout(out.as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cat {
            disk,
            path,
            root,
            open,
        } => {
            let (g, p) = namespace(&disk, &path, root.as_deref(), &open)?;
            let bytes = g
                .read_file(&p, guestctl_fs::MAX_FILE_READ)
                .with_context(|| format!("cannot read in {}", disk.display()))?;
            write_stdout(&bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Batch {
            disks,
            jobs,
            shard,
            json,
            no_cache,
            no_packages,
            open,
        } => {
            let shard = shard.as_deref().map(parse_shard).transpose()?;
            if jobs == Some(0) {
                bail!("--jobs must be at least 1");
            }
            let opts = BatchOptions {
                jobs: jobs.unwrap_or(0),
                shard,
                image: image_options(&open, no_cache, no_packages),
            };
            let items = guestctl_inspect::batch(&disks, &opts);
            let failed = items.iter().filter(|i| i.result.is_err()).count();
            // Written with `write_stdout_keep_status`: a reader that stops early does not
            // turn "an image failed" (status 1) into success.
            if json {
                let mut out = Vec::new();
                for it in &items {
                    serde_json::to_writer(&mut out, &it.line())?;
                    out.push(b'\n');
                }
                write_stdout_keep_status(&out)?;
            } else {
                let mut t = table();
                t.set_header(vec![
                    "Image", "OS", "Version", "Arch", "Hostname", "Packages",
                ]);
                for it in &items {
                    match &it.result {
                        Ok(ins) if ins.operatingsystems.is_empty() => {
                            t.add_row(vec![it.path.display().to_string(), "(no OS found)".into()]);
                        }
                        Ok(ins) => {
                            for os in &ins.operatingsystems {
                                t.add_row(vec![
                                    it.path.display().to_string(),
                                    opt(&os.distro).to_string(),
                                    format!("{}.{}", os.major_version, os.minor_version),
                                    opt(&os.arch).to_string(),
                                    opt(&os.hostname).to_string(),
                                    os.applications.len().to_string(),
                                ]);
                            }
                        }
                        Err(_) => {
                            t.add_row(vec![
                                it.path.display().to_string(),
                                "FAILED (see below)".into(),
                            ]);
                        }
                    }
                }
                write_stdout_keep_status(format!("{t}\n").as_bytes())?;
                for it in &items {
                    if let Err(e) = &it.result {
                        eprintln!("error: {e}");
                    }
                }
                write_stdout_keep_status(
                    format!("{} images, {} failed\n", items.len(), failed).as_bytes(),
                )?;
            }
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Cache(CacheCommand::Clear) => {
            let cache = Cache::open_default()
                .context("no cache directory: set GUESTCTL_CACHE_DIR, XDG_CACHE_HOME or HOME")?;
            let n = cache
                .clear()
                .with_context(|| format!("cannot clear the cache in {}", cache.dir().display()))?;
            write_stdout(
                format!(
                    "removed {n} cached inspection(s) from {}\n",
                    cache.dir().display()
                )
                .as_bytes(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cache(CacheCommand::Info) => {
            let text = match Cache::open_default() {
                Some(c) => format!("{}: {} entries\n", c.dir().display(), c.len()),
                None => "no cache directory (set GUESTCTL_CACHE_DIR, XDG_CACHE_HOME or HOME)\n"
                    .to_string(),
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
