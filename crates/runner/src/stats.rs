//! Robust statistics of one trajectory: the numbers every claim verdict is taken from.
//!
//! A verdict never rests on one iterate (`docs/paper.md#how-claims-are-judged`): full-batch
//! Polyak alternates between very different losses on consecutive steps, and a constant stepsize
//! at the edge of stability oscillates. So the final loss is the median (and mean) over the last
//! [`TAIL_FRACTION`] of the steps, and trends compare windowed medians: the first and the last
//! [`TAIL_FRACTION`] of the measurements, after an optional warm-up ([`Windows`]).

use serde::{Deserialize, Serialize};

use crate::status::RunStatus;
use crate::trajectory::Row;

/// Default fraction of a trajectory in a window (first or last 10% of steps or measurements).
pub const TAIL_FRACTION: f64 = 0.1;

/// Fraction of the measurements in the late window of the edge-of-stability checks of
/// momentum and Adam (the last third; Cohen et al. 2022 judge where the preconditioned
/// sharpness hovers once it has risen).
pub const LATE_FRACTION: f64 = 1.0 / 3.0;

/// Arithmetic mean; None for no values.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Median (the mean of the two middle values for an even count); None for no values.
///
/// ```
/// use stepsharp_runner::stats::median;
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
/// assert_eq!(median(&[]), None);
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// The last `⌈fraction·n⌉` values (at least one of a non-empty slice).
pub(crate) fn tail<T>(values: &[T], fraction: f64) -> &[T] {
    &values[values.len() - window_len(values.len(), fraction)..]
}

/// The first `⌈fraction·n⌉` values (at least one of a non-empty slice).
pub(crate) fn head<T>(values: &[T], fraction: f64) -> &[T] {
    &values[..window_len(values.len(), fraction)]
}

fn window_len(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).ceil() as usize).clamp(n.min(1), n)
}

/// Which part of a trajectory the windows are taken from; a `[<scale>.claims]` table of a
/// figure file.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Windows {
    /// Steps left out at the start of every trend and edge statistic (the initial transient,
    /// e.g. the first drop of λ_max). Default: 0.
    pub warmup_steps: usize,
    /// Fraction of the steps (losses) or measurements (λ_max, η) in the first and last window.
    /// Default: [`TAIL_FRACTION`].
    pub window: f64,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            warmup_steps: 0,
            window: TAIL_FRACTION,
        }
    }
}

/// The robust summary of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunStats {
    /// The step at which the run diverged, if it did.
    pub diverged_at: Option<usize>,
    /// Steps in the trajectory.
    pub steps: usize,
    /// Loss at step 0 (full batch: the training loss; mini-batch: the evaluation-set loss).
    pub initial_loss: Option<f64>,
    /// Median loss over the last window of the steps (mini-batch: of the evaluation-set
    /// measurements).
    pub final_loss: Option<f64>,
    /// Mean loss over the same window.
    pub final_loss_mean: Option<f64>,
    /// Median relevant sharpness over the first window of measurements (after warm-up):
    /// λ_max, or λ_max(P⁻¹H) for a preconditioned direction (Adam).
    pub initial_sharpness: Option<f64>,
    /// Median relevant sharpness over the last window of measurements.
    pub final_sharpness: Option<f64>,
    /// `final_sharpness / initial_sharpness` (None with fewer than two measurements).
    pub sharpness_growth: Option<f64>,
    /// Median η over the last window of steps / over the first (after warm-up).
    pub eta_trend: Option<f64>,
    /// Median η·λ_max over the measurements after warm-up.
    pub median_eta_lambda: Option<f64>,
    /// Fraction of those measurements with η·λ_max < 2.
    pub fraction_below_edge: Option<f64>,
    /// Median η·uᵀHu/‖u‖² (the sharpness along the update) over the same measurements.
    pub median_eta_directional: Option<f64>,
    /// Median edge ratio (relevant sharpness over the direction's stability threshold, 1 at
    /// the edge) over the same measurements.
    pub median_edge_ratio: Option<f64>,
    /// Fraction of those measurements with an edge ratio below 1.
    pub fraction_below_threshold: Option<f64>,
    /// Median edge ratio over the last [`LATE_FRACTION`] of the measurements.
    pub late_edge_ratio: Option<f64>,
    /// Median relevant sharpness over the same late measurements.
    pub late_sharpness: Option<f64>,
    /// Median stability threshold over the same late measurements.
    pub late_threshold: Option<f64>,
    /// Number of λ_max measurements after warm-up.
    pub measurements: usize,
    /// Steps whose update was not a descent direction (the non-descent policy fired).
    pub non_descent_steps: usize,
}

