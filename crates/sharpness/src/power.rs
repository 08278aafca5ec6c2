//! Power iteration for the largest algebraic eigenvalue, with the CDAT stopping rule.

use serde::{Deserialize, Serialize};

use crate::spectrum::{nan_pairs, start_vector};
use crate::{Eigenpair, LinearOperator, SharpnessError, Spectrum, Vector};

/// Settings of [`power_iteration`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Cap on iterations (= products) of each of the at most two phases.
    /// Default: 1000 (CDAT appendix, `docs/paper.md#sharpness-estimation`).
    pub max_iterations: usize,
    /// Stop when the eigenvalue estimate changes by at most this fraction between
    /// iterations: `|λ_t − λ_{t−1}| ≤ relative_tolerance · |λ_t|`.
    /// Default: 1e-3 (CDAT appendix, `docs/paper.md#sharpness-estimation`).
    pub relative_tolerance: f64,
    /// Seed of the Gaussian start vector (ChaCha8). Default: 0.
    pub seed: u64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            relative_tolerance: 1e-3,
            seed: 0,
        }
    }
}

impl PowerConfig {
    /// Checks the ranges: `max_iterations ≥ 1`, `relative_tolerance` finite and positive.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        if self.max_iterations == 0 {
            return Err(SharpnessError::invalid(
                "max_iterations",
                self.max_iterations,
                "at least 1",
            ));
        }
        if !(self.relative_tolerance.is_finite() && self.relative_tolerance > 0.0) {
            return Err(SharpnessError::invalid(
                "relative_tolerance",
                self.relative_tolerance,
                "a finite number above 0",
            ));
        }
        Ok(())
    }
}

/// The largest *algebraic* eigenvalue of a symmetric operator by power iteration.
///
/// Phase 1 is plain power iteration, `v ← Hv / ‖Hv‖`, with the Rayleigh quotient
/// `λ = vᵀHv` as the estimate; it converges to the eigenvalue `μ` of largest *magnitude*.
/// If `μ ≥ 0` that is the largest algebraic eigenvalue. If `μ < 0` (a Hessian with a large
/// negative direction), phase 2 reruns power iteration on `H − μI`, whose eigenvalues
/// `λ_i − μ` are (up to the error in `μ`) non-negative, so its dominant one is
/// `λ_max − μ`; the result is shifted back by `+μ`. Phase 2 starts from `warm_start` (or
/// the seeded random vector), not from phase 1's vector, which approximates the bottom
/// eigenvector. Its convergence rate is `(λ_2 − μ)/(λ_max − μ)`, often slow.
///
/// Each phase stops at [`PowerConfig::relative_tolerance`] (relative change of the estimate
/// of `λ_max`) or at [`PowerConfig::max_iterations`]; `iterations` and `hvps` count both
/// phases. The reported residual `‖Hv − λv‖` of the returned unit vector costs no extra
/// product. It shrinks like `r^t` while the eigenvalue error shrinks like `r^{2t}`, so a
/// tolerance on the change of λ leaves a residual of about its square root (times `|λ|`).
/// A non-finite product ends the run with NaN values and `converged: false`. If `±μ` are
/// both eigenvalues of top magnitude, plain power iteration oscillates: prefer [`crate::lanczos`].
///
/// ```
/// use stepsharp_sharpness::{power_iteration, PowerConfig, LinearOperator, SharpnessError};
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let config = PowerConfig { relative_tolerance: 1e-12, ..PowerConfig::default() };
/// let spectrum = power_iteration(&mut Diagonal(vec![-10.0, 1.0, 3.0]), &config, None).unwrap();
/// assert!((spectrum.lambda_max() - 3.0).abs() < 1e-9);
/// ```
pub fn power_iteration<O: LinearOperator>(
    op: &mut O,
    config: &PowerConfig,
    warm_start: Option<&O::Vector>,
) -> Result<Spectrum<O::Vector>, SharpnessError> {
    config.validate()?;
    let start = start_vector(op, config.seed, warm_start)?;
    let first = run(op, config, start.clone(), 0.0)?;
    if !(first.value.is_finite() && first.value < 0.0) {
        return Ok(first.into_spectrum(0, 0));
    }
    let shift = first.value;
    let mut shifted = Shifted { inner: op, shift };
    let mut second = run(&mut shifted, config, start, shift)?;
    second.value += shift;
    Ok(second.into_spectrum(first.iterations, first.iterations))
}

/// `H − shift · I`.
struct Shifted<'a, O> {
    inner: &'a mut O,
    shift: f64,
}

impl<O: LinearOperator> LinearOperator for Shifted<'_, O> {
    type Vector = O::Vector;
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn template(&self) -> Result<O::Vector, SharpnessError> {
        self.inner.template()
    }
    fn apply(&mut self, v: &O::Vector) -> Result<O::Vector, SharpnessError> {
        let mut product = self.inner.apply(v)?;
        product.axpy(-self.shift, v)?;
        Ok(product)
    }
}

/// The outcome of one phase.
struct Phase<V> {
    value: f64,
    residual: f64,
    vector: V,
    iterations: usize,
    converged: bool,
}

impl<V: Clone> Phase<V> {
    fn into_spectrum(self, earlier_iterations: usize, earlier_hvps: usize) -> Spectrum<V> {
        let eigenpairs = if self.value.is_finite() {
            vec![Eigenpair {
                value: self.value,
                residual: self.residual,
                vector: self.vector,
            }]
        } else {
            nan_pairs(1, &self.vector)
        };
        Spectrum {
            eigenpairs,
            iterations: earlier_iterations + self.iterations,
            hvps: earlier_hvps + self.iterations,
            converged: self.converged && self.value.is_finite(),
        }
    }
}

/// Plain power iteration from the unit vector `v`; the stopping test is on `θ + offset`
/// (the estimate of the unshifted eigenvalue).
fn run<O: LinearOperator>(
    op: &mut O,
    config: &PowerConfig,
    mut v: O::Vector,
    offset: f64,
) -> Result<Phase<O::Vector>, SharpnessError> {
    let mut previous = f64::NAN;
    for iteration in 1..=config.max_iterations {
        let product = op.apply(&v)?;
        let value = v.dot(&product)?;
        if !value.is_finite() {
            return Ok(Phase {
                value: f64::NAN,
                residual: f64::NAN,
                vector: v,
                iterations: iteration,
                converged: false,
            });
        }
        let estimate = value + offset;
        let converged = iteration > 1
            && (estimate - (previous + offset)).abs() <= config.relative_tolerance * estimate.abs();
        let norm = product.norm()?;
        if converged || iteration == config.max_iterations || norm == 0.0 {
            let mut residual = product;
            residual.axpy(-value, &v)?;
            return Ok(Phase {
                value,
                residual: residual.norm()?,
                vector: v,
                iterations: iteration,
                // Hv = 0: v is an exact eigenvector (eigenvalue 0).
                converged: converged || norm == 0.0,
            });
        }
        v = product;
        v.scale(1.0 / norm)?;
        previous = value;
    }
    unreachable!("the loop returns at iteration == max_iterations ≥ 1")
}
