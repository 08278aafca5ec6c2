//! One training step ([`Run::step`]), in its phases:
//!
//! 1. **direction**: take the batch; compute `f(w_t)` and `g_t` (BatchNorm statistics
//!    update here only) and the direction's update `u_t` with its slope `g_tᵀu_t` (`−g_t`
//!    for gradient descent; a non-descent update is handled by the rule's policy); a
//!    non-finite loss or one above the threshold ends the step here ("diverged at step t");
//! 2. **measure**: on measured steps λ_max at `w_t` on the fixed evaluation set, Adam's
//!    preconditioned λ_max(P⁻¹H), and the directional sharpness along `u` (and the trace, the
//!    density, test metrics on their schedules);
//! 3. **stepsize**: the rule chooses `η_t` (line-search trials evaluate `f(w_t + ηu)` on
//!    the same or an independent batch);
//! 4. **update**: `w_{t+1} = w_t + η_t·u`;
//! 5. **record**: the step's trajectory row (with the direction's stability threshold at
//!    `η_t` and the edge ratio on measured steps), with the run's counters and timers so far.
//!
//! Phases 1, 3 and 4 are timed as training, phase 2 as tracking.

use std::time::Instant;

use candle_core::{DType, Tensor};
use stepsharp_direction::{DirectionConfig, NonDescentAction, RelevantSharpness};
use stepsharp_models::{Gradient, LineOrigin, plus_scaled};
use stepsharp_sharpness::Measurement;
use stepsharp_stepsize::{StepContext, StepRecord};

use super::oracle::{ParameterOracle, Trials};
use super::run::Run;
use crate::density::density_lines;
use crate::error::{Context, Result};
use crate::problem::{Examples, Problem, RunningStatistics};
use crate::tracking::SharpnessReading;
use crate::trajectory::Row;

/// The gradient evaluation that starts step `t`, at `w_t`.
struct Descent {
    /// The step's batch.
    batch: Examples,
    /// Its epoch.
    epoch: u64,
    /// A copy of the parameters `w_t`.
    w: Tensor,
    /// `f(w_t)` on the batch.
    loss: f64,
    /// Accuracy on the batch.
    accuracy: f64,
    /// `‖g_t‖²`.
    grad_norm_sq: f64,
    /// The update `u_t` (`−g_t` for gradient descent).
    update: Tensor,
    /// The slope `g_tᵀu_t`.
    slope: f64,
    /// What the rule's non-descent policy did, when `u_t` was not a descent direction.
    non_descent: Option<NonDescentAction>,
    /// What line-search trials along `u` on the same batch can reuse (MLPs).
    line_origin: Option<LineOrigin>,
}

impl Descent {
    /// The row of step `step` before the stepsize is chosen (`eta` NaN, no trials).
    fn row(&self, step: usize) -> Row {
        Row {
            step,
            epoch: self.epoch,
            loss: self.loss,
            accuracy: self.accuracy,
            eta: f64::NAN,
            trials: 0,
            grad_norm: self.grad_norm_sq.sqrt(),
            ..Row::default()
        }
    }
}

