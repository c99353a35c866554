//! guestctl-stats (being written).
