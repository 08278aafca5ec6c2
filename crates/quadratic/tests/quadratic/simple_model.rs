//! The simple model: the paper's qualitative claims, checked on our simulation, plus closed
//! forms of single steps, validation and serde.

use proptest::prelude::*;
use stepsharp_quadratic::{
    Discretization, ModelPoint, QuadraticError, SimpleModelConfig, simulate, simulate_with,
};
use stepsharp_stepsize::{
    ArmijoConfig, CdatConfig, ConstantConfig, PolyakConfig, RuleConfig, StepsizeError,
};

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    sum / count as f64
}

fn last_quarter(trajectory: &[ModelPoint]) -> &[ModelPoint] {
    &trajectory[trajectory.len() * 3 / 4..]
}

#[test]
fn constant_eta_self_stabilizes_lambda_around_two_over_eta() {
    let config = SimpleModelConfig::paper_constant();
    let trajectory = simulate(&config, 2000).unwrap();
    assert_eq!(trajectory.len(), 2000, "the trajectory diverged");
    // Progressive sharpening first: λ crosses 2/η from below.
    assert!(trajectory[0].lambda < 2.0);
    assert!(trajectory.iter().any(|p| p.lambda > 2.0));
    let lambda_mean = mean(last_quarter(&trajectory).iter().map(|p| p.lambda));
    assert!(
        (lambda_mean - 2.0).abs() < 0.05 * 2.0,
        "mean λ over the last quarter = {lambda_mean}"
    );
    // It keeps oscillating (x does not vanish): the feedback is active.
    assert!(last_quarter(&trajectory).iter().any(|p| p.x.abs() > 0.1));
}

#[test]
fn the_explicit_scheme_diverges_at_the_paper_constant_parameters() {
    // Documents why the default feeds back x_{t+1}: with x_t the edge is an unstable spiral.
    let trajectory = simulate_with(
        &SimpleModelConfig::paper_constant(),
        2000,
        Discretization::Explicit,
    )
    .unwrap();
    assert!(
        trajectory.len() < 2000,
        "expected divergence, got {} finite steps",
        trajectory.len()
    );
    assert!(
        trajectory
            .iter()
            .all(|p| p.lambda.is_finite() && p.loss.is_finite())
    );
}

#[test]
fn classical_tuner_sharpens_without_bound_and_its_stepsize_decays() {
    let config = SimpleModelConfig::paper_classical_tuner();
    let trajectory = simulate(&config, 2000).unwrap();
    assert_eq!(trajectory.len(), 2000);
    // Always just below the edge: ηλ = 2(1 − ε).
    assert!(
        trajectory
            .iter()
            .all(|p| (p.eta_lambda - 1.8).abs() < 1e-12)
    );
    // x → 0 geometrically (factor 1 − 2ε = 0.8), so the feedback vanishes …
    assert!(trajectory[200].x.abs() < 1e-15);
    // … and λ_{t+1} ≈ λ_t + 2(1 − ε)a/λ_t: λ increases monotonically, like √(3.6 t).
    assert!(
        trajectory[20..]
            .windows(2)
            .all(|w| w[1].lambda > w[0].lambda)
    );
    assert!(trajectory[20..].windows(2).all(|w| w[1].eta < w[0].eta));
    let (t, last) = (1999.0, trajectory[1999]);
    assert!(
        last.lambda > 0.9 * (3.6f64 * t).sqrt(),
        "λ = {}",
        last.lambda
    );
    assert!(last.lambda > 40.0 * trajectory[0].lambda);
    assert!(last.eta < 0.025 * trajectory[0].eta);
    // No bound: the increments λ_{t+1} − λ_t ≈ 1.8 a/λ_t never stop being positive.
    let increment = trajectory[1999].lambda - trajectory[1998].lambda;
    assert!((increment - 1.8 / trajectory[1998].lambda).abs() < 1e-9);
}

