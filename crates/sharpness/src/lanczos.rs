//! Lanczos with full reorthogonalization for the top-`k` (largest algebraic) eigenvalues.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::recurrence::{BREAKDOWN, Recurrence, Step};
use crate::spectrum::{nan_pairs, random_vector, start_vector};
use crate::{Eigenpair, LinearOperator, SharpnessError, Spectrum, Vector};

/// Settings of [`lanczos`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanczosConfig {
    /// Number `k` of top eigenpairs wanted. Default: 1 (the sharpness `λ_max`,
    /// `docs/paper.md#vocabulary`).
    pub k: usize,
    /// Cap on Lanczos steps (= Hessian-vector products); also capped by the dimension.
    /// Default: 100 (this crate: far above the 20–30 steps a well-separated top eigenvalue
    /// needs at tolerance 1e-3, so hitting it signals a hard spectrum).
    pub max_iterations: usize,
    /// Relative Ritz-residual tolerance: pair `i` has converged when
    /// `‖Hv_i − λ_i v_i‖ ≤ tolerance · max(|λ_i|, ε^{2/3} ‖T‖)` (the floor, from ARPACK, keeps
    /// eigenvalues near zero from never converging; `‖T‖` is the largest Ritz value in
    /// magnitude). Default: 1e-3 (the relative tolerance of the CDAT power iteration,
    /// `docs/paper.md#sharpness-estimation`).
    pub tolerance: f64,
    /// Seed of the Gaussian start vector (ChaCha8), and of restart vectors after a
    /// breakdown. Default: 0.
    pub seed: u64,
}

impl Default for LanczosConfig {
    fn default() -> Self {
        Self {
            k: 1,
            max_iterations: 100,
            tolerance: 1e-3,
            seed: 0,
        }
    }
}

impl LanczosConfig {
    /// Checks the ranges: `k ≥ 1`, `max_iterations ≥ k`, `tolerance` finite and positive.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        if self.k == 0 {
            return Err(SharpnessError::invalid("k", self.k, "at least 1"));
        }
        if self.max_iterations < self.k {
            return Err(SharpnessError::invalid(
                "max_iterations",
                self.max_iterations,
                "at least k",
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(SharpnessError::invalid(
                "tolerance",
                self.tolerance,
                "a finite number above 0",
            ));
        }
        Ok(())
    }
}

/// `ε^{2/3}`: the floor of the relative convergence test (ARPACK's `eps23`).
const EPS23: f64 = 3.666_852_862_501_036e-11;

