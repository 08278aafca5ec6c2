//! Cross-check on a tiny MLP (5-4-3, tanh, f64, 39 parameters): top-k eigenvalues, the
//! Hutchinson trace and the SLQ density from exact HVPs against the eigendecomposition of the
//! dense Hessian (nalgebra, f64).

use crate::common::mlp::{Activation, Loss, Problem, dense_hessian, dimension};
use crate::common::relative;
use candle_core::DType;
use stepsharp_sharpness::{
    DensityConfig, HessianOperator, LanczosConfig, TraceConfig, hutchinson_trace, lanczos,
    spectral_density,
};

#[test]
fn top_k_trace_and_density_agree_with_the_dense_hessian() {
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 21);
    let vars = problem.vars(&problem.point, DType::F64);
    let (dense, exact) = dense_hessian(&vars, problem.loss(&vars));
    let mut hessian = HessianOperator::new(&vars, &[problem.loss(&vars)]).unwrap();
    let n = dimension();
    let scale = exact.iter().map(|v| v.abs()).fold(0.0, f64::max);

    // Top 3 by Lanczos.
    let config = LanczosConfig {
        k: 3,
        max_iterations: n,
        tolerance: 1e-10,
        seed: 0,
    };
    let spectrum = lanczos(&mut hessian, &config, None).unwrap();
    assert!(spectrum.converged);
    for (pair, e) in spectrum.eigenpairs.iter().zip(&exact) {
        assert!(relative(pair.value, *e) < 1e-8, "{} vs {e}", pair.value);
    }

    // The trace, within 3 standard errors.
    let trace_exact = dense.trace();
    let trace = hutchinson_trace(
        &mut hessian,
        &TraceConfig {
            relative_standard_error: 0.05,
            max_probes: 1000,
            ..TraceConfig::default()
        },
    )
    .unwrap();
    eprintln!(
        "λ top 3 {:?} (exact {:?}); trace {trace_exact}: {} ± {} in {} HVPs",
        spectrum
            .eigenpairs
            .iter()
            .map(|p| p.value)
            .collect::<Vec<_>>(),
        &exact[..3],
        trace.value,
        trace.standard_error,
        trace.hvps
    );
    assert!(trace.converged);
    assert!((trace.value - trace_exact).abs() <= 3.0 * trace.standard_error);

    // The density with as many steps as parameters: the nodes of each probe are the
    // eigenvalues (multiplicities collapse), each eigenvalue is a node, and
    // n Σ τ θ² = vᵀH²v is a sample of tr(H²) = Σ λ², within 3 standard errors over probes.
    let probes = 10;
    let density = spectral_density(
        &mut hessian,
        &DensityConfig {
            probes,
            ..DensityConfig::default()
        },
    )
    .unwrap();
    let distance = |x: f64, set: &[f64]| {
        set.iter()
            .map(|y| (x - y).abs())
            .fold(f64::INFINITY, f64::min)
    };
    let mut second_moments = Vec::with_capacity(probes);
    for quadrature in &density.quadratures {
        for node in &quadrature.nodes {
            assert!(distance(*node, &exact) < 1e-8 * scale, "node {node}");
        }
        for e in &exact {
            assert!(
                distance(*e, &quadrature.nodes) < 1e-8 * scale,
                "eigenvalue {e}"
            );
        }
        let moment: f64 = quadrature
            .nodes
            .iter()
            .zip(&quadrature.weights)
            .map(|(node, weight)| weight * node * node)
            .sum();
        second_moments.push(n as f64 * moment);
    }
    let mean = second_moments.iter().sum::<f64>() / probes as f64;
    let variance = second_moments
        .iter()
        .map(|m| (m - mean).powi(2))
        .sum::<f64>()
        / (probes - 1) as f64;
    let standard_error = (variance / probes as f64).sqrt();
    let squares: f64 = exact.iter().map(|e| e * e).sum();
    eprintln!(
        "tr(H²) {squares}: SLQ {mean} ± {standard_error} ({} HVPs)",
        density.hvps
    );
    assert!((mean - squares).abs() <= 3.0 * standard_error);
    let spacing = density.grid[1] - density.grid[0];
    let mass = density.density.iter().sum::<f64>() * spacing;
    assert!((mass - 1.0).abs() < 1e-6, "mass {mass}");

    // PyHessian-style with fewer steps than parameters: the nodes stay inside the spectrum
    // and the top node is λ_max.
    let short = spectral_density(
        &mut hessian,
        &DensityConfig {
            steps: 15,
            ..DensityConfig::default()
        },
    )
    .unwrap();
    let nodes = &short.quadratures[0].nodes;
    let (lowest, highest) = (exact[n - 1], exact[0]);
    assert!(
        nodes
            .iter()
            .all(|x| (lowest - 1e-12 * scale..=highest + 1e-12 * scale).contains(x))
    );
    eprintln!(
        "15 steps: top node {} vs λ_max {highest}",
        nodes[nodes.len() - 1]
    );
    assert!(relative(nodes[nodes.len() - 1], highest) < 1e-6);
    assert_eq!(short.hvps, 15);
}

/// Adam's preconditioned sharpness: the top eigenvalue of `D·H·D` with `D = P^{−1/2}` equals
/// the largest eigenvalue of the non-symmetric `P⁻¹H` of the dense Hessian (nalgebra's Schur
/// form), for an Adam-like `P = diag(|g| + 0.05)`; it differs from `λ_max(H)`.
#[test]
fn the_preconditioned_top_eigenvalue_is_that_of_p_inverse_h() {
    use stepsharp_sharpness::{DiagonallyScaled, Vector};
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 21);
    let vars = problem.vars(&problem.point, DType::F64);
    let (dense, exact) = dense_hessian(&vars, problem.loss(&vars));
    let gradient = problem.gradient(&problem.point).unwrap().to_vec().unwrap();
    let p: Vec<f64> = gradient.iter().map(|g| g.abs() + 0.05).collect();
    let n = dimension();
    let p_inverse_h = nalgebra::DMatrix::from_fn(n, n, |r, c| dense[(r, c)] / p[r]);
    let top = p_inverse_h
        .complex_eigenvalues()
        .iter()
        .map(|z| z.re)
        .fold(f64::NEG_INFINITY, f64::max);

    let mut hessian = HessianOperator::new(&vars, &[problem.loss(&vars)]).unwrap();
    let scaling: Vec<f64> = p.iter().map(|p| 1.0 / p.sqrt()).collect();
    let diagonal = problem.point.like(&scaling).unwrap();
    let mut scaled = DiagonallyScaled::new(&mut hessian, diagonal).unwrap();
    let config = LanczosConfig {
        k: 1,
        max_iterations: n,
        tolerance: 1e-10,
        seed: 4,
    };
    let spectrum = lanczos(&mut scaled, &config, None).unwrap();
    let estimate = spectrum.eigenpairs[0].value;
    eprintln!(
        "λ_max(P⁻¹H) {estimate} (dense {top}); λ_max(H) {}",
        exact[0]
    );
    assert!(spectrum.converged);
    assert!(relative(estimate, top) < 1e-8, "{estimate} vs {top}");
    assert!(
        relative(top, exact[0]) > 0.5,
        "P should change the top eigenvalue"
    );
}
