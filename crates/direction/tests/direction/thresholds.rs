//! Each direction's stability threshold is the exact boundary: with a constant η, 2% below it
//! the iteration converges on a quadratic, 2% above it diverges.

use stepsharp_direction::{
    AdamConfig, BiasCorrection, Direction, DirectionConfig, DirectionState, MomentumConfig,
    RelevantSharpness,
};

use crate::common::growth;

const LAMBDAS: [f64; 4] = [10.0, 4.0, 1.0, 0.3];
const STEPS: usize = 3000;
const MARGIN: f64 = 0.02;

/// The iteration at `(1 ± MARGIN)` times the threshold of the relevant sharpness `sharpness`:
/// (growth below, growth above).
fn around_threshold(
    make: impl Fn() -> Direction<Vec<f64>>,
    lambdas: &[f64],
    sharpness: f64,
) -> (f64, f64) {
    let limit = make().config().stability_limit(1);
    let at = |factor: f64| growth(&mut make(), lambdas, factor * limit / sharpness, STEPS);
    (at(1.0 - MARGIN), at(1.0 + MARGIN))
}

#[track_caller]
fn assert_boundary((below, above): (f64, f64)) {
    assert!(
        below < 1e-6,
        "2% below the threshold: ‖w‖ grew by {below:e}"
    );
    assert!(
        above > 1e3,
        "2% above the threshold: ‖w‖ grew by only {above:e}"
    );
}

fn momentum(beta: f64) -> MomentumConfig {
    MomentumConfig {
        beta,
        ..MomentumConfig::default()
    }
}

#[test]
fn gradient_descent_is_stable_below_two_over_eta() {
    let make = || Direction::new(DirectionConfig::GradientDescent).unwrap();
    assert_boundary(around_threshold(make, &LAMBDAS, 10.0));
}

#[test]
fn heavy_ball_is_stable_below_two_plus_two_beta_over_eta() {
    for beta in [0.5, 0.9] {
        let make = || Direction::new(DirectionConfig::HeavyBall(momentum(beta))).unwrap();
        assert_eq!(make().config().stability_limit(1), 2.0 + 2.0 * beta);
        assert_boundary(around_threshold(make, &LAMBDAS, 10.0));
    }
}

#[test]
fn nesterov_is_stable_below_its_own_threshold() {
    for beta in [0.5, 0.9] {
        let make = || Direction::new(DirectionConfig::Nesterov(momentum(beta))).unwrap();
        assert_boundary(around_threshold(make, &LAMBDAS, 10.0));
    }
    // About 1.357/η at β = 0.9: the iteration of Nesterov's momentum is less stable than
    // gradient descent's.
    let limit = DirectionConfig::Nesterov(momentum(0.9)).stability_limit(1);
    assert!((limit - 1.357).abs() < 1e-3, "{limit}");
}

/// Adam with its preconditioner frozen at `P = diag(p)` (β₂ = 1, ε = 0, no bias correction):
/// the boundary is set by `λ_max(P⁻¹H)`, not by `λ_max(H)`.
#[test]
fn adam_with_a_frozen_preconditioner_is_stable_below_its_threshold_on_p_inverse_h() {
    let p = [2.0, 0.5, 1.0, 3.0];
    // λ(P⁻¹H) = λ_i/p_i = [5, 8, 1, 0.1]: the top one belongs to the second coordinate,
    // although λ_max(H) belongs to the first.
    let preconditioned_top = 8.0;
    let make = || {
        let config = DirectionConfig::Adam(AdamConfig {
            beta2: 1.0,
            eps: 0.0,
            bias_correction: BiasCorrection::None,
            ..AdamConfig::default()
        });
        let mut direction = Direction::new(config).unwrap();
        direction
            .restore(DirectionState {
                updates: 1,
                momentum: Some(vec![0.0; 4]),
                second_moment: Some(p.iter().map(|p| p * p).collect()),
            })
            .unwrap();
        direction
    };
    assert_eq!(
        make().config().relevant_sharpness(),
        RelevantSharpness::Preconditioned
    );
    assert!((make().config().stability_limit(1) - 38.0).abs() < 1e-12);
    assert_boundary(around_threshold(make, &LAMBDAS, preconditioned_top));
    // Judged by λ_max(H) = 10 instead, a stepsize 2% "beyond" that threshold is stable:
    // H's top eigenvalue does not decide.
    let (_, beyond_by_h) = around_threshold(make, &LAMBDAS, 10.0);
    assert!(beyond_by_h < 1e-6, "{beyond_by_h:e}");
}

/// Adam's first-moment correction `1/(1 − β₁ᵗ)` scales the stepsize, so it lowers the threshold
/// early, by the factor `1 − β₁ᵗ`.
#[test]
fn adams_threshold_carries_the_first_moment_correction() {
    let adam = DirectionConfig::Adam(AdamConfig::default());
    let asymptote = 3.8 / 0.1;
    for t in [1u64, 2, 10, 50, 1000] {
        let expected = asymptote * (1.0 - 0.9f64.powi(t as i32));
        let limit = adam.stability_limit(t);
        assert!(
            (limit - expected).abs() < 1e-12 * asymptote,
            "t = {t}: {limit}"
        );
    }
    let uncorrected = DirectionConfig::Adam(AdamConfig {
        bias_correction: BiasCorrection::None,
        ..AdamConfig::default()
    });
    assert!((uncorrected.stability_limit(1) - asymptote).abs() < 1e-12);
    assert_eq!(
        adam.stability_threshold(0.01, 1000),
        adam.stability_limit(1000) / 0.01
    );
}
