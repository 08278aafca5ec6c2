//! End-to-end runs on fixture data: trajectories, reuse, resume bit for bit, divergence, plots.

use crate::common;

use stepsharp_runner::config::{GraphMemory, RunConfig};
use stepsharp_runner::figure::{Scale, load_figure};
use stepsharp_runner::reproduce::reproduce;
use stepsharp_runner::status::RunStatus;
use stepsharp_runner::train::{RunOptions, execute};
use stepsharp_runner::trajectory::Row;

fn without_timing(rows: &[Row]) -> Vec<Row> {
    rows.iter().map(Row::without_timing).collect()
}

#[test]
fn a_tiny_run_writes_a_trajectory_with_sharpness_and_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    let config = common::tiny_mlp("stepsize = { kind = \"armijo\" }");
    let outcome = execute(&config, &options, &mut |_| {}).unwrap();
    assert_eq!(outcome.status, RunStatus::Completed { steps: 8 });
    assert_eq!(outcome.rows.len(), 8);
    let measured: Vec<&Row> = outcome
        .rows
        .iter()
        .filter(|r| r.lambda_max.is_some())
        .collect();
    assert_eq!(
        measured.iter().map(|r| r.step).collect::<Vec<_>>(),
        vec![0, 3, 6, 7]
    );
    for row in &measured {
        let lambda = row.lambda_max.unwrap();
        assert!(lambda.is_finite() && lambda > 0.0, "{row:?}");
        assert_eq!(row.eta_lambda.unwrap(), row.eta * lambda);
        assert!(
            row.residual.unwrap() <= 1e-6 * lambda.abs() * 10.0,
            "{row:?}"
        );
    }
    assert!(outcome.rows.windows(2).all(|w| w[1].hvps >= w[0].hvps));
    assert!(outcome.dir.file("trajectory.csv").exists());
    assert!(outcome.dir.file("config.toml").exists());
    let again = execute(&config, &options, &mut |_| {}).unwrap();
    assert!(again.reused);
    assert_eq!(without_timing(&again.rows), without_timing(&outcome.rows));
}

#[test]
fn an_interrupted_run_resumes_bit_for_bit() {
    for (name, config) in [
        (
            "full batch",
            common::tiny_mlp("stepsize = { kind = \"armijo\" }"),
        ),
        ("mini-batch", {
            let mut config = common::tiny_mlp("stepsize = { kind = \"polyak\" }");
            config.training.batch_size = stepsharp_data::BatchSize::Size(16);
            config.training.line_search_batch =
                stepsharp_runner::config::LineSearchBatch::Independent;
            config
        }),
    ] {
        let straight_dir = tempfile::tempdir().unwrap();
        let data = common::fixture(straight_dir.path());
        let straight = execute(
            &config,
            &common::options(straight_dir.path(), &data),
            &mut |_| {},
        )
        .unwrap();

        let resumed_dir = tempfile::tempdir().unwrap();
        let options = common::options(resumed_dir.path(), &data);
        let interrupted = execute(
            &config,
            &RunOptions {
                stop_after: Some(4),
                ..options.clone()
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(interrupted.status, RunStatus::Running, "{name}");
        assert_eq!(interrupted.rows.len(), 4, "{name}");
        let resumed = execute(&config, &options, &mut |_| {}).unwrap();
        assert!(!resumed.reused);
        assert_eq!(resumed.status, straight.status, "{name}");
        assert_eq!(
            without_timing(&resumed.rows),
            without_timing(&straight.rows),
            "{name}"
        );
        let metadata = resumed.dir.metadata().unwrap().unwrap();
        assert_eq!(metadata.resumes, 1, "{name}");
    }
}

#[test]
fn recomputing_graphs_measures_the_same_sharpness_with_more_passes() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    // A CNN: an MLP's products use its R-operator, which keeps no graph under either policy.
    let run = |graphs: GraphMemory| {
        let mut config = RunConfig::from_toml(
            r#"
model = { kind = "vgg11", batch_norm = false, width = 2 }
loss = "mse"
data = { train_subset = { kind = "first", count = 32 }, layout = "image" }
training = { max_steps = 4, chunk_size = 8, checkpoint_every = 3 }
sharpness = { measure = { every = 3 }, eval_examples = 16, max_iterations = 8, tolerance = 1e-6 }
stepsize = { kind = "armijo" }
dtype = "f64"
"#,
            "tiny_vgg",
        )
        .unwrap();
        config.sharpness.graphs = graphs; // two evaluation chunks of 8 examples
        execute(&config, &options, &mut |_| {}).unwrap()
    };
    let (kept, recomputed) = (run(GraphMemory::Keep), run(GraphMemory::Recompute));
    assert_ne!(kept.dir.id(), recomputed.dir.id());
    let without_passes = |rows: &[Row]| {
        without_timing(rows)
            .into_iter()
            .map(|row| Row {
                forward_passes: 0,
                backward_passes: 0,
                ..row
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_passes(&recomputed.rows), without_passes(&kept.rows));
    let (last_kept, last_recomputed) = (kept.rows.last().unwrap(), recomputed.rows.last().unwrap());
    assert_eq!(last_recomputed.hvps, last_kept.hvps);
    assert!(last_recomputed.forward_passes > last_kept.forward_passes);
    assert!(last_recomputed.backward_passes > last_kept.backward_passes);
}

#[test]
fn divergence_is_a_recorded_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    // η = 1 on a quadratic with λ_max = 10: |1 − ηλ| = 9, the loss grows 81× per step.
    let mut config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 1.0 }");
    config.training.max_steps = 50;
    config.training.divergence_threshold = 1e4;
    let outcome = execute(&config, &options, &mut |_| {}).unwrap();
    let RunStatus::Diverged { step, loss } = outcome.status else {
        panic!("expected divergence, got {:?}", outcome.status);
    };
    assert!(loss > 1e4);
    assert_eq!(outcome.rows.len(), step + 1);
    assert!(step > 0 && step < 10, "diverged at step {step}");
}

#[test]
fn gradient_descent_on_a_quadratic_sees_the_exact_lambda_max() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    let config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 0.1 }");
    let outcome = execute(&config, &options, &mut |_| {}).unwrap();
    for row in outcome.rows.iter().filter(|r| r.lambda_max.is_some()) {
        let lambda = row.lambda_max.unwrap();
        assert!((lambda - 10.0).abs() < 1e-8, "λ_max = {lambda}");
        assert!((row.eta_lambda.unwrap() - 1.0).abs() < 1e-9);
    }
    assert!(outcome.rows.last().unwrap().loss < outcome.rows[0].loss);
}

