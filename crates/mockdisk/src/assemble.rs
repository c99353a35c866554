//! Putting a disk together: decide the identifiers, write each guest into a
//! staging directory, size the partitions from what was staged, write the
//! partition table, the LVM2 metadata and the filesystems straight into a sparse
//! temporary file, convert it if asked, then rename it into place with its
//! manifest.

use crate::builder::{
    DiskFormat, Layout, MockDisk, MockDiskBuilder, MockDiskType, PartitionTable, Stage,
};
use crate::error::MockDiskError;
use crate::guest::{self, FstabLine, GuestContent, GuestSpec, OsType};
use crate::lvm::{self, LvPlan, VgPlan};
use crate::manifest::{
    self, DiskManifest, FilesystemManifest, GuestManifest, LvManifest, LvmManifest, Manifest,
    MountManifest, PartitionManifest,
};
use crate::rng::Rng;
use crate::sizing::{self, FsKind, Need};
use crate::temp::TempPath;
use crate::tools::{self, Tool};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SECTOR: u64 = 512;
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Every timestamp the tools write (filesystem creation, mount and check times).
const BUILD_EPOCH: u64 = 1_730_000_000; // 2024-10-27

/// Sectors the GPT needs at each end: protective MBR + header + 32 sectors of entries.
const GPT_RESERVED_SECTORS: u64 = 34;

/// An EFI system partition is added to GPT disks of at least this size.
const ESP_MIN_DISK: u64 = 8 * MIB;

/// GPT partition type GUIDs.
const GPT_TYPE_ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const GPT_TYPE_LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const GPT_TYPE_LVM: &str = "E6D6D379-F507-44C2-A23C-238F2A3DF928";

/// The mke2fs configuration every filesystem is made with (Debian's defaults),
/// so the result does not depend on the host's /etc/mke2fs.conf.
const MKE2FS_CONF: &str = "[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext3 = {
		features = has_journal
	}
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	small = {
		blocksize = 1024
		inode_ratio = 4096
	}
	floppy = {
		blocksize = 1024
		inode_ratio = 8192
	}
	big = {
		inode_ratio = 32768
	}
	huge = {
		inode_ratio = 65536
	}
	news = {
		inode_ratio = 4096
	}
	largefile = {
		inode_ratio = 1048576
		blocksize = -1
	}
	largefile4 = {
		inode_ratio = 4194304
		blocksize = -1
	}
	hurd = {
	     blocksize = 4096
	     inode_size = 128
	     warn_y2038_dates = 0
	}
";

/// What a partition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Efi,
    Root,
    Lvm,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Efi => "efi",
            Role::Root => "root",
            Role::Lvm => "lvm",
        }
    }
}

/// One filesystem to make.
#[derive(Debug, Clone)]
struct FsSpec {
    kind: FsKind,
    uuid: String,
    label: String,
    mountpoint: Option<String>,
    guest: Option<usize>,
    /// ext only: the directory hash seed.
    hash_seed: String,
    /// ext only: which guest's staging tree, and which part of it.
    source: Option<(usize, Part)>,
}

/// Which part of a staged guest tree a filesystem holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The whole tree (or, with LVM, the tree without /usr and /var).
    Root,
    Usr,
    Var,
}

impl Part {
    fn dir(self) -> &'static str {
        match self {
            Part::Root => "",
            Part::Usr => "usr",
            Part::Var => "var",
        }
    }
}

/// A partition, before and after sizing.
#[derive(Debug, Clone)]
struct PartSpec {
    role: Role,
    gpt_type: &'static str,
    mbr_type: u8,
    uuid: String,
    name: String,
    /// The filesystem directly on it (none for the LVM PV).
    fs: Option<FsSpec>,
    start_lba: u64,
    size_lba: u64,
}

/// One staged guest.
struct Staged {
    os: OsType,
    dir: TempPath,
    /// With LVM: /usr and /var moved out to their own staging directories.
    usr: Option<TempPath>,
    var: Option<TempPath>,
    content: GuestContent,
    fstab: Vec<FstabLine>,
}

impl Staged {
    fn dir_of(&self, part: Part) -> &Path {
        match part {
            Part::Root => self.dir.path(),
            Part::Usr => self.usr.as_ref().map_or(self.dir.path(), |t| t.path()),
            Part::Var => self.var.as_ref().map_or(self.dir.path(), |t| t.path()),
        }
    }
}

/// The tools one build needs, found up front so a missing one fails before any work.
struct Tools {
    mke2fs: PathBuf,
    e2fsck: PathBuf,
    sfdisk: PathBuf,
    mkfs_fat: Option<PathBuf>,
    mcopy: Option<PathBuf>,
    qemu_img: Option<PathBuf>,
}

fn progress(b: &MockDiskBuilder, s: Stage) {
    if let Some(f) = &b.progress {
        f(&s);
    }
}

fn validate_size(t: MockDiskType) -> Result<u64, MockDiskError> {
    let size = t.size_bytes();
    if !size.is_multiple_of(SECTOR) {
        return Err(MockDiskError::InvalidInput(format!(
            "disk size {size} is not a multiple of {SECTOR} bytes"
        )));
    }
    if !(MockDiskType::MIN_CUSTOM_BYTES..=MockDiskType::MAX_CUSTOM_BYTES).contains(&size) {
        return Err(MockDiskError::InvalidInput(format!(
            "disk size {size} bytes is outside {}..={} bytes",
            MockDiskType::MIN_CUSTOM_BYTES,
            MockDiskType::MAX_CUSTOM_BYTES
        )));
    }
    Ok(size)
}

