//! Lanczos against dense matrices with a known spectrum (ground truth), hard cases, and
//! properties.

use crate::common::{Dense, NanOperator, relative, with_spectrum};
use nalgebra::DMatrix;
use proptest::prelude::*;
use stepsharp_sharpness::{LanczosConfig, SharpnessError, Vector, lanczos, residual};

/// 60 eigenvalues: top 10, 9, 8, a bulk in [−5, 7], and −50, −40 (largest in magnitude).
fn spectrum_with_negative_outliers() -> Vec<f64> {
    let mut values = vec![10.0, 9.0, 8.0, -50.0, -40.0];
    values.extend((0..55).map(|i| -5.0 + 12.0 * i as f64 / 54.0));
    values
}

#[test]
fn top_three_of_a_spectrum_dominated_by_negative_eigenvalues() {
    let matrix = with_spectrum(&spectrum_with_negative_outliers(), 1);
    let mut op = Dense::new(matrix);
    let config = LanczosConfig {
        k: 3,
        max_iterations: 60,
        tolerance: 1e-10,
        seed: 7,
    };
    let spectrum = lanczos(&mut op, &config, None).unwrap();
    assert!(spectrum.converged);
    assert_eq!(spectrum.eigenpairs.len(), 3);
    assert_eq!(spectrum.hvps, op.products);
    assert_eq!(spectrum.iterations, spectrum.hvps);
    for (pair, exact) in spectrum.eigenpairs.iter().zip([10.0, 9.0, 8.0]) {
        assert!(
            relative(pair.value, exact) < 1e-8,
            "{} vs {exact}",
            pair.value
        );
        assert!(pair.residual <= config.tolerance * pair.value.abs());
        // The recurrence residual is the true one (checked with one extra product each).
        let true_residual = residual(&mut op, pair.value, &pair.vector).unwrap();
        assert!(true_residual <= 2.0 * config.tolerance * pair.value.abs());
        assert!(
            (true_residual - pair.residual).abs() < 1e-9,
            "{true_residual} vs {}",
            pair.residual
        );
        assert!((pair.vector.norm().unwrap() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn ritz_vectors_are_orthonormal_eigenvectors() {
    let values = spectrum_with_negative_outliers();
    let mut op = Dense::new(with_spectrum(&values, 2));
    let config = LanczosConfig {
        k: 3,
        max_iterations: 60,
        tolerance: 1e-10,
        seed: 1,
    };
    let pairs = lanczos(&mut op, &config, None).unwrap().eigenpairs;
    for i in 0..3 {
        for j in 0..3 {
            let dot = pairs[i].vector.dot(&pairs[j].vector).unwrap();
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!((dot - expected).abs() < 1e-8, "q{i}·q{j} = {dot}");
        }
    }
}

#[test]
fn does_not_stop_before_k_values_converge() {
    // The top eigenvalue is isolated (converges fast); the 2nd and 3rd are clustered.
    let mut values = vec![100.0, 10.0, 9.99];
    values.extend((0..47).map(|i| 9.0 * i as f64 / 47.0));
    let mut op = Dense::new(with_spectrum(&values, 3));
    let config = LanczosConfig {
        k: 3,
        max_iterations: 50,
        tolerance: 1e-9,
        seed: 0,
    };
    let spectrum = lanczos(&mut op, &config, None).unwrap();
    assert!(spectrum.converged);
    for (pair, exact) in spectrum.eigenpairs.iter().zip([100.0, 10.0, 9.99]) {
        assert!(
            relative(pair.value, exact) < 1e-8,
            "{} vs {exact}",
            pair.value
        );
    }
}

#[test]
fn stops_at_the_cap_and_says_so() {
    let mut op = Dense::new(with_spectrum(&spectrum_with_negative_outliers(), 4));
    let config = LanczosConfig {
        k: 1,
        max_iterations: 3,
        tolerance: 1e-12,
        seed: 0,
    };
    let spectrum = lanczos(&mut op, &config, None).unwrap();
    assert!(!spectrum.converged);
    assert_eq!(spectrum.hvps, 3);
    assert_eq!(op.products, 3);
    assert!(spectrum.eigenpairs[0].residual > 0.0);
    // Reported residual is still the true one.
    let pair = &spectrum.eigenpairs[0];
    let true_residual = residual(&mut op, pair.value, &pair.vector).unwrap();
    assert!(relative(pair.residual, true_residual) < 1e-8);
}

#[test]
fn identity_breaks_down_and_restarts_for_k_three() {
    let mut op = Dense::new(DMatrix::identity(10, 10));
    let config = LanczosConfig {
        k: 3,
        tolerance: 1e-10,
        ..LanczosConfig::default()
    };
    let spectrum = lanczos(&mut op, &config, None).unwrap();
    assert!(spectrum.converged);
    assert_eq!(spectrum.hvps, 3);
    for pair in &spectrum.eigenpairs {
        assert!((pair.value - 1.0).abs() < 1e-14);
    }
    for i in 0..3 {
        for j in 0..i {
            assert!(
                spectrum.eigenpairs[i]
                    .vector
                    .dot(&spectrum.eigenpairs[j].vector)
                    .unwrap()
                    .abs()
                    < 1e-12
            );
        }
    }
}

#[test]
fn zero_operator_converges_to_zero() {
    let mut op = Dense::new(DMatrix::zeros(5, 5));
    let spectrum = lanczos(&mut op, &LanczosConfig::default(), None).unwrap();
    assert!(spectrum.converged);
    assert_eq!(spectrum.lambda_max(), 0.0);
    assert_eq!(spectrum.hvps, 1);
}

#[test]
fn dimension_smaller_than_cap_and_k_equal_to_dimension() {
    let values = [3.0, -7.0, 1.0, 0.5];
    let mut op = Dense::new(with_spectrum(&values, 5));
    let config = LanczosConfig {
        k: 4,
        max_iterations: 100,
        tolerance: 1e-10,
        seed: 3,
    };
    let spectrum = lanczos(&mut op, &config, None).unwrap();
    assert!(spectrum.converged);
    assert!(spectrum.hvps <= 4);
    let found: Vec<f64> = spectrum.eigenpairs.iter().map(|p| p.value).collect();
    for (f, e) in found.iter().zip([3.0, 1.0, 0.5, -7.0]) {
        assert!((f - e).abs() < 1e-10, "{found:?}");
    }
}

#[test]
fn one_dimensional_operator() {
    let mut op = Dense::new(DMatrix::from_element(1, 1, -2.5));
    let spectrum = lanczos(&mut op, &LanczosConfig::default(), None).unwrap();
    assert!(spectrum.converged);
    assert_eq!(spectrum.lambda_max(), -2.5);
}

#[test]
fn non_finite_products_are_a_result_not_an_error() {
    let spectrum = lanczos(
        &mut NanOperator(4),
        &LanczosConfig {
            k: 2,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert!(!spectrum.converged);
    assert_eq!(spectrum.eigenpairs.len(), 2);
    assert!(spectrum.lambda_max().is_nan());
    assert_eq!(spectrum.hvps, 1);
}

#[test]
fn errors_name_the_problem() {
    let mut op = Dense::new(DMatrix::identity(3, 3));
    let too_many = LanczosConfig {
        k: 4,
        ..Default::default()
    };
    assert!(matches!(
        lanczos(&mut op, &too_many, None),
        Err(SharpnessError::TooManyEigenpairs {
            requested: 4,
            dimension: 3
        })
    ));
    let bad_warm = vec![1.0; 2];
    assert!(matches!(
        lanczos(&mut op, &LanczosConfig::default(), Some(&bad_warm)),
        Err(SharpnessError::DimensionMismatch {
            expected: 3,
            found: 2
        })
    ));
    for (config, field) in [
        (
            LanczosConfig {
                k: 0,
                ..Default::default()
            },
            "k",
        ),
        (
            LanczosConfig {
                k: 5,
                max_iterations: 4,
                ..Default::default()
            },
            "max_iterations",
        ),
        (
            LanczosConfig {
                tolerance: 0.0,
                ..Default::default()
            },
            "tolerance",
        ),
        (
            LanczosConfig {
                tolerance: f64::NAN,
                ..Default::default()
            },
            "tolerance",
        ),
    ] {
        match config.validate() {
            Err(SharpnessError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn defaults_are_pinned() {
    let config = LanczosConfig::default();
    assert_eq!(config.k, 1);
    assert_eq!(config.max_iterations, 100);
    assert_eq!(config.tolerance, 1e-3);
    assert_eq!(config.seed, 0);
    config.validate().unwrap();
}

#[test]
fn same_seed_same_result() {
    let matrix = with_spectrum(&spectrum_with_negative_outliers(), 6);
    let config = LanczosConfig {
        max_iterations: 8,
        ..Default::default()
    };
    let a = lanczos(&mut Dense::new(matrix.clone()), &config, None).unwrap();
    let b = lanczos(&mut Dense::new(matrix.clone()), &config, None).unwrap();
    let c = lanczos(
        &mut Dense::new(matrix),
        &LanczosConfig { seed: 1, ..config },
        None,
    )
    .unwrap();
    assert_eq!(a.lambda_max().to_bits(), b.lambda_max().to_bits());
    assert_ne!(a.lambda_max().to_bits(), c.lambda_max().to_bits());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With as many steps as dimensions, Lanczos finds the largest algebraic eigenvalue of any
    /// symmetric matrix, and every reported residual is true and within tolerance.
    #[test]
    fn largest_algebraic_for_random_spectra(
        values in proptest::collection::vec(-100.0f64..100.0, 2..25),
        seed in 0u64..1000,
    ) {
        let n = values.len();
        let mut op = Dense::new(with_spectrum(&values, seed));
        let k = 2.min(n);
        let config = LanczosConfig { k, max_iterations: n, tolerance: 1e-8, seed };
        let spectrum = lanczos(&mut op, &config, None).unwrap();
        let mut sorted = values.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let scale = sorted.iter().map(|v| v.abs()).fold(0.0, f64::max);
        prop_assert!(spectrum.converged);
        for (pair, exact) in spectrum.eigenpairs.iter().zip(&sorted) {
            prop_assert!((pair.value - exact).abs() <= 1e-8 * scale, "{} vs {}", pair.value, exact);
            let floor = 3.7e-11 * scale;
            prop_assert!(pair.residual <= 1e-8 * pair.value.abs().max(floor) + 1e-300);
            let true_residual = residual(&mut op, pair.value, &pair.vector).unwrap();
            prop_assert!((true_residual - pair.residual).abs() <= 1e-9 * scale);
        }
    }
}
