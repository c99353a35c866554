//! Opening a host file as an image input: read-only, without ever blocking, and
//! only when it is a regular file or a block device.
//!
//! `open(2)` of a FIFO with no writer blocks forever, so the file is opened with
//! `O_NONBLOCK` (which changes nothing for regular files and block devices) and
//! its type is checked on the opened descriptor, not on the path (which could be
//! swapped between a check and the open). Anything else (a character device such
//! as `/dev/zero`, a FIFO, a socket, a directory) is refused with a message naming
//! what it is.

use crate::{BlockError, ErrorKind};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// An input opened for reading, with its size in bytes.
#[derive(Debug)]
pub struct OpenedInput {
    /// The open file (a regular file or a block device).
    pub file: File,
    /// Its size: the file's length, or the block device's capacity.
    pub size: u64,
}

/// Open `path` read-only as an image input (see the module doc). Errors do not
/// repeat the path: callers name the image.
pub fn open_input(path: &Path) -> Result<OpenedInput, BlockError> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| open_error(&e).unwrap_or_else(|| BlockError::io(e)))?;
    let meta = file.metadata().map_err(BlockError::io)?;
    let ft = meta.file_type();
    let size = if ft.is_file() {
        meta.len()
    } else if ft.is_block_device() {
        file.seek(SeekFrom::End(0)).map_err(BlockError::io)?
    } else {
        return Err(not_an_image(if ft.is_dir() {
            "a directory"
        } else if ft.is_char_device() {
            "a character device (such as /dev/zero or a terminal)"
        } else if ft.is_fifo() {
            "a FIFO (named pipe)"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "a special file"
        }));
    };
    Ok(OpenedInput { file, size })
}

fn not_an_image(what: &str) -> BlockError {
    BlockError::new(
        ErrorKind::Unsupported,
        format!("is {what}, not a disk image (give a regular file or a block device)"),
    )
}

/// The error of opening an input, saying what the user can do about it; `None`
/// for an error with nothing to add to the system's own message.
fn open_error(e: &std::io::Error) -> Option<BlockError> {
    let (kind, what) = match e.raw_os_error() {
        Some(libc::ENOENT) => (
            ErrorKind::NotFound,
            "no such file (give the path of a raw or qcow2 disk image)",
        ),
        Some(libc::EACCES | libc::EPERM) => (
            ErrorKind::Io,
            "permission denied (guestctl needs read access only; check the file's mode)",
        ),
        Some(libc::ELOOP) => (
            ErrorKind::NotFound,
            "symlink loop (too many levels of symbolic links): the path never reaches a file",
        ),
        // A socket cannot be opened at all.
        Some(libc::ENXIO) => return Some(not_an_image("a socket or a device that is not there")),
        Some(libc::EISDIR) => return Some(not_an_image("a directory")),
        _ => return None,
    };
    Some(BlockError::new(kind, what))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn refusal(path: &Path) -> String {
        open_input(path).unwrap_err().to_string()
    }

    #[test]
    fn special_files_are_refused_without_blocking_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        // A FIFO with no writer: open(2) without O_NONBLOCK would wait forever.
        let Some(mkfifo) = guestctl_testkit::tool("mkfifo") else {
            return;
        };
        let fifo = tmp.path().join("fifo");
        let made = std::process::Command::new(mkfifo).arg(&fifo).status();
        assert!(made.unwrap().success());
        assert!(refusal(&fifo).contains("is a FIFO (named pipe), not a disk image"));
        assert!(refusal(Path::new("/dev/zero")).contains("is a character device"));
        let sock = tmp.path().join("sock");
        let _listener = UnixListener::bind(&sock).unwrap();
        assert!(refusal(&sock).contains("is a socket"), "{}", refusal(&sock));
        assert!(refusal(tmp.path()).contains("is a directory"));
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let e = open_input(&a).unwrap_err();
        assert!(e.to_string().contains("symlink loop"), "{e}");
        let e = open_input(&tmp.path().join("missing")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("no such file"), "{e}");
    }

    #[test]
    fn regular_files_open_with_their_size() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("img");
        std::fs::write(&f, vec![0u8; 3000]).unwrap();
        assert_eq!(open_input(&f).unwrap().size, 3000);
    }
}
