//! The binary reader, checksums and the fixture, on synthetic files only.

use std::path::Path;
use stepsharp_data::{
    ChecksumReport, CifarRecords, DataError, IMAGE_BYTES, RECORD_BYTES, read_batch_file,
    verify_checksums, write_batch_file, write_fixture,
};

fn fixture(train_per_file: usize, test: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), train_per_file, test, 11).unwrap();
    dir
}

fn write_raw(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn fixture_has_requested_counts_and_cycling_labels() {
    let dir = fixture(13, 7);
    let mut all = CifarRecords::default();
    for name in stepsharp_data::TRAIN_FILES {
        let r = read_batch_file(&dir.path().join(name)).unwrap();
        assert_eq!(r.len(), 13);
        assert_eq!(r.images.len(), 13 * IMAGE_BYTES);
        all.extend(&r);
    }
    let expected: Vec<u8> = (0..65).map(|i| (i % 10) as u8).collect();
    assert_eq!(all.labels, expected);
    let test = read_batch_file(&dir.path().join("test_batch.bin")).unwrap();
    assert_eq!(test.labels, [0, 1, 2, 3, 4, 5, 6]);
    // Pixels are not constant, and the fixture is reproducible from its seed.
    assert!(all.images.iter().any(|&b| b != all.images[0]));
    let again = tempfile::tempdir().unwrap();
    write_fixture(again.path(), 13, 7, 11).unwrap();
    let a = std::fs::read(dir.path().join("data_batch_3.bin")).unwrap();
    let b = std::fs::read(again.path().join("data_batch_3.bin")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn record_layout_is_label_then_rgb_planes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.bin");
    let mut bytes = vec![0u8; RECORD_BYTES];
    bytes[0] = 9;
    bytes[1] = 200; // R(0, 0)
    bytes[1 + 1024 + 33] = 100; // G(1, 1)
    bytes[RECORD_BYTES - 1] = 50; // B(31, 31)
    write_raw(&path, &bytes);
    let r = read_batch_file(&path).unwrap();
    assert_eq!(r.labels, [9]);
    assert_eq!(
        (r.image(0)[0], r.image(0)[1024 + 33], r.image(0)[3071]),
        (200, 100, 50)
    );
    // Writing gives back the same bytes.
    let out = dir.path().join("two.bin");
    write_batch_file(&out, &r).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
}

#[test]
fn truncated_file_is_rejected_with_name_and_byte_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data_batch_1.bin");
    write_raw(&path, &vec![0u8; 3 * RECORD_BYTES - 1]);
    let err = read_batch_file(&path).unwrap_err();
    match &err {
        DataError::Truncated {
            file,
            bytes,
            record_size,
        } => {
            assert_eq!(file, &path);
            assert_eq!(*bytes, 3 * RECORD_BYTES as u64 - 1);
            assert_eq!(*record_size, 3073);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("data_batch_1.bin") && msg.contains("9218 bytes"),
        "{msg}"
    );
    assert!(
        msg.contains("2 whole records and 3072 stray bytes"),
        "{msg}"
    );
}

#[test]
fn trailing_bytes_and_oversized_and_empty_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.bin");
    write_raw(&path, &vec![0u8; RECORD_BYTES + 5]);
    assert!(
        matches!(read_batch_file(&path), Err(DataError::Truncated { bytes, .. }) if bytes == 3078)
    );

    write_raw(&path, &vec![0u8; 10_001 * RECORD_BYTES]);
    let err = read_batch_file(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Oversized {
                records: 10_001,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("{} bytes", 10_001 * RECORD_BYTES)),
        "{err}"
    );

    write_raw(&path, &[]);
    assert!(matches!(
        read_batch_file(&path),
        Err(DataError::Empty { .. })
    ));

    let missing = dir.path().join("missing.bin");
    let err = read_batch_file(&missing).unwrap_err();
    assert!(
        matches!(err, DataError::Io { ref file, .. } if file == &missing),
        "{err:?}"
    );
}

#[test]
fn any_whole_number_of_records_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.bin");
    for n in [1usize, 2, 1000] {
        write_raw(&path, &vec![0u8; n * RECORD_BYTES]);
        assert_eq!(read_batch_file(&path).unwrap().len(), n);
    }
}

#[test]
fn bad_label_names_file_record_and_label() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test_batch.bin");
    let mut bytes = vec![0u8; 4 * RECORD_BYTES];
    bytes[2 * RECORD_BYTES] = 10;
    write_raw(&path, &bytes);
    let err = read_batch_file(&path).unwrap_err();
    assert!(
        matches!(err, DataError::BadLabel { ref file, record: 2, label: 10 } if file == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("record 2 has label 10"), "{err}");
}

#[test]
fn checksums_verify_and_detect_a_changed_byte() {
    let dir = fixture(10, 10);
    match verify_checksums(dir.path()).unwrap() {
        ChecksumReport::Verified { files, unlisted } => {
            assert_eq!(files.len(), 6);
            assert!(unlisted.is_empty());
        }
        ChecksumReport::Absent => panic!("fixture writes SHA256SUMS"),
    }
    let path = dir.path().join("data_batch_4.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 1;
    write_raw(&path, &bytes);
    let err = verify_checksums(dir.path()).unwrap_err();
    assert!(
        matches!(err, DataError::ChecksumMismatch { ref file, .. } if file == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("data_batch_4.bin"), "{err}");
}

#[test]
fn checksum_manifest_absent_missing_file_and_bad_line() {
    let dir = fixture(10, 10);
    let manifest = dir.path().join("SHA256SUMS");
    let text = std::fs::read_to_string(&manifest).unwrap();
    // Binary-mode marker and a missing entry for one file.
    let edited: String = text
        .lines()
        .filter(|l| !l.ends_with("test_batch.bin"))
        .map(|l| l.replacen("  ", " *", 1) + "\n")
        .collect();
    write_raw(&manifest, edited.as_bytes());
    match verify_checksums(dir.path()).unwrap() {
        ChecksumReport::Verified { files, unlisted } => {
            assert_eq!(files.len(), 5);
            assert_eq!(unlisted, ["test_batch.bin"]);
        }
        ChecksumReport::Absent => panic!("manifest exists"),
    }
    write_raw(
        &manifest,
        format!("{}  gone.bin\n", "a".repeat(64)).as_bytes(),
    );
    assert!(matches!(
        verify_checksums(dir.path()),
        Err(DataError::MissingFile { .. })
    ));
    write_raw(&manifest, b"not a checksum line\n");
    assert!(matches!(
        verify_checksums(dir.path()),
        Err(DataError::BadManifest { line: 1, .. })
    ));
    std::fs::remove_file(&manifest).unwrap();
    assert_eq!(
        verify_checksums(dir.path()).unwrap(),
        ChecksumReport::Absent
    );
}

#[test]
fn fixture_rejects_counts_outside_one_to_ten_thousand() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        write_fixture(dir.path(), 0, 5, 0),
        Err(DataError::InvalidConfig { .. })
    ));
    assert!(matches!(
        write_fixture(dir.path(), 5, 10_001, 0),
        Err(DataError::InvalidConfig { .. })
    ));
}
