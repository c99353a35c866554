//! rpm header parsing (and the sqlite rpmdb loader when the input looks like
//! sqlite) on arbitrary bytes. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

use guestctl_pkgdb::rpm::{TAG_ARCH, TAG_NAME, TAG_SUMMARY};
use guestctl_pkgdb::{read_rpmdb_sqlite, RpmHeader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = RpmHeader::parse(data) {
        let _ = h.to_package();
        let _ = h.string(TAG_NAME);
        let _ = h.string(TAG_ARCH);
        let _ = h.i18n_string(TAG_SUMMARY);
        for e in h.entries() {
            let _ = h.string_array(e.tag);
            let _ = h.u32(e.tag);
        }
    }
    if data.starts_with(b"SQLite format 3\0") {
        let _ = read_rpmdb_sqlite(data);
    }
});
