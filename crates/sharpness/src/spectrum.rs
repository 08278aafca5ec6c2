//! What the eigen-solvers return, and the helpers they share (start vectors, random probes,
//! residuals).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{LinearOperator, SharpnessError, Vector};

/// One approximate eigenpair `(λ, v)` of a symmetric operator, with `‖v‖ = 1`.
#[derive(Clone, Debug)]
pub struct Eigenpair<V> {
    /// The eigenvalue estimate `λ` (a Ritz value or Rayleigh quotient `vᵀHv`).
    pub value: f64,
    /// The residual `‖Hv − λv‖₂` of the unit vector `v`. By the Bauer–Fike/Weyl bound an
    /// eigenvalue of `H` lies within `residual` of `value`.
    pub residual: f64,
    /// The unit eigenvector estimate `v`.
    pub vector: V,
}

/// The result of an eigen-solver: not converging is a value, not an error.
#[derive(Clone, Debug)]
pub struct Spectrum<V> {
    /// The top eigenpairs, largest algebraic value first (`k` of them for Lanczos, one for
    /// power iteration).
    pub eigenpairs: Vec<Eigenpair<V>>,
    /// Solver iterations performed (Lanczos steps, or power steps over both phases).
    pub iterations: usize,
    /// Operator applications (Hessian-vector products) used.
    pub hvps: usize,
    /// Whether the stopping test was met before the iteration cap. `false` with finite
    /// values means "stopped at the cap"; `false` with NaN values means the operator
    /// returned a non-finite product (e.g. a diverged model).
    pub converged: bool,
}

impl<V> Spectrum<V> {
    /// The largest eigenvalue estimate (the sharpness `λ_max` for a loss Hessian), or NaN
    /// when there are no eigenpairs.
    pub fn lambda_max(&self) -> f64 {
        self.eigenpairs.first().map_or(f64::NAN, |pair| pair.value)
    }
}

/// The true residual `‖Hv − λv‖ / ‖v‖` of a candidate eigenpair, at the cost of one product.
///
/// Solvers report residuals without extra products (Lanczos from its recurrence); this
/// checks them independently.
pub fn residual<O: LinearOperator>(
    op: &mut O,
    value: f64,
    vector: &O::Vector,
) -> Result<f64, SharpnessError> {
    let mut r = op.apply(vector)?;
    r.axpy(-value, vector)?;
    Ok(r.norm()? / vector.norm()?)
}

/// A unit start vector: the warm start when it is usable (finite, non-zero, right length),
/// otherwise a seeded standard Gaussian draw (ChaCha8).
pub(crate) fn start_vector<O: LinearOperator>(
    op: &O,
    seed: u64,
    warm_start: Option<&O::Vector>,
) -> Result<O::Vector, SharpnessError> {
    if let Some(warm) = warm_start {
        if warm.len() != op.dim() {
            return Err(SharpnessError::DimensionMismatch {
                expected: op.dim(),
                found: warm.len(),
            });
        }
        let norm = warm.norm()?;
        if norm.is_finite() && norm > 0.0 {
            let mut v = warm.clone();
            v.scale(1.0 / norm)?;
            return Ok(v);
        }
    }
    let mut v = random_vector(op, seed)?;
    let norm = v.norm()?;
    v.scale(1.0 / norm)?;
    Ok(v)
}

/// Seeded standard Gaussian entries, shaped like the operator's vectors.
pub(crate) fn random_vector<O: LinearOperator>(
    op: &O,
    seed: u64,
) -> Result<O::Vector, SharpnessError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..op.dim())
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    op.template()?.like(&values)
}

/// A Rademacher vector (independent entries ±1 with probability ½ each) drawn from `rng`,
/// shaped like the operator's vectors: the probe of Hutchinson's estimator and of stochastic
/// Lanczos quadrature (PyHessian draws the same).
pub(crate) fn rademacher_vector<O: LinearOperator>(
    op: &O,
    rng: &mut ChaCha8Rng,
) -> Result<O::Vector, SharpnessError> {
    let values: Vec<f64> = (0..op.dim())
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    op.template()?.like(&values)
}

/// `k` NaN eigenpairs: the outcome of a non-finite operator.
pub(crate) fn nan_pairs<V: Clone>(k: usize, vector: &V) -> Vec<Eigenpair<V>> {
    (0..k)
        .map(|_| Eigenpair {
            value: f64::NAN,
            residual: f64::NAN,
            vector: vector.clone(),
        })
        .collect()
}
