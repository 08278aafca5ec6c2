//! Snapshot regression of metric trajectories (insta, top-level `snapshots/`).
//!
//! Each stepsize rule preset × {a tiny MLP on the synthetic fixture, a quadratic} runs ~20
//! deterministic f64 steps on CPU with sharpness measured a few times. The snapshot records the
//! run hash and the trajectory (loss, η, trials, λ_max, η·λ_max) rounded to a fixed number of
//! significant digits per metric ([`SIGNIFICANT_DIGITS`]): harmless last-bit differences across
//! machines do not fail, any real change does. Review changes with `cargo insta review` (or
//! `INSTA_UPDATE=always`), see the README.

use crate::common;

use stepsharp_direction::{AdamConfig, DirectionConfig, MomentumConfig};
use stepsharp_runner::config::RunConfig;
use stepsharp_runner::hash::run_hash;
use stepsharp_runner::train::{RunOptions, execute};
use stepsharp_stepsize::{ArmijoConfig, CdatConfig, PolyakConfig, RuleConfig};

/// Significant digits kept per metric: loss, η, λ_max and η·λ_max.
const SIGNIFICANT_DIGITS: [usize; 4] = [7, 7, 6, 6];

fn rules() -> Vec<(&'static str, RuleConfig)> {
    vec![
        (
            "constant",
            RuleConfig::Constant(stepsharp_stepsize::ConstantConfig { eta: 0.05 }),
        ),
        ("armijo-optax", RuleConfig::Armijo(ArmijoConfig::optax())),
        ("armijo-sls", RuleConfig::Armijo(ArmijoConfig::sls(1))),
        (
            "armijo-cdat",
            RuleConfig::Armijo(ArmijoConfig::cdat_paper(0.0)),
        ),
        ("polyak-loizou", RuleConfig::Polyak(PolyakConfig::loizou())),
        (
            "polyak-cdat",
            RuleConfig::Polyak(PolyakConfig::cdat_paper(1.0)),
        ),
        (
            "cdat",
            RuleConfig::Cdat(CdatConfig {
                sigma: 2.0,
                ..CdatConfig::default()
            }),
        ),
    ]
}

fn significant(value: f64, digits: usize) -> String {
    if value.is_finite() {
        format!("{value:.*e}", digits - 1)
    } else {
        format!("{value}")
    }
}

/// The snapshot text of a run: hash, then one line per step.
fn render(config: &RunConfig, options: &RunOptions) -> String {
    let outcome = execute(config, options, &mut |_| {}).expect("run succeeds");
    let fingerprint = outcome.dir.metadata().unwrap().unwrap().data_fingerprint;
    let [loss, eta, lambda, edge] = SIGNIFICANT_DIGITS;
    let mut text = format!(
        "run hash {}\nstatus {}\nstep | loss | eta | trials | lambda_max | eta*lambda_max\n",
        run_hash(config, &fingerprint),
        outcome.status.describe()
    );
    for row in &outcome.rows {
        text.push_str(&format!(
            "{} | {} | {} | {} | {} | {}\n",
            row.step,
            significant(row.loss, loss),
            significant(row.eta, eta),
            row.trials,
            row.lambda_max
                .map_or("-".into(), |v| significant(v, lambda)),
            row.eta_lambda.map_or("-".into(), |v| significant(v, edge)),
        ));
    }
    text
}

fn mlp_config(rule: &RuleConfig) -> RunConfig {
    let mut config = common::tiny_mlp("");
    config.training.max_steps = 20;
    config.sharpness.measure = stepsharp_runner::config::Periodic::Every(5);
    config.stepsize = rule.clone();
    config
}

fn quadratic_config(rule: &RuleConfig) -> RunConfig {
    let mut config = common::tiny_quadratic("");
    config.stepsize = rule.clone();
    config
}

fn assert_snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "../../../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn trajectories_of_every_rule_on_a_tiny_mlp() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    for (name, rule) in rules() {
        assert_snapshot(
            &format!("{name}@mlp"),
            &render(&mlp_config(&rule), &options),
        );
    }
}

#[test]
fn trajectories_of_every_rule_on_a_quadratic() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    for (name, rule) in rules() {
        assert_snapshot(
            &format!("{name}@quadratic"),
            &render(&quadratic_config(&rule), &options),
        );
    }
}

