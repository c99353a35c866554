//! Operation 4, the inspection cache: results kept as one small file per image
//! under `$GUESTCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/guestctl`, else
//! `~/.cache/guestctl`. Embedded, no server, no lock: writes are atomic (a
//! temporary file renamed into place), so readers see a whole entry or none.
//!
//! # The key
//! An entry is served only when all of these match what is stored in it:
//! the image file's identity (device, inode, size, mtime and ctime in
//! nanoseconds), a fingerprint of its first [`FINGERPRINT_HEAD`] bytes (partition
//! table, GPT header, qcow2 header and L1 table start, the first superblocks) and
//! its last [`FINGERPRINT_TAIL`] bytes (the backup GPT), the guestctl version, the
//! result [`SCHEMA_VERSION`], and the options that change the result.
//!
//! What a hit proves: the image file has not been written, renamed over or
//! replaced since the entry was made. Every write, truncation or `chmod` sets the
//! file's ctime to the current time, and no user can set it back (`touch -r` and
//! `utimensat` set the mtime only): a tool that restores the mtime after an edit
//! in place still changes the ctime. Only someone able to move the system clock
//! or edit the host filesystem offline (root) could forge an unchanged ctime; the
//! fingerprint then still catches a change to the first or last blocks, but not
//! one in the middle of the image. Images that can change without their inode
//! changing are never cached: block devices (a write to the device does not touch
//! the device node) and qcow2 images with a backing file (the backing file may
//! change on its own).
//!
//! `--no-cache` is for when that proof is not enough: an image on a filesystem
//! whose ctime is not reliable (some network and FUSE filesystems), an image being
//! written while it is inspected, or a result wanted from the bytes as they are now
//! whatever the cache holds.
//!
//! A corrupt, truncated, unreadable or mismatching entry is ignored (and replaced
//! by the next store), never an error: the header line must match the key byte
//! for byte, and the body carries a checksum ([`hash128`] of it) verified on
//! every hit, so a changed byte anywhere in an entry is a miss, never a wrong
//! answer. An entry that is not a regular file (a FIFO planted in the cache
//! directory) is a miss too, found without blocking.

//! # The entry
//! One file `<32 hex digits>.entry`: a JSON header line holding the entry format
//! ([`ENTRY_FORMAT`]) and the whole key, then the 16-byte checksum of the body
//! (the two halves of [`hash128`], little-endian), then the body: the
//! [`Inspection`] encoded with `postcard` (compact binary serde). Binary because a hit is dominated by decoding:
//! callgrind counted 818 k of the 928 k instructions of a JSON hit (200 packages)
//! in `serde_json` decoding.

use crate::types::{Inspection, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Bytes at the start of the image that go into the fingerprint.
pub const FINGERPRINT_HEAD: usize = 64 * 1024;
/// Bytes at the end of the image that go into the fingerprint.
pub const FINGERPRINT_TAIL: usize = 4096;
/// Version of the entry layout; entries of another layout are misses.
pub const ENTRY_FORMAT: u32 = 3;
/// Length of the body checksum that follows the header line.
const CHECKSUM_LEN: usize = 16;
/// File name extension of entries.
const ENTRY_EXT: &str = ".entry";
/// Largest cache entry read back (a 10,000-package inspection is about 1 MiB).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The cache directory and its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    dir: PathBuf,
}

/// What identifies one image state and one kind of result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// Host device of the image file.
    pub dev: u64,
    /// Inode of the image file.
    pub ino: u64,
    /// File size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Inode change time, nanoseconds since the epoch: set by every write and
    /// never settable back by a user (see the module doc).
    pub ctime_ns: i128,
    /// Hash of the first and last blocks.
    pub fingerprint: String,
    /// guestctl version that wrote the entry.
    pub version: String,
    /// Result schema version.
    pub schema_version: u32,
    /// Options that change the result (`packages`, `allow_backing`).
    pub options: String,
}

/// A 64-bit hash of `data` under `seed`: XXH3-64 (`xxhash-rust`). Not for security.
pub fn hash64(data: &[u8], seed: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(data, seed)
}

/// The 128-bit hash of `data` as two 64-bit halves: XXH3-128 (`xxhash-rust`).
/// Not for security: the cache also compares the whole key.
pub fn hash128(data: &[u8]) -> (u64, u64) {
    let h = xxhash_rust::xxh3::xxh3_128(data);
    ((h >> 64) as u64, h as u64)
}

/// The entry's file name: a hash of the key's JSON (every field).
fn file_name(key_json: &[u8]) -> String {
    let (h1, h2) = hash128(key_json);
    format!("{}{ENTRY_EXT}", hex128(h1, h2))
}