impl Run<'_> {
    /// Step `next_step`; returns its row (with `eta` NaN when the loss already diverged).
    pub(super) fn step(&mut self) -> Result<Row> {
        let started = Instant::now();
        let descent = self.propose()?;
        let mut row = descent.row(self.next_step);
        if self.is_divergent(descent.loss) {
            self.write_totals(&mut row);
            return Ok(row);
        }
        self.timers.add_training(started);
        let reading = self.measure(&descent, &mut row)?;
        let stepping = Instant::now();
        let record = self.choose_stepsize(&descent)?;
        self.update(&descent, record.eta)?;
        self.timers.add_training(stepping);
        row.non_descent = descent.non_descent;
        row.slope = Some(descent.slope);
        self.record(&mut row, record, reading)?;
        Ok(row)
    }

    /// Phase 1, direction: the next batch, `w_t`, `f(w_t)`, `g_t` with BatchNorm statistics
    /// updated, and the direction's update `u_t` (its state advances). One backward pass per
    /// forward pass (chunk).
    fn propose(&mut self) -> Result<Descent> {
        let (batch, epoch) = self.batches.next_training()?;
        let w = self.problem.flat_parameters()?;
        let measured =
            self.problem
                .measure(&batch, Gradient::Compute, RunningStatistics::Update)?;
        self.counters.forward_passes += measured.forward_passes;
        self.counters.backward_passes += measured.forward_passes;
        let gradient = measured.gradient.context("gradient missing")?;
        let action = self
            .config
            .direction()
            .non_descent()
            .for_rule(self.rule.config().name())
            .unwrap_or(NonDescentAction::Proceed);
        let update = self.direction.step(&gradient, action)?;
        // Gradient descent's slope is −Σ g⊙g, summed as ‖g‖² is: no second pass.
        let grad_norm_sq = match self.direction.config() {
            DirectionConfig::GradientDescent => -update.slope,
            _ => to_f64(&gradient.sqr()?.sum_all()?)?,
        };
        Ok(Descent {
            batch,
            epoch,
            w,
            loss: measured.loss,
            accuracy: measured.accuracy,
            grad_norm_sq,
            update: update.update,
            slope: update.slope,
            non_descent: update.non_descent,
            line_origin: measured.line_origin,
        })
    }

    /// Phase 2, measure: the sharpness estimates due at this step (returned) and the test
    /// metrics (written into `row`), timed as tracking.
    fn measure(&mut self, descent: &Descent, row: &mut Row) -> Result<Option<SharpnessReading>> {
        let started = Instant::now();
        let t = self.next_step;
        let due = self.config.sharpness.due(t, self.config.training.max_steps);
        let reading = if due.any() {
            let eval = self.batches.eval();
            let preconditioner = match due.spectrum {
                true => self.direction.inverse_root_preconditioner()?,
                false => None,
            };
            let measurement = Measurement {
                index: t as u64,
                due,
                direction: Some(&descent.update),
                preconditioner: preconditioner.as_ref(),
            };
            let reading = self.tracking.measure(&self.problem, eval, &measurement)?;
            self.counters.add_reading(&reading);
            Some(reading)
        } else {
            None
        };
        self.test(row)?;
        self.timers.add_tracking(started);
        Ok(reading)
    }

    /// Test loss and accuracy into `row`, when `training.test` fires at this step.
    fn test(&mut self, row: &mut Row) -> Result<()> {
        let training = &self.config.training;
        if !training.test.fires(self.next_step, training.max_steps) {
            return Ok(());
        }
        if let Some(test) = self.batches.test_set() {
            let (loss, accuracy) = self.problem.test(&Examples::all(test))?;
            self.counters.forward_passes += test.len().div_ceil(training.chunk_size) as u64;
            row.test_loss = Some(loss);
            row.test_accuracy = Some(accuracy);
        }
        Ok(())
    }

    /// Phase 3, stepsize: the rule's `η_t` and its record. Trials on the step's own batch
    /// reuse its gradient evaluation (an MLP's first layer); an oracle error is reported
    /// before the rule's.
    fn choose_stepsize(&mut self, descent: &Descent) -> Result<StepRecord> {
        let t = self.next_step;
        let trial_batch = self.batches.next_line_search()?;
        let context = StepContext {
            loss: descent.loss,
            slope: descent.slope,
        };
        let trials = match (&trial_batch, &descent.line_origin, &self.problem) {
            (None, Some(origin), Problem::Network(objective)) => Trials::line(objective, origin),
            _ => Trials::Forward(trial_batch.as_ref().unwrap_or(&descent.batch)),
        };
        let mut oracle = ParameterOracle::new(
            &self.problem,
            &descent.w,
            &descent.update,
            trials,
            &descent.batch,
        );
        let record = self.rule.step(&context, &mut oracle);
        let spent = oracle
            .finish()
            .with_context(|| format!("evaluating the stepsize oracle at step {t}"))?;
        let record = record.with_context(|| format!("stepsize rule failed at step {t}"))?;
        self.counters.forward_passes += spent.forward_passes;
        self.counters.backward_passes += spent.hvps;
        self.counters.hvps += spent.hvps;
        Ok(record)
    }

    /// Phase 4, update: `w_{t+1} = w_t + η_t·u_t`.
    fn update(&self, descent: &Descent, eta: f64) -> Result<()> {
        let w_next = plus_scaled(&descent.w, eta, &descent.update)?;
        self.problem.set_flat_parameters(&w_next)
    }

    /// Phase 5, record: the rule's record, the sharpness reading (and its density lines)
    /// and the totals so far into `row`.
    fn record(
        &mut self,
        row: &mut Row,
        record: StepRecord,
        reading: Option<SharpnessReading>,
    ) -> Result<()> {
        row.eta = record.eta;
        row.trials = record.trials;
        row.failed = record.failed;
        row.diagnostics = serde_json::to_string(&record.diagnostics)?;
        if let Some(reading) = reading {
            self.record_reading(row, reading);
        }
        self.write_totals(row);
        Ok(())
    }

    /// Writes the estimates of step `row.step` into its row (and the density's lines).
    fn record_reading(&mut self, row: &mut Row, reading: SharpnessReading) {
        row.eval_loss = Some(reading.eval_loss);
        let estimates = reading.estimates;
        if let Some(spectrum) = estimates.spectrum {
            let hessian = &spectrum.hessian;
            let lambda = hessian.eigenvalues[0];
            row.lambda_max = Some(lambda);
            let top_k: Vec<String> = hessian
                .eigenvalues
                .iter()
                .map(|v| format!("{v:e}"))
                .collect();
            row.top_k = Some(top_k.join(";"));
            row.residual = Some(hessian.residuals[0]);
            row.converged = Some(hessian.converged);
            row.eta_lambda = Some(row.eta * lambda);
            row.directional = spectrum.directional.as_ref().map(|d| d.normalized);
            row.lambda_hvps = Some(hessian.hvps as u64);
            if let Some(preconditioned) = &spectrum.preconditioned {
                row.preconditioned_lambda_max = Some(preconditioned.eigenvalues[0]);
                row.preconditioned_residual = Some(preconditioned.residuals[0]);
                row.preconditioned_converged = Some(preconditioned.converged);
                row.preconditioned_hvps = Some(preconditioned.hvps as u64);
            }
            let relevant = match self.direction.config().relevant_sharpness() {
                RelevantSharpness::Hessian => Some(lambda),
                RelevantSharpness::Preconditioned => row.preconditioned_lambda_max,
            };
            row.stability_threshold = Some(self.direction.stability_threshold(row.eta));
            row.edge_ratio =
                relevant.map(|lambda| row.eta * lambda / self.direction.stability_limit());
        }
        if let Some(trace) = estimates.trace {
            row.trace = Some(trace.value);
            row.trace_standard_error = Some(trace.standard_error);
            row.trace_hvps = Some(trace.hvps as u64);
        }
        if let Some(density) = estimates.density {
            row.density_hvps = Some(density.hvps as u64);
            self.densities.extend(density_lines(row.step, &density));
        }
    }

    /// The run's counters and timers so far into `row`.
    fn write_totals(&self, row: &mut Row) {
        self.counters.write_to(row);
        self.timers.write_to(row);
    }
}

fn to_f64(scalar: &Tensor) -> Result<f64> {
    Ok(scalar.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}
