//! Runs on momentum and Adam directions: every rule's η recomputed from the logged slope, the
//! non-descent policy recorded, the preconditioned sharpness and the thresholds in the
//! trajectory, and a resumed run equal to a straight one bit for bit.

use crate::common;

use stepsharp_direction::NonDescentAction;
use stepsharp_runner::config::RunConfig;
use stepsharp_runner::status::RunStatus;
use stepsharp_runner::train::{RunOptions, execute};
use stepsharp_runner::trajectory::Row;

fn without_timing(rows: &[Row]) -> Vec<Row> {
    rows.iter().map(Row::without_timing).collect()
}

/// A tiny full-batch f64 MLP run of 12 steps with `stepsize` and `direction` tables.
fn config(stepsize: &str, direction: &str) -> RunConfig {
    let mut config = common::tiny_mlp(&format!("stepsize = {stepsize}\ndirection = {direction}"));
    config.training.max_steps = 12;
    config
}

/// The rows of a run that must complete.
fn run(config: &RunConfig) -> (tempfile::TempDir, Vec<Row>) {
    let (dir, status, rows) = run_to_the_end(config);
    assert!(matches!(status, RunStatus::Completed { .. }), "{status:?}");
    (dir, rows)
}

/// The status and rows of a run, which may diverge.
fn run_to_the_end(config: &RunConfig) -> (tempfile::TempDir, RunStatus, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let outcome = execute(config, &common::options(dir.path(), &data), &mut |_| {}).unwrap();
    (dir, outcome.status, outcome.rows)
}

const ADAM: &str = r#"{ kind = "adam", beta1 = 0.9, beta2 = 0.999, eps = 1e-8 }"#;
const HEAVY_BALL: &str = r#"{ kind = "heavy_ball", beta = 0.9 }"#;
const NESTEROV: &str = r#"{ kind = "nesterov", beta = 0.9 }"#;

#[test]
fn polyak_divides_the_loss_by_the_slope_along_the_update() {
    for direction in [ADAM, HEAVY_BALL, NESTEROV] {
        let (_dir, rows) = run(&config(
            r#"{ kind = "polyak", c = 1.0, gamma_max = 1.0 }"#,
            direction,
        ));
        for row in &rows {
            let slope = row.slope.unwrap();
            assert!(
                slope < 0.0,
                "the default policy restarts uphill updates: {row:?}"
            );
            let expected = (row.loss / -slope).min(1.0);
            assert_eq!(row.eta, expected, "{direction}, step {}", row.step);
        }
    }
}

