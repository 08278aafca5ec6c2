//! Helpers of this crate's unit tests.

use candle_core::{Device, Tensor};

/// Deterministic values `sin(0.7·i + seed)` in (−1, 1), f64, of the given shape.
pub(crate) fn values(shape: &[usize], seed: f64) -> Tensor {
    let count: usize = shape.iter().product();
    Tensor::arange(0.0f64, count as f64, &Device::Cpu)
        .unwrap()
        .affine(0.7, seed)
        .unwrap()
        .sin()
        .unwrap()
        .reshape(shape)
        .unwrap()
}

/// The largest absolute entrywise difference of two f64 tensors.
pub(crate) fn max_difference(a: &Tensor, b: &Tensor) -> f64 {
    let difference = (a - b).unwrap().abs().unwrap().max_all().unwrap();
    difference.to_scalar::<f64>().unwrap()
}
