//! Optax's Armijo line search on the quadratic f(w) = ½·wᵀ·diag(100, 1)·w, gradient descent:
//! the accepted stepsize, its trials, and η·λ_max (the edge of stability is at 2). The code
//! below `main`'s first line is the README's "a stepsize rule" snippet.
//!
//! Run with `cargo run --release -p stepsharp-stepsize --example armijo`.

use stepsharp_stepsize::{ArmijoConfig, FnOracle, RuleConfig, StepContext, Stepsize};

fn main() -> Result<(), stepsharp_stepsize::StepsizeError> {
    let h = [100.0, 1.0];
    let loss = |w: [f64; 2]| 0.5 * (h[0] * w[0] * w[0] + h[1] * w[1] * w[1]);
    let mut rule = Stepsize::new(RuleConfig::Armijo(ArmijoConfig::optax()))?;
    let mut w = [1.0, 1.0];
    for t in 0..8 {
        let g = [h[0] * w[0], h[1] * w[1]];
        let ctx = StepContext::gradient_descent(loss(w), g[0] * g[0] + g[1] * g[1]);
        let mut oracle = FnOracle {
            loss_at: |eta: f64| loss([w[0] - eta * g[0], w[1] - eta * g[1]]),
            curvature: || f64::NAN, // uᵀHu: only CDAT asks for it
        };
        let record = rule.step(&ctx, &mut oracle)?;
        println!(
            "step {t}: η = {:.5} after {} trials, η·λ_max = {:.3}, loss {:.3e}",
            record.eta,
            record.trials,
            record.eta * 100.0,
            loss(w)
        );
        w = [w[0] - record.eta * g[0], w[1] - record.eta * g[1]];
    }
    Ok(())
}
