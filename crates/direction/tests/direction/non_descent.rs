//! When the update is not a descent direction: detected, and proceeded with or restarted as
//! the caller's rule says.

use stepsharp_direction::{
    AdamConfig, Direction, DirectionConfig, MomentumConfig, NonDescentAction, NonDescentPolicy,
    Update,
};

const RESTART: NonDescentAction = NonDescentAction::Restart;
const PROCEED: NonDescentAction = NonDescentAction::Proceed;

fn momentum(beta: f64) -> MomentumConfig {
    MomentumConfig {
        beta,
        ..MomentumConfig::default()
    }
}

/// g₀ = [1, 0], then g₁ = [−0.5, 0]: the heavy-ball buffer 0.9·g₀ + g₁ = [0.4, 0] points
/// uphill for g₁ (slope ⟨g₁, −b⟩ = 0.2).
fn reversing(
    config: DirectionConfig,
    action: NonDescentAction,
) -> (Direction<Vec<f64>>, Update<Vec<f64>>) {
    let mut direction = Direction::new(config).unwrap();
    let first = direction.step(&vec![1.0, 0.0], action).unwrap();
    assert!(first.non_descent.is_none() && first.slope < 0.0);
    let second = direction.step(&vec![-0.5, 0.0], action).unwrap();
    (direction, second)
}

#[test]
fn proceeding_keeps_the_uphill_update_and_says_so() {
    let (direction, step) = reversing(DirectionConfig::HeavyBall(momentum(0.9)), PROCEED);
    assert_eq!(step.non_descent, Some(PROCEED));
    assert!((step.update[0] + 0.4).abs() < 1e-15);
    assert!((step.slope - 0.2).abs() < 1e-15);
    let buffer = direction.state().momentum.clone().unwrap();
    assert!((buffer[0] - 0.4).abs() < 1e-15);
}

#[test]
fn restarting_heavy_ball_steps_against_the_gradient_and_resets_the_buffer() {
    let (mut direction, step) = reversing(DirectionConfig::HeavyBall(momentum(0.9)), RESTART);
    assert_eq!(step.non_descent, Some(RESTART));
    assert_eq!(step.update, vec![0.5, 0.0]);
    assert_eq!(step.slope, -0.25);
    assert_eq!(direction.state().momentum, Some(vec![-0.5, 0.0]));
    // The next update continues from the restarted buffer: 0.9·(−0.5) + (−0.5).
    let next = direction.step(&vec![-0.5, 0.0], RESTART).unwrap();
    assert!((next.update[0] - 0.95).abs() < 1e-15 && next.non_descent.is_none());
}

#[test]
fn restarting_nesterov_gives_its_first_step_from_this_gradient() {
    let mut direction = Direction::new(DirectionConfig::Nesterov(momentum(0.9))).unwrap();
    direction.step(&vec![1.0, 0.0], RESTART).unwrap();
    // b = 0.9·[1, 0] + [−0.2, 0] = [0.7, 0]; u = −(g + 0.9·b) = [−0.43, 0]: uphill.
    let step = direction.step(&vec![-0.2, 0.0], RESTART).unwrap();
    assert_eq!(step.non_descent, Some(RESTART));
    // Nesterov's update from b = g: −(g + 0.9·g) = [0.38, 0].
    assert!((step.update[0] - 0.38).abs() < 1e-15);
    assert!(step.slope < 0.0);
    assert_eq!(direction.state().momentum, Some(vec![-0.2, 0.0]));
}

#[test]
fn restarting_adam_keeps_the_preconditioner_and_sets_the_corrected_first_moment_to_g() {
    let mut direction = Direction::new(DirectionConfig::Adam(AdamConfig::default())).unwrap();
    direction.step(&vec![1.0, 1.0], RESTART).unwrap();
    direction.step(&vec![1.0, 1.0], RESTART).unwrap();
    let before = direction.state().second_moment.clone().unwrap();
    // m̂ still points along +[1, 1] after a small reversed gradient: uphill.
    let g = vec![-0.1, -0.1];
    let step = direction.step(&g, RESTART).unwrap();
    assert_eq!(step.non_descent, Some(RESTART));
    assert!(step.slope < 0.0);
    // u = −g/(√v̂ + ε) with v̂ after this gradient; m̂ = m/(1 − β₁³) = g.
    let v = direction.state().second_moment.clone().unwrap();
    let c2 = 1.0 - 0.999f64.powi(3);
    for i in 0..2 {
        assert!((v[i] - (0.999 * before[i] + 0.001 * 0.01)).abs() < 1e-15);
        let expected = -g[i] / ((v[i] / c2).sqrt() + 1e-8);
        assert!((step.update[i] - expected).abs() < 1e-12 * expected.abs());
    }
    let m = direction.state().momentum.clone().unwrap();
    let c1 = 1.0 - 0.9f64.powi(3);
    assert!((m[0] / c1 + 0.1).abs() < 1e-15);
}

#[test]
fn gradient_descent_never_meets_a_non_descent_step() {
    let mut direction = Direction::new(DirectionConfig::GradientDescent).unwrap();
    for g in [vec![1.0, -3.0], vec![-0.5, 0.0], vec![0.0, 0.0]] {
        let step = direction.step(&g, RESTART).unwrap();
        assert!(step.non_descent.is_none());
        assert_eq!(step.slope, -g.iter().map(|x| x * x).sum::<f64>());
    }
}

#[test]
fn a_zero_gradient_is_not_a_non_descent_step() {
    let (mut direction, _) = reversing(DirectionConfig::HeavyBall(momentum(0.9)), PROCEED);
    let step = direction.step(&vec![0.0, 0.0], RESTART).unwrap();
    assert_eq!(step.slope, 0.0);
    assert!(step.non_descent.is_none());
}

#[test]
fn the_default_policy_restarts_for_line_searches_and_proceeds_otherwise() {
    let policy = NonDescentPolicy::default();
    assert_eq!(policy.for_rule("constant"), Some(PROCEED));
    assert_eq!(policy.for_rule("armijo"), Some(RESTART));
    assert_eq!(policy.for_rule("polyak"), Some(RESTART));
    assert_eq!(policy.for_rule("cdat"), Some(PROCEED));
    assert_eq!(policy.for_rule("sgd"), None);
}
