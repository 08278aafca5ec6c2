//! `training`: the regime (full batch or mini-batch), the run's length and its stop conditions.

use serde::{Deserialize, Serialize};
use stepsharp_data::{BatchSize, DataConfig, Subset};

use super::{Periodic, positive};
use crate::config::ConfigError;

/// Regime, length and stop conditions of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingConfig {
    /// `"full"` (deterministic GD on the whole training subset) or a mini-batch size.
    /// Default: `"full"`.
    pub batch_size: BatchSize,
    /// Drop the last incomplete mini-batch of each epoch. Default: true.
    pub drop_last: bool,
    /// Number of optimizer steps. Default: 100.
    pub max_steps: usize,
    /// Stop once the training loss (as measured at a step) falls below this value.
    /// Default: none.
    pub loss_goal: Option<f64>,
    /// A loss above this value (or NaN/Inf) ends the run with status "diverged". Default: 1e6.
    pub divergence_threshold: f64,
    /// Examples per chunk when a loss, gradient or Hessian product runs over many examples
    /// (bounds memory; results agree across chunk sizes up to rounding). Default: 1000.
    pub chunk_size: usize,
    /// Which examples the line search evaluates trial steps on. Default: the same batch.
    pub line_search_batch: LineSearchBatch,
    /// Test-set evaluation schedule, e.g. `test = { every = 50 }`. Default: `"never"`.
    pub test: Periodic,
    /// Write a checkpoint every this many steps (and at the end). Default: 50.
    pub checkpoint_every: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            batch_size: BatchSize::Full,
            drop_last: true,
            max_steps: 100,
            loss_goal: None,
            divergence_threshold: 1e6,
            chunk_size: 1000,
            line_search_batch: LineSearchBatch::Same,
            test: Periodic::Never,
            checkpoint_every: 50,
        }
    }
}

impl TrainingConfig {
    /// Checks the `training` table; a mini-batch must fit in the `data` subset when the config
    /// says its size (a subset of `"all"` is checked once the data is loaded,
    /// [`TrainingConfig::check_batch_fits`]).
    pub(super) fn validate(&self, data: &DataConfig) -> Result<(), ConfigError> {
        positive("training.max_steps", self.max_steps)?;
        positive("training.chunk_size", self.chunk_size)?;
        positive("training.checkpoint_every", self.checkpoint_every)?;
        if let BatchSize::Size(size) = self.batch_size {
            positive("training.batch_size", size)?;
            if let Some(count) = subset_count(&data.train_subset) {
                self.check_batch_fits(count)?;
            }
        }
        self.test.validate("training.test")?;
        if self.divergence_threshold.is_nan() || self.divergence_threshold <= 0.0 {
            return Err(ConfigError::invalid(
                "training.divergence_threshold",
                self.divergence_threshold,
                "a positive number",
            ));
        }
        if let Some(goal) = self.loss_goal
            && !goal.is_finite()
        {
            return Err(ConfigError::invalid(
                "training.loss_goal",
                goal,
                "a finite number",
            ));
        }
        Ok(())
    }

    /// A mini-batch is at most the `examples` training records.
    pub(super) fn check_batch_fits(&self, examples: usize) -> Result<(), ConfigError> {
        match self.batch_size {
            BatchSize::Size(size) if size > examples => Err(ConfigError::invalid(
                "training.batch_size",
                size,
                format!("at most the {examples} training examples"),
            )),
            _ => Ok(()),
        }
    }
}

/// The number of records a subset selects, when the config alone says it.
fn subset_count(subset: &Subset) -> Option<usize> {
    match *subset {
        Subset::All => None,
        Subset::First { count }
        | Subset::ClassBalancedFirst { count }
        | Subset::Random { count, .. } => Some(count),
    }
}

/// Which batch the line search evaluates `f(w + ηu)` on (the same batch by default,
/// `docs/paper.md#armijo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearchBatch {
    /// The batch the gradient was taken on.
    Same,
    /// A second, independently shuffled batch of the same size.
    Independent,
}
