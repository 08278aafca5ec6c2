//! Ground truth for `Quadratic`: closed forms, dense matrices and finite differences in f64.

use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use stepsharp_quadratic::{Quadratic, QuadraticError};
use stepsharp_sharpness::{LanczosConfig, LinearOperator, SharpnessError, lanczos, residual};

#[track_caller]
fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance * (1.0 + expected.abs()),
        "{actual} vs {expected} (tolerance {tolerance})"
    );
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// A fixed spectrum with mixed signs and a repeated value.
const SPECTRUM: [f64; 6] = [3.0, -1.5, 10.0, 0.0, 0.25, 3.0];

#[test]
fn basis_is_orthogonal_and_hessian_matches_its_spectrum() {
    let q = Quadratic::with_spectrum(&SPECTRUM, 11).unwrap();
    let basis = q.basis();
    let gram = basis.transpose() * &basis;
    assert!((gram - DMatrix::<f64>::identity(6, 6)).amax() < 1e-13);
    let expected =
        &basis * DMatrix::from_diagonal(&DVector::from_column_slice(&SPECTRUM)) * basis.transpose();
    assert!((q.hessian() - expected).amax() < 1e-13);
    assert!((q.hessian() - q.hessian().transpose()).amax() == 0.0);
    // The eigenvalues of the dense matrix, computed independently, are the spectrum.
    let mut eigenvalues: Vec<f64> = q
        .hessian()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    eigenvalues.sort_by(f64::total_cmp);
    let mut sorted = SPECTRUM.to_vec();
    sorted.sort_by(f64::total_cmp);
    for (found, expected) in eigenvalues.iter().zip(&sorted) {
        assert_close(*found, *expected, 1e-12);
    }
}

