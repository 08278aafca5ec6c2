//! Preprocessing, layouts and tensors, on the synthetic fixture.

use crate::common::*;
use candle_core::{DType, Device, IndexOp};
use stepsharp_data::{DataConfig, DataError, Layout, Normalization, Subset, load, read_batch_file};

#[test]
fn unit_range_is_bytes_over_255_in_record_order() {
    let dir = fixture();
    let p = load_ok(
        dir.path(),
        &with_train(Subset::First { count: 50 }),
        true,
        DType::F64,
    );
    let raw = train_records(dir.path());
    assert_eq!(p.train.inputs.dims(), [50, 3072]);
    assert_eq!(p.train.record_indices, (0..50).collect::<Vec<_>>());
    let got = rows(&p.train.inputs);
    for i in [0, 17, 49] {
        for j in [0, 1023, 1024, 3071] {
            assert_eq!(got[i][j], f64::from(raw.image(i)[j]) / 255.0);
        }
    }
    let labels: Vec<u32> = p.train.labels.to_vec1().unwrap();
    assert_eq!(
        labels,
        raw.labels[..50]
            .iter()
            .map(|&l| u32::from(l))
            .collect::<Vec<_>>()
    );
    assert_eq!(p.train.labels.dtype(), DType::U32);
    assert_eq!(p.test.as_ref().unwrap().len(), TEST);
}

#[test]
fn per_channel_standardizes_train_and_applies_train_stats_to_test() {
    let dir = fixture();
    let p = load_ok(
        dir.path(),
        &config(
            Subset::First { count: 60 },
            Normalization::PerChannel,
            Layout::Image,
        ),
        true,
        DType::F64,
    );
    assert_eq!(p.train.inputs.dims(), [60, 3, 32, 32]);
    for c in 0..3 {
        let v: Vec<f64> = p
            .train
            .inputs
            .i((.., c))
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 1e-12, "channel {c} mean {mean}");
        assert!((var - 1.0).abs() < 1e-12, "channel {c} var {var}");
    }
    // Test inputs use the training mean/std, computed here directly from the raw bytes.
    let raw = train_records(dir.path());
    let (mut sum, mut sq) = (0.0, 0.0);
    for i in 0..60 {
        for &x in &raw.image(i)[1024..2048] {
            let v = f64::from(x) / 255.0;
            sum += v;
            sq += v * v;
        }
    }
    let n = 60.0 * 1024.0;
    let mean = sum / n;
    let std = (sq / n - mean * mean).sqrt();
    let test_raw = read_batch_file(&dir.path().join("test_batch.bin")).unwrap();
    let test = p.test.as_ref().unwrap();
    let got: f64 = test.inputs.i((3, 1, 2, 5)).unwrap().to_scalar().unwrap();
    let want = (f64::from(test_raw.image(3)[1024 + 2 * 32 + 5]) / 255.0 - mean) / std;
    assert!((got - want).abs() < 1e-10, "{got} vs {want}");
}

#[test]
fn per_pixel_standardizes_each_position() {
    let dir = fixture();
    let p = load_ok(
        dir.path(),
        &config(Subset::All, Normalization::PerPixel, Layout::Flat),
        false,
        DType::F64,
    );
    assert_eq!(p.train.len(), 5 * PER_FILE);
    let x = rows(&p.train.inputs);
    for j in [0, 700, 3071] {
        let col: Vec<f64> = x.iter().map(|r| r[j]).collect();
        let n = col.len() as f64;
        let mean = col.iter().sum::<f64>() / n;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
            "position {j}: {mean} {var}"
        );
    }
}

#[test]
fn flat_and_image_layouts_hold_the_same_numbers_in_requested_dtype() {
    let dir = fixture();
    let flat = load_ok(
        dir.path(),
        &config(
            Subset::First { count: 8 },
            Normalization::UnitRange,
            Layout::Flat,
        ),
        false,
        DType::F32,
    );
    let image = load_ok(
        dir.path(),
        &config(
            Subset::First { count: 8 },
            Normalization::UnitRange,
            Layout::Image,
        ),
        false,
        DType::F32,
    );
    assert_eq!(flat.train.inputs.dtype(), DType::F32);
    let a: Vec<f32> = flat.train.inputs.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = image.train.inputs.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a, b);
    let err = load(
        &source(dir.path()),
        &DataConfig::default(),
        false,
        DType::U32,
        &Device::Cpu,
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::InvalidConfig { ref field, .. } if field == "dtype"),
        "{err:?}"
    );
}

#[test]
fn one_hot_select_and_head() {
    let dir = fixture();
    let p = load_ok(
        dir.path(),
        &with_train(Subset::First { count: 20 }),
        false,
        DType::F32,
    );
    let one_hot = p.train.one_hot().unwrap();
    assert_eq!(one_hot.dims(), [20, 10]);
    let m: Vec<Vec<f32>> = one_hot.to_vec2().unwrap();
    let labels: Vec<u32> = p.train.labels.to_vec1().unwrap();
    for (row, &label) in m.iter().zip(&labels) {
        for (c, &v) in row.iter().enumerate() {
            assert_eq!(v, if c == label as usize { 1.0 } else { 0.0 });
        }
    }
    let (x, y) = p.train.select(&[7, 2, 7]).unwrap();
    assert_eq!(x.dims(), [3, 3072]);
    assert_eq!(
        y.to_vec1::<u32>().unwrap(),
        [labels[7], labels[2], labels[7]]
    );
    let full = rows(&p.train.inputs);
    assert_eq!(rows(&x)[1], full[2]);
    assert!(p.train.select(&[20]).is_err());
    let head = p.train.head(5).unwrap();
    assert_eq!(
        (head.len(), head.inputs.dims()[0], head.labels.dims()[0]),
        (5, 5, 5)
    );
    assert_eq!(head.record_indices, [0, 1, 2, 3, 4]);
    assert!(p.train.head(21).is_err());
}
