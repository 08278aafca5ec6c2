//! Constant stepsize.

use serde::{Deserialize, Serialize};

use crate::error::{StepsizeError, check};
use crate::record::{Diagnostics, StepRecord};

/// A constant stepsize: `η_t = η` at every step. Calls no oracle.
///
/// There is no `Default`: η is tuned per experiment (paper: a log₂ grid `{η₀·2^i}`, best =
/// lowest mean train loss over the last 5 iterates), so configs must name it.
///
/// ```
/// use stepsharp_stepsize::{ConstantConfig, RuleConfig, Stepsize};
/// let rule = Stepsize::new(RuleConfig::Constant(ConstantConfig { eta: 0.1 })).unwrap();
/// assert!(!rule.needs_line_search());
/// assert!(ConstantConfig { eta: -1.0 }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantConfig {
    /// The stepsize η, finite and > 0. No default (tuned per experiment).
    pub eta: f64,
}

impl ConstantConfig {
    /// Checks `eta` (`"constant.eta"`).
    pub fn validate(&self) -> Result<(), StepsizeError> {
        check(
            self.eta.is_finite() && self.eta > 0.0,
            "constant.eta",
            self.eta,
            "finite and > 0",
        )
    }
}

pub(crate) fn step(config: &ConstantConfig) -> StepRecord {
    StepRecord {
        eta: config.eta,
        trials: 0,
        loss_evaluations: 0,
        curvature_evaluations: 0,
        failed: false,
        diagnostics: Diagnostics::Constant,
    }
}