impl RunStats {
    /// Summarizes a trajectory. `full_batch` chooses the loss: the training loss of each step
    /// (full batch) or the evaluation-set loss of the measured steps (mini-batch, where the
    /// step's own loss is that of a random batch).
    pub fn of(rows: &[Row], status: &RunStatus, full_batch: bool, windows: Windows) -> Self {
        let finite = |v: &f64| v.is_finite();
        let losses: Vec<f64> = if full_batch {
            rows.iter().map(|r| r.loss).collect()
        } else {
            rows.iter().filter_map(|r| r.eval_loss).collect()
        };
        let after: Vec<&Row> = rows
            .iter()
            .filter(|r| r.step >= windows.warmup_steps)
            .collect();
        let measured: Vec<&Row> = after
            .iter()
            .copied()
            .filter(|r| r.lambda_max.is_some_and(f64::is_finite))
            .collect();
        let lambdas: Vec<f64> = measured
            .iter()
            .filter_map(|r| r.preconditioned_lambda_max.or(r.lambda_max))
            .collect();
        let ratios: Vec<f64> = measured
            .iter()
            .filter_map(|r| r.edge_ratio)
            .filter(finite)
            .collect();
        let late = |values: Vec<f64>| median(tail(&values, LATE_FRACTION));
        let edge: Vec<f64> = measured
            .iter()
            .filter_map(|r| r.eta_lambda)
            .filter(finite)
            .collect();
        let along_update: Vec<f64> = measured
            .iter()
            .filter_map(|r| r.directional.map(|d| r.eta * d))
            .filter(finite)
            .collect();
        let etas: Vec<f64> = after.iter().map(|r| r.eta).filter(finite).collect();
        let final_window = tail(&losses, windows.window);
        let diverged_at = match status {
            RunStatus::Diverged { step, .. } => Some(*step),
            _ => None,
        };
        Self {
            diverged_at,
            steps: rows.len(),
            initial_loss: losses.first().copied().filter(finite),
            final_loss: median(final_window)
                .filter(finite)
                .filter(|_| diverged_at.is_none()),
            final_loss_mean: mean(final_window)
                .filter(finite)
                .filter(|_| diverged_at.is_none()),
            initial_sharpness: median(head(&lambdas, windows.window)),
            final_sharpness: median(tail(&lambdas, windows.window)),
            sharpness_growth: ratio_of_windows(&lambdas, windows.window),
            eta_trend: ratio_of_windows(&etas, windows.window),
            median_eta_lambda: median(&edge),
            fraction_below_edge: (!edge.is_empty())
                .then(|| edge.iter().filter(|v| **v < 2.0).count() as f64 / edge.len() as f64),
            median_eta_directional: median(&along_update),
            median_edge_ratio: median(&ratios),
            fraction_below_threshold: (!ratios.is_empty())
                .then(|| ratios.iter().filter(|v| **v < 1.0).count() as f64 / ratios.len() as f64),
            late_edge_ratio: late(ratios.clone()),
            late_sharpness: late(lambdas.clone()),
            late_threshold: late(
                measured
                    .iter()
                    .filter_map(|r| r.stability_threshold)
                    .filter(finite)
                    .collect(),
            ),
            measurements: lambdas.len(),
            non_descent_steps: rows.iter().filter(|r| r.non_descent.is_some()).count(),
        }
    }
}

/// Median of the last window over median of the first; None with fewer than two values (the
/// windows would overlap entirely) or a non-positive first median.
fn ratio_of_windows(values: &[f64], fraction: f64) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let first = median(head(values, fraction))?;
    let last = median(tail(values, fraction))?;
    (first > 0.0).then(|| last / first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn windows_hold_a_tenth_rounded_up_and_never_nothing() {
        let values: Vec<usize> = (0..25).collect();
        assert_eq!(tail(&values, 0.1), &[22, 23, 24]);
        assert_eq!(head(&values, 0.1), &[0, 1, 2]);
        assert_eq!(tail(&[7], 0.1), &[7]);
        assert!(tail::<f64>(&[], 0.1).is_empty());
    }

    #[test]
    fn growth_compares_window_medians_not_endpoints() {
        // A spike at the last measurement does not move the growth: the window median does.
        let mut lambdas = vec![10.0; 10];
        lambdas.extend(vec![20.0; 19]);
        lambdas.push(1000.0);
        assert_eq!(ratio_of_windows(&lambdas, 0.1), Some(2.0));
    }
}
