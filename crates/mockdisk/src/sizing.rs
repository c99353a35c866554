//! How much room a staged tree needs as an ext filesystem: a walk of the staging
//! directory ([`measure`]) and a model of mke2fs's overhead ([`min_fs_size`]),
//! used to size partitions and to refuse early, with a number, content that
//! cannot fit.

use crate::error::MockDiskError;
use std::path::Path;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Deepest directory nesting walked (our own staging trees are a dozen deep).
const MAX_DEPTH: usize = 64;
/// Most entries walked in one tree (far above any `num_files` that fits 16 TiB of
/// metadata budget; a bound so a runaway tree cannot loop us forever).
const MAX_ENTRIES: u64 = 50_000_000;

/// The smallest ext3 filesystem (a journal needs 1024 blocks, and mke2fs gives
/// none to a filesystem under 2048 blocks).
pub(crate) const EXT3_MIN_BYTES: u64 = 2 * MIB;
/// ext4 filesystems smaller than this get no journal (it would take a quarter or
/// more of the space).
const EXT4_JOURNAL_MIN_BYTES: u64 = 4 * MIB;

/// A filesystem type the generator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FsKind {
    Ext2,
    Ext3,
    Ext4,
    Vfat,
}

impl FsKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext3 => "ext3",
            FsKind::Ext4 => "ext4",
            FsKind::Vfat => "vfat",
        }
    }
}

/// What a tree needs: inodes, and data bytes rounded to 1 KiB and 4 KiB blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Need {
    pub inodes: u64,
    pub bytes_1k: u64,
    pub bytes_4k: u64,
}

impl Need {
    fn add_blocks(&mut self, bytes: u64) {
        self.bytes_1k += bytes.div_ceil(KIB) * KIB;
        self.bytes_4k += bytes.div_ceil(4 * KIB) * 4 * KIB;
    }
}

/// Walk `root` (not following symlinks) and add up what it needs.
pub(crate) fn measure(root: &Path) -> Result<Need, MockDiskError> {
    let mut need = Need::default();
    walk(root, 0, &mut need)?;
    Ok(need)
}

fn walk(dir: &Path, depth: usize, need: &mut Need) -> Result<(), MockDiskError> {
    if depth > MAX_DEPTH || need.inodes > MAX_ENTRIES {
        return Err(MockDiskError::InvalidInput(format!(
            "{}: staging tree too deep or too large",
            dir.display()
        )));
    }
    need.inodes += 1;
    let mut dirent_bytes = 24u64; // "." and ".."
    for e in std::fs::read_dir(dir).map_err(|e| MockDiskError::io(dir, e))? {
        let e = e.map_err(|e| MockDiskError::io(dir, e))?;
        let name_len = e.file_name().len() as u64;
        dirent_bytes += 8 + name_len.div_ceil(4) * 4;
        let ft = e
            .file_type()
            .map_err(|err| MockDiskError::io(e.path(), err))?;
        if ft.is_dir() {
            walk(&e.path(), depth + 1, need)?;
        } else {
            need.inodes += 1;
            let m = e
                .metadata()
                .map_err(|err| MockDiskError::io(e.path(), err))?;
            if ft.is_symlink() {
                // Targets under 60 bytes live in the inode ("fast symlinks").
                if m.len() >= 60 {
                    need.add_blocks(m.len());
                }
            } else if ft.is_file() {
                need.add_blocks(m.len());
            }
        }
    }
    // Large directories get an htree: a little more than the entries themselves.
    need.add_blocks(dirent_bytes + dirent_bytes / 8);
    Ok(())
}

fn block_size(fs_bytes: u64) -> u64 {
    // mke2fs.conf: "floppy" (< 3 MiB) and "small" (< 512 MiB) use 1 KiB blocks.
    if fs_bytes < 512 * MIB {
        KIB
    } else {
        4 * KIB
    }
}

fn inode_ratio(fs_bytes: u64) -> u64 {
    if fs_bytes < 3 * MIB {
        8 * KIB
    } else if fs_bytes < 512 * MIB {
        4 * KIB
    } else {
        16 * KIB
    }
}

/// The inode count given to mke2fs (`-N`): the usual ratio for the size, or
/// more when the tree needs more (with a quarter to spare).
pub(crate) fn inode_count(need: &Need, fs_bytes: u64) -> u64 {
    (fs_bytes / inode_ratio(fs_bytes)).max(need.inodes + need.inodes / 4 + 32)
}

