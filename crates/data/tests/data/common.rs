//! Helpers shared by the fixture-based integration tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use std::path::Path;
use stepsharp_data::{
    CifarRecords, DataConfig, DataSource, Layout, Normalization, Origin, Prepared, Subset, load,
    read_batch_file, write_fixture,
};

/// Training records per fixture file.
pub const PER_FILE: usize = 40;
/// Fixture test records.
pub const TEST: usize = 25;

/// A fresh fixture folder (5 × 40 train records, 25 test records).
pub fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), PER_FILE, TEST, 5).unwrap();
    dir
}

pub fn source(dir: &Path) -> DataSource {
    DataSource::new(dir, Origin::Explicit)
}

pub fn config(train_subset: Subset, normalization: Normalization, layout: Layout) -> DataConfig {
    DataConfig {
        train_subset,
        test_subset: Subset::All,
        normalization,
        layout,
    }
}

/// The default config with another training subset.
pub fn with_train(train_subset: Subset) -> DataConfig {
    DataConfig {
        train_subset,
        ..DataConfig::default()
    }
}

#[track_caller]
pub fn load_ok(dir: &Path, config: &DataConfig, with_test: bool, dtype: DType) -> Prepared {
    load(&source(dir), config, with_test, dtype, &Device::Cpu).unwrap()
}

/// All training records of a folder, read directly.
pub fn train_records(dir: &Path) -> CifarRecords {
    let mut all = CifarRecords::default();
    for name in stepsharp_data::TRAIN_FILES {
        all.extend(&read_batch_file(&dir.join(name)).unwrap());
    }
    all
}

/// A tensor's rows as f64 (any layout, flattened per example).
pub fn rows(t: &Tensor) -> Vec<Vec<f64>> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_from(1)
        .unwrap()
        .to_vec2()
        .unwrap()
}
