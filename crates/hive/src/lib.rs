//! guestctl-hive (being written).
