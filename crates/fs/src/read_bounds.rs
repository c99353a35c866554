//! The checks every driver makes before reading a whole file into memory, so
//! that what is allocated is bounded before the first byte is read.

use crate::{FsError, FsErrorKind};

/// Refuse to read into memory a file of `len` bytes whose data could not fit
/// on the `dev_size`-byte device holding it. Such a file is mostly holes (its
/// size was forged, or it is legitimately sparse): reading it whole would
/// allocate up to its size in zeros, gigabytes from a small image. The check
/// makes memory bounded by the image, whatever size an inode claims; a caller
/// that wants the bytes of a big sparse file streams them with
/// [`Filesystem::read_file_chunks`](crate::Filesystem::read_file_chunks).
pub(crate) fn check_fits_device(len: u64, dev_size: u64, path: &str) -> Result<(), FsError> {
    if len > dev_size {
        return Err(FsError::new(
            FsErrorKind::LimitExceeded,
            path,
            format!(
                "file is {len} bytes, larger than the {dev_size}-byte device holding it \
                 (a sparse or forged size): not read into memory"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_larger_than_its_device_is_refused() {
        assert!(check_fits_device(4096, 4096, "/a").is_ok());
        let e = check_fits_device(1_000_000_000, 10 << 20, "/var/lib/dpkg/status");
        let e = e.err().map(|e| (e.kind, e.to_string()));
        assert_eq!(
            e,
            Some((
                FsErrorKind::LimitExceeded,
                "/var/lib/dpkg/status: file is 1000000000 bytes, larger than the \
                 10485760-byte device holding it (a sparse or forged size): not read into memory"
                    .to_string()
            ))
        );
    }
}