/// The entry's first line, newline included: the JSON object
/// `{"entry_format":N,"key":{...}}` (what serde_json writes for a struct of those
/// two fields), built around the key's JSON so the key is serialised only once.
fn header_line(key_json: &[u8]) -> Vec<u8> {
    let prefix = format!("{{\"entry_format\":{ENTRY_FORMAT},\"key\":");
    let mut line = Vec::with_capacity(prefix.len() + key_json.len() + 2);
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(key_json);
    line.extend_from_slice(b"}\n");
    line
}

/// The entry's body after its header line, if that line is exactly
/// [`header_line`] of `key_json`.
fn strip_header<'a>(data: &'a [u8], key_json: &[u8]) -> Option<&'a [u8]> {
    let line = header_line(key_json);
    data.strip_prefix(line.as_slice())
}

thread_local! {
    /// Per-thread buffer for the fingerprinted bytes, reused by every key
    /// computation of the thread: allocating (and zeroing) 68 KiB per lookup cost a
    /// quarter of a hit's instructions (`calloc`, its memset and a heap
    /// consolidation). Every byte hashed is overwritten by the reads first.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// [`hash128`] of the first [`FINGERPRINT_HEAD`] and the last
/// [`FINGERPRINT_TAIL`] bytes of `f` (of `size` bytes; the regions do not overlap,
/// so a small file is hashed whole), read with one positional read per region.
fn fingerprint(f: &File, size: u64) -> std::io::Result<(u64, u64)> {
    let head_len = size.min(FINGERPRINT_HEAD as u64);
    let tail_len = size.saturating_sub(head_len).min(FINGERPRINT_TAIL as u64);
    let tail_at = size.saturating_sub(tail_len);
    // Both at most 64 KiB, so the conversions cannot fail.
    let head_len = usize::try_from(head_len).unwrap_or(FINGERPRINT_HEAD);
    let tail_len = usize::try_from(tail_len).unwrap_or(FINGERPRINT_TAIL);
    let used = head_len.saturating_add(tail_len);
    let fill = |buf: &mut [u8]| -> std::io::Result<(u64, u64)> {
        let buf = buf.get_mut(..used).ok_or_else(short_buffer)?;
        let (head, tail) = buf.split_at_mut(head_len);
        f.read_exact_at(head, 0)?;
        f.read_exact_at(tail, tail_at)?;
        Ok(hash128(buf))
    };
    let reused = SCRATCH.try_with(|cell| {
        let mut buf = cell.try_borrow_mut().ok()?;
        if buf.len() < FINGERPRINT_HEAD + FINGERPRINT_TAIL {
            buf.resize(FINGERPRINT_HEAD + FINGERPRINT_TAIL, 0);
        }
        Some(fill(&mut buf))
    });
    match reused {
        Ok(Some(r)) => r,
        // Re-entered, or the thread is exiting: a buffer of our own.
        _ => fill(&mut vec![0u8; used]),
    }
}

/// The checksum stored before an entry's body: [`hash128`] of it.
fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let (h1, h2) = hash128(body);
    let mut out = [0u8; CHECKSUM_LEN];
    let (a, b) = out.split_at_mut(8);
    a.copy_from_slice(&h1.to_le_bytes());
    b.copy_from_slice(&h2.to_le_bytes());
    out
}

/// The entry file at `path` opened for reading, if it is a regular file: opened
/// without blocking, so a FIFO planted in its place is a miss, not a hang.
fn open_entry(path: &Path) -> Option<File> {
    let f = guestctl_block::open_input(path).ok()?.file;
    f.metadata().ok()?.is_file().then_some(f)
}

fn short_buffer() -> std::io::Error {
    std::io::Error::other("fingerprint buffer too small")
}

/// `h1` and `h2` as 32 lowercase hex digits.
fn hex128(h1: u64, h2: u64) -> String {
    format!("{h1:016x}{h2:016x}")
}

impl Cache {
    /// The cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default cache directory: `$GUESTCTL_CACHE_DIR`, else `guestctl` in the
    /// XDG cache directory as `etcetera` finds it (`$XDG_CACHE_HOME` when it is an
    /// absolute path, else `~/.cache`); `None` when there is no home directory.
    pub fn default_dir() -> Option<PathBuf> {
        use etcetera::BaseStrategy as _;
        match std::env::var_os("GUESTCTL_CACHE_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => etcetera::choose_base_strategy()
                .ok()
                .map(|base| base.cache_dir().join("guestctl")),
        }
    }

