//! Pinned defaults, validation and the serde (TOML-like) forms.

use serde_json::json;
use stepsharp_stepsize::{
    ArmijoConfig, ArmijoState, CdatConfig, ConstantConfig, Diagnostics, FailurePolicy, Growth,
    PolyakConfig, RuleConfig, RuleState, StepRecord, Stepsize, StepsizeError, TrialLimit,
};

#[test]
fn armijo_defaults_and_presets_are_pinned() {
    let optax = ArmijoConfig {
        c: 1e-4,
        shrink: 0.8,
        growth: Growth::Factor(1.5),
        eta_max: 1.0,
        slack: 0.0,
        max_trials: TrialLimit::Unlimited,
        on_failure: FailurePolicy::KeepLastTried,
    };
    assert_eq!(ArmijoConfig::default(), optax);
    assert_eq!(ArmijoConfig::optax(), optax);
    let sls = ArmijoConfig::sls(4);
    assert_eq!(
        sls,
        ArmijoConfig {
            c: 0.1,
            shrink: 0.9,
            growth: sls.growth,
            eta_max: 10.0,
            slack: 0.0,
            max_trials: TrialLimit::AtMost(100),
            on_failure: FailurePolicy::FixedStep(1e-6),
        }
    );
    let Growth::Factor(factor) = sls.growth else {
        panic!("sls growth is a factor")
    };
    assert!((factor.powi(4) - 2.0).abs() < 1e-15); // 2^(1/4)
    assert_eq!(ArmijoConfig::sls(1).growth, Growth::Factor(2.0));
    assert!(ArmijoConfig::sls(0).validate().is_err());
    assert_eq!(
        ArmijoConfig::cdat_paper(0.25),
        ArmijoConfig {
            slack: 0.25,
            ..optax
        }
    );
}

#[test]
fn polyak_and_cdat_defaults_are_pinned() {
    let loizou = PolyakConfig {
        c: 0.5,
        gamma_max: 1.0,
        f_star: 0.0,
        eps: 1e-16,
    };
    assert_eq!(PolyakConfig::default(), loizou);
    assert_eq!(PolyakConfig::loizou(), loizou);
    assert_eq!(
        PolyakConfig::cdat_paper(1.0),
        PolyakConfig {
            c: 1.0,
            ..loizou.clone()
        }
    );
    assert_eq!(
        PolyakConfig::cdat_paper(100.0),
        PolyakConfig {
            c: 1.0,
            gamma_max: 100.0,
            ..loizou
        }
    );
    assert_eq!(
        CdatConfig::default(),
        CdatConfig {
            sigma: 2.0,
            beta: 0.0,
            eps: 1e-12
        }
    );
}

#[test]
fn every_preset_validates() {
    let presets = [
        RuleConfig::Constant(ConstantConfig { eta: 0.1 }),
        RuleConfig::Armijo(ArmijoConfig::optax()),
        RuleConfig::Armijo(ArmijoConfig::sls(391)),
        RuleConfig::Armijo(ArmijoConfig::cdat_paper(0.1)),
        RuleConfig::Polyak(PolyakConfig::loizou()),
        RuleConfig::Polyak(PolyakConfig::cdat_paper(1.0)),
        RuleConfig::Polyak(PolyakConfig::cdat_paper(100.0)),
        RuleConfig::Cdat(CdatConfig::default()),
    ];
    for config in presets {
        assert_eq!(config.validate(), Ok(()), "{config:?}");
        Stepsize::new(config).unwrap();
    }
}

// ---------------------------------------------------------------- validation

#[track_caller]
fn assert_rejected(config: RuleConfig, field: &str) {
    match Stepsize::new(config.clone()) {
        Err(StepsizeError::InvalidConfig { field: found, .. }) => assert_eq!(found, field),
        other => panic!("{config:?}: expected InvalidConfig on {field}, got {other:?}"),
    }
}