#[test]
fn cdat_on_edge_keeps_eta_lambda_at_two_and_below_edge_lets_lambda_grow() {
    let on_edge = simulate(&SimpleModelConfig::paper_cdat(2.0), 3000).unwrap();
    let below = simulate(&SimpleModelConfig::paper_cdat(1.9), 3000).unwrap();
    assert_eq!(on_edge.len(), 3000);
    assert_eq!(below.len(), 3000);
    // σ = 2: y = ηλ − 2 stays near 0 and the oscillation along x persists (feedback active).
    for p in last_quarter(&on_edge) {
        assert!(
            (p.eta_lambda - 2.0).abs() < 1e-3,
            "ηλ − 2 = {}",
            p.eta_lambda - 2.0
        );
        assert!(p.x.abs() > 0.3, "x = {}", p.x);
    }
    // σ = 1.9: ηλ stays below 2, x → 0, the feedback vanishes and λ grows at rate ≈ aη.
    for p in last_quarter(&below) {
        assert!(p.eta_lambda < 2.0 - 1e-3);
        assert!(p.x.abs() < 1e-8, "x = {}", p.x);
    }
    let growth = |t: &[ModelPoint]| t[2999].lambda - t[0].lambda;
    assert!(growth(&below) > 10.0, "λ grew by {}", growth(&below));
    assert!(growth(&below) > 1.5 * growth(&on_edge));
}

#[test]
fn one_step_of_each_model_matches_the_equations() {
    // Hand-computed single steps (semi-implicit: λ' = λ + η(a − b x'²)).
    let constant = SimpleModelConfig::ConstantStep {
        a: 0.5,
        b: 2.0,
        eta: 0.25,
        lambda0: 3.0,
        x0: 2.0,
    };
    let t = simulate(&constant, 2).unwrap();
    // x1 = (1 − 0.75)·2 = 0.5; λ1 = 3 + 0.25(0.5 − 2·0.25) = 3.
    assert_eq!((t[1].x, t[1].lambda), (0.5, 3.0));
    assert_eq!(t[0].loss, 0.5 * 3.0 * 4.0);
    let explicit = simulate_with(&constant, 2, Discretization::Explicit).unwrap();
    // λ1 = 3 + 0.25(0.5 − 2·4) = 1.125.
    assert_eq!(explicit[1].lambda, 1.125);

    let cdat = SimpleModelConfig::Cdat {
        a: 0.0,
        b: 0.0,
        nu: 1.0,
        sigma: 1.0,
        lambda0: 2.0,
        eta0: 0.5,
        x0: 1.0,
        y0: 2.0,
    };
    let t = simulate(&cdat, 2).unwrap();
    assert_eq!(t[0].eta, 0.5); // η0 on the first step
    // x1 = (1 − 1)·1 = 0, y1 = (1 − 0.5)·2 = 1: η1 = (0 + 1)/(0 + 1) = 1.
    assert_eq!((t[1].x, t[1].y, t[1].eta), (0.0, 1.0, 1.0));
    assert_eq!(t[1].loss, 0.5);
}

