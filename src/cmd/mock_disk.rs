//! `guestctl mock-disk …`: generate real mock VM disk images.
//!
//! `create` builds one image (and `<image>.manifest.json`) and prints a summary
//! or, with `--json`, the manifest; `types` lists the disk types; `tools` says
//! which system tools were found and which Debian package provides a missing one.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use guestctl_mockdisk::{
    tools, DiskFormat, Layout, Manifest, MockDiskBuilder, MockDiskType, PartitionTable,
};

/// Subcommands of `guestctl mock-disk`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Generate a mock VM disk image and its manifest (`OUT.manifest.json`).
    Create(CreateArgs),
    /// List the disk types and their sizes.
    Types,
    /// Check the system tools the generator runs.
    Tools,
}

/// Arguments of `mock-disk create`.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// Disk type: minimal (1 MiB), small (10 MiB), medium (100 MiB), large
    /// (1 GiB), or a size such as 64M or 2G.
    #[arg(long = "type", short = 't', default_value = "small", value_parser = parse_type)]
    disk_type: MockDiskType,
    /// Guest OS: ubuntu, debian, fedora, rocky, alpine, arch.
    #[arg(long, default_value = "ubuntu")]
    os: String,
    /// Second OS of a dual-boot disk (default: fedora, or ubuntu for rpm distros).
    #[arg(long)]
    second_os: Option<String>,
    /// The guest's hostname.
    #[arg(long, default_value = "mock-vm")]
    hostname: String,
    /// Number of user files.
    #[arg(long, default_value_t = 100)]
    files: usize,
    /// Number of installed packages.
    #[arg(long, default_value_t = 200)]
    packages: usize,
    /// Image format: raw, qcow2, vmdk, vhdx, vdi or vhd (all but raw through qemu-img).
    #[arg(long, default_value = "raw", value_parser = parse_format)]
    format: DiskFormat,
    /// Layout: standard, lvm, ext2, ext3, dualboot.
    #[arg(long, default_value = "standard", value_parser = parse_layout)]
    layout: Layout,
    /// Partition table: gpt or mbr.
    #[arg(long, default_value = "gpt", value_parser = parse_table)]
    table: PartitionTable,
    /// Seed of every random choice (same seed and settings, same content).
    #[arg(long, default_value_t = MockDiskBuilder::DEFAULT_SEED)]
    seed: u64,
    /// Print the manifest as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Do not write OUT.manifest.json.
    #[arg(long)]
    no_manifest: bool,
    /// The image file to write (replaced if it exists).
    out: PathBuf,
}

fn parse_type(s: &str) -> Result<MockDiskType, String> {
    s.parse()
        .map_err(|e: guestctl_mockdisk::MockDiskError| e.to_string())
}
fn parse_format(s: &str) -> Result<DiskFormat, String> {
    s.parse()
        .map_err(|e: guestctl_mockdisk::MockDiskError| e.to_string())
}
fn parse_layout(s: &str) -> Result<Layout, String> {
    s.parse()
        .map_err(|e: guestctl_mockdisk::MockDiskError| e.to_string())
}
fn parse_table(s: &str) -> Result<PartitionTable, String> {
    s.parse()
        .map_err(|e: guestctl_mockdisk::MockDiskError| e.to_string())
}

