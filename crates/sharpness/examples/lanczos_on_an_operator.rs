//! The top eigenvalues of a symmetric operator known only through its products, by Lanczos
//! with full reorthogonalization: the largest *algebraic* ones (4 and 3 here, although −50 is
//! the largest in magnitude), each certified by its Ritz residual. The code is the README's
//! "Lanczos on an operator" snippet.
//!
//! Run with `cargo run --release -p stepsharp-sharpness --example lanczos_on_an_operator`.

use stepsharp_sharpness::{LanczosConfig, LinearOperator, SharpnessError, lanczos};

/// `v ↦ Hv` for H = diag(−50, −1, 0.5, 2, 3, 4): a stand-in for Hessian-vector products.
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

fn main() -> Result<(), SharpnessError> {
    let mut hessian = Diagonal(vec![-50.0, -1.0, 0.5, 2.0, 3.0, 4.0]);
    let config = LanczosConfig {
        k: 2,
        tolerance: 1e-10,
        ..LanczosConfig::default()
    };
    let top = lanczos(&mut hessian, &config, None)?;
    for pair in &top.eigenpairs {
        println!(
            "λ = {:.6} (Ritz residual {:.1e})",
            pair.value, pair.residual
        );
    }
    assert!((top.eigenpairs[0].value - 4.0).abs() < 1e-9);
    Ok(())
}
