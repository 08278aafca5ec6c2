//! Each direction with a constant stepsize on the quadratic f(w) = ½wᵀHw, H = diag(10, 1),
//! just below and just above its stability threshold: below, ‖w‖ shrinks; above, it grows.
use stepsharp_direction::{
    AdamConfig, BiasCorrection, Direction, DirectionConfig, DirectionError, DirectionState,
    MomentumConfig, NonDescentAction,
};

const H: [f64; 2] = [10.0, 1.0];

/// ‖w‖ after `steps` steps of `direction` with stepsize `eta`, from w = (1, 1).
fn final_norm(
    mut direction: Direction<Vec<f64>>,
    eta: f64,
    steps: usize,
) -> Result<f64, DirectionError> {
    let mut w = vec![1.0, 1.0];
    for _ in 0..steps {
        let g: Vec<f64> = H.iter().zip(&w).map(|(h, w)| h * w).collect();
        let update = direction.step(&g, NonDescentAction::Proceed)?.update;
        w.iter_mut().zip(&update).for_each(|(w, u)| *w += eta * u);
    }
    Ok(w.iter().map(|x| x * x).sum::<f64>().sqrt())
}

fn main() -> Result<(), DirectionError> {
    // Adam with its preconditioner frozen at P = diag(2, 1) (β₂ = 1, a restored v = P²):
    // its threshold applies to λ_max(P⁻¹H) = 5, not to λ_max(H) = 10.
    let frozen_adam = || -> Result<Direction<Vec<f64>>, DirectionError> {
        let config = DirectionConfig::Adam(AdamConfig {
            beta2: 1.0,
            eps: 0.0,
            bias_correction: BiasCorrection::None,
            ..AdamConfig::default()
        });
        let mut adam = Direction::new(config)?;
        adam.restore(DirectionState {
            updates: 1,
            momentum: Some(vec![0.0, 0.0]),
            second_moment: Some(vec![4.0, 1.0]),
        })?;
        Ok(adam)
    };
    let cases: [(&str, DirectionConfig, f64); 3] = [
        ("gradient descent", DirectionConfig::GradientDescent, 10.0),
        (
            "heavy ball β = 0.9",
            DirectionConfig::HeavyBall(MomentumConfig::default()),
            10.0,
        ),
        (
            "Nesterov β = 0.9",
            DirectionConfig::Nesterov(MomentumConfig::default()),
            10.0,
        ),
    ];
    for (name, config, sharpness) in cases {
        let threshold = config.stability_limit(1);
        for factor in [0.98, 1.02] {
            let eta = factor * threshold / sharpness;
            let norm = final_norm(Direction::new(config)?, eta, 500)?;
            println!(
                "{name:>20}: η·λ = {:.3} ({factor}× the limit {threshold:.3}): ‖w‖ = {norm:.3e}",
                eta * sharpness
            );
        }
    }
    for factor in [0.98, 1.02] {
        let eta = factor * 38.0 / 5.0;
        let norm = final_norm(frozen_adam()?, eta, 500)?;
        println!(
            "{:>20}: η·λ(P⁻¹H) = {:.3} ({factor}× the limit 38): ‖w‖ = {norm:.3e}",
            "Adam, P frozen",
            eta * 5.0
        );
    }
    Ok(())
}
