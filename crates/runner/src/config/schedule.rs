//! Periodic schedules in steps (`training.test`, `sharpness.measure`).

use serde::{Deserialize, Serialize};

use super::positive;
use crate::ConfigError;

/// A periodic schedule in steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Never.
    Never,
    /// At step 0, every `n` steps, and at the last step.
    Every(usize),
}

impl Schedule {
    /// Whether the schedule fires at `step` of a run with `max_steps` steps.
    pub fn fires(self, step: usize, max_steps: usize) -> bool {
        match self {
            Schedule::Never => false,
            Schedule::Every(n) => step.is_multiple_of(n) || step + 1 == max_steps,
        }
    }

    /// `every = n` needs `n ≥ 1`; `field` is the schedule's path, e.g. `training.test`.
    pub(super) fn validate(self, field: &str) -> Result<(), ConfigError> {
        match self {
            Schedule::Never => Ok(()),
            Schedule::Every(n) => positive(field, n),
        }
    }
}
