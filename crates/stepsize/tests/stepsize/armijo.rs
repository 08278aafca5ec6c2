//! Armijo (and constant) ground truth on quadratics, failure policies, NaN/Inf.

use crate::common::{NoOracle, Quadratic, QuadraticOracle, axpy, dot};
use stepsharp_stepsize::{
    ArmijoConfig, ArmijoState, ConstantConfig, Diagnostics, FailurePolicy, FnOracle, Growth,
    RuleConfig, RuleState, StepContext, StepRecord, Stepsize, StepsizeError, TrialLimit,
};

fn armijo(config: ArmijoConfig) -> Stepsize {
    Stepsize::new(RuleConfig::Armijo(config)).unwrap()
}

// ---------------------------------------------------------------- constant

#[test]
fn constant_returns_eta_without_oracle_calls() {
    let mut rule = Stepsize::new(RuleConfig::Constant(ConstantConfig { eta: 0.37 })).unwrap();
    let ctx = StepContext::gradient_descent(f64::NAN, 1.0);
    let record = rule.step(&ctx, &mut NoOracle).unwrap();
    assert_eq!(record.eta, 0.37);
    assert_eq!(
        (
            record.trials,
            record.loss_evaluations,
            record.curvature_evaluations
        ),
        (0, 0, 0)
    );
    assert!(!record.failed);
    assert_eq!(record.diagnostics, Diagnostics::Constant);
}

// ---------------------------------------------------------------- Armijo

/// f(w) = ½·4·w², w = 1, u = −4, c = 0.5: the Armijo boundary is 4η = 2(1 − c), η = 0.25.
#[test]
fn armijo_boundary_accepted_at_one_rejected_just_above() {
    let q = Quadratic::diagonal(&[4.0]);
    let (ctx, u) = q.gd(&[1.0]);
    let config = ArmijoConfig {
        c: 0.5,
        ..ArmijoConfig::optax()
    };
    let phi = |eta: f64| q.loss(&axpy(&[1.0], eta, &u));
    assert!(config.accepts(ctx.loss, ctx.slope, 0.25, phi(0.25)));
    let above = 0.25 * (1.0 + 1e-6);
    assert!(!config.accepts(ctx.loss, ctx.slope, above, phi(above)));
    // The same through a full search: η_max at the boundary passes in one trial …
    let mut rule = armijo(ArmijoConfig {
        eta_max: 0.25,
        ..config.clone()
    });
    let record = rule
        .step(&ctx, &mut QuadraticOracle::new(&q, &[1.0], &u))
        .unwrap();
    assert_eq!((record.eta, record.trials, record.failed), (0.25, 1, false));
    // … and just above it takes a second trial.
    let mut rule = armijo(ArmijoConfig {
        eta_max: above,
        shrink: 0.5,
        ..config
    });
    let record = rule
        .step(&ctx, &mut QuadraticOracle::new(&q, &[1.0], &u))
        .unwrap();
    assert_eq!((record.eta, record.trials), (above * 0.5, 2));
}

/// f(w) = ½·10·w², w = 1, optax defaults: accepted iff 10η ≤ 2(1 − 1e-4), i.e. η ≤ 0.19998.
/// Trials 1, 0.8, …, 0.8⁷ ≈ 0.2097 fail; 0.8⁸ ≈ 0.1678 passes: 9 trials.
#[test]
fn armijo_trial_count_hand_computed() {
    let q = Quadratic::diagonal(&[10.0]);
    let (ctx, u) = q.gd(&[1.0]);
    let mut rule = armijo(ArmijoConfig::optax());
    let mut oracle = QuadraticOracle::new(&q, &[1.0], &u);
    let record = rule.step(&ctx, &mut oracle).unwrap();
    let mut expected_etas = vec![1.0];
    for _ in 0..8 {
        expected_etas.push(expected_etas.last().unwrap() * 0.8);
    }
    assert_eq!(oracle.etas, expected_etas);
    assert_eq!(record.trials, 9);
    assert_eq!(record.loss_evaluations, 9);
    assert_eq!(record.eta, expected_etas[8]);
    assert!(!record.failed);
    assert_eq!(
        record.diagnostics,
        Diagnostics::Armijo {
            first_guess: 1.0,
            last_tried: expected_etas[8]
        }
    );
    assert!(record.eta * 10.0 <= 2.0 * (1.0 - 1e-4));
    // Next step: first guess 1.5·η_{t−1}.
    assert_eq!(
        rule.state(),
        RuleState::Armijo(ArmijoState {
            previous_eta: Some(record.eta)
        })
    );
    let w1 = axpy(&[1.0], record.eta, &u);
    let (ctx1, u1) = q.gd(&w1);
    let record1 = rule
        .step(&ctx1, &mut QuadraticOracle::new(&q, &w1, &u1))
        .unwrap();
    let guess = 1.5 * record.eta;
    // 10·0.2517 and 10·0.2013 exceed 1.9998 (rejected); 10·0.1611 does not.
    assert!(guess * 0.8 * 10.0 > 2.0 * (1.0 - 1e-4));
    assert_eq!(record1.trials, 3);
    assert_eq!(record1.eta, guess * 0.8 * 0.8);
    assert_eq!(
        record1.diagnostics,
        Diagnostics::Armijo {
            first_guess: guess,
            last_tried: guess * 0.8 * 0.8
        }
    );
}