/// The direction presets: one rule on each direction (names `rule+direction`).
fn direction_presets() -> Vec<(&'static str, RuleConfig, DirectionConfig)> {
    let momentum = MomentumConfig::default();
    let adam = DirectionConfig::Adam(AdamConfig::default());
    vec![
        (
            "constant+heavy_ball",
            RuleConfig::Constant(stepsharp_stepsize::ConstantConfig { eta: 0.02 }),
            DirectionConfig::HeavyBall(momentum),
        ),
        (
            "armijo-optax+nesterov",
            RuleConfig::Armijo(ArmijoConfig::optax()),
            DirectionConfig::Nesterov(momentum),
        ),
        (
            "constant+adam",
            RuleConfig::Constant(stepsharp_stepsize::ConstantConfig { eta: 0.01 }),
            adam,
        ),
        (
            "armijo-optax+adam",
            RuleConfig::Armijo(ArmijoConfig::optax()),
            adam,
        ),
        (
            "polyak-cdat+adam",
            RuleConfig::Polyak(PolyakConfig::cdat_paper(1.0)),
            adam,
        ),
        ("cdat+adam", RuleConfig::Cdat(CdatConfig::default()), adam),
    ]
}

/// The snapshot text of a run on a direction: hash, then per step the loss, η, the edge
/// ratio, the preconditioned sharpness (Adam) and the non-descent action.
fn render_direction(config: &RunConfig, options: &RunOptions) -> String {
    let outcome = execute(config, options, &mut |_| {}).expect("run succeeds");
    let fingerprint = outcome.dir.metadata().unwrap().unwrap().data_fingerprint;
    let [loss, eta, lambda, edge] = SIGNIFICANT_DIGITS;
    let mut text = format!(
        "run hash {}\nstatus {}\nstep | loss | eta | trials | lambda_max | preconditioned | edge_ratio | non_descent\n",
        run_hash(config, &fingerprint),
        outcome.status.describe()
    );
    let optional =
        |value: Option<f64>, digits| value.map_or("-".into(), |v| significant(v, digits));
    for row in &outcome.rows {
        text.push_str(&format!(
            "{} | {} | {} | {} | {} | {} | {} | {}\n",
            row.step,
            significant(row.loss, loss),
            significant(row.eta, eta),
            row.trials,
            optional(row.lambda_max, lambda),
            optional(row.preconditioned_lambda_max, lambda),
            optional(row.edge_ratio, edge),
            row.non_descent
                .map_or("-".into(), |a| format!("{a:?}").to_lowercase()),
        ));
    }
    text
}

#[test]
fn trajectories_of_every_direction_on_a_tiny_mlp_and_a_quadratic() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    for (name, rule, direction) in direction_presets() {
        let mut mlp = mlp_config(&rule);
        mlp.direction = Some(direction);
        assert_snapshot(&format!("{name}@mlp"), &render_direction(&mlp, &options));
        let mut quadratic = quadratic_config(&rule);
        quadratic.direction = Some(direction);
        assert_snapshot(
            &format!("{name}@quadratic"),
            &render_direction(&quadratic, &options),
        );
    }
}

/// The net catches real changes: Armijo's shrink factor 0.8 → 0.81 changes the rendered
/// trajectory, so the committed `armijo-optax@quadratic` snapshot would fail.
#[test]
fn changing_one_armijo_constant_fails_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../snapshots/armijo-optax@quadratic.snap"
    ))
    .expect("the committed snapshot exists");
    let original = render(
        &quadratic_config(&RuleConfig::Armijo(ArmijoConfig::optax())),
        &options,
    );
    assert!(
        committed.contains(&original),
        "the committed snapshot matches the current code"
    );
    let altered = RuleConfig::Armijo(ArmijoConfig {
        shrink: 0.81,
        ..ArmijoConfig::optax()
    });
    let changed = render(&quadratic_config(&altered), &options);
    assert!(
        !committed.contains(&changed),
        "a changed constant must fail the snapshot"
    );
    let differing = original
        .lines()
        .zip(changed.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        differing > 1,
        "more than the hash line changes: {differing} lines differ"
    );
}
