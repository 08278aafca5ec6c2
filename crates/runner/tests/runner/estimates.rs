//! `sharpness.trace` and `sharpness.density`: estimates on their own schedules, stored in the
//! trajectory and in `density.csv` (content hash in the metadata), resumed bit for bit, and
//! without any effect on training.

use crate::common;

use stepsharp_runner::density::{DensityLineKind, read_density};
use stepsharp_runner::status::RunStatus;
use stepsharp_runner::train::{RunOptions, execute};
use stepsharp_runner::trajectory::Row;

/// The quadratic's eigenvalues (`common::tiny_quadratic`).
const SPECTRUM: [f64; 5] = [10.0, 3.0, 1.0, 0.5, 0.1];

/// The tiny quadratic (20 steps, λ_max every 5) with the trace every 10 steps and the density
/// at steps 0 and 7 (5 Lanczos steps: the whole spectrum).
fn config() -> stepsharp_runner::config::RunConfig {
    let mut config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 0.15 }");
    config.training.checkpoint_every = 3;
    config.sharpness.trace = Some(toml::from_str("every = 10\nmax_probes = 40").unwrap());
    config.sharpness.density = Some(
        toml::from_str(
            "steps = [0, 7]\nprobes = 2\nlanczos_steps = 5\ngrid_points = 500\n\
             kernel_variance = 1e-3",
        )
        .unwrap(),
    );
    config.validate().unwrap();
    config
}

fn options(dir: &std::path::Path) -> RunOptions {
    RunOptions {
        results: dir.join("results"),
        ..Default::default()
    }
}

fn steps_with(rows: &[Row], value: fn(&Row) -> bool) -> Vec<usize> {
    rows.iter().filter(|r| value(r)).map(|r| r.step).collect()
}

#[test]
fn trace_and_density_are_taken_on_their_schedules_and_stored_with_their_hvps() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = execute(&config(), &options(dir.path()), &mut |_| {}).unwrap();
    assert_eq!(outcome.status, RunStatus::Completed { steps: 20 });
    let rows = &outcome.rows;
    assert_eq!(steps_with(rows, |r| r.trace.is_some()), [0, 10, 19]);
    assert_eq!(steps_with(rows, |r| r.density_hvps.is_some()), [0, 7]);
    assert_eq!(
        steps_with(rows, |r| r.lambda_max.is_some()),
        [0, 5, 10, 15, 19]
    );
    // Step 7 has a density but no λ_max: the estimates are independent.
    assert!(rows[7].eval_loss.is_some() && rows[7].lambda_hvps.is_none());
    let exact: f64 = SPECTRUM.iter().sum();
    for row in rows.iter().filter(|r| r.trace.is_some()) {
        let (trace, error) = (row.trace.unwrap(), row.trace_standard_error.unwrap());
        assert!(
            (trace - exact).abs() <= 4.0 * error + 1e-9,
            "{trace} ± {error}"
        );
        assert!((10..=40).contains(&row.trace_hvps.unwrap()), "{row:?}");
    }
    // The cumulative HVP count holds every estimate's products.
    let (before, at) = (rows[6].hvps, rows[7].hvps);
    assert_eq!(at - before, rows[7].density_hvps.unwrap());
    let lines = read_density(&outcome.dir.file("density.csv")).unwrap();
    for step in [0, 7] {
        let mut nodes: Vec<f64> = lines
            .iter()
            .filter(|l| l.step == step && l.kind == DensityLineKind::Ritz && l.probe == Some(0))
            .map(|l| l.lambda)
            .collect();
        nodes.sort_by(f64::total_cmp);
        let mut expected = SPECTRUM;
        expected.sort_by(f64::total_cmp);
        assert_eq!(nodes.len(), 5, "step {step}");
        for (node, lambda) in nodes.iter().zip(expected) {
            assert!((node - lambda).abs() < 1e-8, "{nodes:?}");
        }
        let grid: Vec<(f64, f64)> = lines
            .iter()
            .filter(|l| l.step == step && l.kind == DensityLineKind::Density)
            .map(|l| (l.lambda, l.value))
            .collect();
        assert_eq!(grid.len(), 500);
        let mass: f64 = grid.windows(2).map(|w| (w[1].0 - w[0].0) * w[0].1).sum();
        assert!((mass - 1.0).abs() < 1e-2, "mass {mass}");
    }
    let metadata = outcome.dir.metadata().unwrap().unwrap();
    assert!(metadata.density_blake3.is_some());
    assert!(outcome.dir.verify().unwrap().notes.is_empty());
    let path = outcome.dir.file("density.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("density,", "density,,1", 1)).unwrap();
    let message = format!("{:#}", outcome.dir.verify().unwrap_err());
    assert!(message.contains("density.csv was changed"), "{message}");
}

