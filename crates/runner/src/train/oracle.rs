//! The stepsize rule's oracles over the model's parameters ([`ParameterOracle`]): the loss at
//! a trial stepsize and the curvature along the update.

use candle_core::Tensor;
use stepsharp_models::{Gradient, LineLoss, LineOrigin, Objective, plus_scaled};
use stepsharp_stepsize::Oracle;

use crate::error::{Error, Result};
use crate::problem::{Examples, Problem, RunningStatistics};
use crate::tracking::curvature_along;

/// How [`ParameterOracle`] evaluates `φ(η)`.
pub(super) enum Trials<'a> {
    /// On the step's batch, along the [`LineLoss`] built (on the first trial) from the gradient
    /// evaluation's origin: the parameters do not move.
    Line {
        objective: &'a Objective,
        origin: &'a LineOrigin,
        line: Option<LineLoss>,
    },
    /// Moving the parameters to `w_t + ηu` and running a forward pass on these examples.
    Forward(&'a Examples),
}

impl<'a> Trials<'a> {
    /// Trials along the line through the gradient evaluation that returned `origin`.
    pub(super) fn line(objective: &'a Objective, origin: &'a LineOrigin) -> Self {
        Trials::Line {
            objective,
            origin,
            line: None,
        }
    }
}

/// What the oracle's evaluations cost.
pub(super) struct OracleCost {
    /// Forward passes of the trials (one per chunk and trial).
    pub(super) forward_passes: u64,
    /// HVPs of the curvature oracle (each also one backward pass).
    pub(super) hvps: u64,
}

/// The stepsize oracles over the model's parameters: `φ(η) = f(w_t + ηu)` on the trial batch
/// (BatchNorm without statistics update) and `uᵀHu` by one exact HVP on the step's batch.
/// Errors are kept and reported by [`ParameterOracle::finish`] (the rule sees NaN). Every
/// trial counts as one forward pass per chunk, also along a [`LineLoss`], where it costs a
/// fraction of one.
pub(super) struct ParameterOracle<'a> {
    problem: &'a Problem,
    w0: &'a Tensor,
    direction: &'a Tensor,
    trials: Trials<'a>,
    curvature_batch: &'a Examples,
    moved: bool,
    cost: OracleCost,
    error: Option<Error>,
}

impl<'a> ParameterOracle<'a> {
    /// The oracles at `w0` along `direction`: trials as `trials` says, the curvature on
    /// `curvature_batch` (the step's batch).
    pub(super) fn new(
        problem: &'a Problem,
        w0: &'a Tensor,
        direction: &'a Tensor,
        trials: Trials<'a>,
        curvature_batch: &'a Examples,
    ) -> Self {
        Self {
            problem,
            w0,
            direction,
            trials,
            curvature_batch,
            moved: false,
            cost: OracleCost {
                forward_passes: 0,
                hvps: 0,
            },
            error: None,
        }
    }

    /// What the evaluations cost, or the first error one of them hit.
    pub(super) fn finish(self) -> Result<OracleCost> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.cost),
        }
    }

    fn try_loss_at(&mut self, eta: f64) -> Result<f64> {
        match &mut self.trials {
            Trials::Line {
                objective,
                origin,
                line,
            } => {
                if line.is_none() {
                    *line = Some(LineLoss::new(objective.network(), origin, self.direction)?);
                }
                let line = line.as_ref().expect("built above");
                self.cost.forward_passes += self.problem.chunk_count(self.curvature_batch) as u64;
                Ok(line.loss_at(eta)?)
            }
            Trials::Forward(batch) => {
                let trial = plus_scaled(self.w0, eta, self.direction)?;
                self.problem.set_flat_parameters(&trial)?;
                self.moved = true;
                let measured =
                    self.problem
                        .measure(batch, Gradient::Skip, RunningStatistics::Keep)?;
                self.cost.forward_passes += measured.forward_passes;
                Ok(measured.loss)
            }
        }
    }

    fn try_curvature(&mut self) -> Result<f64> {
        if self.moved {
            self.problem.set_flat_parameters(self.w0)?;
            self.moved = false;
        }
        self.cost.hvps += 1;
        curvature_along(self.problem, self.curvature_batch, self.direction)
    }
}

impl Oracle for ParameterOracle<'_> {
    fn loss_at(&mut self, eta: f64) -> f64 {
        self.try_loss_at(eta).unwrap_or_else(|error| {
            self.error.get_or_insert(error);
            f64::NAN
        })
    }

    fn curvature(&mut self) -> f64 {
        self.try_curvature().unwrap_or_else(|error| {
            self.error.get_or_insert(error);
            f64::NAN
        })
    }
}
