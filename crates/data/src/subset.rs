//! Which records of a split are used, and reading only the files a subset needs.

use crate::DataError;
use crate::checksum::{Entry, check_listed};
use crate::format::{CifarRecords, NUM_CLASSES, Split, parse_into, read_file_checked};
use crate::rng::{chacha, sample_sorted};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A selection of records from a split (train: the 50,000 records of `data_batch_1..5.bin` in
/// file order; test: the records of `test_batch.bin`).
///
/// TOML: `train_subset = { kind = "first", count = 5000 }`, `{ kind = "all" }`,
/// `{ kind = "class_balanced_first", count = 5000 }`, `{ kind = "random", count = 5000, seed = 0 }`.
/// Selected records keep file order (a random subset is sorted by record index).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Subset {
    /// Every record of the split.
    All,
    /// The first `count` records (Cohen et al. 2021: the first 5000 CIFAR-10 training images).
    /// Only the files holding them are read.
    First {
        /// Number of records, ≥ 1.
        count: usize,
    },
    /// The first `count / 10` records of each class, in file order; `count` a multiple of 10.
    /// Files are read in order until every class is filled.
    ClassBalancedFirst {
        /// Total number of records, a positive multiple of 10.
        count: usize,
    },
    /// `count` distinct records drawn uniformly with a seeded ChaCha8 stream.
    Random {
        /// Number of records, ≥ 1.
        count: usize,
        /// Seed of the draw.
        seed: u64,
    },
}

impl Subset {
    /// Checks the counts; `field` is the config path used in the error (e.g. `train_subset`).
    pub fn validate(&self, field: &str) -> Result<(), DataError> {
        match *self {
            Subset::All => Ok(()),
            Subset::First { count } | Subset::Random { count, .. } if count == 0 => Err(
                DataError::invalid(format!("{field}.count"), count, "at least 1"),
            ),
            Subset::ClassBalancedFirst { count }
                if count == 0 || !count.is_multiple_of(NUM_CLASSES) =>
            {
                Err(DataError::invalid(
                    format!("{field}.count"),
                    count,
                    "a positive multiple of 10 (equal records per class)",
                ))
            }
            _ => Ok(()),
        }
    }

    /// A short human-readable description, e.g. `first 5000`.
    pub fn describe(&self) -> String {
        match self {
            Subset::All => "all".to_string(),
            Subset::First { count } => format!("first {count}"),
            Subset::ClassBalancedFirst { count } => {
                format!(
                    "class-balanced first {count} ({} per class)",
                    count / NUM_CLASSES
                )
            }
            Subset::Random { count, seed } => format!("random {count} (seed {seed})"),
        }
    }
}

/// The selected records of one split and how they were obtained.
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    /// The selected records, in `indices` order.
    pub(crate) records: CifarRecords,
    /// Index of each selected record within the split.
    pub(crate) indices: Vec<usize>,
    /// Files read / files in the split.
    pub(crate) files_read: usize,
    pub(crate) files_total: usize,
    /// Files whose SHA-256 was checked against the manifest.
    pub(crate) files_verified: usize,
    /// Records in the files that were read.
    pub(crate) records_read: usize,
}

/// Reads the files of a split in order, one at a time, verifying listed checksums.
struct SplitReader<'a> {
    dir: &'a Path,
    split: Split,
    manifest: Option<&'a [Entry]>,
    loaded: CifarRecords,
    files_read: usize,
    files_verified: usize,
}

impl SplitReader<'_> {
    /// Reads the next file; `false` when all are read.
    fn read_next(&mut self) -> Result<bool, DataError> {
        let Some(name) = self.split.files().get(self.files_read) else {
            return Ok(false);
        };
        let path = self.dir.join(name);
        let bytes = read_file_checked(&path)?;
        if let Some(manifest) = self.manifest
            && check_listed(self.dir, manifest, name, &bytes)?
        {
            self.files_verified += 1;
        }
        parse_into(&path, &bytes, &mut self.loaded)?;
        self.files_read += 1;
        Ok(true)
    }

    fn read_all(&mut self) -> Result<(), DataError> {
        while self.read_next()? {}
        Ok(())
    }
}