fn check_target(path: &Path) -> Result<(), MockDiskError> {
    if path.file_name().is_none() {
        return Err(MockDiskError::InvalidInput(format!(
            "{} does not name a file",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let meta = std::fs::metadata(dir).map_err(|e| MockDiskError::io(dir, e))?;
    if !meta.is_dir() {
        return Err(MockDiskError::InvalidInput(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    if std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(MockDiskError::InvalidInput(format!(
            "{} is a directory",
            path.display()
        )));
    }
    Ok(())
}

/// The second OS of a dual-boot disk: the builder's choice, or one of another family.
fn second_os(b: &MockDiskBuilder, first: OsType) -> Result<OsType, MockDiskError> {
    match &b.second_os_type {
        Some(s) => s.parse(),
        None => Ok(match first {
            OsType::Fedora | OsType::Rocky => OsType::Ubuntu,
            _ => OsType::Fedora,
        }),
    }
}

/// The VG name the OS's installer would choose.
fn vg_name(os: OsType) -> &'static str {
    match os {
        OsType::Ubuntu => "ubuntu-vg",
        OsType::Debian => "debian-vg",
        OsType::Fedora => "fedora",
        OsType::Rocky => "rl",
        OsType::Alpine | OsType::Arch => "vg0",
    }
}

fn fat_volume_id(rng: &mut Rng) -> String {
    let v = rng.next_u64() as u32;
    format!("{:04X}-{:04X}", v >> 16, v & 0xffff)
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

fn align_down(v: u64, a: u64) -> u64 {
    v / a * a
}

/// How big the EFI system partition is on a disk of `size` bytes.
fn esp_size(size: u64) -> u64 {
    if size < 64 * MIB {
        2 * MIB
    } else if size < GIB {
        16 * MIB
    } else if size < 4 * GIB {
        64 * MIB
    } else {
        512 * MIB
    }
}

pub(crate) fn build(b: &MockDiskBuilder, path: &Path) -> Result<MockDisk, MockDiskError> {
    let started = Instant::now();
    let os = b.parsed_os_type()?;
    let size = validate_size(b.disk_type)?;
    check_target(path)?;
    let guests: Vec<OsType> = if b.layout == Layout::DualBoot {
        vec![os, second_os(b, os)?]
    } else {
        vec![os]
    };
    let has_esp = b.partition_table == PartitionTable::Gpt && size >= ESP_MIN_DISK;

    let dirs = b
        .tool_path
        .clone()
        .unwrap_or_else(tools::default_search_path);
    let find_opt = |t: Tool, needed: bool| {
        if needed {
            tools::find(t, &dirs).map(Some)
        } else {
            Ok(None)
        }
    };
    let tools = Tools {
        mke2fs: tools::find(tools::MKE2FS, &dirs)?,
        e2fsck: tools::find(tools::E2FSCK, &dirs)?,
        sfdisk: tools::find(tools::SFDISK, &dirs)?,
        mkfs_fat: find_opt(tools::MKFS_FAT, has_esp)?,
        mcopy: find_opt(tools::MCOPY, has_esp)?,
        qemu_img: find_opt(tools::QEMU_IMG, b.format != DiskFormat::Raw)?,
    };

    // Identifiers: each from its own named stream of the seed, so they do not
    // depend on one another or on the sizes.
    let seed = b.seed;
    // Identifiers also depend on the OS, so disks of different OSes made with the
    // same seed do not share UUIDs.
    let ids = |purpose: &str| Rng::derive(seed, &format!("{}/{purpose}", os.name()));
    let root_kind = match b.layout {
        Layout::Ext2 => FsKind::Ext2,
        Layout::Ext3 => FsKind::Ext3,
        _ => FsKind::Ext4,
    };
    let ext_fs =
        |purpose: &str, kind: FsKind, label: String, mp: &str, guest: usize, part: Part| {
            let mut r = ids(purpose);
            FsSpec {
                kind,
                uuid: r.uuid(),
                hash_seed: r.uuid(),
                label,
                mountpoint: Some(mp.to_string()),
                guest: Some(guest),
                source: Some((guest, part)),
            }
        };
    let part_uuid = |i: usize| ids(&format!("partition-{i}")).uuid();
    let mut parts: Vec<PartSpec> = Vec::new();
    if has_esp {
        parts.push(PartSpec {
            role: Role::Efi,
            gpt_type: GPT_TYPE_ESP,
            mbr_type: 0xef,
            uuid: part_uuid(parts.len()),
            name: "EFI System Partition".into(),
            fs: Some(FsSpec {
                kind: FsKind::Vfat,
                uuid: fat_volume_id(&mut ids("fs-efi")),
                label: "EFI".into(),
                mountpoint: Some("/boot/efi".into()),
                guest: if guests.len() == 1 { Some(0) } else { None },
                hash_seed: String::new(),
                source: None,
            }),
            start_lba: 0,
            size_lba: 0,
        });
    }
    let mut vg: Option<(VgPlan, Vec<FsSpec>)> = None;
    if b.layout == Layout::Lvm {
        let mut r = ids("lvm");
        let vg_name = vg_name(os).to_string();
        let mut lvs = Vec::new();
        let mut fss = Vec::new();
        for (name, part, mp) in [
            ("root", Part::Root, "/"),
            ("usr", Part::Usr, "/usr"),
            ("var", Part::Var, "/var"),
        ] {
            lvs.push(LvPlan {
                name: name.into(),
                id: lvm::lvm_id(&mut r),
                start_extent: 0,
                extent_count: 0,
            });
            fss.push(ext_fs(
                &format!("fs-lv-{name}"),
                FsKind::Ext4,
                name.into(),
                mp,
                0,
                part,
            ));
        }
        let plan = VgPlan {
            vg_name,
            vg_id: lvm::lvm_id(&mut r),
            pv_id: lvm::lvm_id(&mut r),
            pv_size: 0,
            pe_start: 0,
            extent_size: 0,
            pe_count: 0,
            lvs,
            device_hint: String::new(),
            creation_host: b.hostname.clone(),
            creation_time: BUILD_EPOCH,
        };
        parts.push(PartSpec {
            role: Role::Lvm,
            gpt_type: GPT_TYPE_LVM,
            mbr_type: 0x8e,
            uuid: part_uuid(parts.len()),
            name: "lvm".into(),
            fs: None,
            start_lba: 0,
            size_lba: 0,
        });
        vg = Some((plan, fss));
    } else {
        for (g, gos) in guests.iter().enumerate() {
            let (label, name) = if guests.len() > 1 {
                (
                    format!("{}-root", gos.name()),
                    format!("{}-root", gos.name()),
                )
            } else {
                ("root".to_string(), "root".to_string())
            };
            parts.push(PartSpec {
                role: Role::Root,
                gpt_type: GPT_TYPE_LINUX,
                mbr_type: 0x83,
                uuid: part_uuid(parts.len()),
                name,
                fs: Some(ext_fs(
                    &format!("fs-root-{g}"),
                    root_kind,
                    label,
                    "/",
                    g,
                    Part::Root,
                )),
                start_lba: 0,
                size_lba: 0,
            });
        }
    }
    let mbr_id = {
        let v = ids("mbr-disk-id").next_u64() as u32;
        if v == 0 {
            1
        } else {
            v
        }
    };
    let disk_guid = ids("disk-guid").uuid();
    for (i, p) in parts.iter_mut().enumerate() {
        if b.partition_table == PartitionTable::Mbr {
            p.uuid = format!("{mbr_id:08x}-{:02x}", i + 1);
        }
    }

    // fstab of each guest.
    let esp_fs = parts
        .iter()
        .find(|p| p.role == Role::Efi)
        .and_then(|p| p.fs.clone());
    let mut fstabs: Vec<Vec<FstabLine>> = vec![Vec::new(); guests.len()];
    let mut mounts: Vec<Vec<MountManifest>> = vec![Vec::new(); guests.len()];
    {
        let mut add = |g: usize, spec: String, fs: &FsSpec| {
            let mp = fs.mountpoint.clone().unwrap_or_default();
            let (options, pass) = match (fs.kind, mp.as_str()) {
                (FsKind::Vfat, _) => ("umask=0077", 2),
                (_, "/") => ("defaults", 1),
                _ => ("defaults", 2),
            };
            fstabs[g].push(FstabLine {
                spec: spec.clone(),
                mountpoint: mp.clone(),
                fs_type: fs.kind.name().into(),
                options: options.into(),
                pass,
            });
            mounts[g].push(MountManifest {
                mountpoint: mp,
                spec,
                filesystem_uuid: fs.uuid.clone(),
                fs_type: fs.kind.name().into(),
            });
        };
        for g in 0..guests.len() {
            if let Some((plan, fss)) = &vg {
                for (lv, fs) in plan.lvs.iter().zip(fss) {
                    add(
                        g,
                        format!("/dev/mapper/{}", lvm::dm_name(&plan.vg_name, &lv.name)),
                        fs,
                    );
                }
            }
            for p in &parts {
                if let Some(fs) = &p.fs {
                    if fs.guest == Some(g) && fs.kind != FsKind::Vfat {
                        add(g, format!("UUID={}", fs.uuid), fs);
                    }
                }
            }
            if let Some(fs) = &esp_fs {
                add(g, format!("UUID={}", fs.uuid), fs);
            }
        }
    }

    // Stage every guest (in parallel for a dual-boot disk).
    let specs: Vec<GuestSpec> = guests
        .iter()
        .enumerate()
        .map(|(g, gos)| GuestSpec {
            os: *gos,
            hostname: if g == 0 {
                b.hostname.clone()
            } else {
                second_hostname(&b.hostname, *gos)
            },
            num_files: b.num_files,
            num_packages: b.num_packages,
            seed: if g == 0 {
                seed
            } else {
                Rng::derive(seed, "second-guest").next_u64()
            },
            fstab: fstabs[g].clone(),
        })
        .collect();
    let mut staged: Vec<Staged> = std::thread::scope(|s| {
        let handles: Vec<_> = specs
            .iter()
            .map(|spec| {
                s.spawn(move || -> Result<Staged, MockDiskError> {
                    progress(b, Stage::Populating { os: spec.os });
                    let dir = TempPath::new_dir("guestctl-mockdisk-stage-")?;
                    let content = guest::populate(dir.path(), spec)?;
                    Ok(Staged {
                        os: spec.os,
                        dir,
                        usr: None,
                        var: None,
                        content,
                        fstab: spec.fstab.clone(),
                    })
                })
            })
            .collect();
        handles.into_iter().map(join).collect::<Result<Vec<_>, _>>()
    })?;
    if vg.is_some() {
        if let Some(st) = staged.first_mut() {
            split_lvm(st)?;
        }
    }

    // Size everything from what was staged.
    let align = if size >= 8 * MIB {
        MIB / SECTOR
    } else {
        4 * KIB / SECTOR
    };
    let total_lba = size / SECTOR;
    let (first_usable, last_usable) = match b.partition_table {
        PartitionTable::Gpt => (GPT_RESERVED_SECTORS, total_lba - GPT_RESERVED_SECTORS - 1),
        PartitionTable::Mbr => (1, total_lba - 1),
    };
    let mut cursor = align_up(first_usable, align);
    let end = align_down(last_usable + 1, 8);
    let mut needs_total_bytes = cursor * SECTOR + (total_lba - end) * SECTOR;
    if let Some(p) = parts.iter_mut().find(|p| p.role == Role::Efi) {
        p.start_lba = cursor;
        p.size_lba = esp_size(size) / SECTOR;
        cursor += p.size_lba;
        needs_total_bytes += esp_size(size);
    }
    let avail = end.saturating_sub(cursor) * SECTOR;
    let describe = |what: &str| {
        format!(
            "{what} ({} files, {} packages)",
            b.num_files, b.num_packages
        )
    };
    let need_of = |st: &Staged, part: Part| sizing::measure(st.dir_of(part));

    let mut lvm_manifest = None;
    if let Some((plan, fss)) = vg.as_mut() {
        let st = staged
            .first()
            .ok_or_else(|| MockDiskError::InvalidInput("no guest".into()))?;
        let needs: Vec<Need> = fss
            .iter()
            .map(|fs| need_of(st, fs.source.map_or(Part::Root, |s| s.1)))
            .collect::<Result<_, _>>()?;
        let pv_bytes = avail;
        let (pe_start, extent) = if size >= 64 * MIB {
            (MIB, 4 * MIB)
        } else {
            (128 * KIB, 256 * KIB)
        };
        let mins: Vec<u64> = needs
            .iter()
            .zip(fss.iter())
            .map(|(n, fs)| sizing::min_fs_size(n, fs.kind))
            .collect();
        let min_extents: Vec<u64> = mins.iter().map(|m| m.div_ceil(extent)).collect();
        let pe_count = pv_bytes.saturating_sub(pe_start) / extent;
        let want: u64 = min_extents.iter().sum();
        if want > pe_count {
            needs_total_bytes += pe_start + want * extent;
            return Err(MockDiskError::DoesNotFit {
                what: describe("the LVM volume group"),
                needed: needs_total_bytes,
                available: size,
            });
        }
        let counts = share(pe_count, &min_extents);
        let mut next = 0;
        for (lv, c) in plan.lvs.iter_mut().zip(&counts) {
            lv.start_extent = next;
            lv.extent_count = *c;
            next += c;
        }
        let p = parts
            .iter_mut()
            .find(|p| p.role == Role::Lvm)
            .ok_or_else(|| MockDiskError::InvalidInput("no PV".into()))?;
        p.start_lba = cursor;
        p.size_lba = pv_bytes / SECTOR;
        plan.pv_size = pv_bytes;
        plan.pe_start = pe_start;
        plan.extent_size = extent;
        plan.pe_count = pe_count;
        plan.device_hint = format!(
            "/dev/sda{}",
            parts.iter().position(|q| q.role == Role::Lvm).unwrap_or(0) + 1
        );
        lvm_manifest = Some(());
    } else {
        let roots: Vec<usize> = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::Root)
            .map(|(i, _)| i)
            .collect();
        let mut mins = Vec::new();
        for &i in &roots {
            let fs = parts[i]
                .fs
                .as_ref()
                .ok_or_else(|| MockDiskError::InvalidInput("root without fs".into()))?;
            let g = fs.source.map_or(0, |s| s.0);
            let st = staged
                .get(g)
                .ok_or_else(|| MockDiskError::InvalidInput("no guest".into()))?;
            let n = need_of(st, Part::Root)?;
            mins.push(align_up(sizing::min_fs_size(&n, fs.kind) / SECTOR, align));
        }
        let want: u64 = mins.iter().sum();
        let avail_lba = align_down(avail / SECTOR, align.max(8));
        if want > avail / SECTOR {
            needs_total_bytes += want * SECTOR;
            let what = if roots.len() > 1 {
                "the two root filesystems"
            } else {
                "the root filesystem"
            };
            return Err(MockDiskError::DoesNotFit {
                what: describe(what),
                needed: needs_total_bytes,
                available: size,
            });
        }
        // The last partition takes everything up to the end, the others their share.
        let shares = share(
            avail_lba / align.max(1),
            &mins.iter().map(|m| m / align.max(1)).collect::<Vec<_>>(),
        );
        for (k, &i) in roots.iter().enumerate() {
            let p = &mut parts[i];
            p.start_lba = cursor;
            p.size_lba = if k + 1 == roots.len() {
                end - cursor
            } else {
                shares[k] * align
            };
            cursor += p.size_lba;
        }
        if root_kind == FsKind::Ext3 {
            for &i in &roots {
                if parts[i].size_lba * SECTOR < sizing::EXT3_MIN_BYTES {
                    return Err(MockDiskError::DoesNotFit {
                        what: "an ext3 root (its journal needs at least 2048 blocks)".into(),
                        needed: needs_total_bytes + sizing::EXT3_MIN_BYTES * roots.len() as u64,
                        available: size,
                    });
                }
            }
        }
    }

    // The image, under a temporary name beside the target.
    let raw = TempPath::beside(
        path,
        if b.format == DiskFormat::Raw {
            "tmp"
        } else {
            "raw.tmp"
        },
    );
    {
        let f = File::create_new(raw.path()).map_err(|e| MockDiskError::io(path, e))?;
        f.set_len(size).map_err(|e| MockDiskError::io(path, e))?;
    }
    progress(b, Stage::Partitioning);
    let script = sfdisk_script(b.partition_table, &disk_guid, mbr_id, total_lba, &parts);
    tools::run(
        Command::new(&tools.sfdisk)
            .args([
                "--no-reread",
                "--no-tell-kernel",
                "--quiet",
                "--wipe",
                "never",
            ])
            .arg(raw.path()),
        Some(script.as_bytes()),
    )?;

    let conf_dir = TempPath::new_dir("guestctl-mockdisk-conf-")?;
    let conf = conf_dir.path().join("mke2fs.conf");
    std::fs::write(&conf, MKE2FS_CONF).map_err(|e| MockDiskError::io(&conf, e))?;
    let e2fs_device = e2fs_device(raw.path(), conf_dir.path())?;

    // Filesystem jobs: (what, fs, byte offset, byte size).
    let mut jobs: Vec<(String, FsSpec, u64, u64)> = Vec::new();
    for p in &parts {
        if let Some(fs) = &p.fs {
            let what = if fs.kind == FsKind::Vfat {
                "EFI".to_string()
            } else {
                p.name.clone()
            };
            jobs.push((what, fs.clone(), p.start_lba * SECTOR, p.size_lba * SECTOR));
        }
    }
    if let Some((plan, fss)) = &vg {
        progress(b, Stage::Lvm);
        let pv = parts
            .iter()
            .find(|p| p.role == Role::Lvm)
            .ok_or_else(|| MockDiskError::InvalidInput("no PV".into()))?;
        let bytes = plan.header_bytes().ok_or_else(|| {
            MockDiskError::InvalidInput("the LVM metadata does not fit its metadata area".into())
        })?;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(raw.path())
            .map_err(|e| MockDiskError::io(raw.path(), e))?;
        f.write_all_at(&bytes, pv.start_lba * SECTOR)
            .map_err(|e| MockDiskError::io(raw.path(), e))?;
        for (lv, fs) in plan.lvs.iter().zip(fss) {
            let off = pv.start_lba * SECTOR + plan.pe_start + lv.start_extent * plan.extent_size;
            jobs.push((
                lv.name.clone(),
                fs.clone(),
                off,
                lv.extent_count * plan.extent_size,
            ));
        }
    }

    // ESP content, staged on the host.
    let esp_stage = if has_esp {
        let d = TempPath::new_dir("guestctl-mockdisk-esp-")?;
        write_esp_tree(d.path(), &staged, &parts)?;
        Some(d)
    } else {
        None
    };

    // Make every filesystem, in parallel (they write disjoint ranges of the file).
    let img = raw.path();
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(what, fs, off, len)| {
                let (tools, staged, conf, esp_stage, e2fs_device) =
                    (&tools, &staged, &conf, &esp_stage, &e2fs_device);
                let describe = &describe;
                s.spawn(move || -> Result<(), MockDiskError> {
                    progress(b, Stage::Formatting { what: what.clone() });
                    match fs.kind {
                        FsKind::Vfat => {
                            let src = esp_stage.as_ref().map(|d| d.path()).ok_or_else(|| {
                                MockDiskError::InvalidInput("no ESP staging".into())
                            })?;
                            make_fat(tools, img, fs, *off, *len, src)
                        }
                        _ => {
                            let (g, part) = fs.source.ok_or_else(|| {
                                MockDiskError::InvalidInput("ext fs without source".into())
                            })?;
                            let st = staged
                                .get(g)
                                .ok_or_else(|| MockDiskError::InvalidInput("no guest".into()))?;
                            let need = sizing::measure(st.dir_of(part))?;
                            make_ext(
                                &tools.mke2fs,
                                conf,
                                img,
                                fs,
                                *off,
                                *len,
                                st.dir_of(part),
                                &need,
                            )
                            .and_then(|()| index_directories(&tools.e2fsck, e2fs_device, *off))
                            .map_err(|e| match e {
                                MockDiskError::DoesNotFit {
                                    needed, available, ..
                                } => MockDiskError::DoesNotFit {
                                    what: describe(&format!("the {what} filesystem")),
                                    needed: size + needed.saturating_sub(available),
                                    available: size,
                                },
                                e => e,
                            })
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(join)
            .collect::<Result<Vec<()>, _>>()
    })?;
    drop(esp_stage);
    drop(conf_dir);

    // Convert if asked.
    let image = if b.format != DiskFormat::Raw {
        progress(b, Stage::Converting);
        let (out_format, options) = b.format.qemu_img_output();
        let q = TempPath::beside(path, &format!("{}.tmp", b.format.name()));
        let qemu = tools
            .qemu_img
            .as_ref()
            .ok_or_else(|| MockDiskError::InvalidInput("qemu-img not found".into()))?;
        tools::run(
            Command::new(qemu)
                .args([
                    "convert", "-q", "-f", "raw", "-O", out_format, "-o", options,
                ])
                .arg(raw.path())
                .arg(q.path()),
            None,
        )?;
        drop(raw);
        q
    } else {
        raw
    };

    // Manifest.
    progress(b, Stage::Finishing);
    let fs_manifest = |fs: &FsSpec, len: u64| FilesystemManifest {
        fs_type: fs.kind.name().into(),
        uuid: fs.uuid.clone(),
        label: fs.label.clone(),
        size_bytes: len,
        mountpoint: fs.mountpoint.clone(),
        guest: fs.guest,
    };
    let partitions: Vec<PartitionManifest> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| PartitionManifest {
            index: i as u32 + 1,
            start_bytes: p.start_lba * SECTOR,
            size_bytes: p.size_lba * SECTOR,
            type_id: match b.partition_table {
                PartitionTable::Gpt => p.gpt_type.to_string(),
                PartitionTable::Mbr => format!("0x{:02x}", p.mbr_type),
            },
            uuid: p.uuid.clone(),
            name: if b.partition_table == PartitionTable::Gpt {
                p.name.clone()
            } else {
                String::new()
            },
            role: p.role.name().into(),
            filesystem: p.fs.as_ref().map(|fs| fs_manifest(fs, p.size_lba * SECTOR)),
        })
        .collect();
    let lvm = match (&vg, lvm_manifest) {
        (Some((plan, fss)), Some(())) => {
            let pv_index = parts.iter().position(|q| q.role == Role::Lvm).unwrap_or(0);
            let pv_start = parts.get(pv_index).map_or(0, |p| p.start_lba * SECTOR);
            Some(LvmManifest {
                vg_name: plan.vg_name.clone(),
                vg_uuid: lvm::dashed(&plan.vg_id),
                pv_uuid: lvm::dashed(&plan.pv_id),
                pv_partition: pv_index as u32 + 1,
                extent_size_bytes: plan.extent_size,
                pe_start_bytes: plan.pe_start,
                pe_count: plan.pe_count,
                logical_volumes: plan
                    .lvs
                    .iter()
                    .zip(fss)
                    .map(|(lv, fs)| LvManifest {
                        name: lv.name.clone(),
                        uuid: lvm::dashed(&lv.id),
                        device: format!("/dev/mapper/{}", lvm::dm_name(&plan.vg_name, &lv.name)),
                        start_extent: lv.start_extent,
                        extent_count: lv.extent_count,
                        disk_offset_bytes: pv_start
                            + plan.pe_start
                            + lv.start_extent * plan.extent_size,
                        size_bytes: lv.extent_count * plan.extent_size,
                        filesystem: fs_manifest(fs, lv.extent_count * plan.extent_size),
                    })
                    .collect(),
            })
        }
        _ => None,
    };
    let guests_manifest: Vec<GuestManifest> = staged
        .iter()
        .enumerate()
        .map(|(g, st)| {
            let (root_device, root_uuid) = match &vg {
                Some((plan, fss)) => (
                    format!("/dev/mapper/{}", lvm::dm_name(&plan.vg_name, "root")),
                    fss.first().map(|f| f.uuid.clone()).unwrap_or_default(),
                ),
                None => parts
                    .iter()
                    .enumerate()
                    .find(|(_, p)| {
                        p.role == Role::Root && p.fs.as_ref().and_then(|f| f.guest) == Some(g)
                    })
                    .map(|(i, p)| {
                        (
                            format!("/dev/sda{}", i + 1),
                            p.fs.as_ref().map(|f| f.uuid.clone()).unwrap_or_default(),
                        )
                    })
                    .unwrap_or_default(),
            };
            let _ = &st.fstab;
            GuestManifest {
                os_type: st.os,
                root_device,
                root_filesystem_uuid: root_uuid,
                mounts: mounts.get(g).cloned().unwrap_or_default(),
                content: st.content.clone(),
            }
        })
        .collect();
    let mut manifest = Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        generator: format!("guestctl-mockdisk {}", env!("CARGO_PKG_VERSION")),
        seed,
        generation_seconds: 0.0,
        disk: DiskManifest {
            disk_type: b.disk_type.name().into(),
            size_bytes: size,
            format: b.format,
            layout: b.layout,
            partition_table: b.partition_table,
            disk_id: match b.partition_table {
                PartitionTable::Gpt => disk_guid.clone(),
                PartitionTable::Mbr => format!("0x{mbr_id:08x}"),
            },
            sector_size: SECTOR as u32,
        },
        partitions,
        lvm,
        guests: guests_manifest,
    };
    drop(staged);
    manifest.generation_seconds = started.elapsed().as_secs_f64();
    let mtmp = if b.write_manifest {
        let t = TempPath::beside(path, "manifest.tmp");
        let json = manifest.to_json().map_err(|e| {
            MockDiskError::InvalidInput(format!("cannot serialise the manifest: {e}"))
        })?;
        std::fs::write(t.path(), json + "\n").map_err(|e| MockDiskError::io(t.path(), e))?;
        Some(t)
    } else {
        None
    };
    image.persist(path)?;
    if let Some(t) = mtmp {
        if let Err(e) = t.persist(&manifest::manifest_path(path)) {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    }
    Ok(MockDisk {
        path: path.to_path_buf(),
        manifest,
    })
}

/// Split `n` units in proportion to `mins` (each gets at least its minimum when
/// `n >= sum(mins)`); the result sums to `n`.
fn share(n: u64, mins: &[u64]) -> Vec<u64> {
    let total: u64 = mins.iter().sum();
    if mins.is_empty() {
        return Vec::new();
    }
    let extra = n.saturating_sub(total);
    let mut out: Vec<u64> = mins
        .iter()
        .map(|&m| {
            m + if total == 0 {
                extra / mins.len() as u64
            } else {
                (u128::from(extra) * u128::from(m) / u128::from(total)) as u64
            }
        })
        .collect();
    let given: u64 = out.iter().sum();
    if let Some(last) = out.last_mut() {
        *last += n.saturating_sub(given);
    }
    out
}

fn second_hostname(first: &str, os: OsType) -> String {
    let h = format!("{first}-{}", os.name());
    if h.len() > 63 {
        first.to_string()
    } else {
        h
    }
}

fn join<T>(
    h: std::thread::ScopedJoinHandle<'_, Result<T, MockDiskError>>,
) -> Result<T, MockDiskError> {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Move `/usr` and `/var` of a staged tree into their own staging directories
/// (their contents become the roots of their own filesystems) and leave empty
/// mountpoints behind.
fn split_lvm(st: &mut Staged) -> Result<(), MockDiskError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let root = st.dir.path().to_path_buf();
    let root_mtime = std::fs::metadata(&root)
        .map(|m| filetime::FileTime::from_last_modification_time(&m))
        .map_err(|e| MockDiskError::io(&root, e))?;
    for part in [Part::Usr, Part::Var] {
        let src = st.dir.path().join(part.dir());
        let meta = std::fs::symlink_metadata(&src).map_err(|e| MockDiskError::io(&src, e))?;
        let t = TempPath::new_dir("guestctl-mockdisk-lv-")?;
        // Replace the fresh empty directory with the subtree (same filesystem: /tmp).
        std::fs::remove_dir(t.path()).map_err(|e| MockDiskError::io(t.path(), e))?;
        std::fs::rename(&src, t.path()).map_err(|e| MockDiskError::io(&src, e))?;
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&src)
            .map_err(|e| MockDiskError::io(&src, e))?;
        std::fs::set_permissions(
            &src,
            std::fs::Permissions::from_mode(meta.permissions().mode()),
        )
        .map_err(|e| MockDiskError::io(&src, e))?;
        let mtime = filetime::FileTime::from_last_modification_time(&meta);
        filetime::set_file_mtime(&src, mtime).map_err(|e| MockDiskError::io(&src, e))?;
        match part {
            Part::Usr => st.usr = Some(t),
            _ => st.var = Some(t),
        }
    }
    // The root directory's mtime changed with the renames; restore it.
    filetime::set_file_mtime(&root, root_mtime).map_err(|e| MockDiskError::io(&root, e))
}

fn sfdisk_script(
    table: PartitionTable,
    disk_guid: &str,
    mbr_id: u32,
    total_lba: u64,
    parts: &[PartSpec],
) -> String {
    let mut s = String::new();
    match table {
        PartitionTable::Gpt => {
            s.push_str("label: gpt\n");
            s.push_str(&format!("label-id: {}\n", disk_guid.to_uppercase()));
            s.push_str("unit: sectors\n");
            s.push_str(&format!("first-lba: {GPT_RESERVED_SECTORS}\n"));
            s.push_str(&format!(
                "last-lba: {}\n",
                total_lba - GPT_RESERVED_SECTORS - 1
            ));
            s.push_str("sector-size: 512\n\n");
            for p in parts {
                s.push_str(&format!(
                    "start={}, size={}, type={}, uuid={}, name=\"{}\"\n",
                    p.start_lba,
                    p.size_lba,
                    p.gpt_type,
                    p.uuid.to_uppercase(),
                    p.name
                ));
            }
        }
        PartitionTable::Mbr => {
            s.push_str("label: dos\n");
            s.push_str(&format!("label-id: 0x{mbr_id:08x}\n"));
            s.push_str("unit: sectors\nsector-size: 512\n\n");
            for (i, p) in parts.iter().enumerate() {
                let boot = if i == 0 { ", bootable" } else { "" };
                s.push_str(&format!(
                    "start={}, size={}, type={:x}{boot}\n",
                    p.start_lba, p.size_lba, p.mbr_type
                ));
            }
        }
    }
    s
}

/// Make an ext2/3/4 filesystem from `src` at `offset` in `img` (its directories
/// are all linear: [`index_directories`] follows).
#[allow(clippy::too_many_arguments)]
fn make_ext(
    mke2fs: &Path,
    conf: &Path,
    img: &Path,
    fs: &FsSpec,
    offset: u64,
    len: u64,
    src: &Path,
    need: &Need,
) -> Result<(), MockDiskError> {
    let inodes = sizing::inode_count(need, len);
    let ext_opts = format!(
        "offset={offset},lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner=0:0,\
         hash_seed={}",
        fs.hash_seed
    );
    let mut cmd = Command::new(mke2fs);
    cmd.env("MKE2FS_CONFIG", conf)
        .env("E2FSPROGS_FAKE_TIME", BUILD_EPOCH.to_string())
        .env("SOURCE_DATE_EPOCH", BUILD_EPOCH.to_string())
        .args(["-F", "-q", "-t", fs.kind.name()])
        .arg("-N")
        .arg(inodes.to_string())
        .arg("-U")
        .arg(&fs.uuid)
        .arg("-L")
        .arg(&fs.label)
        .arg("-M")
        .arg(fs.mountpoint.as_deref().unwrap_or(""))
        .arg("-E")
        .arg(ext_opts);
    if fs.kind == FsKind::Ext4 && !sizing::ext4_has_journal(len) {
        cmd.args(["-O", "^has_journal"]);
    }
    cmd.arg("-d")
        .arg(src)
        .arg(img)
        .arg(format!("{}k", len / KIB));
    tools::run(&mut cmd, None).map(|_| ()).map_err(|e| match e {
        MockDiskError::ToolFailed { ref stderr, .. }
            if stderr.contains("Could not allocate")
                || stderr.contains("No space left")
                || stderr.contains("too big for a filesystem")
                || stderr.contains("too small") =>
        {
            let est = sizing::min_fs_size(need, fs.kind);
            MockDiskError::DoesNotFit {
                what: fs.label.clone(),
                needed: est.max(len + len / 8 + 64 * KIB),
                available: len,
            }
        }
        e => e,
    })
}

/// The name to give e2fsprogs for the image, to which `?offset=N` is appended:
/// their unix I/O manager takes io options after the first `?` of a device
/// name (e2fsck has no offset option), so an image path that itself contains a
/// `?` is reached through a symlink in `scratch` instead.
fn e2fs_device(img: &Path, scratch: &Path) -> Result<PathBuf, MockDiskError> {
    use std::os::unix::ffi::OsStrExt;
    if !img.as_os_str().as_bytes().contains(&b'?') {
        return Ok(img.to_path_buf());
    }
    let target = std::fs::canonicalize(img).map_err(|e| MockDiskError::io(img, e))?;
    let link = scratch.join("image");
    std::os::unix::fs::symlink(&target, &link).map_err(|e| MockDiskError::io(&link, e))?;
    Ok(link)
}

/// Index and compact the directories of the ext filesystem at `offset`, as a
/// running kernel leaves them: `mke2fs -d` writes every directory linear, the
/// kernel turns one into a hash tree (`dir_index`) once it outgrows a block.
/// `e2fsck -fD` does that (deterministically: the hash seed is fixed and the
/// check time is `BUILD_EPOCH`). It exits 1 when it changed the filesystem,
/// which is what it is asked to do; 2 and above are failures.
fn index_directories(e2fsck: &Path, device: &Path, offset: u64) -> Result<(), MockDiskError> {
    let mut name = device.as_os_str().to_owned();
    name.push(format!("?offset={offset}"));
    let mut cmd = Command::new(e2fsck);
    cmd.env("E2FSCK_CONFIG", "/dev/null")
        .env("E2FSCK_TIME", BUILD_EPOCH.to_string())
        .env("E2FSPROGS_FAKE_TIME", BUILD_EPOCH.to_string())
        .args(["-f", "-y", "-D"])
        .arg(name);
    tools::run_accepting(&mut cmd, None, &[0, 1]).map(|_| ())
}

/// Make the FAT EFI system partition at `offset` and copy `src`'s tree into it.
fn make_fat(
    tools: &Tools,
    img: &Path,
    fs: &FsSpec,
    offset: u64,
    len: u64,
    src: &Path,
) -> Result<(), MockDiskError> {
    let mkfs = tools
        .mkfs_fat
        .as_ref()
        .ok_or_else(|| MockDiskError::MissingTool {
            tool: "mkfs.fat".into(),
            package: "dosfstools".into(),
        })?;
    let mcopy = tools
        .mcopy
        .as_ref()
        .ok_or_else(|| MockDiskError::MissingTool {
            tool: "mcopy".into(),
            package: "mtools".into(),
        })?;
    let volid = fs.uuid.replace('-', "");
    // mkfs.fat's own choice fails between 32 and 256 MiB (it picks FAT32 with
    // too few clusters): FAT16 there, FAT32 above, its choice (FAT12) below.
    let fat_bits: &[&str] = if len >= 256 * MIB {
        &["-F", "32"]
    } else if len >= 32 * MIB {
        &["-F", "16"]
    } else {
        &[]
    };
    tools::run(
        Command::new(mkfs)
            .env("SOURCE_DATE_EPOCH", BUILD_EPOCH.to_string())
            .args(fat_bits)
            .arg(format!("--offset={}", offset / SECTOR))
            .args(["-i", &volid, "-n", &fs.label])
            .arg(img)
            .arg((len / KIB).to_string()),
        None,
    )?;
    let mut cmd = Command::new(mcopy);
    cmd.env("MTOOLS_SKIP_CHECK", "1")
        .env("MTOOLSRC", "/dev/null")
        .arg("-i")
        .arg(format!("{}@@{offset}", img.display()))
        .args(["-s", "-m", "-Q"]);
    let entries = std::fs::read_dir(src).map_err(|e| MockDiskError::io(src, e))?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    cmd.args(&names).arg("::/");
    tools::run(&mut cmd, None).map(|_| ())
}

/// The EFI system partition's files: the fallback loader and, per guest, shim,
/// GRUB and a grub.cfg that finds the guest's root by UUID.
fn write_esp_tree(dir: &Path, staged: &[Staged], parts: &[PartSpec]) -> Result<(), MockDiskError> {
    let w = |rel: &str, data: &[u8]| -> Result<(), MockDiskError> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| MockDiskError::io(parent, e))?;
        }
        std::fs::write(&p, data).map_err(|e| MockDiskError::io(&p, e))?;
        let t = filetime::FileTime::from_unix_time(BUILD_EPOCH as i64, 0);
        filetime::set_file_mtime(&p, t).map_err(|e| MockDiskError::io(&p, e))
    };
    w("EFI/BOOT/BOOTX64.EFI", &pe_stub("shim (fallback)"))?;
    for (g, st) in staged.iter().enumerate() {
        let root_uuid = parts
            .iter()
            .filter_map(|p| p.fs.as_ref())
            .find(|f| f.guest == Some(g) && f.mountpoint.as_deref() == Some("/"))
            .map(|f| f.uuid.clone())
            .unwrap_or_default();
        let vendor = st.os.name();
        w(&format!("EFI/{vendor}/shimx64.efi"), &pe_stub("shim"))?;
        w(&format!("EFI/{vendor}/grubx64.efi"), &pe_stub("GRUB"))?;
        let cfg = format!(
            "search.fs_uuid {root_uuid} root\nset prefix=($root)'/boot/grub'\nconfigfile \
             $prefix/grub.cfg\n"
        );
        w(&format!("EFI/{vendor}/grub.cfg"), cfg.as_bytes())?;
    }
    Ok(())
}

/// A small x86-64 PE/COFF header (`MZ`, `PE\0\0`, machine 0x8664, EFI
/// application subsystem) followed by an identifying string.
fn pe_stub(what: &str) -> Vec<u8> {
    let mut v = vec![0u8; 512];
    v[0] = b'M';
    v[1] = b'Z';
    v[0x3c] = 0x40; // e_lfanew
    v[0x40..0x44].copy_from_slice(b"PE\0\0");
    v[0x44..0x46].copy_from_slice(&0x8664u16.to_le_bytes()); // Machine
                                                             // SizeOfOptionalHeader
    v[0x54..0x56].copy_from_slice(&0xf0u16.to_le_bytes());
    // Characteristics: executable, large address aware.
    v[0x56..0x58].copy_from_slice(&0x0022u16.to_le_bytes());
    v[0x58..0x5a].copy_from_slice(&0x020bu16.to_le_bytes()); // PE32+ magic
    v[0x58 + 68..0x58 + 70].copy_from_slice(&10u16.to_le_bytes()); // Subsystem: EFI application
    v.extend_from_slice(format!("guestctl-mockdisk stand-in for {what}\n").as_bytes());
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn share_gives_minimums_and_sums_to_n() {
        let s = share(100, &[10, 30, 10]);
        assert_eq!(s.iter().sum::<u64>(), 100);
        assert!(s[0] >= 10 && s[1] >= 30 && s[2] >= 10);
        assert_eq!(s[1], 30 + 30);
        assert_eq!(share(5, &[0, 0]).iter().sum::<u64>(), 5);
    }

    #[test]
    fn gpt_script_names_every_field() {
        let p = PartSpec {
            role: Role::Root,
            gpt_type: GPT_TYPE_LINUX,
            mbr_type: 0x83,
            uuid: "0b7c6a2e-55d1-4b8e-9a43-6f1d2c3b4a59".into(),
            name: "root".into(),
            fs: None,
            start_lba: 40,
            size_lba: 1968,
        };
        let s = sfdisk_script(
            PartitionTable::Gpt,
            "38cc83af-ba41-4c48-8895-1dc23498e65d",
            1,
            2048,
            std::slice::from_ref(&p),
        );
        assert!(s.contains("label-id: 38CC83AF-BA41-4C48-8895-1DC23498E65D\n"));
        assert!(s.contains("last-lba: 2013\n"));
        assert!(s.contains(
            "start=40, size=1968, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, \
             uuid=0B7C6A2E-55D1-4B8E-9A43-6F1D2C3B4A59, name=\"root\"\n"
        ));
        let m = sfdisk_script(
            PartitionTable::Mbr,
            "",
            0xdeadbeef,
            2048,
            std::slice::from_ref(&p),
        );
        assert!(
            m.contains("label-id: 0xdeadbeef\n") && m.contains("type=83, bootable\n"),
            "{m}"
        );
    }

    #[test]
    fn pe_stub_is_pe32plus_x86_64() {
        let v = pe_stub("x");
        assert_eq!(&v[..2], b"MZ");
        let off = u32::from_le_bytes(v[0x3c..0x40].try_into().unwrap()) as usize;
        assert_eq!(&v[off..off + 4], b"PE\0\0");
        assert_eq!(u16::from_le_bytes([v[off + 4], v[off + 5]]), 0x8664);
    }
}
