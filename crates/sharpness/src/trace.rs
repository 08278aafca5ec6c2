//! Hutchinson's stochastic estimator of the trace of a symmetric operator.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::spectrum::rademacher_vector;
use crate::{LinearOperator, SharpnessError, Vector};

/// Settings of [`hutchinson_trace`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceConfig {
    /// Stop once the standard error of the running mean is at most this fraction of its
    /// magnitude: `SE_N ≤ relative_standard_error · |mean_N|`. Default: 1e-2 (this crate: a
    /// 1 % error bar; PyHessian instead stops when the running mean changes by less than
    /// 1e-3 of itself between two probes, a test one lucky probe can pass).
    pub relative_standard_error: f64,
    /// Probes drawn before the stopping test applies: a sample standard deviation from very
    /// few probes can be small by chance. Default: 10 (this crate).
    pub min_probes: usize,
    /// Cap on probes (= Hessian-vector products). Default: 100 (PyHessian's
    /// `trace(maxIter=100)`).
    pub max_probes: usize,
    /// Seed of the Rademacher probes (one ChaCha8 stream for all of them). Default: 0.
    pub seed: u64,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self {
            relative_standard_error: 1e-2,
            min_probes: 10,
            max_probes: 100,
            seed: 0,
        }
    }
}

impl TraceConfig {
    /// The same settings for measurement `index` (from 0) of a sequence: seed `seed + index`,
    /// so that every measurement draws its own probes and a resumed run draws the same ones.
    pub fn for_measurement(&self, index: u64) -> Self {
        Self {
            seed: self.seed.wrapping_add(index),
            ..self.clone()
        }
    }

    /// Checks the ranges: `relative_standard_error` finite and non-negative,
    /// `min_probes ≥ 2` (a standard error needs two samples), `max_probes ≥ min_probes`.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        if !(self.relative_standard_error.is_finite() && self.relative_standard_error >= 0.0) {
            return Err(SharpnessError::invalid(
                "relative_standard_error",
                self.relative_standard_error,
                "a finite number at least 0",
            ));
        }
        if self.min_probes < 2 {
            return Err(SharpnessError::invalid(
                "min_probes",
                self.min_probes,
                "at least 2",
            ));
        }
        if self.max_probes < self.min_probes {
            return Err(SharpnessError::invalid(
                "max_probes",
                self.max_probes,
                "at least min_probes",
            ));
        }
        Ok(())
    }
}

/// A trace estimate with its error bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEstimate {
    /// The running mean `mean_N = (1/N) Σ_i v_iᵀ H v_i` over the `N` probes drawn: an unbiased
    /// estimate of `tr(H)`. NaN when a product was not finite.
    pub value: f64,
    /// The standard error of `value`, `SE_N = s_N / √N` with the sample standard deviation
    /// `s_N² = (1/(N−1)) Σ_i (v_iᵀHv_i − mean_N)²`. About 95 % of estimates lie within
    /// 2 `SE_N` of the trace when `N` is not small (central limit theorem).
    pub standard_error: f64,
    /// The samples `v_iᵀ H v_i`, in draw order.
    pub samples: Vec<f64>,
    /// Hessian-vector products used (one per probe).
    pub hvps: usize,
    /// Whether the relative standard error met its target before the probe cap. `false` with
    /// a NaN value means the operator returned a non-finite product.
    pub converged: bool,
}

/// The trace `tr(H)` of a symmetric operator by Hutchinson's estimator (Hutchinson 1989).
///
/// For a random probe `v` with `E[v vᵀ] = I`, `E[vᵀHv] = tr(H)`. With Rademacher probes
/// (entries ±1, as in Hutchinson's paper and PyHessian's `trace`) the variance of one sample
/// is `2 Σ_{i≠j} H_ij²`, the smallest among such probes; a diagonal `H` is estimated
/// exactly by every probe. Probes are drawn one at a time (seeded ChaCha8), and after each
/// one the running mean and its standard error are updated (Welford's recurrence). The
/// estimator stops when at least [`TraceConfig::min_probes`] were drawn and
/// `SE_N ≤ relative_standard_error · |mean_N|`, or at [`TraceConfig::max_probes`] (then
/// `converged` is false), or on a non-finite product (value NaN, not an error).
///
/// ```
/// use stepsharp_sharpness::{hutchinson_trace, LinearOperator, SharpnessError, TraceConfig};
/// // A diagonal operator: every Rademacher probe gives vᵀHv = tr(H) exactly.
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let trace = hutchinson_trace(&mut Diagonal(vec![-1.0, 2.0, 5.0]), &TraceConfig::default()).unwrap();
/// assert!((trace.value - 6.0).abs() < 1e-12 && trace.standard_error < 1e-12);
/// assert!(trace.converged && trace.hvps == 10);
/// ```
pub fn hutchinson_trace<O: LinearOperator>(
    op: &mut O,
    config: &TraceConfig,
) -> Result<TraceEstimate, SharpnessError> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut samples = Vec::with_capacity(config.max_probes);
    // Welford: running mean and sum of squared deviations.
    let (mut mean, mut squares) = (0.0, 0.0);
    while samples.len() < config.max_probes {
        let v = rademacher_vector(op, &mut rng)?;
        let sample = v.dot(&op.apply(&v)?)?;
        samples.push(sample);
        if !sample.is_finite() {
            return Ok(TraceEstimate {
                value: f64::NAN,
                standard_error: f64::NAN,
                hvps: samples.len(),
                samples,
                converged: false,
            });
        }
        let n = samples.len() as f64;
        let delta = sample - mean;
        mean += delta / n;
        squares += delta * (sample - mean);
        if samples.len() >= config.min_probes
            && standard_error(squares, n) <= config.relative_standard_error * mean.abs()
        {
            return Ok(estimate(mean, squares, samples, true));
        }
    }
    Ok(estimate(mean, squares, samples, false))
}

/// `s_N / √N` from the sum of squared deviations `Σ (x_i − mean)²` of `n ≥ 2` samples.
fn standard_error(squares: f64, n: f64) -> f64 {
    (squares / (n - 1.0) / n).sqrt()
}

fn estimate(mean: f64, squares: f64, samples: Vec<f64>, converged: bool) -> TraceEstimate {
    TraceEstimate {
        value: mean,
        standard_error: standard_error(squares, samples.len() as f64),
        hvps: samples.len(),
        samples,
        converged,
    }
}
