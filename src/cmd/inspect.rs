//! The inspection commands: `inspect`, `filesystems`, `packages`, `ls`, `cat`
//! and `cache clear` (top-level subcommands of `guestctl`).
//!
//! Paths for `ls` and `cat`: `DEVICE:PATH` (`/dev/sda1:/etc`) reads one filesystem
//! alone; a plain `/PATH` is resolved in the namespace of the first operating
//! system found (its root plus the filesystems its fstab mounts, symlinks followed
//! inside the guest); `--root DEVICE` picks another OS on a multi-boot disk.

use anyhow::{bail, Context};
use guestctl_inspect::{
    os::{device_namespace, os_namespace},
    Cache, GuestFs, ImageOptions, InspectOptions, Inspection, LaunchOptions,
};
use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::ControlFlow;

use crate::cmd::escape::{shown, shown_opt};
use crate::cmd::virt_ls::{disk_and_operands, listing, one_disk, LsMode};
use crate::cmd::{columns, write_stdout};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of `inspect` when the image was read but holds no operating system
/// (1 is an error: the image could not be read at all).
pub const NO_OS_FOUND: u8 = 3;

/// Options shared by the commands that open an image.
#[derive(clap::Args, Debug, Clone)]
pub struct OpenArgs {
    /// Open backing files named by a qcow2 image and the extent files a VMDK
    /// descriptor names (off by default: an image must not make guestctl read other
    /// host files unless you say so). Even then, only regular files in the image's own
    /// directory are opened (symlinks resolved).
    #[arg(long)]
    allow_backing: bool,
}

/// Inspection subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Inspect a disk image: operating systems, versions, hostnames, mountpoints,
    /// packages (like virt-inspector).
    Inspect {
        /// The disk image (raw, qcow2, VMDK, VHD, VHDX or VDI).
        #[arg(required_unless_present = "add")]
        disk: Option<PathBuf>,
        /// The disk image, as virt-inspector takes it (`-a DISK`).
        #[arg(short = 'a', long = "add", value_name = "DISK")]
        add: Vec<PathBuf>,
        /// Print the result as JSON (schema: docs/inspect-json.md).
        #[arg(long, conflicts_with = "xml")]
        json: bool,
        /// Print virt-inspector's XML (differences: docs/inspect-json.md).
        #[arg(long)]
        xml: bool,
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
        #[arg(required_unless_present = "add")]
        disk: Option<PathBuf>,
        /// The disk image (`-a DISK`, as virt-filesystems takes it).
        #[arg(short = 'a', long = "add", value_name = "DISK")]
        add: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// List the installed packages of each operating system on a disk image.
    Packages {
        /// The disk image.
        #[arg(required_unless_present = "add")]
        disk: Option<PathBuf>,
        /// The disk image (`-a DISK`).
        #[arg(short = 'a', long = "add", value_name = "DISK")]
        add: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PackagesFormat::Table)]
        format: PackagesFormat,
        /// Same as `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Do not use the inspection cache.
        #[arg(long)]
        no_cache: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// List a directory inside a disk image.
    Ls {
        /// `DISK DIR...`, or `DIR...` after `-a DISK`. A directory is `/PATH` in the
        /// guest OS (with its mounts), or `DEVICE:/PATH` on one filesystem.
        #[arg(required = true, value_name = "DISK|DIR")]
        args: Vec<String>,
        /// The disk image (`-a DISK`, as virt-ls takes it).
        #[arg(short = 'a', long = "add", value_name = "DISK")]
        add: Vec<PathBuf>,
        /// virt-ls's long rows: type, permissions, size, path.
        #[arg(short = 'l', long)]
        long: bool,
        /// Everything below the directory (with `-l`: a row for each, depth first).
        #[arg(short = 'R', long)]
        recursive: bool,
        /// The long rows as CSV (implies `-l`).
        #[arg(long, conflicts_with = "json")]
        csv: bool,
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
        /// `DISK FILE...`, or `FILE...` after `-a DISK`. A file is `/PATH` in the guest
        /// OS (with its mounts), or `DEVICE:/PATH` on one filesystem; several are
        /// printed one after the other.
        #[arg(required = true, value_name = "DISK|FILE")]
        args: Vec<String>,
        /// The disk image (`-a DISK`, as virt-cat takes it).
        #[arg(short = 'a', long = "add", value_name = "DISK")]
        add: Vec<PathBuf>,
        /// The OS root to use on a multi-OS disk; default: the first.
        #[arg(long)]
        root: Option<String>,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// The inspection cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// Output formats of `guestctl packages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PackagesFormat {
    /// Aligned columns: name, version, arch (and the OS root on a multi-OS disk).
    Table,
    /// Tab-separated `root name version arch`, with a header line.
    Tsv,
    /// Comma-separated `root,name,version,arch`, with a header line.
    Csv,
    /// `[{"root": …, "package_format": …, "applications": [{name, epoch, version, release, arch}]}]`.
    Json,
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
        cache: if no_cache { None } else { usable_cache() },
    }
}

