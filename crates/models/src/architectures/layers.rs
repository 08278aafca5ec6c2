//! Layers written from generic candle ops whose backward passes are themselves differentiable,
//! so that double backward (Hessian-vector products) is exact.
//!
//! Avoided on purpose (`docs/candle.md`): `max_pool2d` (its backward is scaled by
//! 1/(kh·kw)), the fused norm ops and `softmax_last_dim` (no gradient), candle's `gelu` /
//! `gelu_erf` (their backward uses rounded constants).

use std::sync::{Arc, Mutex};

use candle_core::{Result, Tensor, Var};

use crate::ops::channels::{channel_broadcast, channel_sum};
use crate::ops::convolution::convolve;
use crate::ops::data_product::data_product;
use crate::ops::elementwise::add_row;
use crate::ops::tanh::tanh;
use crate::{Activation, BatchNormMode};

/// BatchNorm ε (PyTorch default).
pub(crate) const BN_EPS: f64 = 1e-5;
/// BatchNorm running-statistics momentum: r ← (1 − m)·r + m·batch (PyTorch default).
pub(crate) const BN_MOMENTUM: f64 = 0.1;

/// Fully connected layer y = x·Wᵀ + b, W of shape (out, in).
pub(crate) struct Linear {
    pub(crate) weight: Var,
    pub(crate) bias: Option<Var>,
}

impl Linear {
    /// An input that depends on no variable (the data, for a first layer) goes through
    /// [`data_product`], whose backward passes skip the unused gradient of the input.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let weight = self.weight.as_tensor();
        let y = if x.track_op() {
            x.matmul(&weight.t()?)?
        } else {
            data_product(x, weight)?
        };
        match &self.bias {
            Some(b) => y.broadcast_add(b.as_tensor()),
            None => Ok(y),
        }
    }

    /// [`Linear::forward`]'s values for an input that depends on no variable, without a graph
    /// (the MLP's closed-form derivatives): the same [`data_product`] and bias sum, on the
    /// detached parameters.
    pub(crate) fn forward_values(&self, x: &Tensor) -> Result<Tensor> {
        let y = data_product(x, &self.weight.as_tensor().detach())?;
        match &self.bias {
            Some(b) => add_row(&y, &b.as_tensor().detach()),
            None => Ok(y),
        }
    }
}

/// 2-D convolution with square kernel, weight (out, in, k, k), optional per-channel bias.
pub(crate) struct Conv2d {
    pub(crate) weight: Var,
    pub(crate) bias: Option<Var>,
    pub(crate) stride: usize,
    pub(crate) padding: usize,
}

impl Conv2d {
    /// On the CPU as patch extraction and a matrix product ([`convolve`], exact derivatives
    /// of every order at `gemm` speed); elsewhere Candle's `conv2d`.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let weight = self.weight.as_tensor();
        let y = if x.device().is_cpu() {
            convolve(x, weight, self.stride, self.padding)?
        } else {
            x.conv2d(weight, self.padding, self.stride, 1, 1)?
        };
        match &self.bias {
            Some(b) => {
                let c = b.as_tensor().dim(0)?;
                y.add(&channel_broadcast(
                    &b.as_tensor().reshape((1, c, 1, 1))?,
                    y.dims4()?,
                )?)
            }
            None => Ok(y),
        }
    }
}

/// Running statistics of one BatchNorm layer (not trainable, excluded from the flat view).
pub(crate) struct BnState {
    /// Layer prefix, e.g. `layer001.stem.bn`.
    pub(crate) name: String,
    /// (running mean, running variance), each of shape (channels,).
    pub(crate) running: Mutex<(Tensor, Tensor)>,
}

/// BatchNorm over (n, h, w) of an (n, c, h, w) input, from generic ops:
/// y = γ·(x − μ)/√(σ² + ε) + β with biased batch variance σ² (train modes) or running
/// statistics (eval mode). In `TrainUpdate` mode the running statistics are updated as in
/// PyTorch: μ_r ← 0.9·μ_r + 0.1·μ, σ²_r ← 0.9·σ²_r + 0.1·σ²·m/(m − 1), m = n·h·w.
pub(crate) struct BatchNorm {
    pub(crate) gamma: Var,
    pub(crate) beta: Var,
    pub(crate) state: Arc<BnState>,
}

