//! Operation 4, the inspection cache: results kept as one small file per image
//! under `$GUESTCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/guestctl`, else
//! `~/.cache/guestctl`. Embedded, no server, no lock: writes are atomic (a
//! temporary file renamed into place), so readers see a whole entry or none.
//!
//! # The key
//! An entry is served only when all of these match what is stored in it:
//! the image file's identity (device, inode, size, mtime in nanoseconds), a
//! fingerprint of its first [`FINGERPRINT_HEAD`] bytes (partition table, GPT
//! header, qcow2 header and L1 table start, the first superblocks) and its last
//! [`FINGERPRINT_TAIL`] bytes (the backup GPT), the guestctl version, the result
//! [`SCHEMA_VERSION`], and the options that change the result. So a changed image
//! is never served: a write changes the mtime, and a change with the mtime forced
//! back is still caught when it touches the fingerprinted blocks. Images with a
//! qcow2 backing file are not cached (the backing file may change on its own).
//!
//! A corrupt, truncated, unreadable or mismatching entry is ignored (and replaced
//! by the next store), never an error.
//!
//! # The entry
//! One file `<32 hex digits>.entry`: a JSON header line holding the entry format
//! ([`ENTRY_FORMAT`]) and the whole key, then the [`Inspection`] encoded with
//! `postcard` (compact binary serde). Binary because a hit is dominated by decoding:
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
pub const ENTRY_FORMAT: u32 = 2;
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
    /// Hash of the first and last blocks.
    pub fingerprint: String,
    /// guestctl version that wrote the entry.
    pub version: String,
    /// Result schema version.
    pub schema_version: u32,
    /// Options that change the result (`packages`, `allow_backing`).
    pub options: String,
}

/// A fast non-cryptographic 64-bit hash (multiply-xor over 8-byte words, then a
/// final avalanche). Not for security: the cache also compares the whole key.
pub fn hash64(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(M).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(M).rotate_left(29);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// A 128-bit fingerprint of `data` in one pass: four independent multiply-xor lanes
/// over interleaved 8-byte words (so the CPU runs them in parallel), folded into two
/// 64-bit halves. About four times faster than two serial [`hash64`] passes over
/// the same bytes, which matters because every cache lookup fingerprints 68 KiB.
pub fn hash128(data: &[u8]) -> (u64, u64) {
    const M: u64 = 0x9E37_79B9_7F4A_7C15;
    let len = data.len() as u64;
    let mut lanes = [
        0x5eed ^ len.wrapping_mul(M),
        0xc0ffee ^ len,
        0x0123_4567_89ab_cdef,
        0xfedc_ba98_7654_3210 ^ len.rotate_left(17),
    ];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            *lane = (*lane ^ u64::from_le_bytes(w))
                .wrapping_mul(M)
                .rotate_left(29);
        }
    }
    let rest = blocks.remainder();
    let [a, b, c, d] = lanes;
    // Each half depends on every lane, so a change anywhere changes both.
    (
        hash64(
            rest,
            a ^ b.rotate_left(16) ^ c.rotate_left(32) ^ d.rotate_left(48),
        ),
        hash64(
            rest,
            d ^ c.rotate_left(16) ^ b.rotate_left(32) ^ a.rotate_left(48) ^ M,
        ),
    )
}

/// The entry's file name: a hash of the key's JSON (every field).
fn file_name(key_json: &[u8]) -> String {
    format!(
        "{:016x}{:016x}{ENTRY_EXT}",
        hash64(key_json, 1),
        hash64(key_json, 2)
    )
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

    /// The default cache directory: `$GUESTCTL_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/guestctl`, else `$HOME/.cache/guestctl`; `None` when none
    /// of them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let nonempty = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        nonempty("GUESTCTL_CACHE_DIR")
            .or_else(|| nonempty("XDG_CACHE_HOME").map(|d| d.join("guestctl")))
            .or_else(|| nonempty("HOME").map(|d| d.join(".cache").join("guestctl")))
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
        let f = File::open(path)?;
        let md = f.metadata()?;
        let size = md.len();
        let (h1, h2) = fingerprint(&f, size)?;
        Ok(CacheKey {
            dev: md.dev(),
            ino: md.ino(),
            size,
            mtime_ns: i128::from(md.mtime()) * 1_000_000_000 + i128::from(md.mtime_nsec()),
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
        let mut f = File::open(self.dir.join(file_name(&key_json))).ok()?;
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
        let body = strip_header(&data, &key_json)?;
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
        let mut body = header_line(&key_json);
        body.extend(postcard::to_allocvec(inspection).map_err(std::io::Error::other)?);
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

    /// Number of entries in the cache.
    pub fn len(&self) -> usize {
        fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(ENTRY_EXT))
                    .count()
            })
            .unwrap_or(0)
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
                assert_eq!(Cache::key(&img, "o").unwrap().mtime_ns, key.mtime_ns);
                assert!(
                    cache.lookup(&img, "o").is_none(),
                    "size {size}: a changed byte at {pos} was served"
                );
                overwrite_keeping_mtime(&img, pos as u64, &[old]);
                assert!(cache.lookup(&img, "o").is_some(), "size {size}: restored");
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
}
