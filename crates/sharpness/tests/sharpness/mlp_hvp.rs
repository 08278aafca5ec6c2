//! The exact HVP of a tiny MLP (5-4-3, tanh/relu, MSE/cross-entropy, f64) against a dense
//! Hessian built column by column from central finite differences of gradients.

use crate::common::mlp::{Activation, BATCH, Loss, Problem, dimension};
use crate::common::{relative, relative_vec};
use candle_core::{DType, Tensor};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use stepsharp_sharpness::{
    FiniteDifferenceHvp, HessianOperator, LanczosConfig, LinearOperator, RecomputingHessian,
    Vector, directional_curvature, lanczos,
};

const CASES: [(Activation, Loss); 4] = [
    (Activation::Tanh, Loss::Mse),
    (Activation::Tanh, Loss::CrossEntropy),
    (Activation::Relu, Loss::Mse),
    (Activation::Relu, Loss::CrossEntropy),
];

/// Dense Hessian from finite differences of exact gradients, symmetrized.
fn dense_hessian(problem: &Problem) -> DMatrix<f64> {
    let n = dimension();
    let mut fd = FiniteDifferenceHvp::new(
        |w: &Tensor| problem.gradient(w),
        problem.point.clone(),
        1e-5,
    )
    .unwrap();
    let template = fd.template().unwrap();
    let mut columns = Vec::with_capacity(n);
    for j in 0..n {
        let mut unit = vec![0.0; n];
        unit[j] = 1.0;
        columns.push(
            fd.apply(&template.like(&unit).unwrap())
                .unwrap()
                .to_vec()
                .unwrap(),
        );
    }
    assert_eq!(fd.hvps(), n);
    let h = DMatrix::from_fn(n, n, |r, c| columns[c][r]);
    (&h + h.transpose()) * 0.5
}

fn probe(seed: u64) -> Tensor {
    let values: Vec<f64> = (0..dimension())
        .map(|i| ((i as f64 + 1.0) * (seed as f64 + 0.37)).sin())
        .collect();
    Tensor::new(values, &candle_core::Device::Cpu).unwrap()
}

fn operator(problem: &Problem) -> HessianOperator {
    let vars = problem.vars(&problem.point, DType::F64);
    HessianOperator::new(&vars, &[problem.loss(&vars)]).unwrap()
}

#[test]
fn exact_hvp_matches_finite_difference_hessian() {
    for (seed, (activation, loss)) in CASES.into_iter().enumerate() {
        let problem = Problem::new(activation, loss, seed as u64);
        let dense = dense_hessian(&problem);
        let mut hessian = operator(&problem);
        for s in 0..3 {
            let v = probe(s);
            let exact = hessian.apply(&v).unwrap().to_vec().unwrap();
            let reference = &dense * DVector::from_vec(v.to_vec().unwrap());
            let error = relative_vec(&exact, reference.as_slice());
            assert!(
                error < 1e-6,
                "{activation:?}/{loss:?}: relative error {error:e}"
            );
        }
        assert_eq!(hessian.hvps(), 3);
    }
}

#[test]
fn exact_hvp_is_symmetric() {
    for (seed, (activation, loss)) in CASES.into_iter().enumerate() {
        let problem = Problem::new(activation, loss, 10 + seed as u64);
        let mut hessian = operator(&problem);
        let (u, v) = (probe(1), probe(2));
        let u_hv = Vector::dot(&u, &hessian.apply(&v).unwrap()).unwrap();
        let v_hu = Vector::dot(&v, &hessian.apply(&u).unwrap()).unwrap();
        assert!(
            relative(u_hv, v_hu) < 1e-10,
            "{activation:?}/{loss:?}: {u_hv} vs {v_hu}"
        );
    }
}

#[test]
fn chunks_sum_to_the_full_batch() {
    let problem = Problem::new(Activation::Tanh, Loss::CrossEntropy, 3);
    let vars = problem.vars(&problem.point, DType::F64);
    let chunks = [
        problem.chunk_loss(&vars, 0, 3),
        problem.chunk_loss(&vars, 3, BATCH - 3),
    ];
    let mut chunked = HessianOperator::new(&vars, &chunks).unwrap();
    let mut whole = operator(&problem);
    assert_eq!(chunked.chunks(), 2);
    let v = probe(4);
    let a = chunked.apply(&v).unwrap().to_vec().unwrap();
    let b = whole.apply(&v).unwrap().to_vec().unwrap();
    assert!(relative_vec(&a, &b) < 1e-12);
    let g_chunked = chunked.gradient().unwrap().to_vec().unwrap();
    let g_reference = problem.gradient(&problem.point).unwrap().to_vec().unwrap();
    assert!(relative_vec(&g_chunked, &g_reference) < 1e-12);
}