/// The default cache, with a warning (and none used) when its directory is
/// missing from the environment or cannot hold entries.
fn usable_cache() -> Option<Cache> {
    let Some(cache) = Cache::open_default() else {
        eprintln!(
            "warning: no cache directory (set GUESTCTL_CACHE_DIR, XDG_CACHE_HOME or HOME): results are not cached"
        );
        return None;
    };
    match cache.check_usable() {
        Ok(()) => Some(cache),
        Err(e) => {
            eprintln!(
                "warning: the inspection cache in {} is unusable ({e}): results are not cached (--no-cache silences this)",
                cache.dir().display()
            );
            None
        }
    }
}

/// Refuse early, with a message naming what it is, a path that cannot be an
/// image: missing, a symlink loop, a directory, a FIFO, a socket, a character
/// device. Opening never blocks.
fn check_disk(disk: &Path) -> anyhow::Result<()> {
    match guestctl_block::open_input(disk) {
        Ok(_) => Ok(()),
        Err(e) => bail!("{}: {e}", disk.display()),
    }
}

fn inspect_one(disk: &Path, opts: &ImageOptions) -> anyhow::Result<Inspection> {
    check_disk(disk)?;
    guestctl_inspect::inspect_image(disk, opts).context("cannot inspect")
}

/// A size for a human, by the one byte formatter (`guestctl_perf::units`).
fn human_size(b: u64) -> String {
    guestctl_perf::units::format_bytes(b as f64)
}

/// An optional guest string for a human, escaped (`-` when absent).
fn opt(s: &Option<String>) -> std::borrow::Cow<'_, str> {
    shown_opt(s)
}

/// The human summary of `ins` (its diagnostics: [`warn_diagnostics`]): a header
/// line, then per operating system its name and an aligned key/value list.
fn render_inspection(ins: &Inspection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} image, {}, {} partition table",
        shown(&ins.image),
        ins.format,
        human_size(ins.size),
        ins.partition_table
    );
    if ins.operatingsystems.is_empty() {
        let _ = writeln!(
            s,
            "No operating system found ({} filesystems; see `guestctl filesystems`{}).",
            ins.filesystems.len(),
            if ins.diagnostics.is_empty() {
                ""
            } else {
                " and the warnings for what stopped detection"
            }
        );
    }
    for os in &ins.operatingsystems {
        let _ = writeln!(s, "\n{} ({})", opt(&os.product_name), shown(&os.root));
        s.push_str(&columns::key_values("  ", &os_facts(os)));
    }
    s
}

/// The facts of one operating system, in reading order.
fn os_facts(os: &guestctl_inspect::OperatingSystem) -> Vec<(String, String)> {
    let pkgs = if os.applications.is_empty() && os.package_format.is_some() {
        "-".to_string()
    } else {
        os.applications.len().to_string()
    };
    let mut facts = vec![
        ("type".to_string(), shown(&os.name).into_owned()),
        ("distro".to_string(), opt(&os.distro).to_string()),
        (
            "version".to_string(),
            format!("{}.{}", os.major_version, os.minor_version),
        ),
        ("arch".to_string(), opt(&os.arch).to_string()),
        ("hostname".to_string(), opt(&os.hostname).to_string()),
        (
            "packages".to_string(),
            format!(
                "{pkgs} ({} / {})",
                opt(&os.package_format),
                opt(&os.package_management)
            ),
        ),
    ];
    if let Some(b) = &os.build_id {
        facts.push(("build".to_string(), shown(b).into_owned()));
    }
    for (i, m) in os.mountpoints.iter().enumerate() {
        let fs = os.filesystems.iter().find(|f| f.device == m.device);
        let fs_type = fs
            .map(|f| format!(" ({})", shown(&f.fs_type)))
            .unwrap_or_default();
        let key = if i == 0 { "mounts" } else { "" };
        facts.push((
            key.to_string(),
            format!("{} on {}{fs_type}", shown(&m.device), shown(&m.mountpoint)),
        ));
    }
    facts
}

