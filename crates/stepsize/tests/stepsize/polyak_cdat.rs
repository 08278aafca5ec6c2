//! Polyak and CDAT ground truth on quadratics, guards, NaN/Inf.

use crate::common::{NoOracle, Quadratic, QuadraticOracle, assert_close, axpy, dot};
use stepsharp_stepsize::{
    CdatAverages, CdatConfig, CdatState, Diagnostics, FnOracle, PolyakConfig, RuleConfig,
    RuleState, StepContext, Stepsize,
};

#[test]
fn polyak_equals_formula_and_clips_at_gamma_max() {
    let q = Quadratic::diagonal(&[3.0, 0.5]);
    let w = [0.2, -1.0];
    let (ctx, _) = q.gd(&w);
    // f = ½(3·0.04 + 0.5·1) = 0.31, ‖g‖² = 0.36 + 0.25 = 0.61.
    assert_close(ctx.loss, 0.31, 1e-15);
    assert_close(-ctx.slope, 0.61, 1e-15);
    let config = PolyakConfig {
        c: 0.5,
        gamma_max: 10.0,
        f_star: 0.01,
        eps: 0.0,
    };
    let mut rule = Stepsize::new(RuleConfig::Polyak(config.clone())).unwrap();
    let record = rule.step(&ctx, &mut NoOracle).unwrap();
    let expected = (0.31 - 0.01) / (0.5 * 0.61);
    assert_close(record.eta, expected, 1e-14);
    assert_eq!(
        record.diagnostics,
        Diagnostics::Polyak {
            unclipped: record.eta,
            clipped: false
        }
    );
    assert!(!record.failed);
    let mut rule = Stepsize::new(RuleConfig::Polyak(PolyakConfig {
        gamma_max: 0.5,
        ..config
    }))
    .unwrap();
    let record = rule.step(&ctx, &mut NoOracle).unwrap();
    assert_eq!(record.eta, 0.5);
    let Diagnostics::Polyak { unclipped, clipped } = record.diagnostics else {
        panic!()
    };
    assert!(clipped);
    assert_close(unclipped, expected, 1e-14);
}

#[test]
fn polyak_guards() {
    let config = PolyakConfig {
        eps: 1e-10,
        f_star: 0.5,
        ..PolyakConfig::default()
    };
    let mut rule = Stepsize::new(RuleConfig::Polyak(config)).unwrap();
    let zero = Diagnostics::Polyak {
        unclipped: 0.0,
        clipped: false,
    };
    // ‖g‖² at and below eps, and f < f*: step 0, not a failure.
    for ctx in [
        StepContext::gradient_descent(1.0, 1e-10),
        StepContext::gradient_descent(1.0, 0.0),
        StepContext::gradient_descent(0.49, 1.0),
    ] {
        let record = rule.step(&ctx, &mut NoOracle).unwrap();
        assert_eq!(
            (record.eta, record.failed, &record.diagnostics),
            (0.0, false, &zero),
            "{ctx:?}"
        );
    }
    // f = f*: step 0 from the formula itself.
    assert_eq!(
        rule.step(&StepContext::gradient_descent(0.5, 1.0), &mut NoOracle)
            .unwrap()
            .eta,
        0.0
    );
    // NaN/Inf inputs: step 0, failed.
    for ctx in [
        StepContext::gradient_descent(f64::NAN, 1.0),
        StepContext::gradient_descent(f64::INFINITY, 1.0),
        StepContext::gradient_descent(1.0, f64::NAN),
        StepContext::gradient_descent(1.0, f64::INFINITY),
    ] {
        let record = rule.step(&ctx, &mut NoOracle).unwrap();
        assert_eq!(
            (record.eta, record.failed, &record.diagnostics),
            (0.0, true, &zero),
            "{ctx:?}"
        );
    }
}

// ---------------------------------------------------------------- CDAT

fn cdat(sigma: f64, beta: f64) -> Stepsize {
    Stepsize::new(RuleConfig::Cdat(CdatConfig {
        sigma,
        beta,
        eps: 0.0,
    }))
    .unwrap()
}

#[test]
fn cdat_sigma_one_is_the_exact_line_minimizer() {
    let q = Quadratic::gram(&[1.0, 2.0, -0.5, 0.3, 3.0, 1.0, 0.0, -1.0, 2.0], 3, 0.1);
    let w = [1.0, -2.0, 0.5];
    let (ctx, u) = q.gd(&w);
    let mut oracle = QuadraticOracle::new(&q, &w, &u);
    let record = cdat(1.0, 0.0).step(&ctx, &mut oracle).unwrap();
    assert_eq!(
        (
            record.curvature_evaluations,
            oracle.curvature_calls,
            record.loss_evaluations
        ),
        (1, 1, 0)
    );
    let g = q.grad(&w);
    assert_close(record.eta, dot(&g, &g) / q.curvature(&g), 1e-14);
    // d/dη f(w + ηu) = uᵀ∇f(w + ηu) vanishes at the minimizer.
    let w_next = axpy(&w, record.eta, &u);
    let derivative = dot(&u, &q.grad(&w_next));
    assert!(derivative.abs() <= 1e-12 * dot(&u, &u), "{derivative:e}");
    assert!(!record.failed);
}

