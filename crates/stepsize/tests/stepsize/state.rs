//! Exact resume from a saved state, restore checks, rule flags, README.

use crate::common::{Quadratic, QuadraticOracle, axpy};
use serde_json::json;
use stepsharp_stepsize::{
    ArmijoConfig, ArmijoState, CdatConfig, ConstantConfig, PolyakConfig, RuleConfig, RuleState,
    StepRecord, Stepsize, StepsizeError,
};

/// Runs GD on H = diag(50, 1) for `steps`, resuming from a JSON state at `split`.
fn gd_records(config: &RuleConfig, steps: usize, split: Option<usize>) -> Vec<StepRecord> {
    let q = Quadratic::diagonal(&[50.0, 1.0]);
    let mut rule = Stepsize::new(config.clone()).unwrap();
    let mut w = vec![1.0, -2.0];
    let mut records = Vec::new();
    for t in 0..steps {
        if Some(t) == split {
            let saved = serde_json::to_string(&rule.state()).unwrap();
            rule = Stepsize::new(config.clone()).unwrap();
            rule.restore(serde_json::from_str(&saved).unwrap()).unwrap();
        }
        let (ctx, u) = q.gd(&w);
        let record = rule
            .step(&ctx, &mut QuadraticOracle::new(&q, &w, &u))
            .unwrap();
        w = axpy(&w, record.eta, &u);
        records.push(record);
    }
    records
}

#[test]
fn resuming_from_a_saved_state_is_exact() {
    for config in [
        RuleConfig::Armijo(ArmijoConfig::optax()),
        RuleConfig::Armijo(ArmijoConfig::sls(3)),
        RuleConfig::Cdat(CdatConfig {
            beta: 0.9,
            ..CdatConfig::default()
        }),
        RuleConfig::Polyak(PolyakConfig::default()),
    ] {
        let straight = gd_records(&config, 12, None);
        let resumed = gd_records(&config, 12, Some(5));
        assert_eq!(straight, resumed, "{config:?}");
        // Without the restore the state would differ (for stateful rules).
        if !matches!(config, RuleConfig::Polyak(_)) {
            let mut fresh = Stepsize::new(config.clone()).unwrap();
            let mut rule = Stepsize::new(config.clone()).unwrap();
            let q = Quadratic::diagonal(&[50.0, 1.0]);
            let (ctx, u) = q.gd(&[1.0, -2.0]);
            rule.step(&ctx, &mut QuadraticOracle::new(&q, &[1.0, -2.0], &u))
                .unwrap();
            assert_ne!(rule.state(), fresh.state());
            fresh.restore(rule.state()).unwrap();
            assert_eq!(rule.state(), fresh.state());
        }
    }
}

#[test]
fn restore_checks_kind_and_values() {
    let mut rule = Stepsize::new(RuleConfig::Armijo(ArmijoConfig::optax())).unwrap();
    assert_eq!(
        rule.restore(RuleState::Polyak),
        Err(StepsizeError::StateMismatch {
            expected: "armijo",
            found: "polyak"
        })
    );
    for bad in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        let result = rule.restore(RuleState::Armijo(ArmijoState {
            previous_eta: Some(bad),
        }));
        assert!(matches!(
            result,
            Err(StepsizeError::InvalidState {
                field: "armijo.previous_eta",
                ..
            })
        ));
    }
    assert_eq!(
        rule.state(),
        RuleState::Armijo(ArmijoState { previous_eta: None })
    );
    let mut cdat = Stepsize::new(RuleConfig::Cdat(CdatConfig::default())).unwrap();
    let bad: RuleState = serde_json::from_value(
        json!({"kind": "cdat", "averages": {"numerator": -1.0, "denominator": 1.0}}),
    )
    .unwrap();
    assert!(matches!(
        cdat.restore(bad),
        Err(StepsizeError::InvalidState {
            field: "cdat.averages.numerator",
            ..
        })
    ));
}

#[test]
fn rules_report_what_they_need() {
    let flags = |config: RuleConfig| {
        let rule = Stepsize::new(config).unwrap();
        (
            rule.config().name(),
            rule.needs_line_search(),
            rule.needs_curvature(),
        )
    };
    assert_eq!(
        flags(RuleConfig::Constant(ConstantConfig { eta: 1.0 })),
        ("constant", false, false)
    );
    assert_eq!(
        flags(RuleConfig::Armijo(ArmijoConfig::optax())),
        ("armijo", true, false)
    );
    assert_eq!(
        flags(RuleConfig::Polyak(PolyakConfig::default())),
        ("polyak", false, false)
    );
    assert_eq!(
        flags(RuleConfig::Cdat(CdatConfig::default())),
        ("cdat", false, true)
    );
}

#[test]
fn readme_shows_the_example_verbatim() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/quadratic_gd.rs");
    assert!(
        readme.contains(example),
        "README.md must contain examples/quadratic_gd.rs verbatim"
    );
}
