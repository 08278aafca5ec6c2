//! Subsets, fingerprints, summaries and configs, on the synthetic fixture.

use crate::common::*;
use candle_core::{DType, Device};
use stepsharp_data::{DataConfig, DataError, Layout, Normalization, Subset, load, write_fixture};

#[test]
fn first_k_reads_only_the_files_it_needs() {
    let dir = fixture();
    // Remove every file but the first: a first-40 subset must still load.
    for name in &stepsharp_data::TRAIN_FILES[1..] {
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    let p = load_ok(
        dir.path(),
        &with_train(Subset::First { count: PER_FILE }),
        false,
        DType::F32,
    );
    assert_eq!(p.train.len(), PER_FILE);
    assert!(p.summary.contains("1 of 5 file(s)"), "{}", p.summary);
    assert!(p.test.is_none());
    let err = load(
        &source(dir.path()),
        &with_train(Subset::First {
            count: PER_FILE + 1,
        }),
        false,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::Io { ref file, .. } if file.ends_with("data_batch_2.bin")),
        "{err:?}"
    );
}

#[test]
fn subset_larger_than_split_is_an_error_with_counts() {
    let dir = fixture();
    let mut c = with_train(Subset::First { count: 10 });
    c.test_subset = Subset::First { count: TEST + 1 };
    let err = load(&source(dir.path()), &c, true, DType::F32, &Device::Cpu).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::SubsetTooLarge {
                split: "test",
                requested: 26,
                available: 25,
                ..
            }
        ),
        "{err:?}"
    );
    let err = load(
        &source(dir.path()),
        &with_train(Subset::Random {
            count: 201,
            seed: 0,
        }),
        false,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::SubsetTooLarge { available: 200, .. }),
        "{err:?}"
    );
}

