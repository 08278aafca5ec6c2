//! Loading: select, preprocess, move to the device once, fingerprint.

use crate::DataError;
use crate::checksum::read_manifest;
use crate::config::DataConfig;
use crate::format::{NUM_CLASSES, Split};
use crate::preprocess::{Statistics, to_tensor};
use crate::source::DataSource;
use crate::subset::{Selection, select};
use candle_core::{DType, Device, Tensor};

/// Preprocessed examples of one split, resident on one device.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Inputs, (n, 3072) for `Layout::Flat` or (n, 3, 32, 32) for `Layout::Image`, in the
    /// requested dtype and device.
    pub inputs: Tensor,
    /// Class labels, (n,) u32 on the same device.
    pub labels: Tensor,
    /// Index of each example within its split (e.g. 0..5000 for the first 5000).
    pub record_indices: Vec<usize>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.record_indices.len()
    }

    /// Whether there is no example.
    pub fn is_empty(&self) -> bool {
        self.record_indices.is_empty()
    }

    /// One-hot targets, (n, 10) in the inputs' dtype: row i is e_{label_i} (MSE targets,
    /// Cohen et al. 2021).
    pub fn one_hot(&self) -> Result<Tensor, DataError> {
        let n = self.len();
        let classes = Tensor::arange(0u32, NUM_CLASSES as u32, self.labels.device())?
            .unsqueeze(0)?
            .broadcast_as((n, NUM_CLASSES))?;
        let labels = self.labels.unsqueeze(1)?.broadcast_as((n, NUM_CLASSES))?;
        Ok(labels.eq(&classes)?.to_dtype(self.inputs.dtype())?)
    }

    /// Inputs and labels of the examples at `indices` (positions in this dataset, e.g. a
    /// [`crate::Batch`]), gathered on the device with `index_select`.
    pub fn select(&self, indices: &[u32]) -> Result<(Tensor, Tensor), DataError> {
        if let Some(&bad) = indices.iter().find(|&&i| i as usize >= self.len()) {
            return Err(DataError::invalid(
                "batch index",
                bad,
                format!("below the dataset size {}", self.len()),
            ));
        }
        let ids = Tensor::from_slice(indices, indices.len(), self.inputs.device())?;
        Ok((
            self.inputs.index_select(&ids, 0)?,
            self.labels.index_select(&ids, 0)?,
        ))
    }

    /// The first `n` examples (e.g. a fixed evaluation subset for sharpness); `n ≤ len()`.
    pub fn head(&self, n: usize) -> Result<Dataset, DataError> {
        if n > self.len() {
            return Err(DataError::invalid(
                "head size",
                n,
                format!("at most the dataset size {}", self.len()),
            ));
        }
        Ok(Dataset {
            inputs: self.inputs.narrow(0, 0, n)?,
            labels: self.labels.narrow(0, 0, n)?,
            record_indices: self.record_indices[..n].to_vec(),
        })
    }
}

/// The result of [`load`]: both splits on the device, a fingerprint and a summary.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The selected, preprocessed training examples.
    pub train: Dataset,
    /// The selected test examples, preprocessed with the TRAINING statistics (`None` unless
    /// requested).
    pub test: Option<Dataset>,
    /// blake3 hex of: the selected train (and test) records (their indices as u64 LE, labels,
    /// pixel bytes), the normalization, layout and dtype. Put it into each run's hash.
    pub fingerprint: String,
    /// Human-readable: source directory, records used per split, normalization, checksums.
    pub summary: String,
    /// The preprocessing statistics computed on the training subset.
    pub statistics: Statistics,
}

fn hash_selection(hasher: &mut blake3::Hasher, name: &str, selection: Option<&Selection>) {
    let Some(s) = selection else {
        hasher.update(format!("{name}: none\n").as_bytes());
        return;
    };
    hasher.update(format!("{name}: {}\n", s.indices.len()).as_bytes());
    for &index in &s.indices {
        hasher.update(&(index as u64).to_le_bytes());
    }
    hasher.update(&s.records.labels);
    hasher.update(&s.records.images);
}

