//! What every step returns.

use serde::{Deserialize, Serialize};

/// The outcome of one call to [`Stepsize::step`](crate::Stepsize::step): no hidden counters.
///
/// All numbers are finite except where a field's doc says otherwise, so a record survives a
/// JSON round trip.
///
/// ```
/// use stepsharp_stepsize::{Diagnostics, StepRecord};
/// let record = StepRecord {
///     eta: 0.5,
///     trials: 2,
///     loss_evaluations: 2,
///     curvature_evaluations: 0,
///     failed: false,
///     diagnostics: Diagnostics::Armijo { first_guess: 1.0, last_tried: 0.5 },
/// };
/// let json = serde_json::to_string(&record).unwrap();
/// assert!(json.contains(r#""rule":"armijo""#));
/// assert_eq!(serde_json::from_str::<StepRecord>(&json).unwrap(), record);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// The stepsize η to apply: `w ← w + ηu`.
    pub eta: f64,
    /// Line-search trials (candidate η tested); 0 for rules without a search.
    pub trials: u32,
    /// Calls to [`Oracle::loss_at`](crate::Oracle::loss_at).
    pub loss_evaluations: u32,
    /// Calls to [`Oracle::curvature`](crate::Oracle::curvature).
    pub curvature_evaluations: u32,
    /// The rule could not produce its intended η: no Armijo trial passed (the failure policy
    /// chose `eta`), or an input was NaN/Inf (then `eta` is 0 for Polyak and CDAT).
    pub failed: bool,
    /// Rule-specific numbers.
    pub diagnostics: Diagnostics,
}

/// Rule-specific diagnostics of one step. Serialized with a `rule` tag, e.g.
/// `{"rule": "polyak", "unclipped": 3.2, "clipped": true}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Diagnostics {
    /// Constant stepsize: nothing to report.
    Constant,
    /// Armijo backtracking.
    Armijo {
        /// The first η tried, `min(c₊·η_{t−1}, η_max)`.
        first_guess: f64,
        /// The last η tried: the accepted one on success, the smallest one on failure. Equals
        /// `first_guess` when no trial ran (NaN/Inf in the context).
        last_tried: f64,
    },
    /// Polyak SPS_max.
    Polyak {
        /// `(f − f*)/(c·(−∇fᵀu))` before clipping at γ_max (`(f − f*)/(c·‖g‖²)` for gradient
        /// descent); 0 when a guard (`−∇fᵀu ≤ eps`, f < f*, NaN/Inf input) set the step to 0. It overflows to +Inf only in extreme settings (e.g.
        /// `eps = 0` with a subnormal `‖g‖²`).
        unclipped: f64,
        /// Whether `unclipped > γ_max`, so that η = γ_max.
        clipped: bool,
    },
    /// CDAT.
    Cdat {
        /// The (averaged) numerator `max(−∇fᵀu, 0)`; η = σ·numerator/(denominator + ε).
        numerator: f64,
        /// The (averaged) denominator `|uᵀHu|`, without ε.
        denominator: f64,
    },
}
