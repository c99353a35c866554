//! guestctl-pkgdb (being written).
