//! The system tools the generator drives (`mke2fs`, `e2fsck`, `sfdisk`,
//! `mkfs.fat`, `mcopy`, `qemu-img`): finding them, running them, and turning their failures
//! into [`MockDiskError`]s.

use crate::error::MockDiskError;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A program and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program name.
    pub program: &'static str,
    /// The Debian package.
    pub package: &'static str,
}

/// Makes ext2/3/4 filesystems from a directory (`-d`).
pub const MKE2FS: Tool = Tool {
    program: "mke2fs",
    package: "e2fsprogs",
};
/// Indexes (hash-tree) and compacts the directories of a made ext filesystem (`-D`).
pub const E2FSCK: Tool = Tool {
    program: "e2fsck",
    package: "e2fsprogs",
};
/// Writes partition tables from a script.
pub const SFDISK: Tool = Tool {
    program: "sfdisk",
    package: "fdisk",
};
/// Makes FAT filesystems at an offset (`--offset`).
pub const MKFS_FAT: Tool = Tool {
    program: "mkfs.fat",
    package: "dosfstools",
};
/// Copies files into a FAT filesystem inside an image (`-i img@@offset`).
pub const MCOPY: Tool = Tool {
    program: "mcopy",
    package: "mtools",
};
/// Converts raw to qcow2.
pub const QEMU_IMG: Tool = Tool {
    program: "qemu-img",
    package: "qemu-utils",
};

/// Every tool, for `guestctl mock-disk doctor`-style listings.
pub const ALL: [Tool; 6] = [MKE2FS, E2FSCK, SFDISK, MKFS_FAT, MCOPY, QEMU_IMG];

/// Where tools are looked for: the directories of `$PATH`, then `/usr/sbin` and
/// `/sbin` (Debian leaves those off an ordinary user's PATH, where mke2fs lives).
pub fn default_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for extra in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = PathBuf::from(extra);
        if !dirs.contains(&p) {
            dirs.push(p);
        }
    }
    dirs
}

/// The full path of `tool`, searched in `dirs`.
pub fn find(tool: Tool, dirs: &[PathBuf]) -> Result<PathBuf, MockDiskError> {
    use std::os::unix::fs::PermissionsExt;
    dirs.iter()
        .map(|d| d.join(tool.program))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .ok_or_else(|| MockDiskError::MissingTool {
            tool: tool.program.to_string(),
            package: tool.package.to_string(),
        })
}

/// Run a prepared command with stdin from `input` (or nothing), capturing its
/// output; a non-zero exit becomes [`MockDiskError::ToolFailed`].
pub fn run(cmd: &mut Command, input: Option<&[u8]>) -> Result<String, MockDiskError> {
    run_accepting(cmd, input, &[0])
}

/// [`run`] for a tool whose exit codes `ok` all mean success (e2fsck exits 1
/// when it changed the filesystem); any other exit, or a death by signal,
/// becomes [`MockDiskError::ToolFailed`].
pub fn run_accepting(
    cmd: &mut Command,
    input: Option<&[u8]>,
    ok: &[i32],
) -> Result<String, MockDiskError> {
    use std::io::Write;
    let line = command_line(cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| MockDiskError::ToolFailed {
        command: line.clone(),
        status: "could not start".into(),
        stderr: e.to_string(),
    })?;
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        // A tool that exits early closes its stdin; its exit status tells why.
        let _ = stdin.write_all(data);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| MockDiskError::ToolFailed {
            command: line.clone(),
            status: "could not wait".into(),
            stderr: e.to_string(),
        })?;
    if out.status.code().is_some_and(|c| ok.contains(&c)) {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if stderr.is_empty() {
            stderr = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        Err(MockDiskError::ToolFailed {
            command: line,
            status: out.status.to_string(),
            stderr,
        })
    }
}

fn command_line(cmd: &Command) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./,:@+".contains(c))
        {
            s.into_owned()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let prog = Path::new(cmd.get_program())
        .file_name()
        .map(quote)
        .unwrap_or_default();
    std::iter::once(prog)
        .chain(cmd.get_args().map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn missing_tool_names_the_package() {
        let e = find(MKE2FS, &[PathBuf::from("/nonexistent")]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("mke2fs") && msg.contains("e2fsprogs"), "{msg}");
    }

    #[test]
    fn failure_carries_command_and_stderr() {
        let e = run(
            Command::new("sh").args(["-c", "echo oops >&2; exit 3"]),
            None,
        )
        .unwrap_err();
        match e {
            MockDiskError::ToolFailed {
                command, stderr, ..
            } => {
                assert_eq!(command, "sh -c 'echo oops >&2; exit 3'");
                assert_eq!(stderr, "oops");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn accepted_exit_codes_are_success_and_others_are_not() {
        let sh = |code: i32| {
            let mut c = Command::new("sh");
            c.args(["-c", &format!("echo out; echo err >&2; exit {code}")]);
            c
        };
        assert_eq!(run_accepting(&mut sh(1), None, &[0, 1]).unwrap(), "out\n");
        assert!(run_accepting(&mut sh(0), None, &[0, 1]).is_ok());
        match run_accepting(&mut sh(4), None, &[0, 1]).unwrap_err() {
            MockDiskError::ToolFailed { status, stderr, .. } => {
                assert!(status.contains('4'), "{status}");
                assert_eq!(stderr, "err");
            }
            other => panic!("{other}"),
        }
        assert!(run(&mut sh(1), None).is_err());
        // Killed by a signal: no exit code, never success.
        let mut killed = Command::new("sh");
        killed.args(["-c", "kill -9 $$"]);
        assert!(run_accepting(&mut killed, None, &[0, 1]).is_err());
    }
}
