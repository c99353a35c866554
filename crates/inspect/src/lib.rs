//! guestctl-inspect: what is inside a VM disk image — operating systems, their
//! versions, hostnames, architectures, mountpoints and installed packages — read
//! in userspace, read-only, without booting or mounting anything.
//!
//! The five operations, each a public function the perf suite calls directly:
//!
//! 1. [`launch()`] — open an image (raw, qcow2), scan its partitions and LVM, probe
//!    every volume → [`Launched`] (its [`Launched::filesystems`] is
//!    `guestctl filesystems`).
//! 2. [`inspect_os`] — find and describe every OS (libguestfs's rules) →
//!    [`Inspection`] with [`OperatingSystem`]s, field names as virt-inspector's.
//! 3. [`list_applications`] — the installed packages of one OS (dpkg, rpm sqlite,
//!    apk, pacman through `guestctl-pkgdb`).
//! 4. [`Cache::lookup`] — a cached [`Inspection`] for an unchanged image.
//! 5. [`batch()`] — many images on a bounded pool, results in input order.
//!
//! [`inspect_image`] chains them for one image (cache → launch → inspect → store).
//! Paths inside a guest are resolved by [`GuestFs`], which follows symlinks itself
//! and never leaves the guest.
//!
//! ```
//! use guestctl_inspect::{GuestFs, MemFs, os::detect_release};
//! use std::sync::Arc;
//! let root = MemFs::new("ext4")
//!     .file("/usr/lib/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n")
//!     .symlink("/etc/os-release", "../usr/lib/os-release");
//! let g = GuestFs::with_root("/dev/sda1", Arc::new(root));
//! let r = detect_release(&g);
//! assert_eq!(r.distro.as_deref(), Some("ubuntu"));
//! assert_eq!(r.version, Some((24, 4)));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod cache;
mod error;
pub mod guestfs;
pub mod launch;
mod memfs;
pub mod os;
pub mod packages;
pub mod release;
mod types;
pub mod windows;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests;

pub use batch::{batch, BatchItem, BatchOptions};
pub use cache::{Cache, CacheKey};
pub use error::{ErrorKind, InspectError};
pub use guestfs::GuestFs;
pub use launch::{launch, LaunchOptions, Launched, ProbedVolume};
pub use memfs::MemFs;
pub use os::{inspect_os, InspectOptions};
pub use packages::list_applications;
pub use types::{
    Application, Diagnostic, FilesystemInfo, Inspection, Mountpoint, OperatingSystem,
    SCHEMA_VERSION,
};

use std::path::Path;

/// How [`inspect_image`] works on one image.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// How the image is opened.
    pub launch: LaunchOptions,
    /// What is inspected.
    pub inspect: InspectOptions,
    /// The cache to consult and fill; `None` bypasses it (`--no-cache`).
    pub cache: Option<Cache>,
}

impl ImageOptions {
    /// The options that change the result, as stored in the cache key.
    pub fn cache_options(&self) -> String {
        format!(
            "packages={},allow_backing={}",
            self.inspect.packages, self.launch.allow_backing
        )
    }
}

/// Inspect one image: a cache hit if there is one, otherwise launch + OS inspection
/// (+ packages), stored in the cache. Fails when the image cannot be read or holds
/// nothing recognisable; an image with filesystems but no OS gives an
/// [`Inspection`] with no operating systems.
pub fn inspect_image(path: &Path, opts: &ImageOptions) -> Result<Inspection, InspectError> {
    let key_opts = opts.cache_options();
    let key = match &opts.cache {
        Some(cache) => {
            if let Some(hit) = cache.lookup(path, &key_opts) {
                return Ok(hit);
            }
            Cache::key(path, &key_opts).ok()
        }
        None => None,
    };
    let launched = launch(path, &opts.launch)?;
    if let Some(e) = os::nothing_found(&launched) {
        return Err(e);
    }
    let inspection = inspect_os(&launched, &opts.inspect);
    if let (Some(cache), Some(key)) = (&opts.cache, key) {
        if !has_backing_file(path) {
            // A cache that cannot be written only costs speed next time.
            let _ = cache.put(&key, &inspection);
        }
    }
    Ok(inspection)
}

/// The installed packages of the first operating system of a launched image (the
/// perf suite's `package_listing`): assemble its namespace, find its package
/// format, and list. Fails when there is no OS or its database cannot be read.
pub fn list_packages(launched: &Launched) -> Result<Vec<Application>, InspectError> {
    let g = os::os_namespace(launched, None)?;
    let info = os::detect_release(&g);
    let format = info
        .distro
        .as_deref()
        .and_then(release::package_format)
        .ok_or_else(|| {
            InspectError::new(
                ErrorKind::Unsupported,
                launched.image.display().to_string(),
                "unknown package format",
            )
        })?;
    Ok(list_applications(&g, format)?.0)
}

/// Whether the image is a qcow2 naming a backing file (not cached: the backing
/// file can change without the image changing).
fn has_backing_file(path: &Path) -> bool {
    let Ok(f) = guestctl_block::FileDevice::open(path) else {
        return true;
    };
    match guestctl_block::detect_format(&f) {
        Ok(guestctl_block::ImageFormat::Qcow2) => {
            !matches!(guestctl_block::read_qcow2_header(&f), Ok((_, None)))
        }
        Ok(_) => false,
        Err(_) => true,
    }
}
