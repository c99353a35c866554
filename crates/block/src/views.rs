//! Views: small wrappers around another device that count or cache its reads.

use crate::{check_bounds, BlockDevice, BlockError};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counts the bytes and read operations that reach the inner device: a deterministic
/// figure for benchmarks (what was read, not how long it took).
#[derive(Debug)]
pub struct CountingDevice {
    inner: Arc<dyn BlockDevice>,
    bytes: AtomicU64,
    ops: AtomicU64,
}

/// A snapshot of a [`CountingDevice`]'s counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Bytes requested by successful and failed reads.
    pub bytes: u64,
    /// Number of `read_exact_at` calls.
    pub ops: u64,
}

impl CountingDevice {
    /// Count the reads of `inner`.
    pub fn new(inner: Arc<dyn BlockDevice>) -> Self {
        Self {
            inner,
            bytes: AtomicU64::new(0),
            ops: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            bytes: self.bytes.load(Ordering::Relaxed),
            ops: self.ops.load(Ordering::Relaxed),
        }
    }

    /// Set the counters back to zero.
    pub fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.ops.store(0, Ordering::Relaxed);
    }
}

impl BlockDevice for CountingDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(
            u64::try_from(buf.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.inner.read_exact_at(offset, buf)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Default chunk size of a [`CachedDevice`]: 64 KiB (one qcow2 cluster by default).
pub const CACHE_CHUNK_SIZE: u64 = 64 * 1024;
/// Default number of chunks a [`CachedDevice`] keeps: 64 × 64 KiB = 4 MiB.
pub const CACHE_DEFAULT_CHUNKS: usize = 64;
/// Upper bound on the chunk count, whatever the caller asks (1 GiB at 64 KiB chunks).
pub const CACHE_MAX_CHUNKS: usize = 16 * 1024;

struct CacheState {
    chunks: HashMap<u64, (Arc<[u8]>, u64)>,
    tick: u64,
}

/// A bounded, thread-safe cache of fixed-size chunks of the inner device, evicting the
/// least recently used chunk. Reads larger than the cache bypass it.
pub struct CachedDevice {
    inner: Arc<dyn BlockDevice>,
    capacity: usize,
    state: Mutex<CacheState>,
}

impl fmt::Debug for CachedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CachedDevice({} chunks of {:?})",
            self.capacity, self.inner
        )
    }
}

impl CachedDevice {
    /// Cache [`CACHE_DEFAULT_CHUNKS`] chunks of `inner`.
    pub fn new(inner: Arc<dyn BlockDevice>) -> Self {
        Self::with_capacity(inner, CACHE_DEFAULT_CHUNKS)
    }

    /// Cache up to `chunks` chunks (at least 1, at most [`CACHE_MAX_CHUNKS`]).
    pub fn with_capacity(inner: Arc<dyn BlockDevice>, chunks: usize) -> Self {
        let capacity = chunks.clamp(1, CACHE_MAX_CHUNKS);
        Self {
            inner,
            capacity,
            state: Mutex::new(CacheState {
                chunks: HashMap::with_capacity(capacity),
                tick: 0,
            }),
        }
    }

    fn chunk(&self, index: u64) -> Result<Arc<[u8]>, BlockError> {
        {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.tick = st.tick.wrapping_add(1);
            let tick = st.tick;
            if let Some((data, used)) = st.chunks.get_mut(&index) {
                *used = tick;
                return Ok(Arc::clone(data));
            }
        }
        // Read outside the lock so other threads are not held up by I/O.
        let start = index.saturating_mul(CACHE_CHUNK_SIZE);
        let len = CACHE_CHUNK_SIZE.min(self.inner.size().saturating_sub(start));
        let mut data = vec![0u8; usize::try_from(len).unwrap_or(0)];
        self.inner.read_exact_at(start, &mut data)?;
        let data: Arc<[u8]> = data.into();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.chunks.len() >= self.capacity {
            if let Some(oldest) = st
                .chunks
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
            {
                st.chunks.remove(&oldest);
            }
        }
        let tick = st.tick;
        st.chunks.insert(index, (Arc::clone(&data), tick));
        Ok(data)
    }
}

