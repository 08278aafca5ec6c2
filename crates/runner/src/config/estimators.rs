//! `sharpness.trace` and `sharpness.density`: the Hutchinson trace and the spectral density
//! (stochastic Lanczos quadrature), each on its own schedule of steps.

use serde::{Deserialize, Serialize};
use stepsharp_sharpness::{DensityConfig, SharpnessError, TraceConfig};

use super::{Periodic, positive};
use crate::config::ConfigError;

/// `sharpness.trace`: when and how the Hessian trace is estimated ([`TraceConfig`], with the
/// probes seeded from `seeds.probe`).
///
/// An estimate is taken at step `t` (at `w_t`, before the update, like `λ_max`) when `every`
/// fires (steps `0, n, 2n, …` and the last step) or `t` is in `steps`; at least one of the two
/// must be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceOptions {
    /// Estimate every this many steps (and at step 0 and the last step). Default: none.
    #[serde(default)]
    pub every: Option<usize>,
    /// Estimate at these steps. Default: none.
    #[serde(default)]
    pub steps: Vec<usize>,
    /// Stop once the standard error is at most this fraction of `|tr(H)|`. Default: 1e-2
    /// ([`TraceConfig::default`]).
    #[serde(default = "default_relative_standard_error")]
    pub relative_standard_error: f64,
    /// Probes before the stopping test applies. Default: 10 ([`TraceConfig::default`]).
    #[serde(default = "default_min_probes")]
    pub min_probes: usize,
    /// Cap on probes (= HVPs) per estimate. Default: 100 (PyHessian, [`TraceConfig::default`]).
    #[serde(default = "default_max_probes")]
    pub max_probes: usize,
}

/// `sharpness.density`: when and how the spectral density is estimated by stochastic Lanczos
/// quadrature ([`DensityConfig`], with the probes seeded from `seeds.probe`); scheduled like
/// [`TraceOptions`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DensityOptions {
    /// Estimate every this many steps (and at step 0 and the last step). Default: none.
    #[serde(default)]
    pub every: Option<usize>,
    /// Estimate at these steps. Default: none.
    #[serde(default)]
    pub steps: Vec<usize>,
    /// Rademacher probes `n_v` averaged. Default: 1 (PyHessian, [`DensityConfig::default`]).
    #[serde(default = "default_density_probes")]
    pub probes: usize,
    /// Lanczos steps `m` (= HVPs) per probe. Default: 100 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_lanczos_steps")]
    pub lanczos_steps: usize,
    /// Points of the smoothed density's grid. Default: 10000 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_grid_points")]
    pub grid_points: usize,
    /// Kernel variance relative to the width of the Ritz nodes. Default: 1e-5 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_kernel_variance")]
    pub kernel_variance: f64,
}

fn default_relative_standard_error() -> f64 {
    TraceConfig::default().relative_standard_error
}
fn default_min_probes() -> usize {
    TraceConfig::default().min_probes
}
fn default_max_probes() -> usize {
    TraceConfig::default().max_probes
}
fn default_density_probes() -> usize {
    DensityConfig::default().probes
}
fn default_lanczos_steps() -> usize {
    DensityConfig::default().steps
}
fn default_grid_points() -> usize {
    DensityConfig::default().grid_points
}
fn default_kernel_variance() -> f64 {
    DensityConfig::default().kernel_variance
}

impl TraceOptions {
    /// Whether an estimate is due at `step` of a run of `max_steps` steps.
    pub fn fires(&self, step: usize, max_steps: usize) -> bool {
        scheduled(self.every, &self.steps, step, max_steps)
    }

    /// The estimator's settings, its probes seeded by `seed`.
    pub fn estimator(&self, seed: u64) -> TraceConfig {
        TraceConfig {
            relative_standard_error: self.relative_standard_error,
            min_probes: self.min_probes,
            max_probes: self.max_probes,
            seed,
        }
    }

    /// The schedule against `max_steps`, then the estimator's own ranges
    /// ([`TraceConfig::validate`], errors as [`ConfigError::Sharpness`]).
    pub(super) fn validate(&self, max_steps: usize) -> Result<(), ConfigError> {
        const TABLE: &str = "sharpness.trace";
        validate_schedule(TABLE, self.every, &self.steps, max_steps)?;
        self.estimator(0)
            .validate()
            .map_err(|error| estimator_error(TABLE, error, |field| field))
    }
}

impl DensityOptions {
    /// Whether an estimate is due at `step` of a run of `max_steps` steps.
    pub fn fires(&self, step: usize, max_steps: usize) -> bool {
        scheduled(self.every, &self.steps, step, max_steps)
    }

    /// The estimator's settings, its probes seeded by `seed`.
    pub fn estimator(&self, seed: u64) -> DensityConfig {
        DensityConfig {
            probes: self.probes,
            steps: self.lanczos_steps,
            grid_points: self.grid_points,
            kernel_variance: self.kernel_variance,
            seed,
        }
    }

    /// The schedule against `max_steps`, then the estimator's own ranges
    /// ([`DensityConfig::validate`], errors as [`ConfigError::Sharpness`]; its `steps` is
    /// this table's `lanczos_steps`).
    pub(super) fn validate(&self, max_steps: usize) -> Result<(), ConfigError> {
        const TABLE: &str = "sharpness.density";
        validate_schedule(TABLE, self.every, &self.steps, max_steps)?;
        self.estimator(0).validate().map_err(|error| {
            estimator_error(TABLE, error, |field| match field {
                "steps" => "lanczos_steps",
                other => other,
            })
        })
    }
}

/// Whether an estimate scheduled by `every` and `steps` is due at `step` of `max_steps`.
fn scheduled(every: Option<usize>, steps: &[usize], step: usize, max_steps: usize) -> bool {
    every.is_some_and(|n| Periodic::Every(n).fires(step, max_steps)) || steps.contains(&step)
}

/// Checks a schedule `every`/`steps` of the table `table` against `max_steps`.
fn validate_schedule(
    table: &str,
    every: Option<usize>,
    steps: &[usize],
    max_steps: usize,
) -> Result<(), ConfigError> {
    if every.is_none() && steps.is_empty() {
        return Err(ConfigError::invalid(
            table,
            "",
            "`every = n` or `steps = [...]` (or leave the table out)",
        ));
    }
    if let Some(n) = every {
        positive(&format!("{table}.every"), n)?;
    }
    if let Some(&step) = steps.iter().find(|&&s| s >= max_steps) {
        return Err(ConfigError::invalid(
            &format!("{table}.steps"),
            step,
            format!("steps below training.max_steps = {max_steps}"),
        ));
    }
    Ok(())
}

/// The error of an estimator's config as a [`ConfigError::Sharpness`] naming the field of
/// `table`; `key` maps the estimator's field name to the table's key.
fn estimator_error(
    table: &str,
    error: SharpnessError,
    key: impl Fn(&'static str) -> &'static str,
) -> ConfigError {
    let field = match &error {
        SharpnessError::InvalidConfig { field, .. } => format!("{table}.{}", key(field)),
        _ => table.to_string(),
    };
    ConfigError::Sharpness {
        field,
        source: error,
    }
}