#[test]
fn validation_names_the_field() {
    let a = ArmijoConfig::optax;
    let armijo = |config: ArmijoConfig| RuleConfig::Armijo(config);
    assert_rejected(
        RuleConfig::Constant(ConstantConfig { eta: 0.0 }),
        "constant.eta",
    );
    assert_rejected(
        RuleConfig::Constant(ConstantConfig { eta: f64::INFINITY }),
        "constant.eta",
    );
    for c in [0.0, 1.0, -0.1, f64::NAN] {
        assert_rejected(armijo(ArmijoConfig { c, ..a() }), "armijo.c");
    }
    for shrink in [0.0, 1.0, 1.5, f64::NAN] {
        assert_rejected(armijo(ArmijoConfig { shrink, ..a() }), "armijo.shrink");
    }
    for growth in [0.99, f64::INFINITY, f64::NAN] {
        assert_rejected(
            armijo(ArmijoConfig {
                growth: Growth::Factor(growth),
                ..a()
            }),
            "armijo.growth",
        );
    }
    for eta_max in [0.0, -1.0, f64::INFINITY] {
        assert_rejected(armijo(ArmijoConfig { eta_max, ..a() }), "armijo.eta_max");
    }
    assert_rejected(
        armijo(ArmijoConfig {
            slack: -1e-3,
            ..a()
        }),
        "armijo.slack",
    );
    assert_rejected(
        armijo(ArmijoConfig {
            max_trials: TrialLimit::AtMost(0),
            ..a()
        }),
        "armijo.max_trials",
    );
    assert_rejected(
        armijo(ArmijoConfig {
            on_failure: FailurePolicy::FixedStep(-1.0),
            ..a()
        }),
        "armijo.on_failure.fixed_step",
    );
    let p = PolyakConfig::default;
    assert_rejected(
        RuleConfig::Polyak(PolyakConfig { c: 0.0, ..p() }),
        "polyak.c",
    );
    assert_rejected(
        RuleConfig::Polyak(PolyakConfig {
            gamma_max: 0.0,
            ..p()
        }),
        "polyak.gamma_max",
    );
    assert_rejected(
        RuleConfig::Polyak(PolyakConfig {
            f_star: f64::NAN,
            ..p()
        }),
        "polyak.f_star",
    );
    assert_rejected(
        RuleConfig::Polyak(PolyakConfig { eps: -1.0, ..p() }),
        "polyak.eps",
    );
    let d = CdatConfig::default;
    assert_rejected(
        RuleConfig::Cdat(CdatConfig { sigma: 0.0, ..d() }),
        "cdat.sigma",
    );
    assert_rejected(
        RuleConfig::Cdat(CdatConfig { beta: 1.0, ..d() }),
        "cdat.beta",
    );
    assert_rejected(
        RuleConfig::Cdat(CdatConfig { beta: -0.1, ..d() }),
        "cdat.beta",
    );
    assert_rejected(
        RuleConfig::Cdat(CdatConfig {
            eps: f64::NAN,
            ..d()
        }),
        "cdat.eps",
    );
    // Boundary values that are allowed.
    for config in [
        ArmijoConfig {
            growth: Growth::Factor(1.0),
            slack: 0.0,
            max_trials: TrialLimit::AtMost(1),
            ..a()
        },
        ArmijoConfig {
            on_failure: FailurePolicy::FixedStep(0.0),
            ..a()
        },
    ] {
        assert_eq!(config.validate(), Ok(()));
    }
    let message = ArmijoConfig { c: 2.0, ..a() }
        .validate()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("armijo.c") && message.contains('2'),
        "{message}"
    );
}

// ---------------------------------------------------------------- serde forms (TOML-like)