/// First `per_class` indices of each class in `labels`; `Err(class, found)` if one is short.
fn balanced_indices(labels: &[u8], per_class: usize) -> Result<Vec<usize>, (u8, usize)> {
    let mut taken = [0usize; NUM_CLASSES];
    let mut out = Vec::with_capacity(per_class * NUM_CLASSES);
    for (i, &label) in labels.iter().enumerate() {
        let slot = &mut taken[usize::from(label)];
        if *slot < per_class {
            *slot += 1;
            out.push(i);
        }
    }
    match taken.iter().position(|&t| t < per_class) {
        Some(class) => Err((class as u8, taken[class])),
        None => Ok(out),
    }
}

/// Reads what `subset` needs from `split` in `dir` and selects its records.
pub(crate) fn select(
    dir: &Path,
    split: Split,
    subset: &Subset,
    manifest: Option<&[Entry]>,
) -> Result<Selection, DataError> {
    let mut reader = SplitReader {
        dir,
        split,
        manifest,
        loaded: CifarRecords::default(),
        files_read: 0,
        files_verified: 0,
    };
    let too_large = |class, requested, available| DataError::SubsetTooLarge {
        split: split.name(),
        class,
        requested,
        available,
    };
    let indices: Vec<usize> = match *subset {
        Subset::All => {
            reader.read_all()?;
            (0..reader.loaded.len()).collect()
        }
        Subset::First { count } => {
            while reader.loaded.len() < count && reader.read_next()? {}
            if reader.loaded.len() < count {
                return Err(too_large(None, count, reader.loaded.len()));
            }
            (0..count).collect()
        }
        Subset::ClassBalancedFirst { count } => {
            let per_class = count / NUM_CLASSES;
            loop {
                match balanced_indices(&reader.loaded.labels, per_class) {
                    Ok(indices) => break indices,
                    Err((class, found)) => {
                        if !reader.read_next()? {
                            return Err(too_large(Some(class), per_class, found));
                        }
                    }
                }
            }
        }
        Subset::Random { count, seed } => {
            reader.read_all()?;
            let n = reader.loaded.len();
            if n < count {
                return Err(too_large(None, count, n));
            }
            sample_sorted(n, count, &mut chacha("stepsharp-data subset", seed, 0))
        }
    };
    let records_read = reader.loaded.len();
    let records = if indices.iter().enumerate().all(|(k, &i)| k == i) {
        let mut records = reader.loaded;
        records.truncate(indices.len());
        records
    } else {
        reader.loaded.gather(&indices)
    };
    Ok(Selection {
        records,
        indices,
        files_read: reader.files_read,
        files_total: split.files().len(),
        files_verified: reader.files_verified,
        records_read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_takes_first_of_each_class_in_order() {
        let labels = [0, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 3, 4, 5, 6, 7];
        let picked = balanced_indices(&labels, 1).unwrap();
        assert_eq!(picked, [0, 2, 4, 7, 8, 9, 10, 11, 12, 13]);
        let err = balanced_indices(&labels, 2).unwrap_err();
        assert_eq!(err, (8, 1), "class 8 appears once only");
    }

    #[test]
    fn validate_names_the_field() {
        let err = Subset::ClassBalancedFirst { count: 15 }
            .validate("train_subset")
            .unwrap_err();
        assert!(err.to_string().contains("train_subset.count = 15"), "{err}");
        assert!(Subset::First { count: 0 }.validate("x").is_err());
        assert!(Subset::Random { count: 0, seed: 1 }.validate("x").is_err());
        assert!(Subset::First { count: 1 }.validate("x").is_ok());
    }
}