pub(crate) fn ext4_has_journal(fs_bytes: u64) -> bool {
    fs_bytes >= EXT4_JOURNAL_MIN_BYTES
}

fn has_journal(kind: FsKind, fs_bytes: u64) -> bool {
    match kind {
        FsKind::Ext3 => true,
        FsKind::Ext4 => ext4_has_journal(fs_bytes),
        FsKind::Ext2 | FsKind::Vfat => false,
    }
}

/// mke2fs's default journal size in blocks (`ext2fs_default_journal_size`).
fn journal_blocks(blocks: u64) -> u64 {
    match blocks {
        b if b < 2048 => 0,
        b if b < 32 * 1024 => 1024,
        b if b < 256 * 1024 => 4096,
        b if b < 512 * 1024 => 8192,
        b if b < 4096 * 1024 => 16384,
        b if b < 8192 * 1024 => 32768,
        b if b < 16384 * 1024 => 65536,
        b if b < 32768 * 1024 => 131072,
        _ => 262144,
    }
}

/// Whether a tree needing `need` fits an ext filesystem of `fs_bytes` (an
/// estimate with a little to spare; mke2fs has the last word).
pub(crate) fn fits(need: &Need, kind: FsKind, fs_bytes: u64) -> bool {
    let bs = block_size(fs_bytes);
    let blocks = fs_bytes / bs;
    if blocks < 64 {
        return false;
    }
    if kind == FsKind::Ext3 && fs_bytes < EXT3_MIN_BYTES {
        return false;
    }
    let data = if bs == KIB {
        need.bytes_1k
    } else {
        need.bytes_4k
    };
    let inode_bytes = inode_count(need, fs_bytes) * 256;
    let journal = if has_journal(kind, fs_bytes) {
        journal_blocks(blocks) * bs
    } else {
        0
    };
    let groups = blocks.div_ceil(8 * bs);
    // Bitmaps and descriptors per group, superblock/GDT backups and reserved GDT
    // blocks (about 1/64 of small filesystems), and a few blocks of slack.
    let meta = inode_bytes + journal + groups * 3 * bs + fs_bytes / 64 + 16 * bs;
    data + data / 32 + meta <= fs_bytes
}

/// The smallest filesystem size (bytes, a multiple of 4 KiB) that [`fits`].
pub(crate) fn min_fs_size(need: &Need, kind: FsKind) -> u64 {
    let (mut lo, mut hi) = (64 * KIB, 16 * 1024 * 1024 * MIB);
    // Not quite monotone at the 512 MiB block-size step; good enough for sizing.
    while hi - lo > 4 * KIB {
        let mid = (lo + (hi - lo) / 2) / (4 * KIB) * (4 * KIB);
        if fits(need, kind, mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn measure_counts_entries_and_rounds_blocks() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/f"), vec![1u8; 5000]).unwrap();
        std::os::unix::fs::symlink("f", d.path().join("a/l")).unwrap();
        let n = measure(d.path()).unwrap();
        assert_eq!(n.inodes, 4);
        // 5000 bytes = 5 KiB blocks or 2 x 4 KiB, plus two small directories.
        assert_eq!(n.bytes_1k, 5 * KIB + 2 * KIB);
        assert_eq!(n.bytes_4k, 8 * KIB + 8 * KIB);
    }

    #[test]
    fn journal_table_matches_mke2fs() {
        assert_eq!(journal_blocks(1000), 0);
        assert_eq!(journal_blocks(7000), 1024);
        assert_eq!(journal_blocks(262_144), 8192);
    }

    #[test]
    fn min_size_grows_with_content_and_fits() {
        let small = Need {
            inodes: 100,
            bytes_1k: 200 * KIB,
            bytes_4k: 400 * KIB,
        };
        let big = Need {
            inodes: 10_000,
            bytes_1k: 50 * MIB,
            bytes_4k: 60 * MIB,
        };
        let a = min_fs_size(&small, FsKind::Ext4);
        let b = min_fs_size(&big, FsKind::Ext4);
        assert!(a < b);
        assert!(fits(&small, FsKind::Ext4, a));
        assert!(!fits(&small, FsKind::Ext4, a - 8 * KIB));
        assert!(min_fs_size(&small, FsKind::Ext3) >= EXT3_MIN_BYTES);
    }
}