#[test]
fn a_tiny_figure_reproduces_into_png_svg_and_claims() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let figure_path = dir.path().join("tiny.toml");
    std::fs::write(
        &figure_path,
        r#"
title = "tiny"
kind = "interplay"
[quick.base]
model = { kind = "mlp", hidden = [8], activation = "tanh", bias = true }
data = { train_subset = { kind = "first", count = 64 } }
training = { max_steps = 6, chunk_size = 64 }
sharpness = { measure = { every = 2 }, eval_examples = 32, max_iterations = 10 }
dtype = "f64"
[[quick.group]]
label = "full batch"
[[quick.group]]
label = "batch 16"
set = { training = { batch_size = 16 } }
[[quick.series]]
label = "constant"
set = { stepsize = { kind = "constant", eta = 0.05 } }
[[quick.series]]
label = "armijo"
[[quick.series]]
label = "polyak"
set = { stepsize = { kind = "polyak" } }
[paper]
"#,
    )
    .unwrap();
    let figure = load_figure(&figure_path).unwrap();
    let out = dir.path().join("out");
    let options = common::options(dir.path(), &data);
    let output = reproduce(&figure, "tiny", Scale::Quick, &options, &out, &mut |_| {}).unwrap();
    assert_eq!(output.results.len(), 6);
    for file in ["figure.png", "figure.svg", "claims.md", "runs.md"] {
        let path = out.join(file);
        assert!(
            std::fs::metadata(&path).unwrap().len() > 100,
            "{} is empty",
            path.display()
        );
    }
    let png = std::fs::read(out.join("figure.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let claims = std::fs::read_to_string(out.join("claims.md")).unwrap();
    assert!(
        claims.contains("Claim 1") && claims.contains("Claim 2"),
        "{claims}"
    );
    // The sharpness along the update, η·uᵀHu/‖u‖², recomputed here from the trajectory: its
    // median is in the full-batch Armijo row of the report.
    let armijo = output
        .results
        .iter()
        .find(|r| r.run.group == "full batch" && r.run.series == "armijo")
        .unwrap();
    let along: Vec<f64> = armijo
        .outcome
        .rows
        .iter()
        .filter(|r| r.lambda_max.is_some())
        .map(|r| r.eta * r.directional.unwrap())
        .collect();
    let median = format!(
        "{:.4}",
        stepsharp_runner::stats::RunStats::of(
            &armijo.outcome.rows,
            &armijo.outcome.status,
            true,
            Default::default()
        )
        .median_eta_directional
        .unwrap()
    );
    let mut sorted = along.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let expected = if n.is_multiple_of(2) {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    } else {
        sorted[n / 2]
    };
    assert_eq!(median, format!("{expected:.4}"));
    let row = claims
        .lines()
        .find(|l| l.starts_with("| full batch | armijo | base |"))
        .unwrap();
    assert!(
        row.contains(&format!("| {median} |")),
        "{median} not in {row}"
    );
}

#[test]
fn seeds_are_runs_of_their_own_and_a_tuned_series_is_searched_on_the_first_seed() {
    let (dir, output) = reproduce_quadratic_figure(
        r#"
title = "seeds"
kind = "loss_curves"
[quick]
seeds = [0, 1]
[quick.base]
model = { kind = "quadratic", spectrum = [10.0, 3.0, 1.0], seed = 3 }
training = { max_steps = 20 }
sharpness = { measure = { every = 5 }, max_iterations = 3, k = 1 }
dtype = "f64"
[[quick.series]]
label = "constant (tuned)"
tune = { eta0 = 0.05, exponents = [-1, 0, 1] }
[[quick.series]]
label = "armijo"
[paper]
"#,
    );
    let out = dir.path().join("out");
    // Two seeds of each series; the grid is searched once, on seed 0.
    assert_eq!(output.results.len(), 4);
    assert_eq!(output.tunings.len(), 1);
    assert_eq!(output.tunings[0].seed, Some(0));
    let tuned: Vec<_> = output
        .results
        .iter()
        .filter(|r| r.run.series == "constant (tuned)")
        .collect();
    assert_eq!(tuned.len(), 2);
    assert_eq!(
        tuned.iter().map(|r| r.run.seed).collect::<Vec<_>>(),
        [Some(0), Some(1)]
    );
    for r in &tuned {
        assert_eq!(
            r.run.config.stepsize,
            stepsharp_stepsize::RuleConfig::Constant(stepsharp_stepsize::ConstantConfig {
                eta: output.tunings[0].best_eta
            })
        );
    }
    assert_eq!(tuned[1].run.config.seeds.probe, 1);
    let ids: std::collections::HashSet<&str> =
        output.results.iter().map(|r| r.outcome.dir.id()).collect();
    assert_eq!(ids.len(), 4, "every seed has its own run id");
    assert!(std::fs::metadata(out.join("figure.png")).unwrap().len() > 100);
}

#[test]
fn constant_stepsize_tuning_widens_the_grid_until_the_best_is_interior() {
    // Quadratic with λ_max = 10: η ≥ 0.2 diverges along the top eigenvector, and among
    // η0·2^i the last-5 mean loss after 40 steps is lowest at η = 0.1. The initial grid
    // {0.00625, 0.0125, 0.025} has its best at the upper edge and is widened three times
    // (0.05, 0.1, then 0.2, where the top direction no longer contracts).
    let (dir, output) = reproduce_quadratic_figure(
        r#"
title = "tune"
kind = "loss_curves"
[quick.base]
model = { kind = "quadratic", spectrum = [10.0, 3.0, 1.0], seed = 3 }
training = { max_steps = 40 }
sharpness = { measure = "never" }
dtype = "f64"
[[quick.series]]
label = "constant (tuned)"
tune = { eta0 = 0.0125, exponents = [-1, 0, 1], max_widenings = 4, rank = { last_mean = 5 } }
[paper]
"#,
    );
    let tuning = &output.tunings[0];
    assert!(tuning.interior, "{tuning:?}");
    assert_eq!(tuning.best_eta, 0.1, "{tuning:?}");
    assert_eq!(tuning.candidates.len(), 6, "{tuning:?}");
    let best_run = &output.results[0];
    assert_eq!(best_run.run.series, "constant (tuned)");
    let stepsharp_stepsize::RuleConfig::Constant(c) = &best_run.run.config.stepsize else {
        panic!("tuned run is not constant")
    };
    assert_eq!(c.eta, 0.1);
    let claims = std::fs::read_to_string(dir.path().join("out/claims.md")).unwrap();
    assert!(
        !claims.contains("Claim 4"),
        "one full-batch group says nothing about batch size:\n{claims}"
    );
}

/// Reproduces a figure without data (quadratic runs) into a temp folder: results in
/// `results/`, figure files in `out/`.
fn reproduce_quadratic_figure(
    text: &str,
) -> (tempfile::TempDir, stepsharp_runner::sweep::FigureOutput) {
    let dir = tempfile::tempdir().unwrap();
    let figure_path = dir.path().join("figure.toml");
    std::fs::write(&figure_path, text).unwrap();
    let figure = load_figure(&figure_path).unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    let out = dir.path().join("out");
    let output = reproduce(&figure, "figure", Scale::Quick, &options, &out, &mut |_| {}).unwrap();
    (dir, output)
}
