//! Hutchinson's trace estimator against matrices with a known trace (ground truth), its error
//! bars, and hard cases.

use crate::common::{Dense, NanOperator, with_spectrum};
use nalgebra::{DMatrix, DVector};
use stepsharp_sharpness::{SharpnessError, TraceConfig, TraceEstimate, hutchinson_trace};

/// 60 eigenvalues: a bulk 0.1, 0.2, …, 5.7 and outliers 20, 35, 80.
fn spectrum() -> Vec<f64> {
    let mut values: Vec<f64> = (1..=57).map(|i| 0.1 * i as f64).collect();
    values.extend([20.0, 35.0, 80.0]);
    values
}

/// The Rademacher variance of one sample, `2 Σ_{i≠j} H_ij²`.
fn rademacher_variance(matrix: &DMatrix<f64>) -> f64 {
    let frobenius: f64 = matrix.iter().map(|x| x * x).sum();
    let diagonal: f64 = matrix.diagonal().iter().map(|x| x * x).sum();
    2.0 * (frobenius - diagonal)
}

#[track_caller]
fn run(op: &mut Dense, config: &TraceConfig) -> TraceEstimate {
    let estimate = hutchinson_trace(op, config).unwrap();
    assert_eq!(estimate.hvps, estimate.samples.len());
    assert_eq!(estimate.hvps, op.products);
    estimate
}

#[test]
fn a_diagonal_matrix_is_exact_after_the_minimum_number_of_probes() {
    let values = [3.0, -1.5, 0.25, 7.0, 2.0];
    let mut op = Dense::new(DMatrix::from_diagonal(&DVector::from_column_slice(&values)));
    let estimate = run(&mut op, &TraceConfig::default());
    assert!((estimate.value - 10.75).abs() < 1e-12, "{}", estimate.value);
    assert!(estimate.standard_error < 1e-12);
    assert!(estimate.converged);
    assert_eq!(estimate.hvps, 10);
}

#[test]
fn the_trace_of_a_rotated_spectrum_lies_within_its_error_bars() {
    let values = spectrum();
    let exact: f64 = values.iter().sum();
    let matrix = with_spectrum(&values, 3);
    let variance = rademacher_variance(&matrix);
    let config = TraceConfig {
        relative_standard_error: 0.03,
        max_probes: 1000,
        ..TraceConfig::default()
    };
    let estimate = run(&mut Dense::new(matrix), &config);
    eprintln!(
        "trace {exact}: estimate {} ± {} in {} probes (theory: σ/√N = {})",
        estimate.value,
        estimate.standard_error,
        estimate.hvps,
        (variance / estimate.hvps as f64).sqrt()
    );
    assert!(estimate.converged);
    assert!(estimate.standard_error <= 0.03 * estimate.value.abs());
    assert!((estimate.value - exact).abs() <= 3.0 * estimate.standard_error);
    // The reported error bar is the one the theory predicts for N probes (within 25 %).
    let predicted = (variance / estimate.hvps as f64).sqrt();
    assert!(
        (estimate.standard_error / predicted - 1.0).abs() < 0.25,
        "{} vs {predicted}",
        estimate.standard_error
    );
}

#[test]
fn two_standard_errors_cover_the_trace_at_the_nominal_rate() {
    let values = spectrum();
    let exact: f64 = values.iter().sum();
    let matrix = with_spectrum(&values, 5);
    let seeds = 200;
    let mut covered = 0;
    let mut mean = 0.0;
    for seed in 0..seeds {
        // relative_standard_error 0: never stops early, so every estimate uses 30 probes.
        let config = TraceConfig {
            relative_standard_error: 0.0,
            min_probes: 30,
            max_probes: 30,
            seed,
        };
        let estimate = run(&mut Dense::new(matrix.clone()), &config);
        assert!(!estimate.converged);
        covered += usize::from((estimate.value - exact).abs() <= 2.0 * estimate.standard_error);
        mean += estimate.value / seeds as f64;
    }
    let rate = covered as f64 / seeds as f64;
    // Student t with 29 degrees of freedom: P(|t| ≤ 2) = 0.945.
    eprintln!("coverage of ±2 SE over {seeds} seeds: {rate}; mean estimate {mean} vs {exact}");
    assert!((0.88..=0.99).contains(&rate), "{rate}");
    // Unbiased: the mean of 200 estimates of 30 probes is within 3 of its standard errors.
    let spread = (rademacher_variance(&matrix) / (30.0 * seeds as f64)).sqrt();
    assert!(
        (mean - exact).abs() <= 3.0 * spread,
        "{mean} vs {exact} ± {spread}"
    );
}

#[test]
fn stops_at_the_probe_cap_and_says_so() {
    let config = TraceConfig {
        relative_standard_error: 1e-6,
        min_probes: 4,
        max_probes: 15,
        seed: 1,
    };
    let estimate = run(&mut Dense::new(with_spectrum(&spectrum(), 2)), &config);
    assert!(!estimate.converged);
    assert_eq!(estimate.hvps, 15);
    assert!(estimate.standard_error.is_finite() && estimate.standard_error > 0.0);
}

#[test]
fn same_seed_same_samples() {
    let matrix = with_spectrum(&spectrum(), 4);
    let config = TraceConfig::default();
    let a = run(&mut Dense::new(matrix.clone()), &config);
    let b = run(&mut Dense::new(matrix.clone()), &config);
    let c = run(&mut Dense::new(matrix), &TraceConfig { seed: 1, ..config });
    assert_eq!(a, b);
    assert_ne!(a.samples[0].to_bits(), c.samples[0].to_bits());
}

#[test]
fn non_finite_products_are_a_result_not_an_error() {
    let estimate = hutchinson_trace(&mut NanOperator(3), &TraceConfig::default()).unwrap();
    assert!(estimate.value.is_nan() && estimate.standard_error.is_nan());
    assert!(!estimate.converged);
    assert_eq!(estimate.hvps, 1);
}

#[test]
fn defaults_are_pinned_and_invalid_configs_name_their_field() {
    let config = TraceConfig::default();
    assert_eq!(config.relative_standard_error, 1e-2);
    assert_eq!(config.min_probes, 10);
    assert_eq!(config.max_probes, 100);
    assert_eq!(config.seed, 0);
    config.validate().unwrap();
    for (config, field) in [
        (
            TraceConfig {
                relative_standard_error: -1.0,
                ..Default::default()
            },
            "relative_standard_error",
        ),
        (
            TraceConfig {
                min_probes: 1,
                ..Default::default()
            },
            "min_probes",
        ),
        (
            TraceConfig {
                max_probes: 9,
                ..Default::default()
            },
            "max_probes",
        ),
    ] {
        match hutchinson_trace(&mut NanOperator(3), &config) {
            Err(SharpnessError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