#[test]
fn eigenvector_i_has_rayleigh_quotient_spectrum_i_and_zero_residual() {
    let q = Quadratic::with_spectrum(&SPECTRUM, 5).unwrap();
    for (i, &s) in SPECTRUM.iter().enumerate() {
        let v = q.eigenvector(i);
        let hv = q.hvp(&v);
        assert_close(dot(&v, &v), 1.0, 1e-14);
        assert_close(dot(&v, &hv) / dot(&v, &v), s, 1e-13);
        let residual: f64 = hv
            .iter()
            .zip(&v)
            .map(|(h, v)| (h - s * v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(residual < 1e-13, "eigenvector {i}: residual {residual}");
    }
    assert_eq!(q.lambda_max(), 10.0);
    assert_eq!(q.top_index(), 2);
    assert_eq!(q.spectrum(), &SPECTRUM);
}

#[test]
fn same_seed_same_quadratic_other_seed_other_basis() {
    let a = Quadratic::with_spectrum(&SPECTRUM, 1).unwrap();
    let b = Quadratic::with_spectrum(&SPECTRUM, 1).unwrap();
    let c = Quadratic::with_spectrum(&SPECTRUM, 2).unwrap();
    assert_eq!(a, b);
    assert!((a.basis() - c.basis()).amax() > 0.1);
}

#[test]
fn value_gradient_and_hvp_against_the_dense_hessian() {
    let w_star = vec![0.5, -1.0, 2.0, 0.0, 1.0, -0.25];
    let q = Quadratic::with_spectrum(&SPECTRUM, 3)
        .unwrap()
        .with_minimizer(w_star.clone())
        .unwrap();
    assert_eq!(q.minimizer(), w_star);
    let w = [1.0, 2.0, -3.0, 0.5, 0.0, 1.5];
    let h = q.hessian();
    let d = DVector::from_column_slice(&w) - DVector::from_column_slice(&w_star);
    assert_close(q.value(&w), 0.5 * d.dot(&(&h * &d)), 1e-13);
    for (g, e) in q.gradient(&w).iter().zip((&h * &d).iter()) {
        assert_close(*g, *e, 1e-13);
    }
    for (hv, e) in q
        .hvp(&w)
        .iter()
        .zip((&h * DVector::from_column_slice(&w)).iter())
    {
        assert_close(*hv, *e, 1e-13);
    }
    assert_eq!(q.value(&w_star), 0.0);
    assert!(q.gradient(&w_star).iter().all(|g| *g == 0.0));
    // Coordinates in the eigenbasis reconstruct f = ½ Σ s_i c_i².
    let c = q.eigen_coordinates(&w);
    let by_coordinates: f64 = c.iter().zip(&SPECTRUM).map(|(c, s)| 0.5 * s * c * c).sum();
    assert_close(q.value(&w), by_coordinates, 1e-12);
}

#[test]
fn constructors_reject_bad_input() {
    assert!(matches!(
        Quadratic::with_spectrum(&[], 0),
        Err(QuadraticError::EmptySpectrum)
    ));
    match Quadratic::with_spectrum(&[1.0, f64::NAN], 0) {
        Err(QuadraticError::InvalidConfig { field, .. }) => assert_eq!(field, "spectrum"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let q = Quadratic::with_spectrum(&[1.0, 2.0], 0).unwrap();
    assert!(matches!(
        q.clone().with_minimizer(vec![0.0; 3]),
        Err(QuadraticError::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
    match q.with_minimizer(vec![0.0, f64::INFINITY]) {
        Err(QuadraticError::InvalidConfig { field, value, .. }) => {
            assert_eq!(field, "w_star");
            assert_eq!(value, f64::INFINITY);
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
#[should_panic(expected = "dimension mismatch")]
fn value_of_a_vector_of_the_wrong_length_panics_with_a_message() {
    let q = Quadratic::with_spectrum(&[1.0, 2.0], 0).unwrap();
    q.value(&[1.0]);
}

#[test]
fn operator_counts_products_and_rejects_wrong_lengths() {
    let q = Quadratic::with_spectrum(&SPECTRUM, 9).unwrap();
    let mut op = q.operator();
    assert_eq!(op.dim(), 6);
    assert_eq!(op.template().unwrap().len(), 6);
    let v = vec![1.0; 6];
    assert_eq!(op.apply(&v).unwrap(), q.hvp(&v));
    assert_eq!(op.apply(&v).unwrap(), q.hvp(&v));
    assert_eq!(op.hvps(), 2);
    assert!(matches!(
        op.apply(&vec![1.0; 5]),
        Err(SharpnessError::DimensionMismatch {
            expected: 6,
            found: 5
        })
    ));
    assert_eq!(op.hvps(), 2);
}

#[test]
fn lanczos_on_the_quadratic_hessian_recovers_lambda_max() {
    // A spectrum whose largest magnitude (−20) is not the largest algebraic value (7).
    let mut spectrum: Vec<f64> = (0..60).map(|i| 5.0 * (i as f64) / 60.0).collect();
    spectrum[17] = 7.0;
    spectrum[40] = -20.0;
    let q = Quadratic::with_spectrum(&spectrum, 21).unwrap();
    let mut op = q.operator();
    let config = LanczosConfig {
        k: 1,
        tolerance: 1e-10,
        ..LanczosConfig::default()
    };
    let result = lanczos(&mut op, &config, None).unwrap();
    assert!(result.converged);
    assert_close(result.lambda_max(), q.lambda_max(), 1e-9);
    assert_eq!(op.hvps(), result.hvps);
    // Independent check of the residual ‖Hv − λv‖ with the exact operator.
    let top = &result.eigenpairs[0];
    let r = residual(&mut q.operator(), top.value, &top.vector).unwrap();
    assert!(r < 1e-8, "residual {r}");
    // The Ritz vector is the top eigenvector, up to sign.
    assert_close(dot(&top.vector, &q.eigenvector(17)).abs(), 1.0, 1e-9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The gradient matches central finite differences of the value (exact up to rounding on a
    /// quadratic), and the Hessian is symmetric: uᵀHv = vᵀHu.
    #[test]
    fn gradient_matches_finite_differences_and_hvp_is_symmetric(
        spectrum in prop::collection::vec(-10.0f64..10.0, 1..8),
        seed in any::<u64>(),
        entries in prop::collection::vec(-2.0f64..2.0, 24),
    ) {
        let n = spectrum.len();
        let q = Quadratic::with_spectrum(&spectrum, seed).unwrap();
        let w = &entries[..n];
        let u = &entries[8..8 + n];
        let v = &entries[16..16 + n];
        let g = q.gradient(w);
        let h = 1e-3;
        for i in 0..n {
            let mut plus = w.to_vec();
            let mut minus = w.to_vec();
            plus[i] += h;
            minus[i] -= h;
            let fd = (q.value(&plus) - q.value(&minus)) / (2.0 * h);
            prop_assert!((fd - g[i]).abs() < 1e-8 * (1.0 + g[i].abs()), "{} vs {}", fd, g[i]);
        }
        let uhv = dot(u, &q.hvp(v));
        let vhu = dot(v, &q.hvp(u));
        prop_assert!((uhv - vhu).abs() < 1e-12 * (1.0 + uhv.abs()));
        // Hessian-vector products are directional derivatives of the gradient.
        let mut shifted = w.to_vec();
        shifted.iter_mut().zip(v).for_each(|(w, v)| *w += v);
        let gv = q.gradient(&shifted);
        for ((a, b), hv) in gv.iter().zip(&g).zip(q.hvp(v)) {
            prop_assert!((a - b - hv).abs() < 1e-12 * (1.0 + hv.abs()));
        }
    }
}