#[test]
fn cdat_sigma_two_returns_to_the_same_loss() {
    let q = Quadratic::diagonal(&[100.0, 1.0]);
    let w = [1.0, 1.0];
    let (ctx, u) = q.gd(&w);
    let record = cdat(2.0, 0.0)
        .step(&ctx, &mut QuadraticOracle::new(&q, &w, &u))
        .unwrap();
    assert_close(q.loss(&axpy(&w, record.eta, &u)), ctx.loss, 1e-12);
    let Diagnostics::Cdat {
        numerator,
        denominator,
    } = record.diagnostics
    else {
        panic!()
    };
    assert_eq!(numerator, -ctx.slope);
    assert_eq!(denominator, q.curvature(&u));
}

#[test]
fn cdat_ema_starts_from_first_value_and_uses_absolute_curvature() {
    let mut rule = cdat(2.0, 0.5);
    let mut step = |slope: f64, curvature: f64| {
        let ctx = StepContext { loss: 1.0, slope };
        rule.step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| f64::NAN,
                curvature: || curvature,
            },
        )
        .unwrap()
    };
    // Step 1: N = 4, D = 2 → η = 2·4/2 = 4.
    let r1 = step(-4.0, 2.0);
    assert_eq!(r1.eta, 4.0);
    assert_eq!(
        r1.diagnostics,
        Diagnostics::Cdat {
            numerator: 4.0,
            denominator: 2.0
        }
    );
    // Step 2: N = ½·4 + ½·2 = 3, D = ½·2 + ½·|−6| = 4 → η = 2·3/4 = 1.5.
    let r2 = step(-2.0, -6.0);
    assert_eq!(r2.eta, 1.5);
    assert_eq!(
        r2.diagnostics,
        Diagnostics::Cdat {
            numerator: 3.0,
            denominator: 4.0
        }
    );
    // Step 3: an ascent slope contributes 0: N = 1.5, D = ½·4 + ½·4 = 4 → η = 0.75.
    assert_eq!(step(5.0, 4.0).eta, 0.75);
    assert_eq!(
        rule.state(),
        RuleState::Cdat(CdatState {
            averages: Some(CdatAverages {
                numerator: 1.5,
                denominator: 4.0
            })
        })
    );
}

#[test]
fn cdat_non_finite_inputs_fail_and_keep_the_averages() {
    let mut rule = cdat(2.0, 0.9);
    let ctx = StepContext::gradient_descent(1.0, 4.0);
    rule.step(
        &ctx,
        &mut FnOracle {
            loss_at: |_| 0.0,
            curvature: || 8.0,
        },
    )
    .unwrap();
    let before = rule.state();
    // NaN slope: the curvature is not even asked for.
    let record = rule
        .step(&StepContext::gradient_descent(1.0, f64::NAN), &mut NoOracle)
        .unwrap();
    assert_eq!(
        (record.eta, record.failed, record.curvature_evaluations),
        (0.0, true, 0)
    );
    assert_eq!(
        record.diagnostics,
        Diagnostics::Cdat {
            numerator: 4.0,
            denominator: 8.0
        }
    );
    // Inf curvature.
    let record = rule
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| 0.0,
                curvature: || f64::INFINITY,
            },
        )
        .unwrap();
    assert_eq!(
        (record.eta, record.failed, record.curvature_evaluations),
        (0.0, true, 1)
    );
    assert_eq!(rule.state(), before);
    // Before any average exists the record shows zeros.
    let record = cdat(1.0, 0.0)
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| 0.0,
                curvature: || f64::NAN,
            },
        )
        .unwrap();
    assert_eq!(
        record.diagnostics,
        Diagnostics::Cdat {
            numerator: 0.0,
            denominator: 0.0
        }
    );
}

#[test]
fn cdat_zero_curvature_with_zero_eps_fails_to_zero() {
    let ctx = StepContext::gradient_descent(1.0, 4.0);
    let record = cdat(2.0, 0.0)
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| 0.0,
                curvature: || 0.0,
            },
        )
        .unwrap();
    assert_eq!((record.eta, record.failed), (0.0, true));
    // With the default ε the step is finite.
    let mut rule = Stepsize::new(RuleConfig::Cdat(CdatConfig::default())).unwrap();
    let record = rule
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| 0.0,
                curvature: || 0.0,
            },
        )
        .unwrap();
    assert_eq!((record.eta, record.failed), (2.0 * 4.0 / 1e-12, false));
}
