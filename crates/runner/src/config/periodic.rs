//! Periodic schedules in steps that end with the run (`training.test`, `sharpness.measure`).

use serde::{Deserialize, Serialize};

use super::positive;
use crate::config::ConfigError;

/// A periodic schedule in steps that knows the run's length: never, or at step 0, every `n`
/// steps and the last step. Written `"never"` or `{ every = n }`. (The sharpness crate's
/// [`stepsharp_sharpness::Schedule`] is a set of steps with no end: it never adds the last.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periodic {
    /// Never.
    Never,
    /// At step 0, every `n` steps, and at the last step.
    Every(usize),
}

impl Periodic {
    /// Whether the schedule fires at `step` of a run with `max_steps` steps.
    pub fn fires(self, step: usize, max_steps: usize) -> bool {
        match self {
            Periodic::Never => false,
            Periodic::Every(n) => step.is_multiple_of(n) || step + 1 == max_steps,
        }
    }

    /// `every = n` needs `n ≥ 1`; `field` is the schedule's path, e.g. `training.test`.
    pub(super) fn validate(self, field: &str) -> Result<(), ConfigError> {
        match self {
            Periodic::Never => Ok(()),
            Periodic::Every(n) => positive(field, n),
        }
    }
}
