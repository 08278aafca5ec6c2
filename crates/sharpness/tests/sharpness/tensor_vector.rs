//! `Vector` for Candle tensors agrees with `Vec<f64>`, and solvers run on tensors.

use crate::common;

use candle_core::{DType, Device, Tensor};
use stepsharp_sharpness::{
    LanczosConfig, LinearOperator, PowerConfig, SharpnessError, Vector, directional_curvature,
    enable_double_backward, lanczos, power_iteration, self_test,
};

fn values(n: usize, phase: f64) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.7 + phase).cos()).collect()
}

#[test]
fn tensor_operations_match_vec() {
    for dtype in [DType::F64, DType::F32] {
        let tolerance = if dtype == DType::F64 { 1e-14 } else { 1e-6 };
        let (a, b) = (values(1000, 0.1), values(1000, 2.0));
        let ta = Tensor::new(a.clone(), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let tb = ta.like(&b).unwrap();
        assert_eq!(tb.dtype(), dtype);
        assert_eq!(Vector::len(&ta), 1000);
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
        assert!(rel(Vector::dot(&ta, &tb).unwrap(), a.dot(&b).unwrap()) < tolerance);
        assert!(rel(Vector::norm(&ta).unwrap(), Vector::norm(&a).unwrap()) < tolerance);
        let (mut ta2, mut a2) = (ta.clone(), a.clone());
        ta2.axpy(-0.3, &tb).unwrap();
        a2.axpy(-0.3, &b).unwrap();
        ta2.scale(2.5).unwrap();
        a2.scale(2.5).unwrap();
        for (x, y) in Vector::to_vec(&ta2).unwrap().iter().zip(&a2) {
            assert!((x - y).abs() < 10.0 * tolerance);
        }
        assert!(matches!(
            ta.like(&[1.0]),
            Err(SharpnessError::DimensionMismatch {
                expected: 1000,
                found: 1
            })
        ));
    }
    let f32_vector = Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap();
    let f64_vector = Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap();
    assert!(matches!(
        Vector::dot(&f32_vector, &f64_vector),
        Err(SharpnessError::DtypeMismatch { .. })
    ));
}

/// diag(d) on tensors of any dtype.
struct TensorDiagonal {
    diagonal: Tensor,
}

impl LinearOperator for TensorDiagonal {
    type Vector = Tensor;
    fn dim(&self) -> usize {
        self.diagonal.elem_count()
    }
    fn template(&self) -> Result<Tensor, SharpnessError> {
        Ok(self.diagonal.zeros_like()?)
    }
    fn apply(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        Ok(self.diagonal.mul(v)?)
    }
}

#[test]
fn solvers_run_on_tensors_in_f32_and_f64() {
    let mut diagonal: Vec<f64> = (0..200).map(|i| -3.0 + 0.02 * i as f64).collect();
    diagonal[17] = 6.0;
    diagonal[42] = -9.0;
    for dtype in [DType::F64, DType::F32] {
        let d = Tensor::new(diagonal.clone(), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let mut op = TensorDiagonal { diagonal: d };
        let config = LanczosConfig {
            tolerance: 1e-5,
            ..Default::default()
        };
        let spectrum = lanczos(&mut op, &config, None).unwrap();
        assert!(spectrum.converged);
        assert!(
            (spectrum.lambda_max() - 6.0).abs() < 1e-5,
            "{dtype:?}: {}",
            spectrum.lambda_max()
        );
        assert_eq!(spectrum.eigenpairs[0].vector.dtype(), dtype);
        let power = power_iteration(
            &mut op,
            &PowerConfig {
                relative_tolerance: 1e-9,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert!(
            (power.lambda_max() - 6.0).abs() < 1e-4,
            "{dtype:?}: {}",
            power.lambda_max()
        );
        let e17 = op
            .template()
            .unwrap()
            .like(
                &(0..200)
                    .map(|i| if i == 17 { 2.0 } else { 0.0 })
                    .collect::<Vec<_>>(),
            )
            .unwrap();
        let curvature = directional_curvature(&mut op, &e17).unwrap();
        assert!((curvature.quadratic_form - 24.0).abs() < 1e-4);
        assert!((curvature.normalized - 6.0).abs() < 1e-5);
        let zero = op.template().unwrap();
        let flat = directional_curvature(&mut op, &zero).unwrap();
        assert_eq!((flat.quadratic_form, flat.hvps), (0.0, 0));
        assert!(flat.normalized.is_nan());
    }
}

#[test]
fn self_test_passes_once_enabled() {
    enable_double_backward();
    let report = self_test().unwrap();
    assert!(report.relative_error < 1e-12, "{report:?}");
    assert_eq!((report.dimension, report.hvps), (4, 4));
}

#[test]
fn batched_projection_matches_the_default() {
    let basis_values: Vec<Vec<f64>> = {
        // Orthonormal rows of a random orthogonal matrix.
        let q = common::random_orthogonal(50, 3);
        (0..4)
            .map(|i| q.column(i).iter().copied().collect())
            .collect()
    };
    let w = values(50, 0.3);
    let mut expected = w.clone();
    let expected_c = expected.project_out(&basis_values).unwrap();
    for dtype in [DType::F64, DType::F32] {
        let tolerance = if dtype == DType::F64 { 1e-13 } else { 1e-5 };
        let template = Tensor::zeros(50, dtype, &Device::Cpu).unwrap();
        let basis: Vec<Tensor> = basis_values
            .iter()
            .map(|b| template.like(b).unwrap())
            .collect();
        // `w` projected against `basis`: the coefficients and the result of the default.
        let projected = |basis: &[Tensor]| {
            let mut t = template.like(&w).unwrap();
            let c = t.project_out(basis).unwrap();
            let values = Vector::to_vec(&t).unwrap();
            for (a, b) in c
                .iter()
                .zip(&expected_c)
                .chain(values.iter().zip(&expected))
            {
                assert!((a - b).abs() < tolerance, "{a} vs {b}");
            }
            t
        };
        let t = projected(&basis);
        assert!(t.clone().project_out(&[]).unwrap().is_empty());
        // Strided basis views take the stacked matrix-vector path: the same result.
        let strided: Vec<Tensor> = basis
            .iter()
            .map(|b| {
                let pair = Tensor::stack(&[b, b], 1).unwrap();
                pair.narrow(1, 0, 1).unwrap().squeeze(1).unwrap()
            })
            .collect();
        assert!(!strided[0].is_contiguous());
        // Inner products of strided views take Candle's ops: the same value.
        let in_place = Vector::dot(&basis[0], &t).unwrap();
        let converted = Vector::dot(&strided[0], &t).unwrap();
        assert!(
            (in_place - converted).abs() < tolerance,
            "{in_place} vs {converted}"
        );
        projected(&strided);
    }
}