#[test]
fn a_constant_rule_reproduces_the_constant_model_and_the_cdat_rule_the_cdat_model() {
    let constant = SimpleModelConfig::ConstantStep {
        a: 0.03,
        b: 0.3,
        eta: 1.0,
        lambda0: 1.8,
        x0: 0.1,
    };
    let rule = SimpleModelConfig::Rule {
        a: 0.03,
        b: 0.3,
        nu: 0.5,
        lambda0: 1.8,
        x0: 0.1,
        y0: 0.0,
        rule: RuleConfig::Constant(ConstantConfig { eta: 1.0 }),
    };
    assert_eq!(
        simulate(&constant, 300).unwrap(),
        simulate(&rule, 300).unwrap()
    );

    // CDAT with ε = 0, β = 0 is the model's closed form once η0 equals the rule's first η.
    let (a, b, nu, lambda0, x0, y0, sigma) = (0.05, 0.1, 0.1, 18.0, 4.0, 4.0, 2.0);
    let eta0 = sigma * (lambda0 * lambda0 * x0 * x0 + nu * nu * y0 * y0)
        / (lambda0 * lambda0 * lambda0 * x0 * x0 + nu * nu * nu * y0 * y0);
    let model = simulate(
        &SimpleModelConfig::Cdat {
            a,
            b,
            nu,
            sigma,
            lambda0,
            eta0,
            x0,
            y0,
        },
        200,
    )
    .unwrap();
    let cdat_rule = RuleConfig::Cdat(CdatConfig {
        sigma,
        beta: 0.0,
        eps: 0.0,
    });
    let driven = simulate(
        &SimpleModelConfig::Rule {
            a,
            b,
            nu,
            lambda0,
            x0,
            y0,
            rule: cdat_rule,
        },
        200,
    )
    .unwrap();
    assert_eq!(model.len(), driven.len());
    for (m, d) in model.iter().zip(&driven) {
        assert!(
            (m.eta - d.eta).abs() <= 1e-12 * m.eta,
            "step {}: {} vs {}",
            m.step,
            m.eta,
            d.eta
        );
        assert!((m.lambda - d.lambda).abs() <= 1e-9 * m.lambda.abs());
    }
}

#[test]
fn armijo_on_the_model_stays_below_the_edge_along_the_gradient() {
    // Quadratic fact: an accepted Armijo step has η·(gᵀHg/‖g‖²) ≤ 2(1 − c).
    let armijo = ArmijoConfig::optax();
    let c = armijo.c;
    let config = SimpleModelConfig::paper_rule(RuleConfig::Armijo(armijo));
    let trajectory = simulate(&config, 500).unwrap();
    assert_eq!(trajectory.len(), 500);
    let nu = 0.1;
    for p in &trajectory {
        let g2 = p.lambda * p.lambda * p.x * p.x + nu * nu * p.y * p.y;
        let ghg = p.lambda.powi(3) * p.x * p.x + nu.powi(3) * p.y * p.y;
        if g2 > 0.0 {
            assert!(
                p.eta * ghg / g2 <= 2.0 * (1.0 - c) + 1e-9,
                "step {}",
                p.step
            );
        }
    }
    // Classical-tuner behaviour: sharpness grows, stepsize falls.
    assert!(trajectory[499].lambda > trajectory[0].lambda);
    assert!(trajectory[499].eta < trajectory[0].eta.min(1.0));
}

#[test]
fn polyak_drives_the_model_without_panicking() {
    let config = SimpleModelConfig::paper_rule(RuleConfig::Polyak(PolyakConfig::loizou()));
    let trajectory = simulate(&config, 500).unwrap();
    assert!(!trajectory.is_empty());
    assert!(trajectory.iter().all(|p| p.eta > 0.0 && p.eta.is_finite()));
}