/// Run a `mock-disk` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Create(a) => create(a),
        Command::Types => {
            let mut out = String::new();
            for t in MockDiskType::NAMED {
                out.push_str(&format!(
                    "{:<8} {:>9}  {}\n",
                    t.name(),
                    human(t.size_bytes()),
                    t.purpose()
                ));
            }
            out.push_str(&format!(
                "{:<8} {:>9}  {} (--type 64M, 2G, …)\n",
                "custom",
                "any",
                MockDiskType::Custom(0).purpose()
            ));
            super::write_stdout(out.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tools => {
            let dirs = tools::default_search_path();
            let mut missing = 0;
            let mut out = String::new();
            for t in tools::ALL {
                match tools::find(t, &dirs) {
                    Ok(p) => out.push_str(&format!("ok       {:<9} {}\n", t.program, p.display())),
                    Err(_) => {
                        missing += 1;
                        out.push_str(&format!(
                            "missing  {:<9} apt-get install {}\n",
                            t.program, t.package
                        ));
                    }
                }
            }
            // The exit status says whether a tool is missing: keep it on a closed pipe.
            super::write_stdout_keep_status(out.as_bytes())?;
            Ok(if missing == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn create(a: CreateArgs) -> anyhow::Result<ExitCode> {
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            anyhow::bail!(
                "cannot create {}: the directory {} does not exist (create it first: mkdir -p {})",
                a.out.display(),
                parent.display(),
                parent.display()
            );
        }
    }
    // Ctrl-C removes the half-written image instead of leaving it behind.
    guestctl_mockdisk::install_interrupt_cleanup()?;
    let mut b = MockDiskBuilder::new()
        .disk_type(a.disk_type)
        .os_type(a.os.as_str())
        .hostname(a.hostname.as_str())
        .num_files(a.files)
        .num_packages(a.packages)
        .format(a.format)
        .layout(a.layout)
        .partition_table(a.table)
        .seed(a.seed)
        .write_manifest(!a.no_manifest);
    if let Some(s) = &a.second_os {
        b = b.second_os_type(s.as_str());
    }
    let bar = (crate::cmd::chatter::progress_allowed()
        && a.disk_type.size_bytes() >= MockDiskType::Medium.size_bytes())
    .then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    });
    if let Some(pb) = &bar {
        let pb = pb.clone();
        b = b.on_progress(move |s| pb.set_message(s.to_string()));
    }
    let result = b.build(&a.out);
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let disk = result.with_context(|| format!("cannot create {}", a.out.display()))?;
    if a.json {
        super::write_stdout(format!("{}\n", disk.manifest().to_json()?).as_bytes())?;
    } else {
        print_summary(&a.out, disk.manifest(), !a.no_manifest)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A size for a human, by the one byte formatter (`guestctl_perf::units`).
fn human(bytes: u64) -> String {
    guestctl_perf::units::format_bytes(bytes as f64)
}

fn print_summary(
    out: &std::path::Path,
    m: &Manifest,
    manifest_written: bool,
) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let mut s = String::new();
    let d = &m.disk;
    let _ = writeln!(
        s,
        "Created {} ({}, {} {}, {}, {} layout) in {:.2} s",
        out.display(),
        d.disk_type,
        human(d.size_bytes),
        d.format.name(),
        d.partition_table.name().to_uppercase(),
        d.layout.name(),
        m.generation_seconds
    );
    for g in &m.guests {
        let c = &g.content;
        let _ = writeln!(
            s,
            "  guest      {} ({}), hostname {}, root {}",
            c.product_name, c.arch, c.hostname, g.root_device
        );
        let _ = writeln!(
            s,
            "             {} {} packages, {} files",
            c.packages.len(),
            c.package_format,
            c.num_files
        );
    }
    for p in &m.partitions {
        let (fs, uuid, mp) = match &p.filesystem {
            Some(f) => (
                f.fs_type.as_str(),
                f.uuid.as_str(),
                f.mountpoint.as_deref().unwrap_or("-"),
            ),
            None => ("lvm2", "", "-"),
        };
        let _ = writeln!(
            s,
            "  /dev/sda{:<2} {:>9}  {:<5} {:<36} {}",
            p.index,
            human(p.size_bytes),
            fs,
            uuid,
            mp
        );
    }
    if let Some(l) = &m.lvm {
        for lv in &l.logical_volumes {
            let _ = writeln!(
                s,
                "  {:<27} {:>9}  {:<5} {:<36} {}",
                lv.device,
                human(lv.size_bytes),
                lv.filesystem.fs_type,
                lv.filesystem.uuid,
                lv.filesystem.mountpoint.as_deref().unwrap_or("-")
            );
        }
    }
    if manifest_written {
        let _ = writeln!(
            s,
            "  manifest   {}",
            guestctl_mockdisk::manifest::manifest_path(out).display()
        );
    }
    crate::cmd::write_stdout(s.as_bytes())
}
