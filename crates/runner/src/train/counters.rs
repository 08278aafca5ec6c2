//! What a run has spent so far, carried across steps and checkpoints and copied into every
//! trajectory row: passes over chunks of examples and HVPs ([`Counters`]), and wall time
//! ([`Timers`]).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::tracking::SharpnessReading;
use crate::trajectory::Row;

/// Work done so far, counted per chunk of examples (`training.chunk_size`): the trajectory's
/// `forward_passes`, `backward_passes` and `hvps` columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Forward passes: gradient evaluations, line-search trials, sharpness and test
    /// evaluations.
    pub forward_passes: u64,
    /// Backward passes: gradient evaluations (one per forward pass) and the gradient graphs
    /// the Hessian operators are built on; each HVP of a line-search oracle counts one.
    pub backward_passes: u64,
    /// Hessian-vector products (sharpness measurements and curvature oracles).
    pub hvps: u64,
}

impl Counters {
    /// Adds what a sharpness measurement used.
    pub fn add_reading(&mut self, reading: &SharpnessReading) {
        self.forward_passes += reading.forward_passes;
        self.backward_passes += reading.backward_passes;
        self.hvps += reading.estimates.hvps() as u64;
    }

    /// Writes the totals into `row`'s counter columns.
    pub fn write_to(&self, row: &mut Row) {
        row.forward_passes = self.forward_passes;
        row.backward_passes = self.backward_passes;
        row.hvps = self.hvps;
    }
}

/// Wall time so far, in seconds: the trajectory's `train_seconds` and `tracking_seconds`
/// columns (the only ones that differ between two runs of one config).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timers {
    /// Training: gradients, line searches, updates.
    pub train_seconds: f64,
    /// Tracking: sharpness measurements and test metrics.
    pub tracking_seconds: f64,
}

impl Timers {
    /// Adds the time since `started` to training.
    pub fn add_training(&mut self, started: Instant) {
        self.train_seconds += started.elapsed().as_secs_f64();
    }

    /// Adds the time since `started` to tracking.
    pub fn add_tracking(&mut self, started: Instant) {
        self.tracking_seconds += started.elapsed().as_secs_f64();
    }

    /// Writes the totals into `row`'s timing columns.
    pub fn write_to(&self, row: &mut Row) {
        row.train_seconds = self.train_seconds;
        row.tracking_seconds = self.tracking_seconds;
    }
}
