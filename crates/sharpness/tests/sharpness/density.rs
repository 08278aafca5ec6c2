//! Stochastic Lanczos quadrature against matrices with a known spectrum (ground truth):
//! nodes, weights, unit mass, coverage of the spectrum, bulk/outlier separation.

use crate::common::{Dense, NanOperator, relative, with_spectrum};
use nalgebra::DMatrix;
use stepsharp_sharpness::{
    DensityConfig, SharpnessError, SpectralDensity, TraceConfig, hutchinson_trace, spectral_density,
};

/// 200 eigenvalues: a bulk of 197 evenly spaced in [0, 1] and outliers 20, 30, 50.
fn bulk_and_outliers() -> Vec<f64> {
    let mut values: Vec<f64> = (0..197).map(|i| i as f64 / 196.0).collect();
    values.extend([20.0, 30.0, 50.0]);
    values
}

#[track_caller]
fn run(op: &mut Dense, config: &DensityConfig) -> SpectralDensity {
    let density = spectral_density(op, config).unwrap();
    assert_eq!(density.hvps, op.products);
    assert_eq!(density.grid.len(), config.grid_points);
    assert_eq!(density.density.len(), config.grid_points);
    for quadrature in &density.quadratures {
        let total: f64 = quadrature.weights.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "weights sum to {total}");
        assert!(quadrature.weights.iter().all(|w| *w >= 0.0));
        assert!(quadrature.nodes.windows(2).all(|n| n[0] <= n[1]));
    }
    density
}

/// `∫ φ̂ dt` over `[a, b]` by the trapezoid rule on the grid points inside.
fn mass(density: &SpectralDensity, a: f64, b: f64) -> f64 {
    let points: Vec<(f64, f64)> = density
        .grid
        .iter()
        .zip(&density.density)
        .filter(|(t, _)| (a..=b).contains(*t))
        .map(|(t, d)| (*t, *d))
        .collect();
    points
        .windows(2)
        .map(|p| 0.5 * (p[0].1 + p[1].1) * (p[1].0 - p[0].0))
        .sum()
}

#[test]
fn with_as_many_steps_as_dimensions_the_nodes_are_the_eigenvalues() {
    let values: Vec<f64> = (0..20)
        .map(|i| -3.0 + 0.5 * i as f64 + 0.01 * (i * i) as f64)
        .collect();
    let config = DensityConfig {
        probes: 2,
        ..DensityConfig::default()
    };
    let density = run(&mut Dense::new(with_spectrum(&values, 1)), &config);
    assert_eq!(density.hvps, 40);
    for quadrature in &density.quadratures {
        assert_eq!(quadrature.nodes.len(), 20);
        for (node, exact) in quadrature.nodes.iter().zip(&values) {
            assert!((node - exact).abs() < 1e-10, "{node} vs {exact}");
        }
    }
}

#[test]
fn the_density_has_unit_mass_and_covers_the_spectrum() {
    let values = bulk_and_outliers();
    let config = DensityConfig {
        probes: 3,
        steps: 60,
        ..DensityConfig::default()
    };
    let density = run(&mut Dense::new(with_spectrum(&values, 2)), &config);
    assert_eq!(density.hvps, 180);
    let total = mass(&density, f64::NEG_INFINITY, f64::INFINITY);
    assert!((total - 1.0).abs() < 1e-6, "mass {total}");
    assert!(density.density.iter().all(|d| *d >= 0.0));
    // Ritz values lie inside [λ_min, λ_max] (interlacing), and the extreme ones converge
    // first: they reach both ends of the spectrum.
    let (lowest, highest) = (0.0, 50.0);
    for quadrature in &density.quadratures {
        let first = quadrature.nodes[0];
        let last = *quadrature.nodes.last().unwrap();
        eprintln!("nodes from {first:e} to {last}");
        assert!((lowest - 1e-9..2e-3).contains(&first), "{first}");
        assert!(relative(last, highest) < 1e-10, "{last}");
    }
    assert!(density.grid[0] < lowest && *density.grid.last().unwrap() > highest);
}