/// The diagnostics of `ins` as warnings on stderr.
fn warn_diagnostics(ins: &Inspection) {
    if !ins.diagnostics.is_empty() {
        eprintln!();
        for d in &ins.diagnostics {
            eprintln!("warning: {}", subject_and_message(d));
        }
    }
}

/// A diagnostic as a warning line names it: its subject (which volume, which
/// file), then its message, unless the message already starts with the subject.
fn subject_and_message(d: &guestctl_inspect::Diagnostic) -> String {
    if d.subject.is_empty() || d.message.starts_with(&d.subject) {
        shown(&d.message).into_owned()
    } else {
        format!("{}: {}", shown(&d.subject), shown(&d.message))
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
    namespace_in(&launch_disk(disk, open)?, spec, root)
}

fn launch_disk(disk: &Path, open: &OpenArgs) -> anyhow::Result<guestctl_inspect::Launched> {
    check_disk(disk)?;
    guestctl_inspect::launch(
        disk,
        &LaunchOptions {
            allow_backing: open.allow_backing,
        },
    )
    .context("cannot open")
}

fn namespace_in(
    launched: &guestctl_inspect::Launched,
    spec: &str,
    root: Option<&str>,
) -> anyhow::Result<(GuestFs, String)> {
    let (dev, path) = split_device_path(spec);
    if !path.starts_with('/') {
        bail!("{spec}: guest paths are absolute: /PATH, or DEVICE:/PATH such as /dev/sda1:/etc");
    }
    let g = match dev {
        Some(d) => device_namespace(launched, d),
        None => os_namespace(launched, root),
    }
    .context("cannot read")?;
    Ok((g, path.to_string()))
}

/// The packages of every OS of `ins` in `format`.
fn render_packages(ins: &Inspection, format: PackagesFormat) -> anyhow::Result<Vec<u8>> {
    let rows = || {
        ins.operatingsystems.iter().flat_map(|os| {
            os.applications.iter().map(move |a| {
                vec![
                    shown(&os.root).into_owned(),
                    shown(&a.name).into_owned(),
                    shown(&a.full_version()).into_owned(),
                    shown(&a.arch).into_owned(),
                ]
            })
        })
    };
    let header = ["root", "name", "version", "arch"];
    match format {
        PackagesFormat::Json => {
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
            let mut bytes = serde_json::to_vec_pretty(&v)?;
            bytes.push(b'\n');
            Ok(bytes)
        }
        PackagesFormat::Tsv => columns::Delimited::Tsv.render(&header, &rows().collect::<Vec<_>>()),
        PackagesFormat::Csv => columns::Delimited::Csv.render(&header, &rows().collect::<Vec<_>>()),
        PackagesFormat::Table if ins.operatingsystems.len() > 1 => {
            Ok(columns::aligned(&header, rows().collect(), &[]).into_bytes())
        }
        // One OS: the root column would repeat one value on every line.
        PackagesFormat::Table => {
            let rows = rows().map(|mut r| r.split_off(1)).collect();
            Ok(columns::aligned(&header[1..], rows, &[]).into_bytes())
        }
    }
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
            add,
            json,
            xml,
            no_cache,
            no_packages,
            open,
        } => {
            let disk = one_disk(disk, add)?;
            let ins = inspect_one(&disk, &image_options(&open, no_cache, no_packages))?;
            if xml {
                write_stdout(guestctl_inspect::xml::to_xml(&ins).as_bytes())?;
                warn_diagnostics(&ins);
            } else if json {
                print_json(&ins)?;
            } else {
                write_stdout(render_inspection(&ins).as_bytes())?;
                warn_diagnostics(&ins);
            }
            Ok(if ins.operatingsystems.is_empty() {
                ExitCode::from(NO_OS_FOUND)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Filesystems {
            disk,
            add,
            json,
            open,
        } => {
            let disk = one_disk(disk, add)?;
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
                let rows = fss
                    .iter()
                    .map(|f| {
                        vec![
                            shown(&f.device).into_owned(),
                            shown(&f.fs_type).into_owned(),
                            opt(&f.label).to_string(),
                            opt(&f.uuid).to_string(),
                            human_size(f.size),
                        ]
                    })
                    .collect();
                let t = columns::aligned(&["name", "type", "label", "uuid", "size"], rows, &[4]);
                let text = format!(
                    "{}: {} image, {} partition table\n{t}",
                    disk.display(),
                    launched.format.name(),
                    launched.table.name()
                );
                write_stdout(text.as_bytes())?;
                for d in &launched.diagnostics {
                    eprintln!("warning: {}: {}", shown(&d.subject), shown(&d.message));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Packages {
            disk,
            add,
            format,
            json,
            no_cache,
            open,
        } => {
            let disk = one_disk(disk, add)?;
            let ins = inspect_one(&disk, &image_options(&open, no_cache, false))?;
            if ins.operatingsystems.is_empty() {
                bail!(
                    "{}: no operating system found, so no packages to list",
                    disk.display()
                );
            }
            let format = if json { PackagesFormat::Json } else { format };
            write_stdout(&render_packages(&ins, format)?)?;
            for d in &ins.diagnostics {
                eprintln!("warning: {}", subject_and_message(d));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ls {
            args,
            add,
            long,
            recursive,
            csv,
            root,
            json,
            open,
        } => {
            let (disk, paths) = disk_and_operands(add, args)?;
            let mode = LsMode {
                long: long || csv,
                recursive,
                csv,
            };
            let [path] = paths.as_slice() else {
                if paths.is_empty() {
                    bail!("no directory given: guestctl ls DISK /PATH...");
                }
                let launched = launch_disk(&disk, &open)?;
                for path in &paths {
                    let (g, p) = namespace_in(&launched, path, root.as_deref())?;
                    write_stdout(listing(&g, &p, mode)?.as_bytes())?;
                }
                return Ok(ExitCode::SUCCESS);
            };
            let (g, p) = namespace(&disk, path, root.as_deref(), &open)?;
            if mode.long || mode.recursive {
                write_stdout(listing(&g, &p, mode)?.as_bytes())?;
                return Ok(ExitCode::SUCCESS);
            }
            let entries = g
                .read_dir_detailed(&p)
                .with_context(|| format!("cannot list in {}", disk.display()))?;
            let rows: Vec<LsEntry> = entries
                .into_iter()
                .map(|d| {
                    let md = d.metadata.ok();
                    LsEntry {
                        name: d.entry.name,
                        file_type: d.entry.file_type,
                        size: md.as_ref().map(|m| m.len),
                        mode: md
                            .and_then(|m| m.mode)
                            .map(|m| format!("{:04o}", m & 0o7777)),
                        target: d.target.and_then(Result::ok),
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
                        .map(|t| format!(" -> {}", shown(t)))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{kind} {:>4} {:>10} {}{tail}",
                        r.mode.as_deref().unwrap_or("-"),
                        r.size.map(|s| s.to_string()).unwrap_or_default(),
                        shown(&r.name)
                    )?;
                }
                write_stdout(out.as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cat {
            args,
            add,
            root,
            open,
        } => {
            let (disk, paths) = disk_and_operands(add, args)?;
            if paths.is_empty() {
                bail!("no file given: guestctl cat DISK /PATH...");
            }
            let launched = launch_disk(&disk, &open)?;
            // Streamed: a sparse file of any size costs one chunk of memory.
            let mut out = std::io::stdout().lock();
            for path in &paths {
                let (g, p) = namespace_in(&launched, path, root.as_deref())?;
                let mut write_err = None;
                g.read_file_chunks(&p, &mut |chunk| match out.write_all(chunk) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        write_err = Some(e);
                        ControlFlow::Break(())
                    }
                })
                .with_context(|| format!("cannot read in {}", disk.display()))?;
                if let Some(e) = write_err {
                    return Err(e.into());
                }
            }
            Ok(out.flush().map(|()| ExitCode::SUCCESS)?)
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
                Some(c) => {
                    let n = c.count().with_context(|| {
                        format!("cannot read the cache in {}", c.dir().display())
                    })?;
                    format!("{}: {n} entries\n", c.dir().display())
                }
                None => "no cache directory (set GUESTCTL_CACHE_DIR, XDG_CACHE_HOME or HOME)\n"
                    .to_string(),
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