#[test]
fn armijo_growth_is_capped_and_reset_to_max_starts_from_eta_max() {
    // A flat direction (H = 0 along u) accepts every trial: the first guess is what we see.
    let ctx = StepContext {
        loss: 1.0,
        slope: 0.0,
    };
    let flat = || FnOracle {
        loss_at: |_| 1.0,
        curvature: || 0.0,
    };
    let mut rule = armijo(ArmijoConfig {
        growth: Growth::Factor(3.0),
        eta_max: 2.0,
        ..ArmijoConfig::optax()
    });
    rule.restore(RuleState::Armijo(ArmijoState {
        previous_eta: Some(0.5),
    }))
    .unwrap();
    assert_eq!(rule.step(&ctx, &mut flat()).unwrap().eta, 1.5);
    assert_eq!(rule.step(&ctx, &mut flat()).unwrap().eta, 2.0); // min(4.5, 2)
    let mut rule = armijo(ArmijoConfig {
        growth: Growth::ResetToMax,
        eta_max: 2.0,
        ..ArmijoConfig::optax()
    });
    rule.restore(RuleState::Armijo(ArmijoState {
        previous_eta: Some(0.5),
    }))
    .unwrap();
    let record = rule.step(&ctx, &mut flat()).unwrap();
    assert_eq!((record.eta, record.trials), (2.0, 1));
}

/// An ascent direction (u = +g) never passes: trials 1, 0.5, 0.25 with `AtMost(3)`.
fn failing_search(on_failure: FailurePolicy) -> (Stepsize, Result<StepRecord, StepsizeError>) {
    let q = Quadratic::diagonal(&[2.0, 3.0]);
    let w = [1.0, -1.0];
    let g = q.grad(&w);
    let ctx = StepContext {
        loss: q.loss(&w),
        slope: dot(&g, &g),
    };
    let mut rule = armijo(ArmijoConfig {
        shrink: 0.5,
        max_trials: TrialLimit::AtMost(3),
        on_failure,
        ..ArmijoConfig::optax()
    });
    let mut oracle = QuadraticOracle::new(&q, &w, &g);
    let result = rule.step(&ctx, &mut oracle);
    assert_eq!(oracle.etas, [1.0, 0.5, 0.25]);
    (rule, result)
}

#[test]
fn armijo_failure_policies() {
    let cases = [
        (FailurePolicy::KeepLastTried, 0.25),
        (FailurePolicy::FixedStep(1e-6), 1e-6),
        (FailurePolicy::ZeroStep, 0.0),
    ];
    for (policy, expected_eta) in cases {
        let (rule, result) = failing_search(policy);
        let record = result.unwrap();
        assert_eq!(record.eta, expected_eta, "{policy:?}");
        assert!(record.failed);
        assert_eq!((record.trials, record.loss_evaluations), (3, 3));
        assert_eq!(
            record.diagnostics,
            Diagnostics::Armijo {
                first_guess: 1.0,
                last_tried: 0.25
            }
        );
        // The last η tried is stored under every policy.
        assert_eq!(
            rule.state(),
            RuleState::Armijo(ArmijoState {
                previous_eta: Some(0.25)
            })
        );
    }
    let (rule, result) = failing_search(FailurePolicy::Error);
    assert_eq!(
        result,
        Err(StepsizeError::LineSearchFailed {
            trials: 3,
            last_eta: 0.25
        })
    );
    assert_eq!(
        rule.state(),
        RuleState::Armijo(ArmijoState {
            previous_eta: Some(0.25)
        })
    );
}

#[test]
fn armijo_after_failure_next_guess_grows_from_last_tried() {
    let (mut rule, _) = failing_search(FailurePolicy::ZeroStep);
    let ctx = StepContext {
        loss: 1.0,
        slope: 0.0,
    };
    let record = rule
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| 1.0,
                curvature: || 0.0,
            },
        )
        .unwrap();
    assert_eq!(record.eta, 0.375);
}