#[test]
fn recomputing_operator_equals_the_operator_that_keeps_graphs() {
    let problem = Problem::new(Activation::Relu, Loss::CrossEntropy, 4);
    let vars = problem.vars(&problem.point, DType::F64);
    let bounds = [(0, 3), (3, 2), (5, BATCH - 5)];
    let chunks: Vec<Tensor> = bounds
        .iter()
        .map(|&(start, len)| problem.chunk_loss(&vars, start, len))
        .collect();
    let mut kept = HessianOperator::new(&vars, &chunks).unwrap();
    let mut recomputing = RecomputingHessian::new(&vars, bounds.len(), |c| {
        let (start, len) = bounds[c];
        Ok(problem.chunk_loss(&vars, start, len))
    })
    .unwrap();
    assert_eq!(recomputing.dim(), kept.dim());
    for s in 0..2 {
        let v = probe(20 + s);
        let a = recomputing.apply(&v).unwrap().to_vec().unwrap();
        let b = kept.apply(&v).unwrap().to_vec().unwrap();
        // The same chunk products summed in the same order: equal to the last bit.
        assert_eq!(a, b);
    }
    assert_eq!(recomputing.hvps(), 2);
    assert_eq!(recomputing.forward_passes(), 2 * bounds.len());
    // A probe of the wrong length is a typed error, before any chunk is built.
    let short = Tensor::zeros(3, DType::F64, &candle_core::Device::Cpu).unwrap();
    assert!(recomputing.apply(&short).is_err());
    assert_eq!(recomputing.forward_passes(), 2 * bounds.len());
}

#[test]
fn probes_carrying_a_graph_do_not_leak_into_the_product() {
    // Lanczos feeds products back as probes; H(Hv) must equal H applied to a plain copy.
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 5);
    let mut hessian = operator(&problem);
    let hv = hessian.apply(&probe(0)).unwrap();
    let plain = Tensor::new(hv.to_vec().unwrap(), &candle_core::Device::Cpu).unwrap();
    let a = hessian.apply(&hv).unwrap().to_vec().unwrap();
    let b = hessian.apply(&plain).unwrap().to_vec().unwrap();
    assert!(relative_vec(&a, &b) < 1e-14);
}

#[test]
fn lanczos_on_the_network_finds_the_dense_top_eigenvalue() {
    let problem = Problem::new(Activation::Relu, Loss::CrossEntropy, 6);
    let dense = dense_hessian(&problem);
    let mut exact: Vec<f64> = SymmetricEigen::new(dense)
        .eigenvalues
        .iter()
        .copied()
        .collect();
    exact.sort_by(|a, b| b.total_cmp(a));
    let mut hessian = operator(&problem);
    let config = LanczosConfig {
        k: 2,
        max_iterations: dimension(),
        tolerance: 1e-9,
        seed: 0,
    };
    let spectrum = lanczos(&mut hessian, &config, None).unwrap();
    assert!(spectrum.converged);
    assert_eq!(spectrum.hvps, hessian.hvps());
    for (pair, e) in spectrum.eigenpairs.iter().zip(&exact) {
        assert!(relative(pair.value, *e) < 1e-6, "{} vs {e}", pair.value);
    }
}

#[test]
fn directional_curvature_along_the_gradient() {
    let problem = Problem::new(Activation::Tanh, Loss::CrossEntropy, 7);
    let dense = dense_hessian(&problem);
    let mut hessian = operator(&problem);
    let g = hessian.gradient().unwrap();
    let gv = DVector::from_vec(g.to_vec().unwrap());
    let expected = gv.dot(&(&dense * &gv));
    let curvature = directional_curvature(&mut hessian, &g).unwrap();
    assert_eq!(curvature.hvps, 1);
    assert!(relative(curvature.quadratic_form, expected) < 1e-6);
    assert!(relative(curvature.normalized, expected / gv.norm_squared()) < 1e-6);
}

#[test]
fn finite_difference_operator_agrees_on_a_smooth_model() {
    let problem = Problem::new(Activation::Tanh, Loss::CrossEntropy, 8);
    let mut hessian = operator(&problem);
    let mut fd = FiniteDifferenceHvp::new(
        |w: &Tensor| problem.gradient(w),
        problem.point.clone(),
        1e-5,
    )
    .unwrap();
    // Scale-invariance of the step: a large probe is as accurate as a unit one.
    let v = (probe(9) * 1e3).unwrap();
    let a = hessian.apply(&v).unwrap().to_vec().unwrap();
    let b = fd.apply(&v).unwrap().to_vec().unwrap();
    assert!(relative_vec(&b, &a) < 1e-7);
}

#[test]
fn f32_parameters_give_f32_products_close_to_f64() {
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 9);
    let vars = problem.vars(&problem.point, DType::F32);
    let mut single = HessianOperator::new(&vars, &[problem.loss(&vars)]).unwrap();
    let mut double = operator(&problem);
    let v = probe(3);
    let hv = single.apply(&v.to_dtype(DType::F32).unwrap()).unwrap();
    assert_eq!(hv.dtype(), DType::F32);
    let a = hv.to_vec().unwrap();
    let b = double.apply(&v).unwrap().to_vec().unwrap();
    assert!(relative_vec(&a, &b) < 1e-5);
    // A probe of the wrong dtype is a typed error.
    assert!(matches!(
        single.apply(&v),
        Err(stepsharp_sharpness::SharpnessError::DtypeMismatch { .. })
    ));
}
