//! Saving a run's state ([`Run::save`]: the trajectory, the density file and a checkpoint)
//! and restoring it ([`Run::resume`]), so that a resumed run continues bit for bit.

use candle_core::Device;
use stepsharp_direction::DirectionState;

use super::run::Run;
use crate::checkpoint::{self, Checkpoint, CheckpointState, CheckpointTensors, Loaded};
use crate::density::{density_csv, read_density};
use crate::error::{Result, ensure};
use crate::fsio::write_atomic;
use crate::status::RunStatus;
use crate::store::{DENSITY_FILE, TRAJECTORY_FILE};
use crate::trajectory::{read_trajectory, trajectory_csv};

impl Run<'_> {
    /// Restores the last checkpoint, if any, and the trajectory rows (and density lines) it
    /// covers. A checkpoint that cannot be trusted is skipped with a warning: the run starts
    /// again from step 0.
    pub(super) fn resume(&mut self, device: &Device) -> Result<()> {
        match checkpoint::load(self.dir, device)? {
            Loaded::Nothing => Ok(()),
            Loaded::Refused { reason } => {
                eprintln!(
                    "warning: run {}: not resuming from its checkpoint ({reason}); starting \
                     again from step 0",
                    self.dir.id()
                );
                Ok(())
            }
            Loaded::Resumed(checkpoint) => self.restore(*checkpoint),
        }
    }

    /// Continues from `checkpoint`: parameters, BatchNorm statistics, warm starts, rule state,
    /// the direction's state, batch streams, counters and timers, then the files up to its
    /// step.
    fn restore(&mut self, checkpoint: Checkpoint) -> Result<()> {
        let (state, tensors) = (checkpoint.state, checkpoint.tensors);
        self.ended = Some(checkpoint.status).filter(RunStatus::is_final);
        self.problem.set_flat_parameters(&tensors.parameters)?;
        self.problem.set_buffers(&tensors.buffers)?;
        self.tracking.set_warm_start(tensors.warm_start);
        self.tracking
            .set_preconditioned_warm_start(tensors.preconditioned_warm_start);
        self.rule.restore(state.rule)?;
        self.direction.restore(DirectionState {
            updates: state.direction_updates.unwrap_or(0),
            momentum: tensors.momentum,
            second_moment: tensors.second_moment,
        })?;
        self.batches
            .restore(self.config, state.batcher, state.line_search_batcher)?;
        self.restore_files(state.rows, state.next_step)?;
        self.next_step = state.next_step;
        self.counters = state.counters;
        self.timers = state.timers;
        Ok(())
    }

    /// Reads back the first `rows` trajectory rows and the density lines of the steps before
    /// `next_step` (later ones were written after the checkpoint and are discarded).
    fn restore_files(&mut self, rows: usize, next_step: usize) -> Result<()> {
        let trajectory = self.dir.file(TRAJECTORY_FILE);
        let mut saved = read_trajectory(&trajectory)?;
        ensure!(
            saved.len() >= rows,
            "{} has {} rows but its checkpoint needs {rows}",
            trajectory.display(),
            saved.len(),
        );
        saved.truncate(rows);
        self.rows = saved;
        let density = self.dir.file(DENSITY_FILE);
        if self.config.sharpness.density.is_some() && density.exists() {
            let mut densities = read_density(&density)?;
            densities.retain(|line| line.step < next_step);
            self.densities = densities;
        }
        Ok(())
    }

    /// Writes the trajectory (and the density file), then commits a checkpoint recording
    /// `status`.
    pub(super) fn save(&self, status: &RunStatus) -> Result<()> {
        write_atomic(
            &self.dir.file(TRAJECTORY_FILE),
            &trajectory_csv(&self.rows)?,
        )?;
        if self.config.sharpness.density.is_some() {
            write_atomic(&self.dir.file(DENSITY_FILE), &density_csv(&self.densities)?)?;
        }
        let (batcher, line_search_batcher) = self.batches.stream_states();
        let state = CheckpointState {
            next_step: self.next_step,
            rows: self.rows.len(),
            rule: self.rule.state(),
            batcher,
            line_search_batcher,
            counters: self.counters,
            timers: self.timers,
            direction_updates: self
                .config
                .direction
                .is_some()
                .then_some(self.direction.state().updates),
        };
        let direction = self.direction.state();
        let tensors = CheckpointTensors {
            parameters: self.problem.flat_parameters()?,
            buffers: self.problem.buffers()?,
            warm_start: self.tracking.warm_start().cloned(),
            preconditioned_warm_start: self.tracking.preconditioned_warm_start().cloned(),
            momentum: direction.momentum.clone(),
            second_moment: direction.second_moment.clone(),
        };
        checkpoint::save(self.dir, &state, &tensors, status)
    }
}
