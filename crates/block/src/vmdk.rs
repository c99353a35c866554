//! VMDK images: one sparse extent file on its own (monolithicSparse, streamOptimized,
//! read by [`VmdkSparse`]), or a text descriptor naming the extent files that hold
//! the disk in order (monolithicFlat, twoGbMaxExtentFlat, twoGbMaxExtentSparse).
//!
//! Extent files are other host files named by the image, so, like qcow2 backing files,
//! they are opened only when the caller allows it ([`OpenOptions::allow_backing`]),
//! and only files directly in the descriptor's own directory: a name with a path
//! separator, or a symlink leading out of the directory, is refused.

use crate::vmdk_descriptor::{parse_descriptor, Extent, ExtentKind, VMDK_MAX_DESCRIPTOR_LEN};
use crate::vmdk_sparse::VmdkSparse;
use crate::{
    read_vec, BlockDevice, BlockError, ErrorKind, FileDevice, LinearDevice, LinearSegment,
    OpenOptions,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SPARSE_MAGIC: &[u8] = b"KDMV";
const SECTOR: u64 = 512;

/// A VMDK disk made of the extents its descriptor lists.
pub struct VmdkImage {
    extents: LinearDevice,
    count: usize,
    path: PathBuf,
}

impl fmt::Debug for VmdkImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VmdkImage")
            .field("path", &self.path)
            .field("extents", &self.count)
            .finish()
    }
}

impl BlockDevice for VmdkImage {
    fn size(&self) -> u64 {
        self.extents.size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.extents.read_exact_at(offset, buf)
    }
    fn describe(&self) -> String {
        format!("VMDK {} ({} extents)", self.path.display(), self.count)
    }
}

/// The zeros of a ZERO extent.
#[derive(Debug)]
struct ZeroDevice(u64);

impl BlockDevice for ZeroDevice {
    fn size(&self) -> u64 {
        self.0
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        crate::check_bounds(offset, buf.len(), self.0)?;
        buf.fill(0);
        Ok(())
    }
}

/// Open the VMDK at `path` (`file` is it, opened raw): a sparse extent or a descriptor.
pub(crate) fn open_vmdk(
    path: &Path,
    file: FileDevice,
    opts: &OpenOptions,
) -> Result<Arc<dyn BlockDevice>, BlockError> {
    let ctx = |e: BlockError| e.with_context(path.display().to_string());
    let head = read_vec(&file, 0, SPARSE_MAGIC.len().min(file.size() as usize)).map_err(ctx)?;
    if head == SPARSE_MAGIC {
        return Ok(Arc::new(VmdkSparse::open(Arc::new(file)).map_err(ctx)?));
    }
    open_descriptor(path, &file, opts).map_err(ctx)
}

fn open_descriptor(
    path: &Path,
    file: &FileDevice,
    opts: &OpenOptions,
) -> Result<Arc<dyn BlockDevice>, BlockError> {
    if file.size() > VMDK_MAX_DESCRIPTOR_LEN {
        return Err(BlockError::limit(format!(
            "a VMDK descriptor of {} bytes is longer than the limit of {VMDK_MAX_DESCRIPTOR_LEN}",
            file.size()
        )));
    }
    let bytes = read_vec(file, 0, file.size() as usize)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| BlockError::corrupt("VMDK descriptor is not UTF-8 text"))?;
    let descriptor = parse_descriptor(text)?;
    let files: Vec<&str> = descriptor
        .extents
        .iter()
        .filter_map(|e| e.file.as_deref())
        .collect();
    if !opts.allow_backing && !files.is_empty() {
        return Err(BlockError::new(
            ErrorKind::BackingNotAllowed,
            format!(
                "the VMDK descriptor keeps the disk in {} extent file(s) ({:?}...); pass \
                 --allow-backing to open them (only files in the descriptor's directory)",
                files.len(),
                files.first().copied().unwrap_or_default()
            ),
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let segments = descriptor
        .extents
        .iter()
        .map(|e| open_extent(&dir, e))
        .collect::<Result<Vec<_>, _>>()?;
    let count = segments.len();
    Ok(Arc::new(VmdkImage {
        extents: LinearDevice::new(segments)?,
        count,
        path: path.to_path_buf(),
    }))
}

fn open_extent(dir: &Path, e: &Extent) -> Result<LinearSegment, BlockError> {
    let len = e
        .sectors
        .checked_mul(SECTOR)
        .ok_or_else(|| BlockError::corrupt("extent length overflows"))?;
    let name = e.file.as_deref().unwrap_or_default();
    let (device, device_offset): (Arc<dyn BlockDevice>, u64) = match e.kind {
        ExtentKind::Zero => (Arc::new(ZeroDevice(len)), 0),
        ExtentKind::Flat => {
            let offset = e
                .offset_sectors
                .checked_mul(SECTOR)
                .ok_or_else(|| BlockError::corrupt("extent offset overflows"))?;
            (
                Arc::new(
                    FileDevice::open(&extent_path(dir, name)?)
                        .map_err(|x| x.with_context(name.to_string()))?,
                ),
                offset,
            )
        }
        ExtentKind::Sparse => {
            let f = FileDevice::open(&extent_path(dir, name)?)
                .map_err(|x| x.with_context(name.to_string()))?;
            (
                Arc::new(
                    VmdkSparse::open(Arc::new(f)).map_err(|x| x.with_context(name.to_string()))?,
                ),
                0,
            )
        }
    };
    Ok(LinearSegment {
        device,
        device_offset,
        len,
    })
}

/// The path of extent file `name`, which must lie directly in `dir`.
fn extent_path(dir: &Path, name: &str) -> Result<PathBuf, BlockError> {
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    let outside = || {
        BlockError::unsupported(format!(
            "extent file {name:?} is not in the descriptor's directory (guestctl opens \
             extent files only there)"
        ))
    };
    if !plain {
        return Err(outside());
    }
    let missing = |e: std::io::Error| {
        BlockError::new(ErrorKind::NotFound, format!("extent file {name:?}: {e}"))
    };
    let real = dir.join(name).canonicalize().map_err(missing)?;
    let real_dir = dir.canonicalize().map_err(missing)?;
    if real.parent() != Some(real_dir.as_path()) {
        return Err(outside());
    }
    Ok(real)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn extent_names_must_stay_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.vmdk"), b"x").unwrap();
        std::fs::write(outside.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        assert!(extent_path(dir.path(), "ok.vmdk").is_ok());
        for bad in ["../secret", "/etc/passwd", "sub/x", "..", ".", "", "link"] {
            let err = extent_path(dir.path(), bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{bad}: {err}");
        }
        let err = extent_path(dir.path(), "gone.vmdk").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
}
