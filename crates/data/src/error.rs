//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while locating, reading, selecting or batching CIFAR-10.
///
/// Variants carry the file, the byte or record counts and the offending field so that a
/// message alone is enough to fix the problem.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading or writing a file failed.
    #[error("I/O error on {}: {source}", .file.display())]
    Io {
        /// The file or directory involved.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file size is not a whole number of records: the file is truncated or has
    /// trailing bytes.
    #[error(
        "{}: {bytes} bytes is not a whole number of {record_size}-byte CIFAR-10 records \
         ({} whole records and {} stray bytes): the file is truncated or has trailing bytes",
        .file.display(), whole_records(.bytes, .record_size), stray_bytes(.bytes, .record_size)
    )]
    Truncated {
        /// The file.
        file: PathBuf,
        /// Its size in bytes.
        bytes: u64,
        /// The size of one record (3073 bytes).
        record_size: usize,
    },
    /// The file holds more records than an official CIFAR-10 batch file (10,000).
    #[error(
        "{}: {bytes} bytes = {records} records, more than the {max_records} of an official \
         CIFAR-10 batch file",
        .file.display()
    )]
    Oversized {
        /// The file.
        file: PathBuf,
        /// Its size in bytes.
        bytes: u64,
        /// Number of records it holds.
        records: u64,
        /// The most records a file may hold.
        max_records: usize,
    },
    /// The file holds no record at all.
    #[error("{}: the file is empty (0 bytes, no CIFAR-10 record)", .file.display())]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// A record's label byte is not a CIFAR-10 class (0..=9).
    #[error("{}: record {record} has label {label}, expected a class in 0..=9", .file.display())]
    BadLabel {
        /// The file (or `<hub>` for downloaded tensors).
        file: PathBuf,
        /// Index of the record inside the file.
        record: usize,
        /// The label byte found.
        label: u32,
    },
    /// A pixel value cannot be converted back to a byte (hub tensors only).
    #[error("{source_name}: value {value} at flat index {index} is not a pixel in [0, 1]")]
    BadPixel {
        /// Where the tensor came from.
        source_name: String,
        /// Index in the flattened tensor.
        index: usize,
        /// The value found.
        value: f32,
    },
    /// No data directory could be found; the message says what to set or download.
    #[error(
        "CIFAR-10 binary files not found. Looked in:\n{tried}\nTo fix, do one of:\n  \
         - pass the directory explicitly (the runner's data-dir flag or config), or\n  \
         - set {env_var}=/path/to/cifar-10-batches-bin, or\n  \
         - put data_batch_1.bin..data_batch_5.bin and test_batch.bin (the \"CIFAR-10 binary \
         version\", https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, extracted) into {}, or\n  \
         - {hub_hint}",
        .cache_dir.display()
    )]
    NotFound {
        /// One line per place looked at, with why it was not used.
        tried: String,
        /// The environment variable to set (`STEPSHARP_DATA`).
        env_var: &'static str,
        /// The cache folder that would be used.
        cache_dir: PathBuf,
        /// How to download (depends on whether the `hub` feature is compiled in).
        hub_hint: &'static str,
    },
    /// A directory was named explicitly (flag, config or environment variable) but lacks files.
    #[error("the data directory {} given by {given_by} lacks {}", .dir.display(), .missing.join(", "))]
    IncompleteSource {
        /// The directory.
        dir: PathBuf,
        /// Who named it ("the explicit path", "$STEPSHARP_DATA", ...).
        given_by: String,
        /// The missing file names.
        missing: Vec<String>,
    },
    /// A file listed in the checksum manifest does not exist.
    #[error("{} is listed in {} but does not exist", .file.display(), .manifest.display())]
    MissingFile {
        /// The missing file.
        file: PathBuf,
        /// The manifest naming it.
        manifest: PathBuf,
    },
    /// A line of the checksum manifest is not `<64 hex digits>  <file name>`.
    #[error("{}: line {line} is not `<sha256 hex>  <file name>`: {content:?}", .manifest.display())]
    BadManifest {
        /// The manifest.
        manifest: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line's text.
        content: String,
    },
    /// A file's SHA-256 differs from the manifest.
    #[error("{}: SHA-256 mismatch: SHA256SUMS says {expected}, file has {found}", .file.display())]
    ChecksumMismatch {
        /// The file.
        file: PathBuf,
        /// Hex digest from the manifest.
        expected: String,
        /// Hex digest of the file.
        found: String,
    },
    /// A configuration value is out of range.
    #[error("invalid {field} = {value}: expected {expected}")]
    InvalidConfig {
        /// Field path, e.g. `train_subset.count`.
        field: String,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A subset asks for more records than the split (or a class) has.
    #[error(
        "{split} subset asks for {requested} records{}, but only {available} are available",
        class_suffix(.class)
    )]
    SubsetTooLarge {
        /// `"train"` or `"test"`.
        split: &'static str,
        /// The class, for class-balanced subsets.
        class: Option<u8>,
        /// Records asked for.
        requested: usize,
        /// Records available.
        available: usize,
    },
    /// A saved batcher state does not belong to the batcher being rebuilt.
    #[error("batcher state has {field} = {state}, but the batcher was configured with {requested}")]
    StateMismatch {
        /// The field that differs.
        field: &'static str,
        /// Value in the saved state.
        state: String,
        /// Value requested now.
        requested: String,
    },
    /// Downloading through the Hugging Face hub failed (feature `hub`).
    #[error("download of CIFAR-10 from the Hugging Face hub failed: {0}")]
    Hub(String),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

fn whole_records(bytes: &u64, record_size: &usize) -> u64 {
    bytes / (*record_size as u64)
}

fn stray_bytes(bytes: &u64, record_size: &usize) -> u64 {
    bytes % (*record_size as u64)
}

fn class_suffix(class: &Option<u8>) -> String {
    class.map(|c| format!(" of class {c}")).unwrap_or_default()
}

impl DataError {
    /// Wraps an I/O error with the file it concerns.
    pub(crate) fn io(file: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            file: file.into(),
            source,
        }
    }

    /// Builds an [`DataError::InvalidConfig`].
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        Self::InvalidConfig {
            field: field.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}
