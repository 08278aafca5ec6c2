//! The CIFAR-10 binary format: reader and writer.
//!
//! Each record is 1 label byte followed by 3072 pixel bytes: the 1024 red values, then the
//! 1024 green, then the 1024 blue, each plane a 32×32 image in row-major order
//! (Krizhevsky 2009, "CIFAR-10 binary version").

use crate::DataError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Image side length in pixels (32).
pub const IMAGE_SIDE: usize = 32;
/// Colour channels per image (3: R, G, B).
pub const CHANNELS: usize = 3;
/// Bytes of pixels per record: 3 × 32 × 32 = 3072.
pub const IMAGE_BYTES: usize = CHANNELS * IMAGE_SIDE * IMAGE_SIDE;
/// Bytes per record: 1 label byte + 3072 pixel bytes = 3073.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Number of classes (10); labels must be below this.
pub const NUM_CLASSES: usize = 10;
/// The most records one batch file may hold: 10,000, as in every official file.
pub const MAX_RECORDS_PER_FILE: usize = 10_000;
/// Training files in order; their concatenation is the training set.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test file.
pub const TEST_FILE: &str = "test_batch.bin";
/// Name of the folder the official tarball unpacks to, and of the data folder inside the cache
/// root.
pub const CACHE_SUBDIR: &str = "cifar-10-batches-bin";

/// Which part of CIFAR-10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training set: `data_batch_1.bin` … `data_batch_5.bin`, concatenated in order.
    Train,
    /// The test set: `test_batch.bin` (the local copy holds only its first 1,000 records).
    Test,
}

impl Split {
    /// The file names of this split, in order.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            Split::Train => &TRAIN_FILES,
            Split::Test => std::slice::from_ref(&TEST_FILE),
        }
    }

    /// `"train"` or `"test"`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// Decoded CIFAR-10 records, kept as raw bytes.
///
/// `images` holds `len() × 3072` bytes: per record the R plane, then G, then B, each 32×32
/// row-major (exactly the file layout without label bytes). `labels` holds one class in 0..=9
/// per record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CifarRecords {
    /// Pixel bytes, `len() × 3072`, record-major.
    pub images: Vec<u8>,
    /// Class labels in 0..=9.
    pub labels: Vec<u8>,
}

impl CifarRecords {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 3072 pixel bytes of record `i` (panics if out of range).
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES]
    }

    /// Appends all records of `other`.
    pub fn extend(&mut self, other: &CifarRecords) {
        self.images.extend_from_slice(&other.images);
        self.labels.extend_from_slice(&other.labels);
    }

    /// Keeps the first `n` records (no-op if there are fewer).
    pub fn truncate(&mut self, n: usize) {
        self.labels.truncate(n);
        self.images.truncate(n * IMAGE_BYTES);
    }

    /// The records at `indices`, in that order (panics if one is out of range).
    pub fn gather(&self, indices: &[usize]) -> CifarRecords {
        let mut out = CifarRecords {
            images: Vec::with_capacity(indices.len() * IMAGE_BYTES),
            labels: Vec::with_capacity(indices.len()),
        };
        for &i in indices {
            out.images.extend_from_slice(self.image(i));
            out.labels.push(self.labels[i]);
        }
        out
    }

    /// Encodes the records in the binary file format (label byte + 3072 pixel bytes each).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * RECORD_BYTES);
        for (i, &label) in self.labels.iter().enumerate() {
            out.push(label);
            out.extend_from_slice(self.image(i));
        }
        out
    }
}

/// Checks a file size: a whole number of records, 1 to 10,000 of them; returns the count.
pub(crate) fn record_count(file: &Path, bytes: u64) -> Result<usize, DataError> {
    let record = RECORD_BYTES as u64;
    if bytes == 0 {
        return Err(DataError::Empty { file: file.into() });
    }
    if !bytes.is_multiple_of(record) {
        return Err(DataError::Truncated {
            file: file.into(),
            bytes,
            record_size: RECORD_BYTES,
        });
    }
    let records = bytes / record;
    if records > MAX_RECORDS_PER_FILE as u64 {
        return Err(DataError::Oversized {
            file: file.into(),
            bytes,
            records,
            max_records: MAX_RECORDS_PER_FILE,
        });
    }
    Ok(records as usize)
}

/// Decodes the bytes of a whole batch file (size and labels checked; `file` names errors).
pub fn parse_batch_bytes(file: &Path, bytes: &[u8]) -> Result<CifarRecords, DataError> {
    let mut out = CifarRecords::default();
    parse_into(file, bytes, &mut out)?;
    Ok(out)
}

/// Decodes a whole batch file and appends its records to `out` (unchanged on error).
pub(crate) fn parse_into(
    file: &Path,
    bytes: &[u8],
    out: &mut CifarRecords,
) -> Result<(), DataError> {
    let n = record_count(file, bytes.len() as u64)?;
    for (record, chunk) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = chunk[0];
        if usize::from(label) >= NUM_CLASSES {
            return Err(DataError::BadLabel {
                file: file.into(),
                record,
                label: label.into(),
            });
        }
    }
    out.labels.reserve(n);
    out.images.reserve(n * IMAGE_BYTES);
    for chunk in bytes.chunks_exact(RECORD_BYTES) {
        out.labels.push(chunk[0]);
        out.images.extend_from_slice(&chunk[1..]);
    }
    Ok(())
}

/// Reads one CIFAR-10 binary batch file.
///
/// Accepts any whole number of records from 1 to 10,000 (the local `test_batch.bin` has
/// 1,000). Rejects a size that is not a multiple of 3073 bytes ([`DataError::Truncated`]),
/// more than 10,000 records ([`DataError::Oversized`]), an empty file and labels ≥ 10
/// ([`DataError::BadLabel`]); every error names the file.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// let dir = tempfile::tempdir().unwrap();
/// stepsharp_data::write_fixture(dir.path(), 20, 7, 0)?;
/// let test = stepsharp_data::read_batch_file(&dir.path().join("test_batch.bin"))?;
/// assert_eq!(test.len(), 7);
/// assert_eq!(test.labels, [0, 1, 2, 3, 4, 5, 6]);
/// # Ok(()) }
/// ```
pub fn read_batch_file(path: &Path) -> Result<CifarRecords, DataError> {
    let bytes = read_file_checked(path)?;
    parse_batch_bytes(path, &bytes)
}

/// Reads a whole file after checking its size from metadata (so a huge wrong file is never
/// loaded into memory).
pub(crate) fn read_file_checked(path: &Path) -> Result<Vec<u8>, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    record_count(path, meta.len())?;
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Writes records as one batch file in the official binary format.
///
/// The file is written to a temporary name next to `path` and renamed, so a reader never sees
/// a half-written file.
pub fn write_batch_file(path: &Path, records: &CifarRecords) -> Result<(), DataError> {
    write_atomically(path, &records.to_bytes())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let tmp: PathBuf = {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".tmp-{}", std::process::id()));
        path.with_file_name(name)
    };
    let mut file = std::fs::File::create(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| DataError::io(&tmp, e))?;
    file.sync_all().map_err(|e| DataError::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| DataError::io(path, e))
}
