//! pacman desc and ALPM_DB_VERSION parsing on arbitrary bytes. Errors are fine;
//! panics, hangs and OOM are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = guestctl_pkgdb::parse_pacman_desc(data) {
        let _ = p.full_version();
    }
    let _ = guestctl_pkgdb::parse_alpm_db_version(data);
});
