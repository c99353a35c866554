//! Fixed-width integers read out of on-disk headers, as errors instead of panics when a
//! header is shorter than the field.

use crate::BlockError;

/// The `N` bytes at `at` in `b`, or a "header truncated" error naming `what`.
fn array<const N: usize>(b: &[u8], at: usize, what: &str) -> Result<[u8; N], BlockError> {
    at.checked_add(N)
        .and_then(|end| b.get(at..end))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or_else(|| BlockError::corrupt(format!("{what} truncated")).with_offset(at as u64))
}

/// A little-endian u16 at `at`.
pub(crate) fn le16(b: &[u8], at: usize, what: &str) -> Result<u16, BlockError> {
    array(b, at, what).map(u16::from_le_bytes)
}

/// A little-endian u32 at `at`.
pub(crate) fn le32(b: &[u8], at: usize, what: &str) -> Result<u32, BlockError> {
    array(b, at, what).map(u32::from_le_bytes)
}

/// A little-endian u64 at `at`.
pub(crate) fn le64(b: &[u8], at: usize, what: &str) -> Result<u64, BlockError> {
    array(b, at, what).map(u64::from_le_bytes)
}

/// A big-endian u32 at `at`.
pub(crate) fn be32(b: &[u8], at: usize, what: &str) -> Result<u32, BlockError> {
    array(b, at, what).map(u32::from_be_bytes)
}

/// A big-endian u64 at `at`.
pub(crate) fn be64(b: &[u8], at: usize, what: &str) -> Result<u64, BlockError> {
    array(b, at, what).map(u64::from_be_bytes)
}

/// The 16 bytes of a GUID at `at`, as stored (mixed-endian, compared byte for byte).
pub(crate) fn guid(b: &[u8], at: usize, what: &str) -> Result<[u8; 16], BlockError> {
    array(b, at, what)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_endians_and_fails_past_the_end() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(le32(&b, 0, "t").unwrap(), 0x0403_0201);
        assert_eq!(be32(&b, 4, "t").unwrap(), 0x0506_0708);
        assert_eq!(be64(&b, 0, "t").unwrap(), 0x0102_0304_0506_0708);
        assert!(le64(&b, 1, "t").is_err());
        assert!(guid(&b, 0, "t").is_err());
        assert_eq!(le16(&b, 6, "t").unwrap(), 0x0807);
        assert!(le32(&b, usize::MAX, "t").is_err());
    }
}
