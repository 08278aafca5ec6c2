//! Shared test helpers: deterministic inputs, directions, and exact HVPs by double backward.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Activation, Architecture, BatchNormMode, Gradient, Loss, Network, Objective, ResNetDepth, loss,
    seeded_uniform,
};

/// Sets `CANDLE_GRAD_DO_NOT_DETACH=1` once per process, before any backward pass of a test
/// that calls it (candle reads it per thread at the first backward).
pub fn enable_double_backward() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: called before any backward pass of this test binary's tests that use it;
        // the Once serializes the write.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
    });
}

/// `n` CIFAR-shaped f64 images with entries in [−1, 1), drawn from `seed`.
pub fn images(n: usize, seed: u64) -> Tensor {
    let v = seeded_uniform(seed, "test.images", n * 3 * 32 * 32, 1.0);
    Tensor::from_vec(v, (n, 3, 32, 32), &Device::Cpu).unwrap()
}

/// Labels 0, 3, 6, 9, 2, … (i·3 mod k) as u32.
pub fn labels(n: usize, k: usize) -> Tensor {
    let v: Vec<u32> = (0..n).map(|i| ((3 * i) % k) as u32).collect();
    Tensor::from_vec(v, n, &Device::Cpu).unwrap()
}

/// A flat unit-norm direction of length `p` drawn from `seed`, in `dtype`.
pub fn direction(p: usize, seed: u64, dtype: DType) -> Tensor {
    let v = seeded_uniform(seed, "test.direction", p, 1.0);
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let v: Vec<f64> = v.iter().map(|x| x / norm).collect();
    Tensor::from_vec(v, p, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// Splits a flat vector into per-parameter tensors shaped like `net.parameters()`.
pub fn split(net: &Network, flat: &Tensor) -> Vec<Tensor> {
    let mut offset = 0;
    net.parameters()
        .iter()
        .map(|v| {
            let n = v.elem_count();
            let t = flat
                .narrow(0, offset, n)
                .unwrap()
                .reshape(v.shape())
                .unwrap();
            offset += n;
            t
        })
        .collect()
}

pub fn dot(a: &Tensor, b: &Tensor) -> f64 {
    (a * b)
        .unwrap()
        .sum_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

/// Mean loss on (x, y) in `Train` mode, with its graph.
pub fn loss_tensor(net: &Network, x: &Tensor, y: &Tensor, kind: Loss) -> Tensor {
    let logits = net.forward(x, BatchNormMode::Train).unwrap();
    loss(&logits, y, kind).unwrap()
}

pub fn loss_value(net: &Network, x: &Tensor, y: &Tensor, kind: Loss) -> f64 {
    loss_tensor(net, x, y, kind)
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

/// Flat gradient of `objective` at the current parameters (Train mode).
pub fn gradient(objective: &Objective, x: &Tensor, y: &Tensor) -> Tensor {
    objective
        .evaluate(x, y, BatchNormMode::Train, Gradient::Compute)
        .unwrap()
        .gradient
        .unwrap()
}

/// Exact H·d (flat) by double backward: s = Σ_params ⟨g, d⟩, Hd = ∇s.
/// Requires [`enable_double_backward`].
pub fn hvp(net: &Network, x: &Tensor, y: &Tensor, kind: Loss, d: &Tensor) -> Tensor {
    let l = loss_tensor(net, x, y, kind);
    let grads = l.backward().unwrap();
    let parts = split(net, d);
    let mut s: Option<Tensor> = None;
    for (v, dp) in net.parameters().iter().zip(&parts) {
        let g = grads
            .get(v.as_tensor())
            .expect("parameter without gradient");
        let term = (g * dp).unwrap().sum_all().unwrap();
        s = Some(match s {
            Some(acc) => (acc + term).unwrap(),
            None => term,
        });
    }
    let hs = s.unwrap().backward().unwrap();
    let per: Vec<Tensor> = net
        .parameters()
        .iter()
        .map(|v| match hs.get(v.as_tensor()) {
            Some(h) => h.detach(),
            None => v.as_tensor().zeros_like().unwrap(),
        })
        .collect();
    net.flatten(&per).unwrap()
}

/// Every architecture at a test-sized width (f64 finite-difference checks).
pub fn tiny_architectures() -> Vec<Architecture> {
    let mut out = Vec::new();
    for activation in [
        Activation::Tanh,
        Activation::Relu,
        Activation::Elu,
        Activation::Softplus,
        Activation::Gelu,
    ] {
        out.push(Architecture::Mlp {
            hidden: vec![6, 5],
            activation,
            bias: true,
        });
    }
    out.push(Architecture::Mlp {
        hidden: vec![6],
        activation: Activation::Tanh,
        bias: false,
    });
    for batch_norm in [false, true] {
        out.push(Architecture::Vgg11 {
            batch_norm,
            width: 4,
        });
        for depth in [
            ResNetDepth::ResNet20,
            ResNetDepth::ResNet32,
            ResNetDepth::ResNet18,
            ResNetDepth::ResNet34,
        ] {
            out.push(Architecture::ResNet {
                depth,
                batch_norm,
                width: 4,
            });
        }
    }
    out
}

/// Whether the architecture is smooth (no relu, no max-pool).
pub fn is_smooth(arch: &Architecture) -> bool {
    matches!(arch, Architecture::Mlp { activation, .. } if *activation != Activation::Relu)
}