#[test]
fn class_balanced_first_takes_first_of_each_class() {
    let dir = fixture();
    // Fixture labels cycle, so the first 3 of each class are records 0..30.
    let p = load_ok(
        dir.path(),
        &with_train(Subset::ClassBalancedFirst { count: 30 }),
        false,
        DType::F32,
    );
    assert_eq!(p.train.record_indices, (0..30).collect::<Vec<_>>());
    // Make class 0 rare in file 1: relabel its records; the subset must then read file 2.
    let path = dir.path().join("data_batch_1.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    for r in 0..PER_FILE {
        if bytes[r * 3073] == 0 {
            bytes[r * 3073] = 1;
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    std::fs::remove_file(dir.path().join("SHA256SUMS")).unwrap();
    let p = load_ok(
        dir.path(),
        &with_train(Subset::ClassBalancedFirst { count: 30 }),
        false,
        DType::F32,
    );
    let labels: Vec<u32> = p.train.labels.to_vec1().unwrap();
    for class in 0..10 {
        assert_eq!(
            labels.iter().filter(|&&l| l == class).count(),
            3,
            "class {class}"
        );
    }
    assert_eq!(&p.train.record_indices[p.train.len() - 3..], [40, 50, 60]);
    assert!(p.summary.contains("2 of 5 file(s)"), "{}", p.summary);
}

#[test]
fn random_subset_is_seeded_sorted_and_distinct() {
    let dir = fixture();
    let a = load_ok(
        dir.path(),
        &with_train(Subset::Random { count: 30, seed: 1 }),
        false,
        DType::F64,
    );
    let b = load_ok(
        dir.path(),
        &with_train(Subset::Random { count: 30, seed: 1 }),
        false,
        DType::F32,
    );
    let c = load_ok(
        dir.path(),
        &with_train(Subset::Random { count: 30, seed: 2 }),
        false,
        DType::F32,
    );
    assert_eq!(a.train.record_indices, b.train.record_indices);
    assert_ne!(a.train.record_indices, c.train.record_indices);
    assert!(a.train.record_indices.windows(2).all(|w| w[0] < w[1]));
    assert!(*a.train.record_indices.last().unwrap() < 5 * PER_FILE);
    // The selected inputs are the records at those indices.
    let raw = train_records(dir.path());
    let got = rows(&a.train.inputs);
    for (k, &i) in a.train.record_indices.iter().enumerate() {
        assert_eq!(got[k][5], f64::from(raw.image(i)[5]) / 255.0);
    }
}

#[test]
fn fingerprint_is_stable_and_changes_with_subset_and_preprocessing() {
    let dir = fixture();
    let base = with_train(Subset::First { count: 30 });
    let fp = |c: &DataConfig, with_test: bool, dtype: DType| {
        load_ok(dir.path(), c, with_test, dtype).fingerprint
    };
    let reference = fp(&base, true, DType::F32);
    assert_eq!(reference.len(), 64);
    assert_eq!(
        reference,
        fp(&base, true, DType::F32),
        "same inputs, same fingerprint"
    );
    let variants = [
        with_train(Subset::First { count: 31 }),
        with_train(Subset::ClassBalancedFirst { count: 20 }),
        with_train(Subset::Random { count: 30, seed: 0 }),
        DataConfig {
            normalization: Normalization::PerChannel,
            ..base.clone()
        },
        DataConfig {
            normalization: Normalization::PerPixel,
            ..base.clone()
        },
        DataConfig {
            layout: Layout::Image,
            ..base.clone()
        },
        DataConfig {
            test_subset: Subset::First { count: 10 },
            ..base.clone()
        },
    ];
    for v in &variants {
        assert_ne!(reference, fp(v, true, DType::F32), "{v:?}");
    }
    assert_ne!(
        reference,
        fp(&base, false, DType::F32),
        "test set is part of it"
    );
    // The fingerprint hashes the selected records, not the subset's spelling: on the cycling
    // fixture the class-balanced first 30 are exactly the first 30.
    let balanced = with_train(Subset::ClassBalancedFirst { count: 30 });
    assert_eq!(reference, fp(&balanced, true, DType::F32));
    assert_ne!(
        reference,
        fp(&base, true, DType::F64),
        "dtype is part of it"
    );
    // The data themselves are part of it.
    let other = tempfile::tempdir().unwrap();
    write_fixture(other.path(), PER_FILE, TEST, 6).unwrap();
    let other_fp = load_ok(other.path(), &base, true, DType::F32).fingerprint;
    assert_ne!(reference, other_fp);
}

#[test]
fn summary_reports_source_sizes_and_normalization() {
    let dir = fixture();
    let p = load_ok(
        dir.path(),
        &config(
            Subset::First { count: 50 },
            Normalization::PerChannel,
            Layout::Flat,
        ),
        true,
        DType::F32,
    );
    for part in [
        "train: 50 records used of 80 read (2 of 5 file(s), 2 checksum-verified)",
        "test: 25 records used",
        "per_channel",
        "explicit path",
    ] {
        assert!(
            p.summary.contains(part),
            "missing {part:?} in\n{}",
            p.summary
        );
    }
    assert!(p.summary.contains(&dir.path().display().to_string()));
}

#[test]
fn corrupted_file_fails_checksum_during_load() {
    let dir = fixture();
    let path = dir.path().join("data_batch_1.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5000] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = load(
        &source(dir.path()),
        &with_train(Subset::First { count: 5 }),
        false,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::ChecksumMismatch { ref file, .. } if file == &path),
        "{err:?}"
    );
}

#[test]
fn config_toml_defaults_round_trip_and_unknown_fields() {
    let c: DataConfig = toml::from_str("").unwrap();
    assert_eq!(c, DataConfig::default());
    assert_eq!(c.train_subset, Subset::First { count: 5000 });
    assert_eq!(c.test_subset, Subset::All);
    assert_eq!(c.normalization, Normalization::UnitRange);
    assert_eq!(c.layout, Layout::Flat);
    c.validate().unwrap();
    let text = r#"
        train_subset = { kind = "random", count = 100, seed = 3 }
        test_subset = { kind = "class_balanced_first", count = 50 }
        normalization = "per_pixel"
        layout = "image"
    "#;
    let c: DataConfig = toml::from_str(text).unwrap();
    assert_eq!(
        c.train_subset,
        Subset::Random {
            count: 100,
            seed: 3
        }
    );
    assert_eq!(c.test_subset, Subset::ClassBalancedFirst { count: 50 });
    assert_eq!(
        toml::from_str::<DataConfig>(&toml::to_string(&c).unwrap()).unwrap(),
        c
    );
    assert!(toml::from_str::<DataConfig>("normalisation = \"per_pixel\"").is_err());
    assert!(
        toml::from_str::<DataConfig>("train_subset = { kind = \"first\", count = 5, seed = 1 }")
            .is_err()
    );
    let bad: DataConfig =
        toml::from_str("test_subset = { kind = \"class_balanced_first\", count = 55 }").unwrap();
    let err = bad.validate().unwrap_err();
    assert!(err.to_string().contains("test_subset.count = 55"), "{err}");
}