#[test]
fn extra_estimates_do_not_change_training_and_resume_bit_for_bit() {
    let config = config();
    let plain_dir = tempfile::tempdir().unwrap();
    let mut plain = config.clone();
    plain.sharpness.trace = None;
    plain.sharpness.density = None;
    let plain = execute(&plain, &options(plain_dir.path()), &mut |_| {}).unwrap();

    let straight_dir = tempfile::tempdir().unwrap();
    let straight = execute(&config, &options(straight_dir.path()), &mut |_| {}).unwrap();
    let training = |r: &Row| (r.loss, r.eta, r.lambda_max, r.top_k.clone(), r.directional);
    assert_eq!(
        straight.rows.iter().map(training).collect::<Vec<_>>(),
        plain.rows.iter().map(training).collect::<Vec<_>>()
    );

    let resumed_dir = tempfile::tempdir().unwrap();
    let options = options(resumed_dir.path());
    let stopped = RunOptions {
        stop_after: Some(8),
        ..options.clone()
    };
    assert_eq!(
        execute(&config, &stopped, &mut |_| {}).unwrap().status,
        RunStatus::Running
    );
    let resumed = execute(&config, &options, &mut |_| {}).unwrap();
    // Debug text: a quadratic's accuracy is NaN, which `==` never equals.
    let without_timing = |rows: &[Row]| {
        format!(
            "{:?}",
            rows.iter().map(Row::without_timing).collect::<Vec<_>>()
        )
    };
    assert_eq!(
        without_timing(&resumed.rows),
        without_timing(&straight.rows)
    );
    assert_eq!(
        std::fs::read(resumed.dir.file("density.csv")).unwrap(),
        std::fs::read(straight.dir.file("density.csv")).unwrap()
    );
}

#[test]
fn a_spectral_density_figure_draws_densities_and_reports_the_top_against_two_over_eta() {
    let dir = tempfile::tempdir().unwrap();
    let figure_path = dir.path().join("spectrum.toml");
    std::fs::write(
        &figure_path,
        r#"
title = "tiny spectrum"
kind = "spectral_density"
[quick.base]
model = { kind = "quadratic", spectrum = [10.0, 3.0, 1.0, 0.5, 0.1], seed = 3 }
training = { max_steps = 10 }
sharpness = { measure = { every = 5 }, max_iterations = 5, tolerance = 1e-8, trace = { steps = [0, 9] }, density = { steps = [0, 9], lanczos_steps = 5 } }
dtype = "f64"
[[quick.series]]
label = "constant"
set = { stepsize = { kind = "constant", eta = 0.25 } }
[[quick.series]]
label = "armijo"
[paper]
"#,
    )
    .unwrap();
    let figure = stepsharp_runner::figure::load_figure(&figure_path).unwrap();
    let out = dir.path().join("out");
    let output = stepsharp_runner::reproduce::reproduce(
        &figure,
        "spectrum",
        stepsharp_runner::figure::Scale::Quick,
        &options(dir.path()),
        &out,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(output.results.len(), 2);
    for file in ["figure.png", "figure.svg", "claims.md", "runs.md"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let claims = std::fs::read_to_string(out.join("claims.md")).unwrap();
    assert!(
        claims.contains("No claim of the paper is tested"),
        "{claims}"
    );
    // η = 0.25: 2/η = 8, and the quadratic's top Ritz node is its λ_max = 10, one node above.
    let line = claims
        .lines()
        .find(|l| l.starts_with("| constant | 0 |"))
        .unwrap_or_else(|| panic!("{claims}"));
    assert!(
        line.contains("| 8.0 |") && line.contains("10.00, 3.00, 1.00"),
        "{line}"
    );
    assert!(line.contains("| 1 of 5 |"), "{line}");
}
