//! Updates equal the formulas written out by hand (PyTorch's momentum, optax's Adam).

use stepsharp_direction::{
    AdamConfig, BiasCorrection, Direction, DirectionConfig, MomentumConfig, NonDescentAction,
};

use crate::common::assert_close;

const G0: [f64; 3] = [1.0, -2.0, 0.5];
const G1: [f64; 3] = [0.5, -1.0, 3.0];
const PROCEED: NonDescentAction = NonDescentAction::Proceed;

fn steps(config: DirectionConfig) -> (Vec<f64>, Vec<f64>) {
    let mut direction = Direction::new(config).unwrap();
    let first = direction.step(&G0.to_vec(), PROCEED).unwrap().update;
    let second = direction.step(&G1.to_vec(), PROCEED).unwrap().update;
    (first, second)
}

fn momentum(beta: f64) -> MomentumConfig {
    MomentumConfig {
        beta,
        ..MomentumConfig::default()
    }
}

#[test]
fn gradient_descent_steps_against_the_gradient() {
    let (first, second) = steps(DirectionConfig::GradientDescent);
    assert_eq!(first, vec![-1.0, 2.0, -0.5]);
    assert_eq!(second, vec![-0.5, 1.0, -3.0]);
}

#[test]
fn heavy_ball_follows_pytorchs_buffer() {
    // torch.optim.SGD(momentum=0.5): b₀ = g₀, b₁ = 0.5·b₀ + g₁; update −b.
    let (first, second) = steps(DirectionConfig::HeavyBall(momentum(0.5)));
    assert_eq!(first, vec![-1.0, 2.0, -0.5]);
    assert_close(
        &second,
        &[-(0.5 + 0.5), -(-1.0 - 1.0), -(0.25 + 3.0)],
        1e-15,
    );
}

#[test]
fn nesterov_looks_ahead_by_beta_times_the_buffer() {
    // torch.optim.SGD(momentum=0.5, nesterov=True): b = 0.5·b + g, update −(g + 0.5·b).
    let (first, second) = steps(DirectionConfig::Nesterov(momentum(0.5)));
    assert_close(&first, &[-1.5, 3.0, -0.75], 1e-15);
    let b1 = [0.5 + 0.5, -1.0 - 1.0, 0.25 + 3.0];
    let expected: Vec<f64> = G1.iter().zip(b1).map(|(g, b)| -(g + 0.5 * b)).collect();
    assert_close(&second, &expected, 1e-15);
}

#[test]
fn adam_divides_the_corrected_first_moment_by_the_corrected_root_second_moment() {
    let config = AdamConfig {
        beta1: 0.9,
        beta2: 0.99,
        eps: 1e-3,
        ..AdamConfig::default()
    };
    let (first, second) = steps(DirectionConfig::Adam(config));
    // Step 1: m = 0.1·g₀, v = 0.01·g₀², m̂ = g₀, v̂ = g₀².
    let expected_first: Vec<f64> = G0.iter().map(|g| -g / (g.abs() + 1e-3)).collect();
    assert_close(&first, &expected_first, 1e-13);
    // Step 2: m = 0.9·0.1·g₀ + 0.1·g₁, v = 0.99·0.01·g₀² + 0.01·g₁²; c₁ = 0.19, c₂ = 0.0199.
    let expected_second: Vec<f64> = G0
        .iter()
        .zip(G1)
        .map(|(g0, g1)| {
            let m = 0.09 * g0 + 0.1 * g1;
            let v = 0.0099 * g0 * g0 + 0.01 * g1 * g1;
            -(m / 0.19) / ((v / 0.0199).sqrt() + 1e-3)
        })
        .collect();
    assert_close(&second, &expected_second, 1e-13);
}

#[test]
fn adam_without_bias_correction_uses_the_raw_moments() {
    let config = AdamConfig {
        bias_correction: BiasCorrection::None,
        eps: 0.0,
        ..AdamConfig::default()
    };
    let (first, _) = steps(DirectionConfig::Adam(config));
    // m = 0.1·g, √v = √0.001·|g|: u = −0.1·g/(√0.001·|g|).
    let expected: Vec<f64> = G0
        .iter()
        .map(|g| -0.1 * g / (0.001f64.sqrt() * g.abs()))
        .collect();
    assert_close(&first, &expected, 1e-13);
}

#[test]
fn the_slope_is_the_inner_product_of_gradient_and_update() {
    let mut direction = Direction::new(DirectionConfig::Nesterov(momentum(0.9))).unwrap();
    for g in [G0, G1, G0] {
        let step = direction.step(&g.to_vec(), PROCEED).unwrap();
        let expected: f64 = g.iter().zip(&step.update).map(|(g, u)| g * u).sum();
        assert_eq!(step.slope, expected);
    }
}

#[test]
fn adams_preconditioner_is_the_corrected_root_second_moment() {
    let config = AdamConfig {
        beta2: 0.99,
        eps: 1e-3,
        ..AdamConfig::default()
    };
    let mut direction = Direction::new(DirectionConfig::Adam(config)).unwrap();
    assert!(direction.inverse_root_preconditioner().unwrap().is_none());
    direction.step(&G0.to_vec(), PROCEED).unwrap();
    direction.step(&G1.to_vec(), PROCEED).unwrap();
    let scaling = direction.inverse_root_preconditioner().unwrap().unwrap();
    let expected: Vec<f64> = G0
        .iter()
        .zip(G1)
        .map(|(g0, g1)| {
            let v_hat = (0.0099 * g0 * g0 + 0.01 * g1 * g1) / 0.0199;
            1.0 / (v_hat.sqrt() + 1e-3).sqrt()
        })
        .collect();
    assert_close(&scaling, &expected, 1e-13);
    let heavy_ball = Direction::<Vec<f64>>::new(DirectionConfig::HeavyBall(momentum(0.9))).unwrap();
    assert!(heavy_ball.inverse_root_preconditioner().unwrap().is_none());
}
