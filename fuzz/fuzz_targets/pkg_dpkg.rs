//! dpkg status parsing on arbitrary bytes. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pkgs) = guestctl_pkgdb::parse_dpkg_status(data) {
        for p in &pkgs {
            let _ = p.full_version();
        }
    }
});