/// Always-NaN losses with unlimited trials: η = 2⁰, 2⁻¹, …, 2⁻¹⁰²² are tried (1023 trials);
/// 2⁻¹⁰²³ is below `f64::MIN_POSITIVE` and is not.
#[test]
fn armijo_unlimited_stops_at_underflow() {
    let mut asked = Vec::new();
    let mut rule = armijo(ArmijoConfig {
        shrink: 0.5,
        ..ArmijoConfig::optax()
    });
    let ctx = StepContext::gradient_descent(1.0, 1.0);
    let record = rule
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |eta| {
                    asked.push(eta);
                    f64::NAN
                },
                curvature: || 0.0,
            },
        )
        .unwrap();
    assert_eq!(record.trials, 1023);
    assert_eq!(asked.len(), 1023);
    assert!(asked.iter().all(|&eta| eta >= f64::MIN_POSITIVE));
    assert_eq!(record.eta, f64::MIN_POSITIVE); // KeepLastTried
    assert!(record.failed);
}

#[test]
fn armijo_nan_and_inf_trials_fail_then_search_continues() {
    let q = Quadratic::diagonal(&[1.0]);
    let (ctx, u) = q.gd(&[1.0]);
    let mut inner = QuadraticOracle::new(&q, &[1.0], &u);
    let mut rule = armijo(ArmijoConfig {
        shrink: 0.5,
        eta_max: 8.0,
        ..ArmijoConfig::optax()
    });
    // NaN above 3, +Inf in (1.5, 3], exact below; the exact loss passes at 1 (η·λ = 1).
    let mut oracle = FnOracle {
        loss_at: |eta: f64| {
            let exact = stepsharp_stepsize::Oracle::loss_at(&mut inner, eta);
            if eta > 3.0 {
                f64::NAN
            } else if eta > 1.5 {
                f64::INFINITY
            } else {
                exact
            }
        },
        curvature: || 0.0,
    };
    let record = rule.step(&ctx, &mut oracle).unwrap();
    assert_eq!((record.eta, record.trials, record.failed), (1.0, 4, false));
    // −Inf is not a pass either.
    let mut rule = armijo(ArmijoConfig {
        max_trials: TrialLimit::AtMost(2),
        ..ArmijoConfig::optax()
    });
    let record = rule
        .step(
            &ctx,
            &mut FnOracle {
                loss_at: |_| f64::NEG_INFINITY,
                curvature: || 0.0,
            },
        )
        .unwrap();
    assert!(record.failed);
}

#[test]
fn armijo_non_finite_context_fails_without_trials() {
    for ctx in [
        StepContext::gradient_descent(f64::NAN, 1.0),
        StepContext::gradient_descent(1.0, f64::INFINITY),
        StepContext {
            loss: f64::INFINITY,
            slope: -1.0,
        },
    ] {
        let mut rule = armijo(ArmijoConfig {
            on_failure: FailurePolicy::ZeroStep,
            ..ArmijoConfig::optax()
        });
        let record = rule.step(&ctx, &mut NoOracle).unwrap();
        assert_eq!((record.eta, record.trials, record.failed), (0.0, 0, true));
        assert_eq!(
            rule.state(),
            RuleState::Armijo(ArmijoState { previous_eta: None })
        );
    }
}

#[test]
fn armijo_zero_gradient_accepts_first_guess() {
    let q = Quadratic::diagonal(&[3.0, 1.0]);
    let (ctx, u) = q.gd(&[0.0, 0.0]);
    let mut rule = armijo(ArmijoConfig::optax());
    let record = rule
        .step(&ctx, &mut QuadraticOracle::new(&q, &[0.0, 0.0], &u))
        .unwrap();
    assert_eq!((record.eta, record.trials, record.failed), (1.0, 1, false));
}

#[test]
fn armijo_slack_accepts_larger_steps() {
    // f = ½·4·w² at w = 1: φ(η) = 2(1 − 4η)²; with δ = 0.5 the test is φ ≤ 3 − 16cη.
    // η = 0.5 gives φ = 2 ≤ 3 − 0.0008: passes with slack, fails without.
    let q = Quadratic::diagonal(&[4.0]);
    let (ctx, u) = q.gd(&[1.0]);
    let run = |config: ArmijoConfig| {
        armijo(ArmijoConfig {
            eta_max: 0.5,
            ..config
        })
        .step(&ctx, &mut QuadraticOracle::new(&q, &[1.0], &u))
        .unwrap()
    };
    assert_eq!(run(ArmijoConfig::cdat_paper(0.5)).trials, 1);
    assert!(run(ArmijoConfig::optax()).trials > 1);
}