#[test]
fn toml_like_configs_parse_with_defaults_filled_in() {
    let parse = |value: serde_json::Value| serde_json::from_value::<RuleConfig>(value).unwrap();
    assert_eq!(
        parse(json!({"kind": "constant", "eta": 0.05})),
        RuleConfig::Constant(ConstantConfig { eta: 0.05 })
    );
    assert_eq!(
        parse(json!({"kind": "armijo"})),
        RuleConfig::Armijo(ArmijoConfig::optax())
    );
    assert_eq!(
        parse(
            json!({"kind": "armijo", "c": 0.1, "growth": 2, "max_trials": "unlimited",
                     "on_failure": "zero_step"})
        ),
        RuleConfig::Armijo(ArmijoConfig {
            c: 0.1,
            growth: Growth::Factor(2.0),
            on_failure: FailurePolicy::ZeroStep,
            ..ArmijoConfig::optax()
        })
    );
    assert_eq!(
        parse(json!({"kind": "armijo", "growth": "reset_to_max", "on_failure": "error"})),
        RuleConfig::Armijo(ArmijoConfig {
            growth: Growth::ResetToMax,
            on_failure: FailurePolicy::Error,
            ..ArmijoConfig::optax()
        })
    );
    assert_eq!(
        parse(json!({"kind": "polyak", "c": 1, "gamma_max": 100})),
        RuleConfig::Polyak(PolyakConfig::cdat_paper(100.0))
    );
    assert_eq!(
        parse(json!({"kind": "cdat", "beta": 0.9})),
        RuleConfig::Cdat(CdatConfig {
            beta: 0.9,
            ..CdatConfig::default()
        })
    );
}

#[test]
fn malformed_configs_are_rejected() {
    for bad in [
        json!({"kind": "constant"}),
        json!({"kind": "armijo", "shrinkage": 0.5}),
        json!({"kind": "armijo", "growth": "reset"}),
        json!({"kind": "armijo", "max_trials": -1}),
        json!({"kind": "armijo", "max_trials": 4294967296u64}),
        json!({"kind": "armijo", "on_failure": "keep"}),
        json!({"kind": "polyak", "gamma": 1.0}),
        json!({"kind": "adam"}),
        json!({"c": 0.1}),
    ] {
        assert!(
            serde_json::from_value::<RuleConfig>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn configs_round_trip() {
    let configs = [
        RuleConfig::Constant(ConstantConfig { eta: 0.05 }),
        RuleConfig::Armijo(ArmijoConfig::optax()),
        RuleConfig::Armijo(ArmijoConfig::sls(7)),
        RuleConfig::Armijo(ArmijoConfig {
            growth: Growth::ResetToMax,
            max_trials: TrialLimit::AtMost(30),
            on_failure: FailurePolicy::Error,
            ..ArmijoConfig::cdat_paper(0.5)
        }),
        RuleConfig::Polyak(PolyakConfig::cdat_paper(100.0)),
        RuleConfig::Cdat(CdatConfig {
            sigma: 1.9,
            beta: 0.99,
            eps: 0.0,
        }),
    ];
    for config in configs {
        let text = serde_json::to_string(&config).unwrap();
        assert!(
            text.contains(&format!(r#""kind":"{}""#, config.name())),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<RuleConfig>(&text).unwrap(),
            config,
            "{text}"
        );
    }
    let text = serde_json::to_value(RuleConfig::Armijo(ArmijoConfig::sls(1))).unwrap();
    assert_eq!(text["growth"], json!(2.0));
    assert_eq!(text["max_trials"], json!(100));
    assert_eq!(text["on_failure"], json!({"fixed_step": 1e-6}));
}

#[test]
fn records_and_states_round_trip() {
    let diagnostics = [
        Diagnostics::Constant,
        Diagnostics::Armijo {
            first_guess: 1.0,
            last_tried: 0.8,
        },
        Diagnostics::Polyak {
            unclipped: 3.5,
            clipped: true,
        },
        Diagnostics::Cdat {
            numerator: 2.0,
            denominator: 5.0,
        },
    ];
    for diagnostics in diagnostics {
        let record = StepRecord {
            eta: 0.8,
            trials: 2,
            loss_evaluations: 2,
            curvature_evaluations: 1,
            failed: true,
            diagnostics,
        };
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<StepRecord>(&text).unwrap(),
            record,
            "{text}"
        );
    }
    assert_eq!(
        serde_json::to_value(RuleState::Armijo(ArmijoState {
            previous_eta: Some(0.5)
        }))
        .unwrap(),
        json!({"kind": "armijo", "previous_eta": 0.5})
    );
    assert_eq!(
        serde_json::to_value(RuleState::Polyak).unwrap(),
        json!({"kind": "polyak"})
    );
}