/// The top `k` eigenpairs (largest *algebraic* values) of a symmetric operator by Lanczos.
///
/// Steps `j = 1, 2, …` build an orthonormal Krylov basis `Q_j = [q_1 … q_j]` and the
/// tridiagonal `T_j = Q_jᵀ H Q_j` (diagonal `α`, off-diagonal `β`):
/// `β_j q_{j+1} = H q_j − α_j q_j − β_{j−1} q_{j−1}`, followed by two passes of classical
/// Gram–Schmidt against all of `Q_j` ([`Vector::project_out`], "twice is enough"): full
/// reorthogonalization, so no spurious copies of converged Ritz values appear. The eigenpairs `(θ_i, s_i)` of `T_j` give Ritz pairs `(θ_i, Q_j s_i)`, whose
/// residuals come free from the recurrence: `‖H Q_j s_i − θ_i Q_j s_i‖ = |β_j · s_{j,i}|` (last
/// entry of `s_i`; the reported value also adds, in quadrature, how far `s_i` is from an exact
/// eigenvector of `T_j`, which is rounding after refinement). [`crate::residual`] checks one independently at the cost of one product.
///
/// Stops when the `k` largest Ritz values all pass the relative test of
/// [`LanczosConfig::tolerance`], at `min(max_iterations, dim)` steps, or on a non-finite
/// product (then every value is NaN and `converged` is false; divergence is a result, not an
/// error). An invariant subspace (`β_j ≈ 0`) before `k` values have converged restarts from a
/// seeded random vector orthogonal to `Q_j` (`T` becomes block diagonal); a breakdown is
/// otherwise exactly the case "converged with zero residual". The eigenvalues then found are
/// those of `H` restricted to the Krylov space: a start vector lying exactly in an invariant
/// subspace (e.g. a warm start that is exactly a lower eigenvector) cannot see the rest.
///
/// `warm_start` (e.g. the previous top eigenvector) replaces the random start when finite and
/// non-zero; it must have the operator's dimension.
///
/// ```
/// use stepsharp_sharpness::{lanczos, LanczosConfig, LinearOperator, SharpnessError};
/// // diag(−10, 1, 2, 3): the largest magnitude is −10, the largest algebraic is 3.
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let config = LanczosConfig { k: 2, tolerance: 1e-10, ..LanczosConfig::default() };
/// let spectrum = lanczos(&mut Diagonal(vec![-10.0, 1.0, 2.0, 3.0]), &config, None).unwrap();
/// assert!((spectrum.eigenpairs[0].value - 3.0).abs() < 1e-9);
/// assert!((spectrum.eigenpairs[1].value - 2.0).abs() < 1e-9);
/// assert!(spectrum.converged && spectrum.hvps <= 4);
/// ```
pub fn lanczos<O: LinearOperator>(
    op: &mut O,
    config: &LanczosConfig,
    warm_start: Option<&O::Vector>,
) -> Result<Spectrum<O::Vector>, SharpnessError> {
    config.validate()?;
    let n = op.dim();
    if config.k > n {
        return Err(SharpnessError::TooManyEigenpairs {
            requested: config.k,
            dimension: n,
        });
    }
    let max_steps = config.max_iterations.min(n);
    let mut q = start_vector(op, config.seed, warm_start)?;
    let mut recurrence = Recurrence::with_capacity(max_steps);
    let mut restarts = 0u64;
    loop {
        let steps = recurrence.basis.len() + 1;
        let Step::Next { w, beta } = recurrence.step(op, q.clone())? else {
            return Ok(non_finite(config.k, &q, steps));
        };
        let Some(ritz) = ritz_pairs(&recurrence, beta, config.k) else {
            return Ok(non_finite(config.k, &q, steps));
        };
        let converged = steps >= config.k
            && ritz[..config.k].iter().all(|pair| {
                pair.residual <= config.tolerance * pair.value.abs().max(EPS23 * ritz.norm)
            });
        if converged || steps == max_steps {
            return finish(ritz, &recurrence.basis, config.k, steps, converged);
        }
        if beta <= BREAKDOWN * ritz.norm || beta == 0.0 {
            restarts += 1;
            q = orthogonal_random(op, config.seed.wrapping_add(restarts), &recurrence.basis)?;
            recurrence.betas.push(0.0);
        } else {
            q = w;
            q.scale(1.0 / beta)?;
            recurrence.betas.push(beta);
        }
    }
}

/// One Ritz pair in the coordinates of the Krylov basis.
struct RitzPair {
    value: f64,
    residual: f64,
    coordinates: Vec<f64>,
}

/// Ritz pairs sorted by value, descending, with `norm = max |θ|`.
struct Ritz {
    pairs: Vec<RitzPair>,
    norm: f64,
}

impl std::ops::Deref for Ritz {
    type Target = [RitzPair];
    fn deref(&self) -> &[RitzPair] {
        &self.pairs
    }
}