impl BlockDevice for CachedDevice {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_bounds(offset, buf.len(), self.inner.size())?;
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        if len > CACHE_CHUNK_SIZE.saturating_mul(self.capacity as u64) {
            return self.inner.read_exact_at(offset, buf);
        }
        let mut done = 0usize;
        let mut pos = offset;
        // Bounded: each step copies at least one byte (check_bounds holds).
        while done < buf.len() {
            let index = pos / CACHE_CHUNK_SIZE;
            let within = usize::try_from(pos % CACHE_CHUNK_SIZE).unwrap_or(0);
            let chunk = self.chunk(index)?;
            let avail = chunk.get(within..).unwrap_or(&[]);
            if avail.is_empty() {
                return Err(BlockError::out_of_bounds(pos, self.inner.size()));
            }
            let n = avail.len().min(buf.len() - done);
            if let (Some(dst), Some(src)) = (buf.get_mut(done..done + n), avail.get(..n)) {
                dst.copy_from_slice(src);
            }
            done += n;
            pos += n as u64;
        }
        Ok(())
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Largest number of segments a [`LinearDevice`] accepts (an LV with more is far more
/// likely hostile metadata than a real volume; the lookup is a binary search anyway).
pub const LINEAR_MAX_SEGMENTS: usize = 4096;

/// One piece of a [`LinearDevice`]: `len` bytes of `device` starting at `device_offset`.
#[derive(Debug, Clone)]
pub struct LinearSegment {
    /// The device holding the bytes.
    pub device: Arc<dyn BlockDevice>,
    /// Where the piece starts in `device`.
    pub device_offset: u64,
    /// Length of the piece in bytes.
    pub len: u64,
}

/// Pieces of other devices laid end to end (an LVM linear logical volume).
#[derive(Debug, Clone)]
pub struct LinearDevice {
    /// (start offset in this device, segment), sorted, contiguous from 0.
    segments: Vec<(u64, LinearSegment)>,
    size: u64,
}

impl LinearDevice {
    /// Concatenate `segments` in order. Every segment must lie inside its device and the
    /// total must not overflow; at most [`LINEAR_MAX_SEGMENTS`] segments.
    pub fn new(segments: Vec<LinearSegment>) -> Result<Self, BlockError> {
        if segments.len() > LINEAR_MAX_SEGMENTS {
            return Err(BlockError::limit(format!(
                "{} segments exceed the limit of {LINEAR_MAX_SEGMENTS}",
                segments.len()
            )));
        }
        let mut out = Vec::with_capacity(segments.len());
        let mut size = 0u64;
        for (i, seg) in segments.into_iter().enumerate() {
            match seg.device_offset.checked_add(seg.len) {
                Some(end) if end <= seg.device.size() => {}
                _ => {
                    return Err(
                        BlockError::out_of_bounds(seg.device_offset, seg.device.size())
                            .with_context(format!("linear segment {i} of {} bytes", seg.len)),
                    )
                }
            }
            if seg.len == 0 {
                continue;
            }
            let start = size;
            size = size
                .checked_add(seg.len)
                .ok_or_else(|| BlockError::corrupt("linear device size overflows"))?;
            out.push((start, seg));
        }
        Ok(Self {
            segments: out,
            size,
        })
    }

    /// The number of (non-empty) segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

impl BlockDevice for LinearDevice {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_bounds(offset, buf.len(), self.size)?;
        let mut done = 0usize;
        let mut pos = offset;
        // Bounded: each step consumes at least one byte of `buf` (segments are non-empty
        // and contiguous, and check_bounds held).
        while done < buf.len() {
            let idx = self
                .segments
                .partition_point(|(start, _)| *start <= pos)
                .saturating_sub(1);
            let Some((start, seg)) = self.segments.get(idx) else {
                return Err(BlockError::out_of_bounds(pos, self.size));
            };
            let within = pos - start;
            let avail = seg.len.saturating_sub(within);
            if avail == 0 {
                return Err(BlockError::out_of_bounds(pos, self.size));
            }
            let n = usize::try_from(avail)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            let dst = buf
                .get_mut(done..done + n)
                .ok_or_else(|| BlockError::out_of_bounds(pos, self.size))?;
            seg.device.read_exact_at(seg.device_offset + within, dst)?;
            done += n;
            pos += n as u64;
        }
        Ok(())
    }
    fn describe(&self) -> String {
        format!(
            "linear device of {} segments, {} bytes",
            self.segments.len(),
            self.size
        )
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::MemDevice;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn counting_counts_bytes_and_ops() {
        let dev = CountingDevice::new(Arc::new(MemDevice::new(vec![0; 4096])));
        let mut b = [0u8; 100];
        dev.read_exact_at(0, &mut b).unwrap();
        dev.read_exact_at(1000, &mut b[..10]).unwrap();
        assert_eq!(dev.stats(), ReadStats { bytes: 110, ops: 2 });
        dev.reset();
        assert_eq!(dev.stats(), ReadStats::default());
    }

    #[test]
    fn cached_reads_equal_inner_and_hit_cache() {
        let data = pattern(3 * CACHE_CHUNK_SIZE as usize + 1234);
        let counting = Arc::new(CountingDevice::new(Arc::new(MemDevice::new(data.clone()))));
        let cached = CachedDevice::with_capacity(counting.clone(), 2);
        // Spanning reads, including the short last chunk.
        for (off, len) in [
            (0usize, 10usize),
            (65530, 20),
            (100_000, 70_000),
            (data.len() - 5, 5),
            (3, 1),
        ] {
            let mut b = vec![0u8; len];
            cached.read_exact_at(off as u64, &mut b).unwrap();
            assert_eq!(b, data[off..off + len], "read {off}+{len}");
        }
        let before = counting.stats().ops;
        let mut b = [0u8; 4];
        cached.read_exact_at(5, &mut b).unwrap();
        assert_eq!(
            counting.stats().ops,
            before,
            "chunk 0 was just used: cache hit"
        );
        assert!(cached.read_exact_at(data.len() as u64 - 1, &mut b).is_err());
        assert!(cached.state.lock().unwrap().chunks.len() <= 2);
    }

    #[test]
    fn linear_maps_segments_in_order() {
        let a: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(pattern(10_000)));
        let b: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(vec![0xee; 5000]));
        let lin = LinearDevice::new(vec![
            LinearSegment {
                device: a.clone(),
                device_offset: 1000,
                len: 3000,
            },
            LinearSegment {
                device: b.clone(),
                device_offset: 0,
                len: 0,
            },
            LinearSegment {
                device: b.clone(),
                device_offset: 100,
                len: 2000,
            },
            LinearSegment {
                device: a.clone(),
                device_offset: 0,
                len: 512,
            },
        ])
        .unwrap();
        assert_eq!(lin.size(), 5512);
        assert_eq!(lin.segment_count(), 3);
        let mut want = pattern(10_000)[1000..4000].to_vec();
        want.extend(vec![0xee; 2000]);
        want.extend(&pattern(10_000)[..512]);
        let mut got = vec![0u8; 5512];
        lin.read_exact_at(0, &mut got).unwrap();
        assert_eq!(got, want);
        let mut mid = [0u8; 10];
        lin.read_exact_at(2995, &mut mid).unwrap();
        assert_eq!(&mid[..], &want[2995..3005]);
        assert!(lin.read_exact_at(5503, &mut mid).is_err());
        let past = LinearDevice::new(vec![LinearSegment {
            device: b,
            device_offset: 4000,
            len: 2000,
        }]);
        assert_eq!(past.unwrap_err().kind(), crate::ErrorKind::OutOfBounds);
    }

    #[test]
    fn views_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<CountingDevice>();
        check::<CachedDevice>();
        check::<LinearDevice>();
        check::<crate::qcow2::Qcow2Image>();
    }
}
