//! The top Hessian eigenvalue, two ways: Lanczos on a quadratic with a known spectrum
//! (`Vec<f64>`), and on a tiny Candle model through exact double-backward HVPs.
//!
//! Run with `cargo run --release -p stepsharp-sharpness --example top_eigenvalue`.

use candle_core::{Device, Tensor, Var};
use stepsharp_sharpness::{
    HessianOperator, LanczosConfig, LinearOperator, PowerConfig, SharpnessError,
    enable_double_backward, lanczos, power_iteration,
};

/// `H = diag(eigenvalues)`: the largest magnitude is −50, the largest algebraic is 4.
struct Diagonal(Vec<f64>);

impl LinearOperator for Diagonal {
    type Vector = Vec<f64>;
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn template(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(vec![0.0; self.0.len()])
    }
    fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
        Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Before any backward pass on any thread: Candle reads this once per thread.
    enable_double_backward();

    // 1. A known spectrum.
    let mut quadratic = Diagonal(vec![-50.0, -1.0, 0.5, 2.0, 3.0, 4.0]);
    let config = LanczosConfig {
        k: 2,
        tolerance: 1e-10,
        ..LanczosConfig::default()
    };
    let spectrum = lanczos(&mut quadratic, &config, None)?;
    for pair in &spectrum.eigenpairs {
        println!(
            "quadratic: λ = {:.12}, residual {:.1e}",
            pair.value, pair.residual
        );
    }
    assert!((spectrum.eigenpairs[0].value - 4.0).abs() < 1e-9);
    assert!((spectrum.eigenpairs[1].value - 3.0).abs() < 1e-9);
    let power = power_iteration(&mut quadratic, &PowerConfig::default(), None)?;
    println!(
        "quadratic: power iteration λ = {:.4} in {} HVPs",
        power.lambda_max(),
        power.hvps
    );

    // 2. A tiny model: L(w) = mean_i tanh(x_i · w)², with w ∈ ℝ³.
    let device = Device::Cpu;
    let w = Var::from_tensor(&Tensor::new(&[0.5f64, -0.3, 0.8], &device)?)?;
    let x = Tensor::new(
        &[[1.0f64, 0.0, 2.0], [0.5, -1.0, 0.3], [-0.2, 0.4, 1.0]],
        &device,
    )?;
    let loss = x
        .matmul(&w.as_tensor().unsqueeze(1)?)?
        .tanh()?
        .sqr()?
        .mean_all()?;
    let mut hessian = HessianOperator::new(&[w], &[loss])?;
    let spectrum = lanczos(
        &mut hessian,
        &LanczosConfig {
            tolerance: 1e-10,
            ..Default::default()
        },
        None,
    )?;
    let top = &spectrum.eigenpairs[0];
    println!(
        "tiny model: λ_max = {:.10}, residual {:.1e}, {} HVPs, converged: {}",
        top.value, top.residual, spectrum.hvps, spectrum.converged
    );
    assert!(spectrum.converged && top.residual <= 1e-10 * top.value.abs());
    Ok(())
}
