//! Power iteration against dense matrices with a known spectrum.

use crate::common::{Dense, relative, with_spectrum};
use stepsharp_sharpness::{PowerConfig, SharpnessError, power_iteration, residual};

fn tight() -> PowerConfig {
    PowerConfig {
        max_iterations: 5000,
        relative_tolerance: 1e-14,
        seed: 11,
    }
}

#[test]
fn negative_dominant_eigenvalue_is_shifted_away() {
    // Largest magnitude −50; largest algebraic 10 with gap 10 → 8.
    let mut values = vec![10.0, 8.0, -50.0, -40.0];
    values.extend((0..36).map(|i| -5.0 + 12.0 * i as f64 / 35.0));
    let mut op = Dense::new(with_spectrum(&values, 1));
    let spectrum = power_iteration(&mut op, &tight(), None).unwrap();
    assert!(spectrum.converged);
    let pair = &spectrum.eigenpairs[0];
    assert!(relative(pair.value, 10.0) < 1e-8, "{}", pair.value);
    // Both phases are counted.
    assert_eq!(spectrum.hvps, op.products);
    assert_eq!(spectrum.iterations, spectrum.hvps);
    // The residual converges like the square root of the eigenvalue change.
    assert!(
        pair.residual <= 1e-5 * pair.value.abs(),
        "{}",
        pair.residual
    );
    let true_residual = residual(&mut op, pair.value, &pair.vector).unwrap();
    assert!((true_residual - pair.residual).abs() < 1e-12);
}

#[test]
fn positive_dominant_eigenvalue_needs_one_phase() {
    let mut values = vec![20.0, 12.0, -15.0];
    values.extend((0..27).map(|i| -3.0 + 6.0 * i as f64 / 26.0));
    let mut op = Dense::new(with_spectrum(&values, 2));
    let spectrum = power_iteration(&mut op, &tight(), None).unwrap();
    assert!(spectrum.converged);
    assert!(relative(spectrum.lambda_max(), 20.0) < 1e-8);
    assert!(spectrum.eigenpairs[0].residual <= 1e-5 * 20.0);
    // (15/20)^{2t} ≈ 1e-14 needs ≈ 56 steps; a second phase would need many more.
    assert!(spectrum.hvps < 200, "{}", spectrum.hvps);
}

#[test]
fn cdat_defaults_stop_early_with_a_rough_estimate() {
    let mut values = vec![10.0, 8.0, -50.0];
    values.extend((0..17).map(|i| i as f64 * 0.3));
    let mut op = Dense::new(with_spectrum(&values, 3));
    let spectrum = power_iteration(&mut op, &PowerConfig::default(), None).unwrap();
    assert!(spectrum.converged);
    assert!(
        relative(spectrum.lambda_max(), 10.0) < 2e-2,
        "{}",
        spectrum.lambda_max()
    );
    assert!(spectrum.hvps < 1000);
}

#[test]
fn cap_is_reported() {
    let mut op = Dense::new(with_spectrum(&[1.0, 0.999, 0.5], 4));
    let config = PowerConfig {
        max_iterations: 5,
        relative_tolerance: 1e-15,
        seed: 0,
    };
    let spectrum = power_iteration(&mut op, &config, None).unwrap();
    assert!(!spectrum.converged);
    assert_eq!(spectrum.hvps, 5);
}

#[test]
fn defaults_are_pinned_and_validated() {
    let config = PowerConfig::default();
    assert_eq!(config.max_iterations, 1000);
    assert_eq!(config.relative_tolerance, 1e-3);
    assert_eq!(config.seed, 0);
    config.validate().unwrap();
    for (config, field) in [
        (
            PowerConfig {
                max_iterations: 0,
                ..Default::default()
            },
            "max_iterations",
        ),
        (
            PowerConfig {
                relative_tolerance: -1.0,
                ..Default::default()
            },
            "relative_tolerance",
        ),
    ] {
        match config.validate() {
            Err(SharpnessError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