#[test]
fn validate_names_the_offending_field() {
    let cases: Vec<(SimpleModelConfig, &str)> = vec![
        (
            SimpleModelConfig::ConstantStep {
                a: -1.0,
                b: 0.3,
                eta: 1.0,
                lambda0: 1.8,
                x0: 0.1,
            },
            "constant_step.a",
        ),
        (
            SimpleModelConfig::ConstantStep {
                a: 0.0,
                b: 0.3,
                eta: 0.0,
                lambda0: 1.8,
                x0: 0.1,
            },
            "constant_step.eta",
        ),
        (
            SimpleModelConfig::ClassicalTuner {
                a: 1.0,
                b: 0.5,
                epsilon: 1.0,
                eta0: 1.0,
                lambda0: 1.8,
                x0: 1.0,
            },
            "classical_tuner.epsilon",
        ),
        (
            SimpleModelConfig::ClassicalTuner {
                a: 1.0,
                b: 0.5,
                epsilon: 0.1,
                eta0: 1.0,
                lambda0: -1.8,
                x0: 1.0,
            },
            "classical_tuner.lambda0",
        ),
        (
            SimpleModelConfig::Cdat {
                a: 0.05,
                b: 0.1,
                nu: 0.1,
                sigma: f64::NAN,
                lambda0: 18.0,
                eta0: 0.05,
                x0: 4.0,
                y0: 4.0,
            },
            "cdat.sigma",
        ),
        (
            SimpleModelConfig::Cdat {
                a: 0.05,
                b: 0.1,
                nu: 0.1,
                sigma: 2.0,
                lambda0: 18.0,
                eta0: 0.05,
                x0: 4.0,
                y0: f64::INFINITY,
            },
            "cdat.y0",
        ),
        (
            SimpleModelConfig::Rule {
                a: 0.05,
                b: 0.1,
                nu: 0.0,
                lambda0: 18.0,
                x0: 4.0,
                y0: 4.0,
                rule: RuleConfig::Polyak(PolyakConfig::loizou()),
            },
            "rule.nu",
        ),
    ];
    for (config, field) in cases {
        match config.validate() {
            Err(QuadraticError::InvalidConfig { field: found, .. }) => assert_eq!(found, field),
            other => panic!("{field}: expected InvalidConfig, got {other:?}"),
        }
        assert!(simulate(&config, 10).is_err());
    }
    let bad_rule =
        SimpleModelConfig::paper_rule(RuleConfig::Constant(ConstantConfig { eta: -1.0 }));
    assert!(matches!(
        bad_rule.validate(),
        Err(QuadraticError::Stepsize(StepsizeError::InvalidConfig {
            field: "constant.eta",
            ..
        }))
    ));
    for preset in [
        SimpleModelConfig::default(),
        SimpleModelConfig::paper_constant(),
        SimpleModelConfig::paper_classical_tuner(),
        SimpleModelConfig::paper_cdat(2.0),
        SimpleModelConfig::paper_cdat(1.9),
        SimpleModelConfig::paper_rule(RuleConfig::Armijo(ArmijoConfig::optax())),
    ] {
        preset.validate().unwrap();
    }
}

#[test]
fn presets_pin_the_paper_values() {
    assert_eq!(
        SimpleModelConfig::paper_constant(),
        SimpleModelConfig::ConstantStep {
            a: 0.03,
            b: 0.3,
            eta: 1.0,
            lambda0: 1.8,
            x0: 0.1
        }
    );
    assert_eq!(
        SimpleModelConfig::paper_classical_tuner(),
        SimpleModelConfig::ClassicalTuner {
            a: 1.0,
            b: 0.5,
            epsilon: 0.1,
            eta0: 1.0,
            lambda0: 1.8,
            x0: 1.0
        }
    );
    assert_eq!(
        SimpleModelConfig::paper_cdat(1.9),
        SimpleModelConfig::Cdat {
            a: 0.05,
            b: 0.1,
            nu: 0.1,
            sigma: 1.9,
            lambda0: 18.0,
            eta0: 0.05,
            x0: 4.0,
            y0: 4.0
        }
    );
    assert_eq!(
        SimpleModelConfig::default(),
        SimpleModelConfig::paper_constant()
    );
}

#[test]
fn configs_round_trip_through_serde_and_reject_unknown_fields() {
    let json = r#"{"kind": "cdat", "a": 0.05, "b": 0.1, "nu": 0.1, "sigma": 2.0,
                   "lambda0": 18.0, "eta0": 0.05, "x0": 4.0, "y0": 4.0}"#;
    let config: SimpleModelConfig = serde_json::from_str(json).unwrap();
    assert_eq!(config, SimpleModelConfig::paper_cdat(2.0));
    assert_eq!(config.name(), "cdat");
    let rule = SimpleModelConfig::paper_rule(RuleConfig::Polyak(PolyakConfig::loizou()));
    let text = serde_json::to_string(&rule).unwrap();
    assert!(text.contains(r#""kind":"rule""#));
    assert_eq!(
        serde_json::from_str::<SimpleModelConfig>(&text).unwrap(),
        rule
    );
    let unknown = r#"{"kind": "constant_step", "a": 0.03, "b": 0.3, "eta": 1.0,
                      "lambda0": 1.8, "x0": 0.1, "typo": 1.0}"#;
    assert!(serde_json::from_str::<SimpleModelConfig>(unknown).is_err());
    let point = simulate(&SimpleModelConfig::paper_constant(), 1).unwrap()[0];
    let back: ModelPoint = serde_json::from_str(&serde_json::to_string(&point).unwrap()).unwrap();
    assert_eq!(back, point);
}

