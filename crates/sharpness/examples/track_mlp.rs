//! A sharpness tracker attached to an ordinary candle-nn training loop: a tiny MLP (8-16-1,
//! tanh, MSE) trained by SGD on synthetic data, with λ_max and the Hessian trace printed
//! every 10 steps. The code from `let params` on is the README's "a sharpness tracker in a
//! Candle loop" snippet.
//!
//! Run with `cargo run --release -p stepsharp-sharpness --example track_mlp`.

use candle_core::{Device, Module, Tensor, Var};
use candle_nn::{Linear, Optimizer, SGD};
use stepsharp_sharpness::{
    Schedule, SharpnessTracker, TraceConfig, TrackerConfig, enable_double_backward,
};

/// Deterministic pseudo-random values in [−scale, scale] (the example needs no RNG crate).
fn values(n: usize, phase: f64, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|i| (scale * ((i as f64 + 1.0) * 12.9898 + phase).sin()) as f32)
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Before the first backward pass: Candle reads the setting once per thread.
    enable_double_backward();
    let device = Device::Cpu;
    let (examples, inputs, hidden) = (64, 8, 16);
    let x = Tensor::from_vec(
        values(examples * inputs, 0.1, 1.0),
        (examples, inputs),
        &device,
    )?;
    let y = x.sum_keepdim(1)?.sin()?;

    // The model's variables, created by us so that the tracker sees them all.
    let var = |n: usize, shape: &[usize], phase: f64, scale: f64| {
        Var::from_tensor(&Tensor::from_vec(values(n, phase, scale), shape, &device)?)
    };
    let w1 = var(hidden * inputs, &[hidden, inputs], 0.2, 0.35)?;
    let b1 = var(hidden, &[hidden], 0.3, 0.1)?;
    let w2 = var(hidden, &[1, hidden], 0.4, 0.25)?;
    let b2 = var(1, &[1], 0.5, 0.1)?;
    let first = Linear::new(w1.as_tensor().clone(), Some(b1.as_tensor().clone()));
    let second = Linear::new(w2.as_tensor().clone(), Some(b2.as_tensor().clone()));
    let loss = || candle_nn::loss::mse(&second.forward(&first.forward(&x)?.tanh()?)?, &y);

    let params = [w1, b1, w2, b2];
    let eta = 0.2;
    let mut optimizer = SGD::new(params.to_vec(), eta)?;
    // λ_max every 10 steps (Lanczos, exact HVPs, warm-started), and the Hessian's trace.
    let config = TrackerConfig {
        schedule: Schedule::Every(10),
        trace: Some(TraceConfig::default()),
        ..TrackerConfig::default()
    };
    let mut tracker = SharpnessTracker::new(&params, &loss, config)?;
    for step in 0..=100 {
        if let Some(m) = tracker.step(step)? {
            let trace = m.trace.as_ref().map_or(f64::NAN, |t| t.value);
            let (lambda, residual) = (m.lambda_max(), m.residuals[0]);
            println!(
                "step {step}: λ_max {lambda:.4} (residual {residual:.1e}, 2/η = {}), tr(H) {trace:.3}, {} HVPs",
                2.0 / eta,
                m.hvps
            );
        }
        optimizer.backward_step(&loss()?)?;
    }
    Ok(())
}
