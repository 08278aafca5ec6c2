//! The Hugging Face hub path: convert candle-datasets' tensors back to the binary format.
//!
//! `candle_datasets::vision::cifar::load()` returns f32 images in (N, C, W, H) order, scaled by
//! 1/255 (`docs/candle.md#cifar-10-loaders`: spatially transposed relative to `load_dir`). The
//! cache stores the official binary files, so every later run reads one format through one
//! reader.

use crate::DataError;
use crate::format::{CHANNELS, CifarRecords, IMAGE_SIDE, NUM_CLASSES};
use candle_core::{DType, Tensor};
use std::path::PathBuf;

/// Converts hub tensors to exact CIFAR-10 records.
///
/// `images`: (N, 3, 32, 32) floats in [0, 1] in the hub loader's (N, C, W, H) order; they are
/// permuted to (N, C, H, W) and mapped back to bytes by `round(x · 255)`, which is exact for
/// values that were `u8 / 255` in f32. `labels`: (N,) of any integer dtype, each < 10.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// use candle_core::{Device, Tensor};
/// // One image whose byte at (c, h, w) is h; the hub order stores it transposed, at (c, w, h).
/// let pixels: Vec<f32> = (0..3 * 32 * 32).map(|i| ((i / 32) % 32) as f32 / 255.0).collect();
/// let chw = Tensor::from_vec(pixels, (1, 3, 32, 32), &Device::Cpu)?;
/// let cwh = chw.permute((0, 1, 3, 2))?;
/// let labels = Tensor::new(&[3u8], &Device::Cpu)?;
/// let records = stepsharp_data::records_from_hub_tensors(&cwh, &labels)?;
/// assert_eq!(records.image(0)[32 * 5 + 7], 5); // row 5, column 7 of the red plane
/// assert_eq!(records.labels, [3]);
/// # Ok(()) }
/// ```
pub fn records_from_hub_tensors(
    images: &Tensor,
    labels: &Tensor,
) -> Result<CifarRecords, DataError> {
    let n = labels.dims1()?;
    let expected = (n, CHANNELS, IMAGE_SIDE, IMAGE_SIDE);
    if images.dims4()? != expected {
        return Err(DataError::invalid(
            "hub images shape",
            format!("{:?}", images.dims()),
            format!("{expected:?}"),
        ));
    }
    let values = images
        .permute((0, 1, 3, 2))?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let mut bytes = Vec::with_capacity(values.len());
    for (index, &value) in values.iter().enumerate() {
        let scaled = (value * 255.0).round();
        if !(0.0..=255.0).contains(&scaled) {
            return Err(DataError::BadPixel {
                source_name: "<hub images>".to_string(),
                index,
                value,
            });
        }
        bytes.push(scaled as u8);
    }
    let raw_labels = labels.to_dtype(DType::U32)?.to_vec1::<u32>()?;
    let mut out_labels = Vec::with_capacity(n);
    for (record, &label) in raw_labels.iter().enumerate() {
        if label as usize >= NUM_CLASSES {
            return Err(DataError::BadLabel {
                file: PathBuf::from("<hub labels>"),
                record,
                label,
            });
        }
        out_labels.push(label as u8);
    }
    Ok(CifarRecords {
        images: bytes,
        labels: out_labels,
    })
}

