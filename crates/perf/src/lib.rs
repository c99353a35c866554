//! guestctl-perf (being written).
