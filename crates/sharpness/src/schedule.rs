//! When a tracker measures.

use serde::{Deserialize, Serialize};

use crate::SharpnessError;

/// The training steps at which a measurement is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Steps `0, k, 2k, …` (`k ≥ 1`).
    Every(usize),
    /// Exactly these steps.
    Steps(Vec<usize>),
}

impl Default for Schedule {
    /// Every 10 steps (Cohen et al. 2021 measure `λ_max` at a fixed interval; 10 is this
    /// project's quick scale).
    fn default() -> Self {
        Self::Every(10)
    }
}

impl Schedule {
    /// Whether step `step` is measured.
    ///
    /// ```
    /// use stepsharp_sharpness::Schedule;
    /// assert!(Schedule::Every(10).is_due(20) && !Schedule::Every(10).is_due(25));
    /// assert!(Schedule::Steps(vec![0, 7]).is_due(7));
    /// ```
    pub fn is_due(&self, step: usize) -> bool {
        match self {
            Self::Every(interval) => *interval > 0 && step.is_multiple_of(*interval),
            Self::Steps(steps) => steps.contains(&step),
        }
    }

    /// Checks that an interval is at least 1.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        match self {
            Self::Every(0) => Err(SharpnessError::invalid("schedule.every", 0, "at least 1")),
            _ => Ok(()),
        }
    }
}
