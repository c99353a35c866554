//! Error type of the hive reader.

/// What went wrong, in one word.
///
/// Not `#[non_exhaustive]`: the inspector maps every kind with an exhaustive
/// `match`, so a new kind is a compile error there instead of silently becoming
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveErrorKind {
    /// The hive is malformed.
    Corrupt,
    /// A valid hive this reader does not handle (version, file type).
    Unsupported,
    /// A bound of this reader was exceeded (depth, sizes).
    LimitExceeded,
}

/// An error reading a registry hive. Offsets are relative to the start of the
/// hive bins data (file offset − 4096), as the format stores them, unless named
/// `file_offset`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    /// The file is shorter than the 4096-byte base block plus one hive bin.
    #[error("hive of {len} bytes is too short")]
    TooShort {
        /// File length.
        len: usize,
    },
    /// The base block does not start with `regf`.
    #[error("bad base block signature (not a regf hive)")]
    BaseSignature,
    /// The base block checksum does not match.
    #[error("base block checksum {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// Checksum stored at offset 508.
        stored: u32,
        /// XOR of the first 127 dwords.
        computed: u32,
    },
    /// Unsupported version or file type.
    #[error("unsupported hive: {what} = {value}")]
    Unsupported {
        /// Field name.
        what: &'static str,
        /// Value found.
        value: u32,
    },
    /// The hive bins data size is zero, not a multiple of 4096, or past the end of the file.
    #[error("hive bins data size {size} invalid for a file of {file_len} bytes")]
    BinsSize {
        /// Size from the base block.
        size: u32,
        /// File length.
        file_len: usize,
    },
    /// A hive bin header is malformed.
    #[error("hive bin at offset {offset}: {reason}")]
    Hbin {
        /// Offset of the bin.
        offset: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// A cell offset is not 8-aligned or does not fall inside a hive bin.
    #[error("cell offset {offset:#x} outside the hive bins")]
    CellOffset {
        /// The offset.
        offset: u32,
    },
    /// A cell's size is too small, misaligned, or runs past its hive bin.
    #[error("cell at {offset:#x}: bad size {size}")]
    CellSize {
        /// Cell offset.
        offset: u32,
        /// Size field.
        size: i32,
    },
    /// A referenced cell is marked free.
    #[error("cell at {offset:#x} is free but referenced")]
    FreeCell {
        /// Cell offset.
        offset: u32,
    },
    /// A cell does not have the expected signature.
    #[error("cell at {offset:#x}: expected {expected}, found {found:?}")]
    CellType {
        /// Cell offset.
        offset: u32,
        /// Expected signature(s).
        expected: &'static str,
        /// Found signature bytes.
        found: [u8; 2],
    },
    /// A record is shorter than its fixed part, or a name/list/data runs past its cell.
    #[error("cell at {offset:#x}: {what} runs past the cell")]
    Truncated {
        /// Cell offset.
        offset: u32,
        /// What does not fit.
        what: &'static str,
    },
    /// A key is its own ancestor.
    #[error("key cycle: cell {offset:#x} is its own ancestor")]
    Cycle {
        /// Offending key cell.
        offset: u32,
    },
    /// A bound of this reader was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
}

impl HiveError {
    /// The broad kind of this error.
    pub fn kind(&self) -> HiveErrorKind {
        match self {
            HiveError::Unsupported { .. } => HiveErrorKind::Unsupported,
            HiveError::LimitExceeded { .. } => HiveErrorKind::LimitExceeded,
            HiveError::TooShort { .. }
            | HiveError::BaseSignature
            | HiveError::Checksum { .. }
            | HiveError::BinsSize { .. }
            | HiveError::Hbin { .. }
            | HiveError::CellOffset { .. }
            | HiveError::CellSize { .. }
            | HiveError::FreeCell { .. }
            | HiveError::CellType { .. }
            | HiveError::Truncated { .. }
            | HiveError::Cycle { .. } => HiveErrorKind::Corrupt,
        }
    }
}