/// Eigen-decomposes `T_j`; the top `k` pairs get refined vectors and the residual
/// `√((β_j s_{j,i})² + ‖T s_i − θ_i s_i‖²)`, the exact residual of the Ritz pair for an
/// orthonormal basis (the second term is ≈ 0 for an exact decomposition of `T`).
fn ritz_pairs<V: Vector>(recurrence: &Recurrence<V>, beta: f64, k: usize) -> Option<Ritz> {
    let t = recurrence.tridiagonal();
    let m = t.nrows();
    let eigen = SymmetricEigen::try_new(t.clone(), f64::EPSILON, 100 * m.max(10))?;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let norm = eigen
        .eigenvalues
        .iter()
        .map(|v| v.abs())
        .fold(0.0, f64::max);
    let mut pairs: Vec<RitzPair> = Vec::with_capacity(m);
    let mut refined: Vec<(f64, DVector<f64>)> = Vec::with_capacity(k);
    for (rank, &i) in order.iter().enumerate() {
        let value = eigen.eigenvalues[i];
        let mut s = eigen.eigenvectors.column(i).into_owned();
        let mut t_residual = 0.0;
        if rank < k {
            s = refine(&t, value, s, &refined, norm);
            t_residual = (&t * &s - &s * value).norm();
            refined.push((value, s.clone()));
        }
        let recurrence = beta * s[m - 1];
        pairs.push(RitzPair {
            value,
            residual: recurrence.hypot(t_residual),
            coordinates: s.iter().copied().collect(),
        });
    }
    Some(Ritz { pairs, norm })
}

/// Two steps of inverse iteration on `T − θI` from `s`, orthogonalized against refined
/// vectors of nearby eigenvalues (LAPACK `stein`'s clustering, at `10⁻³ ‖T‖`).
///
/// nalgebra 0.33's `SymmetricEigen` returns accurate eigenvalues but, for some 2 × 2
/// deflations, eigenvectors with an error of the size of a small off-diagonal entry
/// (observed: `‖Ts − θs‖ ≈ 2·10⁻⁷ ‖T‖`); this restores them to rounding. A step that fails
/// (singular solve) keeps the previous vector.
fn refine(
    t: &DMatrix<f64>,
    value: f64,
    mut s: DVector<f64>,
    refined: &[(f64, DVector<f64>)],
    norm: f64,
) -> DVector<f64> {
    let m = t.nrows();
    // A tiny shift keeps the solve regular when θ is exact.
    let shift = value + 4.0 * f64::EPSILON * norm.max(f64::MIN_POSITIVE);
    let lu = (t - DMatrix::<f64>::identity(m, m) * shift).lu();
    for _step in 0..2 {
        let Some(mut x) = lu.solve(&s) else { break };
        for (other_value, other) in refined {
            if (other_value - value).abs() <= 1e-3 * norm {
                let c = other.dot(&x);
                x.axpy(-c, other, 1.0);
            }
        }
        let x_norm = x.norm();
        if !(x_norm.is_finite() && x_norm > 0.0) {
            break;
        }
        s = x / x_norm;
    }
    s
}

/// Ritz vectors `Q_j s_i` of the top `k` pairs.
fn finish<V: Vector>(
    ritz: Ritz,
    basis: &[V],
    k: usize,
    steps: usize,
    converged: bool,
) -> Result<Spectrum<V>, SharpnessError> {
    let mut eigenpairs = Vec::with_capacity(k);
    for pair in ritz.pairs.into_iter().take(k) {
        let mut vector = basis[0].clone();
        vector.scale(pair.coordinates[0])?;
        for (q, s) in basis.iter().zip(&pair.coordinates).skip(1) {
            vector.axpy(*s, q)?;
        }
        let norm = vector.norm()?;
        vector.scale(1.0 / norm)?;
        eigenpairs.push(Eigenpair {
            value: pair.value,
            residual: pair.residual,
            vector,
        });
    }
    Ok(Spectrum {
        eigenpairs,
        iterations: steps,
        hvps: steps,
        converged,
    })
}

/// A seeded random unit vector orthogonal to `basis` (two Gram–Schmidt passes).
fn orthogonal_random<O: LinearOperator>(
    op: &O,
    seed: u64,
    basis: &[O::Vector],
) -> Result<O::Vector, SharpnessError> {
    let mut r = random_vector(op, seed)?;
    for _pass in 0..2 {
        r.project_out(basis)?;
    }
    let norm = r.norm()?;
    r.scale(1.0 / norm)?;
    Ok(r)
}

fn non_finite<V: Clone>(k: usize, vector: &V, steps: usize) -> Spectrum<V> {
    Spectrum {
        eigenpairs: nan_pairs(k, vector),
        iterations: steps,
        hvps: steps,
        converged: false,
    }
}