/// Computes the data fingerprint (see [`Prepared::fingerprint`]).
fn fingerprint(
    config: &DataConfig,
    dtype: DType,
    train: &Selection,
    test: Option<&Selection>,
) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"stepsharp-data fingerprint v1\n");
    hasher.update(
        format!(
            "normalization={}\nlayout={}\ndtype={}\n",
            config.normalization.name(),
            config.layout.name(),
            dtype.as_str()
        )
        .as_bytes(),
    );
    hash_selection(&mut hasher, "train", Some(train));
    hash_selection(&mut hasher, "test", test);
    hasher.finalize().to_hex().to_string()
}

fn labels_tensor(selection: &Selection, device: &Device) -> Result<Tensor, DataError> {
    let labels: Vec<u32> = selection.records.labels.iter().map(|&l| l.into()).collect();
    Ok(Tensor::from_vec(labels, selection.indices.len(), device)?)
}

fn describe(split: Split, selection: &Selection) -> String {
    format!(
        "{}: {} records used of {} read ({} of {} file(s), {} checksum-verified)",
        split.name(),
        selection.indices.len(),
        selection.records_read,
        selection.files_read,
        selection.files_total,
        selection.files_verified
    )
}

/// Loads the configured CIFAR-10 subsets from `source` onto `device`.
///
/// Reads only the files the subsets need (a first-k train subset reads ⌈k/10000⌉ files),
/// checks each file read against `SHA256SUMS` when present, computes the normalization
/// statistics on the selected training records, preprocesses train and (if `with_test`) test
/// with those same statistics, and moves everything to `device` once. `dtype` must be a float
/// type.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// use candle_core::{DType, Device};
/// use stepsharp_data::{DataConfig, DataSource, Origin, Subset, load, write_fixture};
/// let dir = tempfile::tempdir().unwrap();
/// write_fixture(dir.path(), 30, 12, 0)?; // 5 × 30 train records, 12 test records
/// let config = DataConfig { train_subset: Subset::First { count: 40 }, ..DataConfig::default() };
/// let data = load(&DataSource::new(dir.path(), Origin::Explicit), &config, true, DType::F32, &Device::Cpu)?;
/// assert_eq!(data.train.inputs.dims(), [40, 3072]);
/// assert_eq!(data.test.as_ref().map(|t| t.len()), Some(12));
/// # Ok(()) }
/// ```
pub fn load(
    source: &DataSource,
    config: &DataConfig,
    with_test: bool,
    dtype: DType,
    device: &Device,
) -> Result<Prepared, DataError> {
    config.validate()?;
    if !dtype.is_float() {
        return Err(DataError::invalid(
            "dtype",
            dtype.as_str(),
            "a float type (f32, f64, f16, bf16)",
        ));
    }
    let manifest = read_manifest(&source.dir)?;
    let train = select(
        &source.dir,
        Split::Train,
        &config.train_subset,
        manifest.as_deref(),
    )?;
    let test = if with_test {
        Some(select(
            &source.dir,
            Split::Test,
            &config.test_subset,
            manifest.as_deref(),
        )?)
    } else {
        None
    };
    let statistics = Statistics::compute(&train.records, config.normalization);
    let make = |s: &Selection| -> Result<Dataset, DataError> {
        Ok(Dataset {
            inputs: to_tensor(&s.records, &statistics, config.layout, dtype, device)?,
            labels: labels_tensor(s, device)?,
            record_indices: s.indices.clone(),
        })
    };
    let train_set = make(&train)?;
    let test_set = test.as_ref().map(make).transpose()?;
    let fingerprint = fingerprint(config, dtype, &train, test.as_ref());
    let checksums = if manifest.is_some() {
        "SHA256SUMS checked for every file read"
    } else {
        "no SHA256SUMS, not verified"
    };
    let test_line = match &test {
        Some(t) => format!(
            "{} ({})",
            describe(Split::Test, t),
            config.test_subset.describe()
        ),
        None => "test: not loaded".to_string(),
    };
    let summary = format!(
        "CIFAR-10 from {source}\n  {} ({})\n  {test_line}\n  normalization {}, layout {}, \
         dtype {}, {checksums}\n  fingerprint {}",
        describe(Split::Train, &train),
        config.train_subset.describe(),
        config.normalization.name(),
        config.layout.name(),
        dtype.as_str(),
        &fingerprint[..16],
    );
    Ok(Prepared {
        train: train_set,
        test: test_set,
        fingerprint,
        summary,
        statistics,
    })
}