impl BatchNorm {
    /// Per-channel means and sums go through [`channel_sum`] and [`channel_broadcast`]
    /// (exact derivatives, one contiguous pass each): `y = (x − μ)·(γ/√(σ² + ε)) + β`.
    pub(crate) fn forward(&self, x: &Tensor, mode: BatchNormMode) -> crate::Result<Tensor> {
        let dims = x.dims4()?;
        let (n, c, h, w) = dims;
        let shape = (1, c, 1, 1);
        let gamma = self.gamma.as_tensor().reshape(shape)?;
        let beta = self.beta.as_tensor().reshape(shape)?;
        let (centered, var) = match mode {
            BatchNormMode::Eval => {
                let running = self.state.running.lock().expect("BatchNorm state poisoned");
                let mean = running.0.reshape(shape)?;
                (
                    x.sub(&channel_broadcast(&mean, dims)?)?,
                    running.1.reshape(shape)?,
                )
            }
            BatchNormMode::Train | BatchNormMode::TrainUpdate => {
                let m = n * h * w;
                if m < 2 {
                    return Err(crate::ModelError::Shape {
                        expected: "at least 2 values per channel for batch statistics".into(),
                        found: format!("{:?}", x.dims()),
                    });
                }
                let mean = (channel_sum(x)? / m as f64)?;
                let centered = x.sub(&channel_broadcast(&mean, dims)?)?;
                let var = (channel_sum(&centered.sqr()?)? / m as f64)?;
                if mode == BatchNormMode::TrainUpdate {
                    let mut running = self.state.running.lock().expect("BatchNorm state poisoned");
                    let batch_mean = mean.detach().flatten_all()?;
                    let unbiased = (var.detach().flatten_all()? * (m as f64 / (m - 1) as f64))?;
                    let new_mean =
                        ((&running.0 * (1.0 - BN_MOMENTUM))? + (batch_mean * BN_MOMENTUM)?)?;
                    let new_var =
                        ((&running.1 * (1.0 - BN_MOMENTUM))? + (unbiased * BN_MOMENTUM)?)?;
                    *running = (new_mean, new_var);
                }
                (centered, var)
            }
        };
        let scale = gamma.div(&(var + BN_EPS)?.sqrt()?)?;
        let y = centered.mul(&channel_broadcast(&scale, dims)?)?;
        Ok(y.add(&channel_broadcast(&beta, dims)?)?)
    }
}

/// Applies the activation elementwise (formulas in [`Activation`]).
pub(crate) fn activate(x: &Tensor, activation: Activation) -> Result<Tensor> {
    match activation {
        Activation::Tanh => tanh(x),
        Activation::Relu => x.relu(),
        Activation::Elu => x.elu(1.0),
        Activation::Softplus => x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?,
        Activation::Gelu => {
            let phi = ((x * std::f64::consts::FRAC_1_SQRT_2)?.erf()? + 1.0)?;
            (x * &phi)? * 0.5
        }
    }
}

/// 2×2 max-pool with stride 2 whose gradient goes to one maximum per window, the first in
/// row-major order (as in PyTorch and JAX): `y = Σ_window x ⊙ m`, with `m` the one-hot mask of
/// the window's first maximum, a constant of the graph. Derivatives of every order are exact
/// where the maximum is unique; at a tie the gradient is the chosen element's, a valid
/// subgradient.
///
/// Not Candle's `max` over the window axes: its backward sends the full gradient to every tied
/// maximum (k times the gradient at a k-way tie, which is no subgradient), and ties are
/// common on CIFAR-10, whose flat image regions give equal convolution outputs (a VGG-11's
/// Hessian-vector product differed from JAX's by 1% in f64 before this). A NaN in a window
/// makes its output NaN.
pub(crate) fn max_pool_2x2(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let windows = x
        .reshape((b, c, h / 2, 2, w / 2, 2))?
        .permute((0, 1, 2, 4, 3, 5))?
        .reshape((b, c, h / 2, w / 2, 4))?;
    let first = windows.detach().argmax_keepdim(4)?;
    let positions = Tensor::arange(0u32, 4, x.device())?.reshape((1, 1, 1, 1, 4))?;
    let mask = positions.broadcast_eq(&first)?.to_dtype(x.dtype())?;
    windows.mul(&mask)?.sum(4)
}

/// Global average pool (n, c, h, w) → (n, c).
pub(crate) fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    x.mean((2, 3))
}

/// Flattens (n, …) to (n, features).
pub(crate) fn flatten(x: &Tensor) -> Result<Tensor> {
    x.flatten_from(1)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::max_pool_2x2;
    use crate::test_support::values;

    #[test]
    fn max_pool_values_equal_the_window_maxima() {
        let x = values(&[2, 3, 4, 6], 0.4);
        let reference = x
            .reshape((2, 3, 2, 2, 3, 2))
            .unwrap()
            .max(5)
            .unwrap()
            .max(3)
            .unwrap();
        assert_eq!(
            max_pool_2x2(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap(),
            reference.flatten_all().unwrap().to_vec1::<f64>().unwrap()
        );
    }

    /// A window of four equal values: the gradient of `Σ 3·pool(x)` is 3 at the first position
    /// (row-major) and 0 elsewhere — not 3 at all four (Candle's `max` backward), which would
    /// predict a slope of 12 along the direction of all ones, where the true one is 3.
    #[test]
    fn max_pool_gradient_at_a_tie_goes_to_the_first_maximum() {
        let x = Var::from_tensor(
            &Tensor::new(
                &[[[[0.5f64, 0.5], [0.5, 0.5]], [[0.1, 0.9], [0.9, 0.2]]]],
                &Device::Cpu,
            )
            .unwrap(),
        )
        .unwrap();
        let loss = (max_pool_2x2(x.as_tensor()).unwrap() * 3.0)
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let gradient = grads
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        assert_eq!(gradient, [3.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0]);
    }
}
