//! A tiny synthetic CIFAR-shaped data set for tests that must not need the real files.

use crate::DataError;
use crate::checksum::write_checksums;
use crate::format::{
    CifarRecords, IMAGE_BYTES, MAX_RECORDS_PER_FILE, NUM_CLASSES, TEST_FILE, TRAIN_FILES,
    write_batch_file,
};
use crate::rng::chacha;
use rand::RngCore;
use std::path::Path;

/// `n` records with ChaCha8 pixels and labels `(first_label + k) mod 10`.
fn synthetic(n: usize, first_label: usize, rng: &mut impl RngCore) -> CifarRecords {
    let mut images = vec![0u8; n * IMAGE_BYTES];
    rng.fill_bytes(&mut images);
    let labels = (0..n)
        .map(|k| ((first_label + k) % NUM_CLASSES) as u8)
        .collect();
    CifarRecords { images, labels }
}

/// Writes a synthetic CIFAR-10 directory: `data_batch_1.bin` … `data_batch_5.bin` with
/// `train_records_per_file` records each, `test_batch.bin` with `test_records`, and
/// `SHA256SUMS`, all in the official binary format.
///
/// Pixels are uniform random bytes from a ChaCha8 stream keyed by `seed`; labels cycle over all
/// 10 classes across the whole split (train record i has label i mod 10, test record j has
/// label j mod 10), so every class is present once a split has ≥ 10 records. Creates `dir` if
/// needed. Both counts must be in 1..=10000.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// let dir = tempfile::tempdir().unwrap();
/// stepsharp_data::write_fixture(dir.path(), 12, 5, 42)?;
/// let second = stepsharp_data::read_batch_file(&dir.path().join("data_batch_2.bin"))?;
/// assert_eq!(second.len(), 12);
/// assert_eq!(second.labels[0], 2); // record 12 of the training split
/// # Ok(()) }
/// ```
pub fn write_fixture(
    dir: &Path,
    train_records_per_file: usize,
    test_records: usize,
    seed: u64,
) -> Result<(), DataError> {
    let range = format!("1..={MAX_RECORDS_PER_FILE}");
    if !(1..=MAX_RECORDS_PER_FILE).contains(&train_records_per_file) {
        return Err(DataError::invalid(
            "train_records_per_file",
            train_records_per_file,
            range,
        ));
    }
    if !(1..=MAX_RECORDS_PER_FILE).contains(&test_records) {
        return Err(DataError::invalid("test_records", test_records, range));
    }
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let mut rng = chacha("stepsharp-data fixture", seed, 0);
    for (k, name) in TRAIN_FILES.iter().enumerate() {
        let records = synthetic(train_records_per_file, k * train_records_per_file, &mut rng);
        write_batch_file(&dir.join(name), &records)?;
    }
    write_batch_file(&dir.join(TEST_FILE), &synthetic(test_records, 0, &mut rng))?;
    let mut names: Vec<&str> = TRAIN_FILES.to_vec();
    names.push(TEST_FILE);
    write_checksums(dir, &names)
}