#[test]
fn divergence_ends_the_trajectory_without_error() {
    // η λ0 = 10 ≫ 2 and strong feedback: x and λ blow up within a few steps.
    let config = SimpleModelConfig::ConstantStep {
        a: 0.0,
        b: 10.0,
        eta: 1.0,
        lambda0: 10.0,
        x0: 1.0,
    };
    let trajectory = simulate(&config, 1000).unwrap();
    assert!(!trajectory.is_empty() && trajectory.len() < 1000);
    assert!(trajectory.iter().enumerate().all(|(i, p)| p.step == i));
    // CDAT at the exact minimum: 0/0 ends the trajectory after the first step.
    let at_minimum = SimpleModelConfig::Cdat {
        a: 0.0,
        b: 0.0,
        nu: 0.1,
        sigma: 2.0,
        lambda0: 1.0,
        eta0: 0.1,
        x0: 0.0,
        y0: 0.0,
    };
    assert_eq!(simulate(&at_minimum, 10).unwrap().len(), 1);
    assert!(
        simulate(&SimpleModelConfig::paper_constant(), 0)
            .unwrap()
            .is_empty()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Self-stabilization does not hinge on the preset's start: any start below or near the
    /// edge, for η ∈ [0.5, 1], ends cycling around 2/η.
    #[test]
    fn constant_eta_self_stabilizes_from_many_starts(
        eta in 0.5f64..1.0,
        ratio in 1.7f64..2.1,
        x0 in 0.05f64..0.5,
    ) {
        let config = SimpleModelConfig::ConstantStep { a: 0.03, b: 0.3, eta, lambda0: ratio / eta, x0 };
        let trajectory = simulate(&config, 1000).unwrap();
        prop_assert_eq!(trajectory.len(), 1000);
        let lambda_mean = mean(last_quarter(&trajectory).iter().map(|p| p.lambda));
        prop_assert!((lambda_mean * eta / 2.0 - 1.0).abs() < 0.05, "mean ηλ/2 = {}", lambda_mean * eta / 2.0);
    }

    /// Whatever the (valid) parameters, simulation never panics and returns only finite points.
    #[test]
    fn simulation_returns_finite_points_only(
        a in 0.0f64..5.0, b in 0.0f64..5.0, eta in 0.01f64..5.0, lambda0 in 0.01f64..50.0,
        x0 in -10.0f64..10.0, y0 in -10.0f64..10.0, sigma in 0.1f64..3.0,
    ) {
        let configs = [
            SimpleModelConfig::ConstantStep { a, b, eta, lambda0, x0 },
            SimpleModelConfig::ClassicalTuner { a, b, epsilon: 0.1, eta0: eta, lambda0, x0 },
            SimpleModelConfig::Cdat { a, b, nu: 0.1, sigma, lambda0, eta0: eta, x0, y0 },
            SimpleModelConfig::Rule { a, b, nu: 0.1, lambda0, x0, y0, rule: RuleConfig::Polyak(PolyakConfig::loizou()) },
        ];
        for config in &configs {
            let trajectory = simulate(config, 200).unwrap();
            for p in &trajectory {
                prop_assert!(p.eta.is_finite() && p.lambda.is_finite() && p.loss.is_finite());
                prop_assert!(p.x.is_finite() && p.y.is_finite() && p.eta_lambda.is_finite());
            }
        }
    }
}
