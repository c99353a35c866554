//! guestctl-inspect (being written).
