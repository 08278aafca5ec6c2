//! Pixel preprocessing: [0, 1] scaling and standardization with training statistics.

use crate::DataError;
use crate::config::{Layout, Normalization};
use crate::format::{CHANNELS, CifarRecords, IMAGE_BYTES, IMAGE_SIDE};
use candle_core::{DType, Device, Tensor};

/// Per-input-position affine map `v = (x/255 − mean[j]) · inv_std[j]`, j in 0..3072.
///
/// Statistics are computed from exact integer sums over the selected training subset
/// (S₁ = Σx, S₂ = Σx² over the n bytes of a group), so they do not depend on summation order:
/// mean = S₁/(255·n) and σ² = (n·S₂ − S₁²)/(255·n)² (population variance, as numpy's default;
/// the numerator is an exact integer).
#[derive(Clone, Debug, PartialEq)]
pub struct Statistics {
    /// Mean subtracted at each of the 3072 input positions (0 for `UnitRange`).
    pub mean: Vec<f64>,
    /// Reciprocal standard deviation at each position (1 for `UnitRange`; 1 where σ = 0).
    pub inv_std: Vec<f64>,
}

/// Mean and 1/σ of the values `x/255` from the count and the exact sums of x and x².
fn moments(count: u64, sum: u64, sum_sq: u64) -> (f64, f64) {
    if count == 0 {
        return (0.0, 1.0);
    }
    let n = u128::from(count);
    let numerator = n * u128::from(sum_sq) - u128::from(sum) * u128::from(sum);
    let scale = 255.0 * count as f64;
    let mean = sum as f64 / scale;
    let std = (numerator as f64).sqrt() / scale;
    (mean, if std > 0.0 { 1.0 / std } else { 1.0 })
}

impl Statistics {
    /// Statistics of `train` for `normalization` (`train` is the selected training subset).
    pub fn compute(train: &CifarRecords, normalization: Normalization) -> Self {
        if normalization == Normalization::UnitRange {
            return Self {
                mean: vec![0.0; IMAGE_BYTES],
                inv_std: vec![1.0; IMAGE_BYTES],
            };
        }
        let mut sum = vec![0u64; IMAGE_BYTES];
        let mut sum_sq = vec![0u64; IMAGE_BYTES];
        for image in train.images.chunks_exact(IMAGE_BYTES) {
            for ((s, q), &x) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(image) {
                let x = u64::from(x);
                *s += x;
                *q += x * x;
            }
        }
        let n = train.len() as u64;
        let per_position: Vec<(f64, f64)> = match normalization {
            Normalization::PerPixel => (0..IMAGE_BYTES)
                .map(|j| moments(n, sum[j], sum_sq[j]))
                .collect(),
            _ => {
                let plane = IMAGE_SIDE * IMAGE_SIDE;
                let per_channel: Vec<(f64, f64)> = (0..CHANNELS)
                    .map(|c| {
                        let range = c * plane..(c + 1) * plane;
                        let s: u64 = sum[range.clone()].iter().sum();
                        let q: u64 = sum_sq[range].iter().sum();
                        moments(n * plane as u64, s, q)
                    })
                    .collect();
                (0..IMAGE_BYTES).map(|j| per_channel[j / plane]).collect()
            }
        };
        Self {
            mean: per_position.iter().map(|m| m.0).collect(),
            inv_std: per_position.iter().map(|m| m.1).collect(),
        }
    }

    /// The preprocessed value of byte `x` at input position `j`, in f64.
    pub fn apply(&self, j: usize, x: u8) -> f64 {
        (f64::from(x) / 255.0 - self.mean[j]) * self.inv_std[j]
    }

    /// Every preprocessed value as a lookup table: entry `offsets[j] + x` is `apply(j, x)`.
    /// Positions sharing statistics (one channel, or all for `UnitRange`) share 256 entries.
    fn table(&self) -> (Vec<f64>, Vec<usize>) {
        let mut table: Vec<f64> = Vec::new();
        let mut offsets = Vec::with_capacity(IMAGE_BYTES);
        let mut last: Option<(f64, f64)> = None;
        for j in 0..IMAGE_BYTES {
            let key = (self.mean[j], self.inv_std[j]);
            if last != Some(key) {
                last = Some(key);
                table.extend((0..=255u8).map(|x| self.apply(j, x)));
            }
            offsets.push(table.len() - 256);
        }
        (table, offsets)
    }
}

/// Maps every byte through the table, record by record.
fn map_bytes<T: Copy>(images: &[u8], table: &[T], offsets: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(images.len());
    for image in images.chunks_exact(IMAGE_BYTES) {
        out.extend(
            image
                .iter()
                .zip(offsets)
                .map(|(&x, &offset)| table[offset + usize::from(x)]),
        );
    }
    out
}

/// Preprocesses `records` with `stats` into a tensor of `layout` shape on `device`.
///
/// `dtype` must be a float type (f64 is computed directly, others through f32).
pub(crate) fn to_tensor(
    records: &CifarRecords,
    stats: &Statistics,
    layout: Layout,
    dtype: DType,
    device: &Device,
) -> Result<Tensor, DataError> {
    let n = records.len();
    let (table, offsets) = stats.table();
    let tensor = match dtype {
        DType::F64 => {
            let values = map_bytes(&records.images, &table, &offsets);
            Tensor::from_vec(values, (n, IMAGE_BYTES), device)?
        }
        DType::F32 | DType::F16 | DType::BF16 => {
            let table: Vec<f32> = table.iter().map(|&v| v as f32).collect();
            let values = map_bytes(&records.images, &table, &offsets);
            Tensor::from_vec(values, (n, IMAGE_BYTES), device)?.to_dtype(dtype)?
        }
        other => {
            return Err(DataError::invalid(
                "dtype",
                other.as_str(),
                "a float type (f32, f64, f16, bf16)",
            ));
        }
    };
    Ok(match layout {
        Layout::Flat => tensor,
        Layout::Image => tensor.reshape((n, CHANNELS, IMAGE_SIDE, IMAGE_SIDE))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments_of(values: &[u8]) -> (f64, f64) {
        let sum = values.iter().map(|&x| u64::from(x)).sum();
        let sum_sq = values.iter().map(|&x| u64::from(x) * u64::from(x)).sum();
        moments(values.len() as u64, sum, sum_sq)
    }

    #[test]
    fn moments_match_direct_formula() {
        let values = [0u8, 10, 10, 255, 128];
        let (mean, inv_std) = moments_of(&values);
        let xs: Vec<f64> = values.iter().map(|&v| f64::from(v) / 255.0).collect();
        let m = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 5.0;
        assert!((mean - m).abs() < 1e-15);
        assert!((inv_std - 1.0 / var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn constant_position_is_only_centred() {
        let (mean, inv_std) = moments_of(&[51, 51, 51, 51]);
        assert!((mean - 0.2).abs() < 1e-15);
        assert_eq!(inv_std, 1.0);
    }
}
