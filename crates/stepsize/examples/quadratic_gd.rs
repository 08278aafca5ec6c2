//! Gradient descent with each stepsize rule on the ill-conditioned quadratic
//! f(w) = ½wᵀHw, H = diag(100, 1). Prints η_t, η_t·λ_max (the edge of stability is at 2),
//! the number of line-search trials and the loss.
use stepsharp_stepsize::{
    ArmijoConfig, CdatConfig, ConstantConfig, FnOracle, PolyakConfig, RuleConfig, StepContext,
    Stepsize, StepsizeError,
};

const H: [f64; 2] = [100.0, 1.0];
const LAMBDA_MAX: f64 = 100.0;

fn loss(w: [f64; 2]) -> f64 {
    0.5 * (H[0] * w[0] * w[0] + H[1] * w[1] * w[1])
}

fn main() -> Result<(), StepsizeError> {
    let rules = [
        RuleConfig::Constant(ConstantConfig { eta: 0.019 }),
        RuleConfig::Armijo(ArmijoConfig::optax()),
        RuleConfig::Polyak(PolyakConfig::loizou()),
        RuleConfig::Cdat(CdatConfig {
            sigma: 1.0,
            ..CdatConfig::default()
        }),
        RuleConfig::Cdat(CdatConfig::default()), // σ = 2: "on edge", f(w_{t+1}) = f(w_t)
    ];
    for config in rules {
        println!("{config:?}");
        let mut rule = Stepsize::new(config)?;
        let mut w = [1.0, 1.0];
        for t in 0..10 {
            let g = [H[0] * w[0], H[1] * w[1]];
            let ctx = StepContext::gradient_descent(loss(w), g[0] * g[0] + g[1] * g[1]);
            let mut oracle = FnOracle {
                loss_at: |eta: f64| loss([w[0] - eta * g[0], w[1] - eta * g[1]]),
                curvature: || H[0] * g[0] * g[0] + H[1] * g[1] * g[1],
            };
            let record = rule.step(&ctx, &mut oracle)?;
            w = [w[0] - record.eta * g[0], w[1] - record.eta * g[1]];
            println!(
                "  t={t:2}  eta={:.5}  eta*lambda_max={:.3}  trials={:2}  loss={:.4e}",
                record.eta,
                record.eta * LAMBDA_MAX,
                record.trials,
                loss(w)
            );
        }
    }
    Ok(())
}
