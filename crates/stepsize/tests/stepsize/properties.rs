//! Property tests over random SPD quadratics f(w) = ½wᵀHw, H = AᵀA + μI.

use crate::common::{Quadratic, QuadraticOracle, axpy, dot};
use proptest::prelude::*;
use stepsharp_stepsize::{
    ArmijoConfig, CdatConfig, Diagnostics, Growth, PolyakConfig, RuleConfig, StepContext, Stepsize,
};

/// A random SPD quadratic and a point with a non-negligible gradient.
fn problem() -> impl Strategy<Value = (Quadratic, Vec<f64>)> {
    (1usize..=5)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(-2.0f64..2.0, n * n),
                1e-3f64..2.0,
                prop::collection::vec(-3.0f64..3.0, n),
            )
                .prop_map(move |(a, mu, w)| (Quadratic::gram(&a, n, mu), w))
        })
        .prop_filter("gradient too small", |(q, w)| {
            let g = q.grad(w);
            dot(&g, &g) > 1e-8
        })
}

/// gᵀHg/‖g‖², the directional sharpness along the gradient.
fn sharpness_along_gradient(q: &Quadratic, w: &[f64]) -> f64 {
    let g = q.grad(w);
    q.curvature(&g) / dot(&g, &g)
}

proptest! {
    /// An accepted Armijo η satisfies the test and η·gᵀHg/‖g‖² ≤ 2(1 − c); the trial before
    /// it (if any) was beyond the boundary; the loss never increases along a GD run.
    #[test]
    fn armijo_accepted_steps_satisfy_the_inequalities(
        (q, w0) in problem(),
        c in 1e-4f64..0.9,
        shrink in 0.1f64..0.95,
        eta_max in 1e-3f64..10.0,
        reset in any::<bool>(),
    ) {
        let growth = if reset { Growth::ResetToMax } else { Growth::Factor(1.5) };
        let config = ArmijoConfig { c, shrink, eta_max, growth, ..ArmijoConfig::optax() };
        let mut rule = Stepsize::new(RuleConfig::Armijo(config.clone())).unwrap();
        let mut w = w0;
        for _ in 0..10 {
            let (ctx, u) = q.gd(&w);
            if -ctx.slope < 1e-20 {
                break;
            }
            let mut oracle = QuadraticOracle::new(&q, &w, &u);
            let record = rule.step(&ctx, &mut oracle).unwrap();
            prop_assert!(!record.failed);
            prop_assert_eq!(record.trials as usize, oracle.etas.len());
            let w_next = axpy(&w, record.eta, &u);
            prop_assert!(config.accepts(ctx.loss, ctx.slope, record.eta, q.loss(&w_next)));
            let rho = sharpness_along_gradient(&q, &w);
            let bound = 2.0 * (1.0 - c);
            prop_assert!(record.eta * rho <= bound * (1.0 + 1e-9), "{} > {}", record.eta * rho, bound);
            if oracle.etas.len() > 1 {
                let rejected = oracle.etas[oracle.etas.len() - 2];
                prop_assert!(rejected * rho >= bound * (1.0 - 1e-6));
            }
            prop_assert!(q.loss(&w_next) <= ctx.loss);
            w = w_next;
        }
    }

    /// Polyak is min((f − f*)/(c‖g‖²), γ_max), 0 below f*, and the clip flag matches.
    #[test]
    fn polyak_matches_its_formula(
        (q, w) in problem(),
        c in 0.1f64..2.0,
        gamma_max in 1e-3f64..100.0,
        f_star in -1.0f64..1.0,
    ) {
        let (ctx, _) = q.gd(&w);
        let config = PolyakConfig { c, gamma_max, f_star, eps: 0.0 };
        let record = Stepsize::new(RuleConfig::Polyak(config)).unwrap()
            .step(&ctx, &mut crate::common::NoOracle).unwrap();
        let ratio = (ctx.loss - f_star) / (c * -ctx.slope);
        if ctx.loss < f_star {
            prop_assert_eq!(record.eta, 0.0);
        } else {
            prop_assert!((record.eta - ratio.min(gamma_max)).abs() <= 1e-12 * ratio.min(gamma_max).max(1e-300));
            prop_assert_eq!(record.diagnostics, Diagnostics::Polyak { unclipped: ratio, clipped: ratio > gamma_max });
        }
    }

    /// CDAT with σ = 1 minimizes f along u; with σ = 2 it returns to f(w); η is linear in σ.
    #[test]
    fn cdat_matches_the_quadratic_model((q, w) in problem(), sigma in 0.1f64..3.0) {
        let (ctx, u) = q.gd(&w);
        let run = |sigma: f64, ctx: &StepContext| {
            Stepsize::new(RuleConfig::Cdat(CdatConfig { sigma, beta: 0.0, eps: 0.0 })).unwrap()
                .step(ctx, &mut QuadraticOracle::new(&q, &w, &u)).unwrap()
        };
        let greedy = run(1.0, &ctx).eta;
        let g = q.grad(&w);
        let minimizer = dot(&g, &g) / q.curvature(&g);
        prop_assert!((greedy - minimizer).abs() <= 1e-12 * minimizer);
        let derivative = dot(&u, &q.grad(&axpy(&w, greedy, &u)));
        prop_assert!(derivative.abs() <= 1e-9 * dot(&u, &u));
        let edge = run(2.0, &ctx).eta;
        let loss_at_edge = q.loss(&axpy(&w, edge, &u));
        prop_assert!((loss_at_edge - ctx.loss).abs() <= 1e-9 * ctx.loss.max(1e-12));
        let scaled = run(sigma, &ctx).eta;
        prop_assert!((scaled - sigma * greedy).abs() <= 1e-12 * sigma * greedy);
    }
}
