//! A run in progress ([`Run`]): its state between steps and the loop that takes the steps,
//! reports [`Progress`], ends the run (all steps taken, loss goal reached, diverged) and
//! writes checkpoints on the way.

use candle_core::Tensor;
use stepsharp_direction::Direction;
use stepsharp_stepsize::Stepsize;

use super::RunOptions;
use super::batches::Batches;
use super::counters::{Counters, Timers};
use crate::config::{RunConfig, ValidRunConfig};
use crate::density::DensityLine;
use crate::error::Result;
use crate::faults;
use crate::interrupt::{Interrupt, Interrupted};
use crate::problem::Problem;
use crate::status::RunStatus;
use crate::store::RunDir;
use crate::tracking::Tracking;
use crate::trajectory::Row;

/// What the loop reports after each step.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// Steps done.
    pub step: usize,
    /// Total steps.
    pub max_steps: usize,
    /// Latest loss.
    pub loss: f64,
    /// Latest stepsize.
    pub eta: f64,
    /// Latest λ_max, if measured yet.
    pub lambda_max: Option<f64>,
}

/// The state of a run in progress (what a checkpoint saves, and what it is computed from).
pub(super) struct Run<'a> {
    pub(super) config: &'a RunConfig,
    pub(super) dir: &'a RunDir,
    pub(super) problem: Problem,
    pub(super) batches: Batches,
    pub(super) rule: Stepsize,
    /// The update direction with its moments.
    pub(super) direction: Direction<Tensor>,
    pub(super) tracking: Tracking,
    /// The trajectory so far.
    pub(super) rows: Vec<Row>,
    /// The lines of `density.csv` so far (runs with `sharpness.density`).
    pub(super) densities: Vec<DensityLine>,
    pub(super) next_step: usize,
    pub(super) counters: Counters,
    pub(super) timers: Timers,
    /// The final status recorded by the checkpoint resumed from, if the run had ended.
    pub(super) ended: Option<RunStatus>,
}

impl<'a> Run<'a> {
    /// The run of `config` on `data` in `dir`, continued from its checkpoint if it has one.
    pub(super) fn new(
        config: &'a ValidRunConfig,
        data: Option<stepsharp_data::Prepared>,
        dir: &'a RunDir,
    ) -> Result<Self> {
        let device = config.device.open()?;
        let mut run = Self {
            problem: Problem::new(config, &device)?,
            batches: Batches::new(config, data, &device)?,
            rule: config.rule().clone(),
            direction: Direction::new(config.direction())?,
            tracking: Tracking::new(config)?,
            config: &**config,
            dir,
            rows: Vec::new(),
            densities: Vec::new(),
            next_step: 0,
            counters: Counters::default(),
            timers: Timers::default(),
            ended: None,
        };
        run.resume(&device)?;
        Ok(run)
    }

    /// The trajectory.
    pub(super) fn into_rows(self) -> Vec<Row> {
        self.rows
    }

    /// Takes steps until the run ends or `options` pause it (`stop_after`: status `Running`;
    /// an interrupt: [`Interrupted`]), writing a checkpoint every `checkpoint_every` steps
    /// and at the end. A run whose checkpoint had ended returns its status at once.
    pub(super) fn train(
        &mut self,
        options: &RunOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<RunStatus> {
        if let Some(status) = self.ended.take() {
            return Ok(status);
        }
        let mut taken = 0;
        while self.next_step < self.config.training.max_steps {
            if options.stop_after.is_some_and(|limit| taken >= limit) {
                self.save(&RunStatus::Running)?;
                return Ok(RunStatus::Running);
            }
            self.stop_if_interrupted(&options.interrupt)?;
            let row = self.step()?;
            self.report(&row, progress);
            let end = self.end_after(&row);
            let step = row.step;
            self.rows.push(row);
            self.next_step += 1;
            taken += 1;
            faults::step_recorded(step);
            if let Some(status) = end {
                self.save(&status)?;
                return Ok(status);
            }
            if self
                .next_step
                .is_multiple_of(self.config.training.checkpoint_every)
            {
                self.save(&RunStatus::Running)?;
            }
        }
        let status = RunStatus::Completed {
            steps: self.config.training.max_steps,
        };
        self.save(&status)?;
        Ok(status)
    }

    /// Writes a checkpoint and fails with [`Interrupted`] when `interrupt` was requested.
    fn stop_if_interrupted(&self, interrupt: &Interrupt) -> Result<()> {
        if !interrupt.is_requested() {
            return Ok(());
        }
        self.save(&RunStatus::Running)?;
        Err(Interrupted {
            run_id: self.dir.id().to_string(),
            steps_done: self.next_step,
        }
        .into())
    }

    /// Reports the step of `row`, with the latest λ_max measured so far.
    fn report(&self, row: &Row, progress: &mut dyn FnMut(&Progress)) {
        progress(&Progress {
            run_id: self.dir.id(),
            step: row.step + 1,
            max_steps: self.config.training.max_steps,
            loss: row.loss,
            eta: row.eta,
            lambda_max: row
                .lambda_max
                .or_else(|| self.rows.iter().rev().find_map(|r| r.lambda_max)),
        });
    }

    /// How the run ends after `row`, if it does: diverged (see [`Run::is_divergent`]), or
    /// completed early because the loss reached `training.loss_goal`.
    fn end_after(&self, row: &Row) -> Option<RunStatus> {
        if self.is_divergent(row.loss) {
            return Some(RunStatus::Diverged {
                step: row.step,
                loss: row.loss,
            });
        }
        let goal = self.config.training.loss_goal;
        goal.is_some_and(|goal| row.loss <= goal)
            .then_some(RunStatus::Completed {
                steps: row.step + 1,
            })
    }

    /// Whether `loss` means divergence: non-finite, or above `training.divergence_threshold`.
    pub(super) fn is_divergent(&self, loss: f64) -> bool {
        !loss.is_finite() || loss > self.config.training.divergence_threshold
    }
}