#[test]
fn cdat_scales_the_slope_by_the_curvature_along_the_update() {
    for direction in [ADAM, HEAVY_BALL] {
        let (_dir, rows) = run(&config(r#"{ kind = "cdat", sigma = 2.0 }"#, direction));
        for row in &rows {
            let terms: serde_json::Value = serde_json::from_str(&row.diagnostics).unwrap();
            let (numerator, denominator) = (
                terms["numerator"].as_f64().unwrap(),
                terms["denominator"].as_f64().unwrap(),
            );
            assert_eq!(numerator, (-row.slope.unwrap()).max(0.0));
            assert_eq!(row.eta, 2.0 * numerator / (denominator + 1e-12));
            // CDAT proceeds with an uphill update: its formula takes no step.
            if row.non_descent.is_some() {
                assert_eq!(row.non_descent, Some(NonDescentAction::Proceed));
                assert_eq!(row.eta, 0.0);
            }
        }
    }
}

#[test]
fn armijo_accepts_a_sufficient_decrease_along_the_update() {
    for direction in [ADAM, NESTEROV] {
        let (_dir, rows) = run(&config(r#"{ kind = "armijo" }"#, direction));
        for pair in rows.windows(2) {
            let (now, next) = (&pair[0], &pair[1]);
            let slope = now.slope.unwrap();
            assert!(slope < 0.0 && !now.failed, "{now:?}");
            // Full batch: the next step's loss is f(w + ηu) on the same examples.
            assert!(
                next.loss <= now.loss + 1e-4 * now.eta * slope,
                "{direction}, step {}: {} > {} + c·η·slope",
                now.step,
                next.loss,
                now.loss
            );
        }
        assert!(rows.last().unwrap().loss < rows[0].loss);
    }
}

#[test]
fn a_constant_stepsize_keeps_uphill_momentum_steps_and_says_so() {
    // Heavy ball with a large momentum spirals around the minimum: its buffer lags the
    // gradient, so some updates point uphill, and the constant stepsize takes them as they are.
    let mut spiral = config(
        r#"{ kind = "constant", eta = 0.1 }"#,
        r#"{ kind = "heavy_ball", beta = 0.95 }"#,
    );
    spiral.training.max_steps = 40;
    let (_dir, rows) = run(&spiral);
    let uphill = rows.iter().filter(|r| r.non_descent.is_some()).count();
    assert!(uphill > 0, "no uphill step in {} steps", rows.len());
    for row in &rows {
        assert_eq!(row.eta, 0.1);
        match row.non_descent {
            Some(action) => {
                assert_eq!(action, NonDescentAction::Proceed);
                assert!(row.slope.unwrap() >= 0.0);
            }
            None => assert!(row.slope.unwrap() < 0.0),
        }
    }
    // The same with Polyak restarts them: every slope it sees is negative.
    let mut spiral = config(
        r#"{ kind = "polyak", c = 1.0, gamma_max = 0.1 }"#,
        r#"{ kind = "heavy_ball", beta = 0.95 }"#,
    );
    spiral.training.max_steps = 40;
    let (_dir, rows) = run(&spiral);
    assert!(rows.iter().all(|r| r.slope.unwrap() < 0.0));
    assert!(
        rows.iter()
            .filter_map(|r| r.non_descent)
            .all(|a| a == NonDescentAction::Restart)
    );
}

#[test]
fn measured_steps_carry_the_threshold_and_the_edge_ratio() {
    let (_dir, rows) = run(&config(r#"{ kind = "constant", eta = 0.05 }"#, ADAM));
    let (_dir, gd) = run(&common::tiny_mlp(
        r#"stepsize = { kind = "constant", eta = 0.05 }"#,
    ));
    let measured: Vec<&Row> = rows.iter().filter(|r| r.lambda_max.is_some()).collect();
    assert!(measured.len() >= 3);
    for row in measured {
        let preconditioned = row.preconditioned_lambda_max.unwrap();
        assert!(preconditioned > 0.0 && row.preconditioned_converged == Some(true));
        // The tiny config's solver tolerance, 1e-6, relative to the eigenvalue.
        assert!(row.preconditioned_residual.unwrap() <= 1e-6 * preconditioned * (1.0 + 1e-9));
        assert!(row.preconditioned_hvps.unwrap() >= 1);
        // (2 + 2β₁)(1 − β₁ᵗ)/((1 − β₁)η) with t = step + 1 updates.
        let t = row.step as i32 + 1;
        let threshold = 38.0 * (1.0 - 0.9f64.powi(t)) / 0.05;
        let recorded = row.stability_threshold.unwrap();
        assert!(
            (recorded - threshold).abs() <= 1e-12 * threshold,
            "{recorded} vs {threshold}"
        );
        let ratio = row.edge_ratio.unwrap();
        assert!((ratio - preconditioned / threshold).abs() <= 1e-12 * ratio);
    }
    for row in gd.iter().filter(|r| r.lambda_max.is_some()) {
        assert!(row.preconditioned_lambda_max.is_none() && row.non_descent.is_none());
        assert_eq!(row.stability_threshold, Some(2.0 / 0.05));
        assert_eq!(row.edge_ratio, Some(row.eta_lambda.unwrap() / 2.0));
        let norm_sq = row.grad_norm * row.grad_norm;
        assert!((row.slope.unwrap() + norm_sq).abs() <= 1e-12 * norm_sq);
    }
}

#[test]
fn momentum_and_adam_runs_resume_bit_for_bit() {
    for (stepsize, direction) in [
        (r#"{ kind = "armijo" }"#, ADAM),
        (
            r#"{ kind = "polyak", c = 1.0, gamma_max = 1.0 }"#,
            HEAVY_BALL,
        ),
        (r#"{ kind = "cdat", sigma = 2.0 }"#, NESTEROV),
        (r#"{ kind = "constant", eta = 0.05 }"#, ADAM),
    ] {
        let config = config(stepsize, direction);
        let (_straight_dir, straight) = run(&config);
        let dir = tempfile::tempdir().unwrap();
        let data = common::fixture(dir.path());
        let options = common::options(dir.path(), &data);
        let interrupted = execute(
            &config,
            &RunOptions {
                stop_after: Some(5),
                ..options.clone()
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(interrupted.rows.len(), 5);
        let resumed = execute(&config, &options, &mut |_| {}).unwrap();
        assert_eq!(resumed.dir.metadata().unwrap().unwrap().resumes, 1);
        assert_eq!(
            without_timing(&resumed.rows),
            without_timing(&straight),
            "{stepsize} on {direction}"
        );
    }
}
