//! State: restoring a saved state resumes bit for bit; a state of the wrong shape is refused.

use stepsharp_direction::{
    AdamConfig, Direction, DirectionConfig, DirectionError, DirectionState, MomentumConfig,
    NonDescentAction,
};

const GRADIENTS: [[f64; 3]; 6] = [
    [1.0, -2.0, 0.5],
    [0.5, -1.0, 3.0],
    [-0.3, 0.2, 0.1],
    [2.0, 0.0, -1.0],
    [-1.5, 0.7, 0.2],
    [0.1, 0.1, 0.1],
];

fn run(direction: &mut Direction<Vec<f64>>, gradients: &[[f64; 3]]) -> Vec<Vec<f64>> {
    gradients
        .iter()
        .map(|g| {
            direction
                .step(&g.to_vec(), NonDescentAction::Restart)
                .unwrap()
                .update
        })
        .collect()
}

#[test]
fn a_restored_state_continues_exactly() {
    for config in [
        DirectionConfig::GradientDescent,
        DirectionConfig::HeavyBall(MomentumConfig::default()),
        DirectionConfig::Nesterov(MomentumConfig::default()),
        DirectionConfig::Adam(AdamConfig::default()),
    ] {
        let mut straight = Direction::new(config).unwrap();
        let all = run(&mut straight, &GRADIENTS);
        let mut first = Direction::new(config).unwrap();
        run(&mut first, &GRADIENTS[..3]);
        let scalar = serde_json::to_string(first.state()).unwrap();
        let mut saved: DirectionState<Vec<f64>> = serde_json::from_str(&scalar).unwrap();
        assert_eq!(saved.updates, 3);
        saved.momentum = first.state().momentum.clone();
        saved.second_moment = first.state().second_moment.clone();
        let mut resumed = Direction::new(config).unwrap();
        resumed.restore(saved).unwrap();
        assert_eq!(
            run(&mut resumed, &GRADIENTS[3..]),
            all[3..],
            "{}",
            config.name()
        );
        assert_eq!(resumed.state(), straight.state());
    }
}

#[test]
fn a_state_of_the_wrong_shape_is_refused() {
    let mismatch = |config: DirectionConfig, state: DirectionState<Vec<f64>>| {
        let mut direction = Direction::new(config).unwrap();
        let before = direction.state().clone();
        let error = direction.restore(state).unwrap_err();
        assert_eq!(direction.state(), &before);
        assert!(
            matches!(error, DirectionError::StateMismatch { .. }),
            "{error}"
        );
    };
    let started = |momentum: bool, second: bool| DirectionState {
        updates: 2,
        momentum: momentum.then(|| vec![0.0; 3]),
        second_moment: second.then(|| vec![1.0; 3]),
    };
    mismatch(DirectionConfig::GradientDescent, started(true, false));
    mismatch(
        DirectionConfig::HeavyBall(MomentumConfig::default()),
        started(false, false),
    );
    mismatch(
        DirectionConfig::HeavyBall(MomentumConfig::default()),
        started(true, true),
    );
    mismatch(
        DirectionConfig::Adam(AdamConfig::default()),
        started(true, false),
    );
    // Before the first update no direction has moments.
    mismatch(
        DirectionConfig::Adam(AdamConfig::default()),
        DirectionState {
            updates: 0,
            momentum: Some(vec![0.0; 3]),
            second_moment: None,
        },
    );
}
