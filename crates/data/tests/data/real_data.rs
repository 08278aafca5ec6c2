//! Tests on the real CIFAR-10 files. They need `STEPSHARP_DATA` (CI sets it to
//! `../shared/data/cifar-10-batches-bin`) and fail, never skip, when it is missing.

use candle_core::{DType, Device};
use std::path::PathBuf;
use stepsharp_data::{
    ChecksumReport, CifarRecords, DataConfig, ENV_VAR, Origin, Subset, TRAIN_FILES, load, locate,
    read_batch_file, verify_checksums,
};

#[track_caller]
fn shared_dir() -> PathBuf {
    let Some(dir) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) else {
        panic!(
            "{ENV_VAR} is not set: these tests need the real CIFAR-10 binary files. Run e.g. \
             `{ENV_VAR}=/work/shared/data/cifar-10-batches-bin cargo test --release -p stepsharp-data` \
             (CI sets it to ../shared/data/cifar-10-batches-bin)"
        );
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("data_batch_1.bin").is_file(),
        "{ENV_VAR}={} does not hold data_batch_1.bin: point it at the cifar-10-batches-bin folder",
        dir.display()
    );
    dir
}

#[test]
fn training_set_has_50000_records_known_labels_and_5000_per_class() {
    let dir = shared_dir();
    let mut train = CifarRecords::default();
    for name in TRAIN_FILES {
        let part = read_batch_file(&dir.join(name)).unwrap();
        assert_eq!(part.len(), 10_000, "{name}");
        train.extend(&part);
    }
    assert_eq!(train.len(), 50_000);
    assert_eq!(train.labels[..10], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    let mut per_class = [0usize; 10];
    for &l in &train.labels {
        per_class[usize::from(l)] += 1;
    }
    assert_eq!(per_class, [5000; 10]);
}

#[test]
fn local_test_file_has_1000_records() {
    let test = read_batch_file(&shared_dir().join("test_batch.bin")).unwrap();
    assert_eq!(test.len(), 1000);
}

#[test]
fn shared_checksums_match() {
    match verify_checksums(&shared_dir()).unwrap() {
        ChecksumReport::Verified { files, unlisted } => {
            assert_eq!(files.len(), 6);
            assert!(unlisted.is_empty(), "{unlisted:?}");
        }
        ChecksumReport::Absent => panic!("the shared data ship a SHA256SUMS"),
    }
}

#[test]
fn locate_finds_the_environment_variable() {
    let dir = shared_dir();
    let source = locate(None).unwrap();
    assert_eq!(
        (source.dir, source.origin),
        (dir.clone(), Origin::Environment)
    );
    let explicit = locate(Some(&dir)).unwrap();
    assert_eq!(explicit.origin, Origin::Explicit);
}

#[test]
fn default_config_loads_first_5000_and_the_1000_test_records() {
    shared_dir();
    let source = locate(None).unwrap();
    let p = load(
        &source,
        &DataConfig::default(),
        true,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(p.train.inputs.dims(), [5000, 3072]);
    assert_eq!(p.train.record_indices, (0..5000).collect::<Vec<_>>());
    let labels: Vec<u32> = p.train.labels.to_vec1().unwrap();
    assert_eq!(labels[..10], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    assert_eq!(p.test.as_ref().unwrap().len(), 1000);
    assert!(
        p.summary.contains(
            "train: 5000 records used of 10000 read (1 of 5 file(s), 1 checksum-verified)"
        ),
        "{}",
        p.summary
    );
    assert!(
        p.summary.contains("test: 1000 records used"),
        "{}",
        p.summary
    );
}

#[test]
fn class_balanced_5000_has_500_per_class() {
    shared_dir();
    let source = locate(None).unwrap();
    let config = DataConfig {
        train_subset: Subset::ClassBalancedFirst { count: 5000 },
        ..DataConfig::default()
    };
    let p = load(&source, &config, false, DType::F32, &Device::Cpu).unwrap();
    let labels: Vec<u32> = p.train.labels.to_vec1().unwrap();
    for class in 0..10 {
        assert_eq!(labels.iter().filter(|&&l| l == class).count(), 500);
    }
    assert!(p.train.record_indices.windows(2).all(|w| w[0] < w[1]));
}
