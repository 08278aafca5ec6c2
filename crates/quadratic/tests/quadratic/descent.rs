//! Gradient descent on quadratics: the stability threshold η = 2/λ_max, exactly.

use stepsharp_quadratic::{Quadratic, QuadraticError, gradient_descent};
use stepsharp_stepsize::{ArmijoConfig, CdatConfig, ConstantConfig, RuleConfig};

fn quadratic() -> Quadratic {
    // λ_max = 4 (index 0), the rest well inside (0, 4).
    Quadratic::with_spectrum(&[4.0, 1.0, 0.3, 2.5, 0.05, 3.0], 17)
        .unwrap()
        .with_minimizer(vec![1.0, -1.0, 0.5, 0.0, 2.0, -0.5])
        .unwrap()
}

fn constant(eta: f64) -> RuleConfig {
    RuleConfig::Constant(ConstantConfig { eta })
}

const W0: [f64; 6] = [0.3, 0.7, -1.2, 2.0, 0.1, -0.4];

#[test]
fn gd_below_two_over_lambda_max_converges() {
    let q = quadratic();
    let eta = 0.95 * 2.0 / q.lambda_max();
    let trajectory = gradient_descent(&q, &W0, &constant(eta), 3000).unwrap();
    assert_eq!(trajectory.len(), 3000);
    let last = trajectory[2999];
    // Slowest mode: |1 − η·0.05| ≈ 0.976 per step, so f shrinks by ≈ 0.976^6000.
    assert!(last.loss < 1e-20 * trajectory[0].loss, "loss {}", last.loss);
    assert!(last.x.abs() < 1e-10 && last.y < 1e-10);
    assert!(
        trajectory
            .iter()
            .all(|p| p.lambda == 4.0 && (p.eta_lambda - 1.9).abs() < 1e-12)
    );
}

#[test]
fn gd_above_two_over_lambda_max_diverges_along_the_top_eigenvector() {
    let q = quadratic();
    let eta = 1.05 * 2.0 / q.lambda_max();
    let trajectory = gradient_descent(&q, &W0, &constant(eta), 400).unwrap();
    // Top mode: x_{t+1} = (1 − ηλ_max) x_t = −1.1 x_t exactly; every other mode is contracted.
    for pair in trajectory.windows(2) {
        let ratio = pair[1].x / pair[0].x;
        assert!(
            (ratio + 1.1).abs() < 1e-9,
            "step {}: ratio {ratio}",
            pair[1].step
        );
    }
    let last = trajectory.last().unwrap();
    assert!(last.x.abs() > 1e10);
    // Up to rounding of w (|x| ≈ 1e16), y/|x| is at machine-epsilon level.
    assert!(
        last.y / last.x.abs() < 1e-12,
        "the displacement is not along the top eigenvector"
    );
    assert!(last.loss > 1e20 * trajectory[0].loss);
}

#[test]
fn divergence_to_infinity_ends_the_trajectory() {
    let q = quadratic();
    let trajectory = gradient_descent(&q, &W0, &constant(10.0), 10_000).unwrap();
    assert!(trajectory.len() < 10_000);
    assert!(trajectory.iter().all(|p| p.loss.is_finite()));
}

#[test]
fn armijo_accepts_only_steps_below_the_edge_along_the_gradient() {
    // On a quadratic, Armijo accepts η iff η·(gᵀHg/‖g‖²) ≤ 2(1 − c)
    // (docs/paper.md#armijo).
    let q = quadratic();
    let armijo = ArmijoConfig::optax();
    let c = armijo.c;
    let trajectory = gradient_descent(&q, &W0, &RuleConfig::Armijo(armijo), 200).unwrap();
    let mut w = W0.to_vec();
    for p in &trajectory {
        let g = q.gradient(&w);
        let g2: f64 = g.iter().map(|g| g * g).sum();
        let ghg: f64 = g.iter().zip(q.hvp(&g)).map(|(g, hg)| g * hg).sum();
        assert!(
            p.eta * ghg / g2 <= 2.0 * (1.0 - c) + 1e-12,
            "step {}",
            p.step
        );
        assert!((p.loss - q.value(&w)).abs() <= 1e-12 * p.loss);
        w.iter_mut().zip(&g).for_each(|(w, g)| *w -= p.eta * g);
    }
    assert!(trajectory[199].loss < 1e-6 * trajectory[0].loss);
}

#[test]
fn greedy_cdat_is_exact_line_minimization() {
    // σ = 1: η = ‖g‖²/gᵀHg minimizes f(w − ηg) exactly, so f decreases by ½‖g‖⁴/gᵀHg.
    let q = quadratic();
    let rule = RuleConfig::Cdat(CdatConfig {
        sigma: 1.0,
        beta: 0.0,
        eps: 0.0,
    });
    let trajectory = gradient_descent(&q, &W0, &rule, 50).unwrap();
    let mut w = W0.to_vec();
    for pair in trajectory.windows(2) {
        let g = q.gradient(&w);
        let g2: f64 = g.iter().map(|g| g * g).sum();
        let ghg: f64 = g.iter().zip(q.hvp(&g)).map(|(g, hg)| g * hg).sum();
        assert!((pair[0].eta - g2 / ghg).abs() <= 1e-12 * pair[0].eta);
        let decrease = pair[0].loss - pair[1].loss;
        assert!((decrease - 0.5 * g2 * g2 / ghg).abs() <= 1e-9 * pair[0].loss);
        w.iter_mut()
            .zip(&g)
            .for_each(|(w, g)| *w -= pair[0].eta * g);
    }
}

#[test]
fn a_start_of_the_wrong_length_is_an_error() {
    assert!(matches!(
        gradient_descent(&quadratic(), &[0.0; 5], &constant(0.1), 10),
        Err(QuadraticError::DimensionMismatch {
            expected: 6,
            found: 5
        })
    ));
}
