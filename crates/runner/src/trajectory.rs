//! The per-step record of a run, written as CSV (one row per step, readable by pandas).
//!
//! Columns that are only measured on some steps (sharpness, test metrics) are empty elsewhere;
//! the trace and density columns are empty unless `sharpness.trace` / `.density` are
//! configured; the direction's columns (last) are filled on every run, the preconditioned
//! sharpness only for a preconditioned direction (Adam). Files written before a column
//! existed read it as empty.
//! Wall-time columns are the only ones that differ between two runs of the same config.

use std::path::Path;

use serde::{Deserialize, Serialize};
use stepsharp_direction::NonDescentAction;

use crate::error::{Context, Result};

/// One optimizer step `t`: quantities at `w_t` and the step `η_t` taken from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Step index `t` (0-based).
    pub step: usize,
    /// Epoch of the batch used (0 in full batch).
    pub epoch: u64,
    /// Loss on the step's batch at `w_t` (the full training loss in full batch).
    pub loss: f64,
    /// Accuracy on the step's batch at `w_t` (NaN for quadratics).
    pub accuracy: f64,
    /// Stepsize `η_t` chosen by the rule.
    pub eta: f64,
    /// Line-search trials, candidate η tested (0 for rules without a search, and on a step
    /// whose loss diverged, where no rule ran).
    pub trials: u32,
    /// Whether the rule's search failed and its failure policy chose `η_t`.
    pub failed: bool,
    /// Rule diagnostics as compact JSON (Polyak's unclipped ratio, CDAT's terms, …).
    pub diagnostics: String,
    /// Gradient norm `‖g_t‖` on the batch.
    pub grad_norm: f64,
    /// Training loss on the fixed evaluation set (measured steps).
    pub eval_loss: Option<f64>,
    /// Top Hessian eigenvalue on the evaluation set (measured steps).
    pub lambda_max: Option<f64>,
    /// Top-k eigenvalues, `;`-separated (measured steps).
    pub top_k: Option<String>,
    /// Ritz residual `‖Hv − λv‖` of the top eigenpair (measured steps).
    pub residual: Option<f64>,
    /// Whether the eigen-solver met its tolerance (measured steps).
    pub converged: Option<bool>,
    /// `η_t · λ_max(w_t)`: below 2 is stable for the quadratic model (measured steps).
    pub eta_lambda: Option<f64>,
    /// Directional sharpness `uᵀHu/‖u‖²` along the update (measured steps).
    pub directional: Option<f64>,
    /// Test loss (on the test schedule).
    pub test_loss: Option<f64>,
    /// Test accuracy (on the test schedule).
    pub test_accuracy: Option<f64>,
    /// Forward passes so far (examples processed / batch size not counted: passes over chunks).
    pub forward_passes: u64,
    /// Backward passes so far.
    pub backward_passes: u64,
    /// Hessian-vector products so far.
    pub hvps: u64,
    /// Seconds spent training so far (gradients, line searches, updates).
    pub train_seconds: f64,
    /// Seconds spent measuring sharpness and test metrics so far.
    pub tracking_seconds: f64,
    /// HVPs of the eigen-solver's λ_max estimate at this step (measured steps; the
    /// directional sharpness adds one).
    pub lambda_hvps: Option<u64>,
    /// Hutchinson estimate of `tr(H)` on the evaluation set (`sharpness.trace` steps).
    pub trace: Option<f64>,
    /// Standard error of `trace`.
    pub trace_standard_error: Option<f64>,
    /// HVPs (= probes) of the trace estimate.
    pub trace_hvps: Option<u64>,
    /// HVPs of the spectral density taken at this step (`sharpness.density` steps; the
    /// density itself is in `density.csv`).
    pub density_hvps: Option<u64>,
    /// `proceed` or `restart` when the direction's update was not a descent direction
    /// (`∇fᵀu ≥ 0`), with what the rule's non-descent policy did; empty otherwise (always for
    /// gradient descent).
    pub non_descent: Option<NonDescentAction>,
    /// The preconditioned sharpness `λ_max(P⁻¹H)` of an adaptive direction (Adam:
    /// `P = diag(√v̂ + ε)`), by the eigen-solver on `P^{−1/2}HP^{−1/2}` (measured steps).
    pub preconditioned_lambda_max: Option<f64>,
    /// Ritz residual of `preconditioned_lambda_max` (measured steps).
    pub preconditioned_residual: Option<f64>,
    /// Whether the solver met its tolerance for `preconditioned_lambda_max` (measured steps).
    pub preconditioned_converged: Option<bool>,
    /// HVPs of the preconditioned estimate (measured steps).
    pub preconditioned_hvps: Option<u64>,
    /// The direction's stability threshold on its relevant sharpness at `η_t` (measured
    /// steps): `2/η` for gradient descent, `(2 + 2β)/η` for heavy ball,
    /// `(2 + 2β)/((1 + 2β)η)` for Nesterov, `(2 + 2β₁)(1 − β₁ᵗ)/((1 − β₁)η)` for Adam, whose
    /// relevant sharpness is the preconditioned one.
    pub stability_threshold: Option<f64>,
    /// The relevant sharpness over its threshold, as `η·λ/limit` (measured steps): 1 at the
    /// edge of stability, below 1 stable; `η·λ_max/2` for gradient descent.
    pub edge_ratio: Option<f64>,
    /// The slope `∇f(w_t)ᵀu_t` the rule was given (`−‖g_t‖²` for gradient descent; after a
    /// restart, along the restarted update): with `loss`, `eta` and `diagnostics` it lets every
    /// rule's η be recomputed from the trajectory.
    pub slope: Option<f64>,
}

impl Row {
    /// The row with its wall-time columns zeroed: what must be identical across reruns.
    pub fn without_timing(&self) -> Row {
        Row {
            train_seconds: 0.0,
            tracking_seconds: 0.0,
            ..self.clone()
        }
    }
}

/// Reads a trajectory CSV.
pub fn read_trajectory(path: &Path) -> Result<Vec<Row>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot open trajectory {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.with_context(|| format!("{}: bad row {}", path.display(), i + 1)))
        .collect()
}

/// The trajectory as CSV text (header and one line per row).
pub fn trajectory_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    if rows.is_empty() {
        writer.serialize(Row::default())?;
        let text = writer
            .into_inner()
            .map_err(csv::IntoInnerError::into_error)?;
        let header_end = text.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        return Ok(text[..header_end].to_vec());
    }
    Ok(writer
        .into_inner()
        .map_err(csv::IntoInnerError::into_error)?)
}