    /// The cache in [`Cache::default_dir`].
    pub fn open_default() -> Option<Self> {
        Self::default_dir().map(Self::new)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compute the key of the image at `path` for results made with `options`
    /// (a short string naming the options that change the result).
    pub fn key(path: &Path, options: &str) -> std::io::Result<CacheKey> {
        // Never blocks (a FIFO is refused, not opened for good).
        let f = guestctl_block::open_input(path)
            .map_err(std::io::Error::other)?
            .file;
        let md = f.metadata()?;
        if !md.is_file() {
            return Err(std::io::Error::other(
                "only regular files are cached: a write to a block device leaves its inode as it was",
            ));
        }
        let size = md.len();
        let (h1, h2) = fingerprint(&f, size)?;
        let ns = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        Ok(CacheKey {
            dev: md.dev(),
            ino: md.ino(),
            size,
            mtime_ns: ns(md.mtime(), md.mtime_nsec()),
            ctime_ns: ns(md.ctime(), md.ctime_nsec()),
            fingerprint: hex128(h1, h2),
            version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version: SCHEMA_VERSION,
            options: options.to_string(),
        })
    }

    /// The cached inspection of `path`, if a valid entry matches its current state.
    /// Never fails: anything wrong with the entry is a miss.
    pub fn lookup(&self, path: &Path, options: &str) -> Option<Inspection> {
        let key = Self::key(path, options).ok()?;
        let mut ins = self.get(&key)?;
        ins.image = path.display().to_string();
        Some(ins)
    }

    /// The entry for `key`, if present and valid.
    pub fn get(&self, key: &CacheKey) -> Option<Inspection> {
        let key_json = serde_json::to_vec(key).ok()?;
        let mut f = open_entry(&self.dir.join(file_name(&key_json)))?;
        // One read of exactly the file's size: entries are renamed into place whole
        // and never written afterwards, so the size cannot change under us (a short
        // read is a miss).
        let len = f.metadata().ok()?.len();
        if len > MAX_ENTRY_BYTES {
            return None;
        }
        let mut data = vec![0u8; usize::try_from(len).ok()?];
        f.read_exact(&mut data).ok()?;
        // The header line must be byte for byte the one `put` writes for this key:
        // same entry format and every key field equal (the serialisation is
        // deterministic and injective), without parsing it.
        let rest = strip_header(&data, &key_json)?;
        let (sum, body) = rest.split_at_checked(CHECKSUM_LEN)?;
        if sum != checksum(body) {
            return None;
        }
        let ins: Inspection = postcard::from_bytes(body).ok()?;
        (ins.schema_version == SCHEMA_VERSION).then_some(ins)
    }

    /// Store `inspection` under `key`, atomically. Errors (an unwritable cache
    /// directory) are returned so the caller may warn; they never affect the result.
    pub fn put(&self, key: &CacheKey, inspection: &Inspection) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let key_json = serde_json::to_vec(key).map_err(std::io::Error::other)?;
        let name = file_name(&key_json);
        let tmp = self.dir.join(format!(
            ".{name}.{}.{:x}.tmp",
            std::process::id(),
            hash64(format!("{:?}", std::thread::current().id()).as_bytes(), 7)
        ));
        let encoded = postcard::to_allocvec(inspection).map_err(std::io::Error::other)?;
        let mut body = header_line(&key_json);
        body.extend_from_slice(&checksum(&encoded));
        body.extend(encoded);
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&body)?;
            // No fsync: after a crash a torn entry is just a miss (it fails to parse).
            fs::rename(&tmp, self.dir.join(&name))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Remove every cache entry (and leftover temporary files); returns how many
    /// entries were removed. A missing directory is an empty cache.
    pub fn clear(&self) -> std::io::Result<usize> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0usize;
        for e in rd {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            let ours = (name.len() == 32 + ENTRY_EXT.len()
                && name.ends_with(ENTRY_EXT)
                && name.bytes().take(32).all(|b| b.is_ascii_hexdigit()))
                || (name.starts_with('.') && name.ends_with(".tmp"));
            if ours && e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
                if !name.ends_with(".tmp") {
                    n = n.saturating_add(1);
                }
            }
        }
        Ok(n)
    }

    /// Number of entries in the cache (0 when it is unreadable: see [`Cache::count`]).
    pub fn len(&self) -> usize {
        self.count().unwrap_or(0)
    }

    /// Number of entries in the cache; a missing directory is an empty cache, an
    /// unreadable one an error (`cache info` reports it).
    pub fn count(&self) -> std::io::Result<usize> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0usize;
        for e in rd {
            if e?.file_name().to_string_lossy().ends_with(ENTRY_EXT) {
                n = n.saturating_add(1);
            }
        }
        Ok(n)
    }

    /// Check that entries can be stored: the directory exists (or can be made)
    /// and a file can be written in it and removed. A cache that fails this only
    /// costs speed, but the user should hear of it (a read-only or foreign-owned
    /// directory would otherwise be silent).
    pub fn check_usable(&self) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let probe = self.dir.join(format!(".probe.{}.tmp", std::process::id()));
        File::create(&probe)?;
        fs::remove_file(&probe)
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// Writes `data` to `path`, keeping the file's mtime (as a tool that forces the
    /// mtime back would).
    fn overwrite_keeping_mtime(path: &Path, at: u64, data: &[u8]) {
        let mtime = fs::metadata(path).unwrap().modified().unwrap();
        let f = fs::OpenOptions::new().write(true).open(path).unwrap();
        f.write_all_at(data, at).unwrap();
        f.set_modified(mtime).unwrap();
    }

    #[test]
    fn header_line_is_what_serde_json_writes_for_the_header() {
        #[derive(Serialize)]
        struct Header<'a> {
            entry_format: u32,
            key: &'a CacheKey,
        }
        let key = CacheKey {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: -4,
            ctime_ns: 6,
            fingerprint: "f\"p".into(),
            version: "v".into(),
            schema_version: 5,
            options: "o\n".into(),
        };
        let mut want = serde_json::to_vec(&Header {
            entry_format: ENTRY_FORMAT,
            key: &key,
        })
        .unwrap();
        want.push(b'\n');
        assert_eq!(header_line(&serde_json::to_vec(&key).unwrap()), want);
    }

    #[test]
    fn hex128_matches_format() {
        for (a, b) in [(0, 0), (1, u64::MAX), (0x0123_4567_89ab_cdef, 0xf0)] {
            assert_eq!(hex128(a, b), format!("{a:016x}{b:016x}"));
        }
    }

    #[test]
    fn every_fingerprinted_byte_counts_at_every_size() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        // Smaller than the head; between head and head + tail; larger than both.
        for size in [1usize, 5000, FINGERPRINT_HEAD + 100, 1 << 20] {
            let img = dir.path().join(format!("{size}.img"));
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            fs::write(&img, &data).unwrap();
            let head_last = size.min(FINGERPRINT_HEAD) - 1;
            for pos in [
                0,
                head_last / 2,
                head_last,
                size - FINGERPRINT_TAIL.min(size),
                size - 1,
            ] {
                let key = Cache::key(&img, "o").unwrap();
                cache.put(&key, &crate::tests::sample_inspection()).unwrap();
                assert!(cache.lookup(&img, "o").is_some(), "size {size}");
                let old = data[pos];
                overwrite_keeping_mtime(&img, pos as u64, &[old ^ 0x40]);
                let changed = Cache::key(&img, "o").unwrap();
                assert_eq!(changed.mtime_ns, key.mtime_ns);
                // The fingerprint alone sees it (the ctime does too).
                assert_ne!(
                    changed.fingerprint, key.fingerprint,
                    "size {size}, byte {pos}"
                );
                assert!(
                    cache.lookup(&img, "o").is_none(),
                    "size {size}: a changed byte at {pos} was served"
                );
                overwrite_keeping_mtime(&img, pos as u64, &[old]);
                let restored = Cache::key(&img, "o").unwrap();
                assert_eq!(
                    restored.fingerprint, key.fingerprint,
                    "size {size}: restored"
                );
            }
        }
    }

    #[test]
    fn the_reused_buffer_leaks_nothing_between_images() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.img");
        let small = dir.path().join("small.img");
        fs::write(&big, vec![7u8; 200_000]).unwrap();
        fs::write(&small, vec![7u8; 100]).unwrap();
        // On a fresh thread (fresh buffer) versus after a big image filled it.
        let fresh = std::thread::spawn({
            let small = small.clone();
            move || Cache::key(&small, "o").unwrap()
        })
        .join()
        .unwrap();
        Cache::key(&big, "o").unwrap();
        assert_eq!(Cache::key(&small, "o").unwrap(), fresh);
        let (h1, h2) = hash128(&[7u8; 100]);
        assert_eq!(fresh.fingerprint, hex128(h1, h2));
    }

    #[test]
    fn an_entry_with_anything_added_or_reformatted_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("d.img");
        fs::write(&img, b"hello").unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let key = Cache::key(&img, "o").unwrap();
        cache.put(&key, &crate::tests::sample_inspection()).unwrap();
        let key_json = serde_json::to_vec(&key).unwrap();
        let path = cache.dir().join(file_name(&key_json));
        let good = fs::read(&path).unwrap();
        assert!(cache.get(&key).is_some());
        // The header of another key (one field changed) under this key's name.
        let mut other = key.clone();
        other.ino ^= 1;
        let mut bad = header_line(&serde_json::to_vec(&other).unwrap());
        bad.extend_from_slice(strip_header(&good, &key_json).unwrap());
        fs::write(&path, &bad).unwrap();
        assert!(cache.get(&key).is_none(), "foreign key");
        // The same header with a space added.
        let text = String::from_utf8_lossy(&good).replacen(",\"key\"", ", \"key\"", 1);
        fs::write(&path, text.as_bytes()).unwrap();
        assert!(cache.get(&key).is_none(), "reformatted header");
        // Every truncation.
        for n in 0..good.len() {
            fs::write(&path, &good[..n]).unwrap();
            assert!(cache.get(&key).is_none(), "truncated to {n}");
        }
        fs::write(&path, &good).unwrap();
        assert!(cache.get(&key).is_some());
    }

    /// A small entry whose inspection holds strings and numbers a flip could
    /// turn into another valid answer (a hostname, a package, an epoch).
    fn entry_with_answers(dir: &Path) -> (Cache, CacheKey, PathBuf, Vec<u8>) {
        let img = dir.join("d.img");
        fs::write(&img, b"hello").unwrap();
        let cache = Cache::new(dir.join("cache"));
        let key = Cache::key(&img, "o").unwrap();
        let mut ins = crate::tests::sample_inspection();
        ins.partition_table = "x".into();
        ins.diagnostics.push(crate::Diagnostic {
            subject: "bsdutils".into(),
            kind: "epoch".into(),
            message: "1".into(),
        });
        cache.put(&key, &ins).unwrap();
        let path = cache
            .dir()
            .join(file_name(&serde_json::to_vec(&key).unwrap()));
        let good = fs::read(&path).unwrap();
        assert_eq!(cache.get(&key), Some(ins));
        (cache, key, path, good)
    }

    #[test]
    fn a_changed_byte_anywhere_in_an_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, key, path, good) = entry_with_answers(dir.path());
        for at in 0..good.len() {
            for flip in [0x01u8, 0x20, 0xff] {
                let mut bad = good.clone();
                bad[at] ^= flip;
                fs::write(&path, &bad).unwrap();
                assert_eq!(cache.get(&key), None, "byte {at} ^ {flip:#x}");
            }
        }
        fs::write(&path, &good).unwrap();
        assert!(cache.get(&key).is_some());
    }

    #[test]
    fn a_fifo_planted_as_an_entry_is_a_miss_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, key, path, _) = entry_with_answers(dir.path());
        let Some(mkfifo) = guestctl_testkit::tool("mkfifo") else {
            return;
        };
        fs::remove_file(&path).unwrap();
        let made = std::process::Command::new(mkfifo).arg(&path).status();
        assert!(made.unwrap().success());
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn an_edit_in_the_middle_with_the_mtime_restored_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("big.img");
        fs::write(&img, vec![0u8; 1 << 20]).unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        cache
            .put(
                &Cache::key(&img, "o").unwrap(),
                &crate::tests::sample_inspection(),
            )
            .unwrap();
        assert!(cache.lookup(&img, "o").is_some());
        // Outside the fingerprinted head and tail: only the ctime shows it.
        overwrite_keeping_mtime(&img, 512 * 1024, b"edited");
        assert_eq!(cache.lookup(&img, "o"), None);
    }

    #[test]
    fn an_unreadable_or_unwritable_cache_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the directory should be: neither readable as a directory
        // nor usable for entries, even by root (whom modes do not stop).
        let not_dir = dir.path().join("file");
        fs::write(&not_dir, b"x").unwrap();
        let cache = Cache::new(&not_dir);
        assert!(cache.count().is_err());
        assert!(cache.check_usable().is_err());
        assert_eq!(cache.len(), 0);
        let fine = Cache::new(dir.path().join("new"));
        assert_eq!(fine.count().unwrap(), 0);
        fine.check_usable().unwrap();
        assert_eq!(
            fs::read_dir(fine.dir()).unwrap().count(),
            0,
            "probe removed"
        );
    }

    #[test]
    fn block_devices_and_special_files_have_no_key() {
        assert!(Cache::key(Path::new("/dev/zero"), "o").is_err());
        let dir = tempfile::tempdir().unwrap();
        assert!(Cache::key(dir.path(), "o").is_err());
    }
}