#[test]
fn bulk_and_outliers_are_separated() {
    let values = bulk_and_outliers();
    let config = DensityConfig {
        probes: 4,
        steps: 60,
        ..DensityConfig::default()
    };
    let density = run(&mut Dense::new(with_spectrum(&values, 3)), &config);
    // Every probe finds every outlier as a converged node.
    for quadrature in &density.quadratures {
        for outlier in [20.0, 30.0, 50.0] {
            let nearest = quadrature
                .nodes
                .iter()
                .map(|node| (node - outlier).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(nearest < 1e-8 * outlier, "{outlier}: {nearest:e}");
        }
    }
    // Nothing in the gaps between the bulk and the outliers …
    let gap = density
        .grid
        .iter()
        .zip(&density.density)
        .filter(|(t, _)| (2.0..18.0).contains(*t) || (22.0..28.0).contains(*t))
        .map(|(_, d)| *d)
        .fold(0.0, f64::max);
    assert!(gap < 1e-12, "{gap:e}");
    // … and the outliers carry about 3 of the 200 eigenvalues' mass (each weight has mean
    // 1/n; a density that weighted every node alike would put 3/60 there).
    let outliers = mass(&density, 10.0, 60.0);
    let bulk = mass(&density, -1.0, 2.0);
    eprintln!("mass of the outliers {outliers} (exact 0.015), of the bulk {bulk}");
    assert!((0.0075..0.03).contains(&outliers), "{outliers}");
    assert!((bulk + outliers - 1.0).abs() < 1e-6);
}

#[test]
fn the_first_moment_of_each_quadrature_is_a_hutchinson_sample() {
    // n Σ_i τ_i θ_i = n qᵀHq = vᵀHv for the Rademacher probe v = √n q: the same seeded
    // probes as the trace estimator.
    let values = bulk_and_outliers();
    let matrix = with_spectrum(&values, 4);
    let n = values.len() as f64;
    let density = run(
        &mut Dense::new(matrix.clone()),
        &DensityConfig {
            probes: 3,
            steps: 30,
            seed: 9,
            ..DensityConfig::default()
        },
    );
    let trace = hutchinson_trace(
        &mut Dense::new(matrix),
        &TraceConfig {
            min_probes: 3,
            max_probes: 3,
            seed: 9,
            ..TraceConfig::default()
        },
    )
    .unwrap();
    for (quadrature, sample) in density.quadratures.iter().zip(&trace.samples) {
        let moment: f64 = quadrature
            .nodes
            .iter()
            .zip(&quadrature.weights)
            .map(|(node, weight)| node * weight)
            .sum();
        assert!(
            relative(n * moment, *sample) < 1e-10,
            "{} vs {sample}",
            n * moment
        );
    }
}

#[test]
fn an_invariant_start_stops_early_with_an_exact_quadrature() {
    // The identity: every probe spans an invariant subspace after one step.
    let density = run(
        &mut Dense::new(DMatrix::identity(10, 10)),
        &DensityConfig::default(),
    );
    assert_eq!(density.hvps, 1);
    assert_eq!(density.quadratures[0].nodes, vec![1.0]);
    assert!((mass(&density, 0.0, 2.0) - 1.0).abs() < 1e-6);
}

#[test]
fn non_finite_products_are_a_result_not_an_error() {
    let config = DensityConfig {
        probes: 3,
        ..DensityConfig::default()
    };
    let density = spectral_density(&mut NanOperator(3), &config).unwrap();
    assert_eq!(density.quadratures.len(), 1);
    assert!(density.quadratures[0].nodes[0].is_nan());
    assert!(density.grid.is_empty() && density.density.is_empty());
    assert_eq!(density.hvps, 1);
}

#[test]
fn defaults_are_pinned_and_invalid_configs_name_their_field() {
    let config = DensityConfig::default();
    assert_eq!(config.probes, 1);
    assert_eq!(config.steps, 100);
    assert_eq!(config.grid_points, 10_000);
    assert_eq!(config.kernel_variance, 1e-5);
    assert_eq!(config.seed, 0);
    config.validate().unwrap();
    for (config, field) in [
        (
            DensityConfig {
                probes: 0,
                ..Default::default()
            },
            "probes",
        ),
        (
            DensityConfig {
                steps: 0,
                ..Default::default()
            },
            "steps",
        ),
        (
            DensityConfig {
                grid_points: 1,
                ..Default::default()
            },
            "grid_points",
        ),
        (
            DensityConfig {
                kernel_variance: 0.0,
                ..Default::default()
            },
            "kernel_variance",
        ),
    ] {
        match spectral_density(&mut NanOperator(3), &config) {
            Err(SharpnessError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