/// Downloads CIFAR-10 from the Hugging Face hub and writes the official binary files into
/// `dir` (atomically: a sibling temporary folder renamed into place), with a `SHA256SUMS` of
/// what was written.
#[cfg(feature = "hub")]
pub(crate) fn download_to(dir: &std::path::Path) -> Result<(), DataError> {
    use crate::format::{
        CACHE_SUBDIR, MAX_RECORDS_PER_FILE, TEST_FILE, TRAIN_FILES, write_batch_file,
    };

    let data = candle_datasets::vision::cifar::load().map_err(|e| DataError::Hub(e.to_string()))?;
    let train = records_from_hub_tensors(&data.train_images, &data.train_labels)?;
    let test = records_from_hub_tensors(&data.test_images, &data.test_labels)?;
    let expected_train = TRAIN_FILES.len() * MAX_RECORDS_PER_FILE;
    if train.len() != expected_train || test.is_empty() || test.len() > MAX_RECORDS_PER_FILE {
        return Err(DataError::Hub(format!(
            "expected {expected_train} train and 1..={MAX_RECORDS_PER_FILE} test records, got {} and {}",
            train.len(),
            test.len()
        )));
    }
    let parent = dir
        .parent()
        .ok_or_else(|| DataError::invalid("cache dir", dir.display(), "a folder with a parent"))?;
    std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    let tmp = parent.join(format!(".{CACHE_SUBDIR}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    for (k, name) in TRAIN_FILES.iter().enumerate() {
        let indices: Vec<usize> =
            (k * MAX_RECORDS_PER_FILE..(k + 1) * MAX_RECORDS_PER_FILE).collect();
        write_batch_file(&tmp.join(name), &train.gather(&indices))?;
    }
    write_batch_file(&tmp.join(TEST_FILE), &test)?;
    let mut names: Vec<&str> = TRAIN_FILES.to_vec();
    names.push(TEST_FILE);
    crate::checksum::write_checksums(&tmp, &names)?;
    if !dir.exists() {
        return std::fs::rename(&tmp, dir).map_err(|e| DataError::io(dir, e));
    }
    // The cache folder exists but is incomplete: move each file in (each rename is atomic) and
    // leave any other file there alone.
    names.push(crate::checksum::MANIFEST_FILE);
    for name in names {
        std::fs::rename(tmp.join(name), dir.join(name))
            .map_err(|e| DataError::io(dir.join(name), e))?;
    }
    std::fs::remove_dir(&tmp).map_err(|e| DataError::io(&tmp, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::IMAGE_BYTES;
    use candle_core::Device;
    use rand::RngCore;

    #[test]
    fn hub_order_is_transposed_back_and_bytes_are_exact() {
        // Two random records in file layout (C, H, W), every byte value represented.
        let mut rng = crate::rng::chacha("hub test", 0, 0);
        let mut bytes = vec![0u8; 2 * IMAGE_BYTES];
        rng.fill_bytes(&mut bytes);
        bytes[..256].copy_from_slice(&(0..=255).collect::<Vec<u8>>());
        let floats: Vec<f32> = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
        let chw = Tensor::from_vec(floats, (2, 3, 32, 32), &Device::Cpu).unwrap();
        // What candle-datasets' cifar::load() returns: (N, C, W, H), contiguous.
        let cwh = chw.permute((0, 1, 3, 2)).unwrap().contiguous().unwrap();
        let labels = Tensor::new(&[7u8, 0], &Device::Cpu).unwrap();
        let records = records_from_hub_tensors(&cwh, &labels).unwrap();
        assert_eq!(records.images, bytes);
        assert_eq!(records.labels, [7, 0]);
        // Without the transpose the bytes would differ (the test can fail).
        let wrong = records_from_hub_tensors(&chw, &labels).unwrap();
        assert_ne!(wrong.images, bytes);
    }

    #[test]
    fn bad_hub_label_pixel_or_shape_is_rejected() {
        let images = Tensor::zeros((1, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
        let err = records_from_hub_tensors(&images, &Tensor::new(&[10u8], &Device::Cpu).unwrap());
        assert!(
            matches!(err, Err(DataError::BadLabel { label: 10, .. })),
            "{err:?}"
        );
        let labels = Tensor::new(&[1u8], &Device::Cpu).unwrap();
        let err = records_from_hub_tensors(&(images.clone() + 2.0).unwrap(), &labels);
        assert!(
            matches!(err, Err(DataError::BadPixel { index: 0, .. })),
            "{err:?}"
        );
        let small = Tensor::zeros((1, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
        assert!(matches!(
            records_from_hub_tensors(&small, &labels),
            Err(DataError::InvalidConfig { .. })
        ));
    }
}
