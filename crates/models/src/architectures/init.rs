//! Seeded, device- and dtype-independent parameter initialization.
//!
//! Every parameter tensor has its own random stream: a ChaCha8 generator whose 32-byte seed is
//! `blake3::derive_key("stepsharp-models parameter init v1", seed_le_bytes ‖ name)`. Values are
//! drawn in f64 on the host as `bound · (2u − 1)` with `u = (next_u64 >> 11) · 2⁻⁵³`, then
//! converted to the requested dtype on the CPU and moved to the device. The same seed therefore
//! gives the same weights on CPU and CUDA, f32 weights are exactly the f64 weights rounded to
//! f32, and adding or renaming one layer does not change the others.
//!
//! Scheme (PyTorch defaults, `torch.nn` 2.x):
//! - `Linear(in, out)`: weight and bias ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5).
//! - `Conv2d(in, out, k)`: weight and bias ~ U(−1/√(in·k²), 1/√(in·k²)).
//! - `BatchNorm2d`: γ = 1, β = 0; running mean 0, running variance 1.

use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Tensor, Var};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::architectures::layers::{BatchNorm, BnState, Conv2d, Linear};

const INIT_CONTEXT: &str = "stepsharp-models parameter init v1";

/// Draws `len` values uniformly from [−bound, bound) from the stream of parameter `name`.
///
/// This is exactly how [`crate::Network::new`] fills each Linear/Conv weight and bias (with
/// `bound = 1/√fan_in`), so tests and other tools can reproduce any initial tensor.
///
/// ```
/// let a = stepsharp_models::seeded_uniform(7, "layer000.linear.weight", 4, 0.5);
/// let b = stepsharp_models::seeded_uniform(7, "layer000.linear.weight", 4, 0.5);
/// assert_eq!(a, b);
/// assert!(a.iter().all(|x| x.abs() <= 0.5));
/// ```
pub fn seeded_uniform(seed: u64, name: &str, len: usize, bound: f64) -> Vec<f64> {
    let mut material = seed.to_le_bytes().to_vec();
    material.extend_from_slice(name.as_bytes());
    let key = blake3::derive_key(INIT_CONTEXT, &material);
    let mut rng = ChaCha8Rng::from_seed(key);
    (0..len)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            bound * (2.0 * u - 1.0)
        })
        .collect()
}

/// Collects named parameters and BatchNorm buffers while a network is built.
///
/// Each layer gets a prefix `layerNNN.<path>` with a zero-padded construction index, so that
/// sorting parameter names reproduces construction (= forward) order.
pub(crate) struct ParamBuilder {
    seed: u64,
    dtype: DType,
    device: Device,
    counter: usize,
    pub(crate) params: Vec<(String, Var)>,
    pub(crate) bn_states: Vec<Arc<BnState>>,
}

impl ParamBuilder {
    pub(crate) fn new(seed: u64, dtype: DType, device: &Device) -> Self {
        Self {
            seed,
            dtype,
            device: device.clone(),
            counter: 0,
            params: Vec::new(),
            bn_states: Vec::new(),
        }
    }

    fn prefix(&mut self, path: &str) -> String {
        let p = format!("layer{:03}.{path}", self.counter);
        self.counter += 1;
        p
    }

    fn tensor(&self, values: Vec<f64>, shape: &[usize]) -> candle_core::Result<Tensor> {
        Tensor::from_vec(values, shape, &Device::Cpu)?
            .to_dtype(self.dtype)?
            .to_device(&self.device)
    }

    fn uniform(&mut self, name: String, shape: &[usize], bound: f64) -> candle_core::Result<Var> {
        let len = shape.iter().product();
        let values = seeded_uniform(self.seed, &name, len, bound);
        let var = Var::from_tensor(&self.tensor(values, shape)?)?;
        self.params.push((name, var.clone()));
        Ok(var)
    }

    fn constant(&mut self, name: String, len: usize, value: f64) -> candle_core::Result<Var> {
        let var = Var::from_tensor(&self.tensor(vec![value; len], &[len])?)?;
        self.params.push((name, var.clone()));
        Ok(var)
    }

    /// `Linear(inputs → outputs)` named `layerNNN.<path>`; PyTorch default init.
    pub(crate) fn linear(
        &mut self,
        path: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
    ) -> candle_core::Result<Linear> {
        let prefix = self.prefix(path);
        let bound = 1.0 / (inputs as f64).sqrt();
        let weight = self.uniform(format!("{prefix}.weight"), &[outputs, inputs], bound)?;
        let bias = if bias {
            Some(self.uniform(format!("{prefix}.bias"), &[outputs], bound)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// `Conv2d(inputs → outputs, k×k, stride, padding)`; PyTorch default init.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv(
        &mut self,
        path: &str,
        inputs: usize,
        outputs: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
    ) -> candle_core::Result<Conv2d> {
        let prefix = self.prefix(path);
        let bound = 1.0 / ((inputs * kernel * kernel) as f64).sqrt();
        let shape = [outputs, inputs, kernel, kernel];
        let weight = self.uniform(format!("{prefix}.weight"), &shape, bound)?;
        let bias = if bias {
            Some(self.uniform(format!("{prefix}.bias"), &[outputs], bound)?)
        } else {
            None
        };
        Ok(Conv2d {
            weight,
            bias,
            stride,
            padding,
        })
    }

    /// `BatchNorm2d(channels)`: γ = 1, β = 0, running mean 0, running variance 1.
    pub(crate) fn batch_norm(
        &mut self,
        path: &str,
        channels: usize,
    ) -> candle_core::Result<BatchNorm> {
        let prefix = self.prefix(path);
        let beta = self.constant(format!("{prefix}.bias"), channels, 0.0)?;
        let gamma = self.constant(format!("{prefix}.weight"), channels, 1.0)?;
        let mean = self.tensor(vec![0.0; channels], &[channels])?;
        let var = self.tensor(vec![1.0; channels], &[channels])?;
        let state = Arc::new(BnState {
            name: prefix,
            running: Mutex::new((mean, var)),
        });
        self.bn_states.push(state.clone());
        Ok(BatchNorm { gamma, beta, state })
    }
}
