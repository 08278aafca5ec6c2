//! `sharpness`: how and when λ_max (and optionally the trace and the spectral density) of the
//! training-loss Hessian is measured.

use serde::{Deserialize, Serialize};
use stepsharp_sharpness::{Due, WarmStart};

use super::{DensityOptions, Periodic, TraceOptions, positive};
use crate::config::ConfigError;

/// Which eigen-solver measures λ_max.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharpnessMethod {
    /// Lanczos with full reorthogonalization (top-k, Ritz residuals).
    Lanczos,
    /// Power iteration (CDAT paper), top-1 only.
    Power,
}

/// What the Hessian operator of a sharpness measurement keeps in memory, for networks whose
/// products go through double backward. An MLP's products use its R-operator
/// (`stepsharp_models::MlpCurvature`: each chunk's activations, no graph) under either setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphMemory {
    /// Keep every chunk's gradient graph for the whole measurement: one backward pass per
    /// chunk per HVP; memory grows with `eval_examples`.
    #[default]
    Keep,
    /// Rebuild one chunk's graph per chunk and HVP (`RecomputingHessian`): bounded memory, at
    /// the price of a forward and a backward pass more per chunk and HVP. Same values.
    Recompute,
}

impl GraphMemory {
    /// The default, left out of the canonical form so that run ids from before this field
    /// existed stay valid (`hash.rs`).
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How and when the sharpness is measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharpnessConfig {
    /// Eigen-solver. Default: Lanczos.
    pub method: SharpnessMethod,
    /// Number of top eigenvalues. Default: 1.
    pub k: usize,
    /// When to measure (at w_t, before step t is applied), e.g. `measure = { every = 10 }` or
    /// `"never"`. Default: every 10 steps.
    pub measure: Periodic,
    /// Size of the fixed evaluation set: the first this many examples of the training subset
    /// (Cohen et al.: the first 5000 training examples). Default: 1000.
    pub eval_examples: usize,
    /// Relative stopping tolerance `tol` of the eigen-solver, in (0, 1); what it bounds
    /// depends on `method`:
    /// - `"lanczos"`: the Ritz residual. The solver stops once each of the top `k` Ritz pairs
    ///   satisfies `‖Hv_i − λ_i v_i‖ ≤ tol · max(|λ_i|, ε^{2/3}‖T‖)` (`‖T‖`: the largest Ritz
    ///   value in magnitude; [`LanczosConfig::tolerance`](stepsharp_sharpness::LanczosConfig::tolerance)).
    /// - `"power"`: the change of the estimate between iterations. Each phase stops once
    ///   `|λ_t − λ_{t−1}| ≤ tol · |λ_t|`
    ///   ([`PowerConfig::relative_tolerance`](stepsharp_sharpness::PowerConfig::relative_tolerance),
    ///   the CDAT stopping rule). The residual is not bounded by `tol`: it ends near
    ///   `√tol · |λ|`. The trajectory records the residual for both methods.
    ///
    /// Default: 1e-3 (CDAT's power-iteration tolerance, `docs/paper.md#sharpness-estimation`).
    pub tolerance: f64,
    /// Iteration cap of the solver. Default: 50.
    pub max_iterations: usize,
    /// Warm starts across measurements. Default: previous eigenvector.
    pub warm_start: WarmStart,
    /// Keep the gradient graphs of all evaluation chunks, or recompute them chunk by chunk
    /// for bounded memory (large CNNs). Default: keep.
    #[serde(skip_serializing_if = "GraphMemory::is_default")]
    pub graphs: GraphMemory,
    /// The Hutchinson trace `tr(H)` on the evaluation set, on its own schedule, e.g.
    /// `trace = { every = 500 }`; stored in the trajectory. Default: none (left out of the
    /// canonical form, so run ids from before this field existed stay valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceOptions>,
    /// The spectral density (SLQ) on the evaluation set, on its own schedule, e.g.
    /// `density = { steps = [0, 1500, 2999] }`; stored in `density.csv`. Default: none (left
    /// out of the canonical form like `trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<DensityOptions>,
}

impl Default for SharpnessConfig {
    fn default() -> Self {
        Self {
            method: SharpnessMethod::Lanczos,
            k: 1,
            measure: Periodic::Every(10),
            eval_examples: 1000,
            tolerance: 1e-3,
            max_iterations: 50,
            warm_start: WarmStart::Previous,
            graphs: GraphMemory::Keep,
            trace: None,
            density: None,
        }
    }
}

impl SharpnessConfig {
    /// The estimates this table schedules at `step` of a run of `max_steps` steps: λ_max
    /// (with the directional sharpness) by `measure`, the trace and the density by theirs.
    pub fn due(&self, step: usize, max_steps: usize) -> Due {
        Due {
            spectrum: self.measure.fires(step, max_steps),
            trace: self
                .trace
                .as_ref()
                .is_some_and(|t| t.fires(step, max_steps)),
            density: self
                .density
                .as_ref()
                .is_some_and(|d| d.fires(step, max_steps)),
        }
    }

    /// Checks the `sharpness` table of a run of `max_steps` steps: the solver's settings here,
    /// the trace's and the density's in [`TraceOptions`] and [`DensityOptions`].
    pub(super) fn validate(&self, max_steps: usize) -> Result<(), ConfigError> {
        positive("sharpness.k", self.k)?;
        positive("sharpness.eval_examples", self.eval_examples)?;
        positive("sharpness.max_iterations", self.max_iterations)?;
        self.measure.validate("sharpness.measure")?;
        if self.method == SharpnessMethod::Power && self.k != 1 {
            return Err(ConfigError::invalid(
                "sharpness.k",
                self.k,
                "1 with method = \"power\" (use lanczos for top-k)",
            ));
        }
        if self.max_iterations < self.k {
            return Err(ConfigError::invalid(
                "sharpness.max_iterations",
                self.max_iterations,
                "at least sharpness.k",
            ));
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(ConfigError::invalid(
                "sharpness.tolerance",
                self.tolerance,
                "a number in (0, 1)",
            ));
        }
        if let Some(trace) = &self.trace {
            trace.validate(max_steps)?;
        }
        if let Some(density) = &self.density {
            density.validate(max_steps)?;
        }
        Ok(())
    }
}
