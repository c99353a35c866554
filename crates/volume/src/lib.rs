//! guestctl-volume (being written).
