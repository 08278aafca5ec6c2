//! Losses and accuracy on logits.

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Training loss on logits f(x) ∈ ℝ^(n×k) with integer labels y ∈ {0, …, k−1}ⁿ, averaged over
/// the n examples:
/// - `Mse`: (1/n)·Σᵢ ½‖f(xᵢ) − onehot(yᵢ)‖², summed over classes (Cohen et al. 2021).
/// - `CrossEntropy`: −(1/n)·Σᵢ log softmax(f(xᵢ))_{yᵢ}.
///
/// Both are built from ops with exact first and second derivatives (log-softmax is
/// f − max f − log Σ exp(f − max f) with the max detached, which is exact by shift invariance).
///
/// Default: `Mse` (Cohen et al. 2021's main experiments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Half squared error against one-hot targets, summed over classes.
    #[default]
    Mse,
    /// Softmax cross-entropy.
    CrossEntropy,
}

/// Checks (n, k) logits against (n,) labels and returns the labels as u32 with n and k.
fn check(logits: &Tensor, labels: &Tensor) -> Result<(Tensor, usize, usize), ModelError> {
    let (n, k) = logits.dims2().map_err(|_| ModelError::Shape {
        expected: "logits (n, num_classes)".into(),
        found: format!("{:?}", logits.dims()),
    })?;
    if labels.dims() != [n] || n == 0 {
        return Err(ModelError::Shape {
            expected: format!("labels ({n},) with n >= 1"),
            found: format!("{:?}", labels.dims()),
        });
    }
    if !matches!(labels.dtype(), DType::U8 | DType::U32 | DType::I64) {
        return Err(ModelError::Shape {
            expected: "integer labels (u8, u32 or i64)".into(),
            found: format!("{:?}", labels.dtype()),
        });
    }
    let labels = labels.to_dtype(DType::U32)?.to_device(logits.device())?;
    let max = labels.max(0)?.to_scalar::<u32>()? as usize;
    if max >= k {
        return Err(ModelError::Shape {
            expected: format!("labels < {k}"),
            found: format!("label {max}"),
        });
    }
    Ok((labels, n, k))
}

/// One-hot encoding (n, k) in `dtype` of u32 labels (n,).
fn one_hot(labels: &Tensor, k: usize, dtype: DType) -> Result<Tensor, ModelError> {
    let classes = Tensor::arange(0u32, k as u32, labels.device())?.unsqueeze(0)?;
    Ok(labels
        .unsqueeze(1)?
        .broadcast_eq(&classes)?
        .to_dtype(dtype)?)
}

/// Log-softmax over classes with the row maximum detached (exact in every derivative).
fn log_softmax(logits: &Tensor) -> candle_core::Result<Tensor> {
    let shifted = logits.broadcast_sub(&logits.max_keepdim(1)?.detach())?;
    let log_sum = shifted.exp()?.sum_keepdim(1)?.log()?;
    shifted.broadcast_sub(&log_sum)
}

/// The scalar loss (see [`Loss`]) of `logits` (n, k) against `labels` (n,), mean over examples.
/// Labels may be u8, u32 or i64 and must be below k. NaN logits give a NaN loss, not an error.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use stepsharp_models::{Loss, loss};
/// # fn main() -> Result<(), stepsharp_models::ModelError> {
/// let logits = Tensor::new(&[[1.0f64, 0.0], [0.0, 0.0]], &Device::Cpu)?;
/// let labels = Tensor::new(&[0u32, 1], &Device::Cpu)?;
/// // ½(0² + 0²) and ½(0² + 1²), averaged over 2 examples.
/// let mse = loss(&logits, &labels, Loss::Mse)?.to_scalar::<f64>()?;
/// assert_eq!(mse, 0.25);
/// # Ok(()) }
/// ```
pub fn loss(logits: &Tensor, labels: &Tensor, loss: Loss) -> Result<Tensor, ModelError> {
    let (labels, n, k) = check(logits, labels)?;
    let targets = one_hot(&labels, k, logits.dtype())?;
    let value = match loss {
        Loss::Mse => ((logits - &targets)?.sqr()?.sum_all()? * (0.5 / n as f64))?,
        Loss::CrossEntropy => ((log_softmax(logits)? * &targets)?.sum_all()? * (-1.0 / n as f64))?,
    };
    Ok(value)
}

/// Number of rows whose arg-max logit equals the label.
pub(crate) fn correct(logits: &Tensor, labels: &Tensor) -> Result<usize, ModelError> {
    let (labels, _, _) = check(logits, labels)?;
    let hits = logits.argmax(1)?.eq(&labels)?.to_dtype(DType::U32)?;
    Ok(hits.sum_all()?.to_scalar::<u32>()? as usize)
}

/// Fraction of rows whose arg-max logit equals the label, in [0, 1].
pub fn accuracy(logits: &Tensor, labels: &Tensor) -> Result<f64, ModelError> {
    let n = logits.dim(0)?;
    Ok(correct(logits, labels)? as f64 / n as f64)
}
