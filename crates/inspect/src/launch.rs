//! Operation 1, "launch": open an image read-only, find its partitions and logical
//! volumes, and probe each for what it holds. No appliance, no mount: this is the
//! whole of what libguestfs's `launch` + `list_filesystems` do, in-process.

use crate::error::{ErrorKind, InspectError};
use crate::types::{Diagnostic, FilesystemInfo};
use guestctl_block::{BlockDevice, ImageFormat, OpenOptions};
use guestctl_fs::{Filesystem, Probed};
use guestctl_volume::{TableKind, Volume};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How [`launch`] opens an image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Open backing files named by a qcow2 image (`--allow-backing`); off by default.
    pub allow_backing: bool,
}

/// One volume with what the probe found on it.
#[derive(Debug, Clone)]
pub struct ProbedVolume {
    /// The partition, logical volume or whole disk.
    pub volume: Volume,
    /// What it holds, if recognised.
    pub probed: Option<Probed>,
}

impl ProbedVolume {
    /// The device name inspection reports (`/dev/sda1`, `/dev/vg0/root`).
    pub fn device(&self) -> String {
        self.volume.device_path()
    }
    /// The filesystem type, or `unknown`.
    pub fn fs_type(&self) -> &str {
        self.probed
            .as_ref()
            .map_or("unknown", |p| p.fs_type.as_str())
    }
    /// Whether a driver can open it (ext2/3/4, vfat, ntfs, xfs).
    pub fn mountable(&self) -> bool {
        guestctl_fs::has_driver(self.fs_type())
    }
    /// As reported in `filesystems`.
    pub fn info(&self) -> FilesystemInfo {
        FilesystemInfo {
            device: self.device(),
            fs_type: self.fs_type().to_string(),
            uuid: self.probed.as_ref().and_then(|p| p.uuid.clone()),
            label: self.probed.as_ref().and_then(|p| p.label.clone()),
            size: self.volume.size,
        }
    }
    /// Open the filesystem on this volume.
    pub fn open(&self) -> Result<Arc<dyn Filesystem>, InspectError> {
        let dev = self.device();
        if !self.mountable() {
            return Err(InspectError::new(
                ErrorKind::Unsupported,
                dev,
                format!(
                    "{} filesystems cannot be read (recognised by name only)",
                    self.fs_type()
                ),
            ));
        }
        guestctl_fs::open_as(Arc::clone(&self.volume.device), self.fs_type())
            .map(Arc::from)
            .map_err(|e| InspectError::from_fs(e, &dev))
    }
}

/// A launched image: the disk, its volumes and what each holds.
#[derive(Debug, Clone)]
pub struct Launched {
    /// The image path as given.
    pub image: PathBuf,
    /// The detected format.
    pub format: ImageFormat,
    /// The disk (virtual bytes).
    pub disk: Arc<dyn BlockDevice>,
    /// The partition table kind.
    pub table: TableKind,
    /// Every volume (partitions, then LVs) with its probe result.
    pub volumes: Vec<ProbedVolume>,
    /// Problems that did not stop the launch.
    pub diagnostics: Vec<Diagnostic>,
}

impl Launched {
    /// The filesystem list (`guestctl filesystems`): every volume except LVM PVs
    /// whose LVs were mapped, with type, UUID, label and size.
    pub fn filesystems(&self) -> Vec<FilesystemInfo> {
        self.volumes.iter().map(ProbedVolume::info).collect()
    }

    /// The index of the volume a device name (`/dev/sda1`, `sda1`, `/dev/vg/lv`,
    /// `/dev/mapper/vg-lv`) names.
    pub fn find_device(&self, name: &str) -> Option<usize> {
        let n = name.strip_prefix("/dev/").unwrap_or(name);
        self.volumes
            .iter()
            .position(|v| v.volume.name == n || v.volume.mapper_path().as_deref() == Some(name))
    }
}

fn volume_kind_name(k: guestctl_volume::ErrorKind) -> &'static str {
    use guestctl_volume::ErrorKind as V;
    match k {
        V::Io => "io",
        V::Corrupt => "corrupt",
        V::Unsupported => "unsupported",
        V::OutOfBounds => "out_of_bounds",
        V::LimitExceeded => "limit_exceeded",
        V::NotFound => "not_found",
        V::Overlap => "overlap",
    }
}

/// Launch the image at `path`: open it read-only (any format the block layer reads, detected by magic),
/// scan its partition table and LVM, and probe every volume.
///
/// Fails only when the image cannot be opened or read at all, or its partition
/// table is unusable; one bad partition becomes a diagnostic.
pub fn launch(path: &Path, opts: &LaunchOptions) -> Result<Launched, InspectError> {
    let shown = path.display().to_string();
    let open = OpenOptions {
        allow_backing: opts.allow_backing,
        ..OpenOptions::default()
    };
    // Block errors name the file and, for a backing file, say to pass
    // --allow-backing.
    let (format, disk) = guestctl_block::open_image_detected(path, &open)
        .map_err(|e| InspectError::from_block(e, &shown))?;
    launch_device(path, format, disk)
}

/// Launch an already-open disk (a [`BlockDevice`] of any kind); `path` is only
/// used to name it.
pub fn launch_device(
    path: &Path,
    format: ImageFormat,
    disk: Arc<dyn BlockDevice>,
) -> Result<Launched, InspectError> {
    let shown = path.display().to_string();
    if disk.size() == 0 {
        return Err(InspectError::new(
            ErrorKind::Corrupt,
            shown,
            "the image is 0 bytes long (an empty file, or a special file that reports \
             no size, such as those under /proc)",
        ));
    }
    let scan = guestctl_volume::scan(Arc::clone(&disk)).map_err(|e| {
        InspectError::new(
            ErrorKind::Corrupt,
            shown.clone(),
            "cannot read the partition table",
        )
        .with_source(e)
    })?;
    let mut diagnostics: Vec<Diagnostic> = scan
        .diagnostics
        .iter()
        .map(|d| Diagnostic {
            subject: d.subject.clone(),
            kind: volume_kind_name(d.kind).to_string(),
            message: d.message.clone(),
        })
        .collect();
    let mut volumes = Vec::with_capacity(scan.volumes.len());
    for v in scan.volumes {
        let probed = match guestctl_fs::probe(&*v.device) {
            Ok(p) => p,
            Err(e) => {
                diagnostics.push(Diagnostic::from(&InspectError::from_fs(
                    e,
                    &v.device_path(),
                )));
                None
            }
        };
        volumes.push(ProbedVolume { volume: v, probed });
    }
    Ok(Launched {
        image: path.to_path_buf(),
        format,
        disk,
        table: scan.table,
        volumes,
        diagnostics,
    })
}
