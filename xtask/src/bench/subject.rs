//! The stepsharp side of the benchmark: what each operation runs, on one precision's network.

use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use stepsharp_data::NUM_CLASSES;
use stepsharp_direction::{AdamConfig, Direction, DirectionConfig, NonDescentAction};
use stepsharp_models::{BatchNormMode, Gradient, LineLoss, Loss, Network, Objective};
use stepsharp_sharpness::{
    DiagonallyScaled, HessianOperator, LanczosConfig, LinearOperator, ProductOperator, lanczos,
};

use super::reference::Reference;
use super::spec::{Model, Operation, SEED};

/// Stepsize of the timed gradient-descent step (figure 3's tuned constant).
const GD_STEPSIZE: f64 = 0.04;
/// Trial stepsize of the timed line-search trial.
const TRIAL_STEPSIZE: f64 = 0.01;
/// Stepsize of the timed Adam step (the adaptive-eos experiment's middle one).
const ADAM_STEPSIZE: f64 = 3e-4;
/// The preconditioned product's diagonal is `1/√(|d| + PRECONDITIONER_FLOOR)` for the
/// line-search direction `d` (an Adam-like `P^{−1/2}`; the JAX script builds the same).
pub(super) const PRECONDITIONER_FLOOR: f64 = 1e-3;
/// Lanczos steps timed (the reference script runs the same number).
pub(super) const LANCZOS_STEPS: usize = 20;

/// The network, data, direction and probe of one precision.
pub(super) struct Subject {
    model: Model,
    /// The network with MSE, evaluated as one chunk.
    objective: Objective,
    inputs: Tensor,
    labels: Tensor,
    direction: Tensor,
    probe: Tensor,
    /// The diagonal of the preconditioned product.
    scaling: Tensor,
    /// Adam's direction, its moments carried from one timed step to the next.
    adam: std::cell::RefCell<Direction<Tensor>>,
}

impl Subject {
    /// The f64 weights `weights` (and direction, probe) converted to `dtype`.
    pub(super) fn new(reference: &Reference, dtype: DType) -> anyhow::Result<Self> {
        let architecture = reference.model.architecture();
        let net = Network::new(&architecture, NUM_CLASSES, SEED, dtype, &Device::Cpu)?;
        net.set_flat_parameters(&reference.weights.to_dtype(dtype)?)?;
        let direction = reference.direction.to_dtype(dtype)?;
        let scaling = direction
            .abs()?
            .affine(1.0, PRECONDITIONER_FLOOR)?
            .sqrt()?
            .recip()?;
        Ok(Self {
            model: reference.model,
            objective: Objective::new(net, Loss::Mse, reference.labels.dims()[0])?,
            inputs: reference.inputs.to_dtype(dtype)?,
            labels: reference.labels.clone(),
            direction,
            probe: reference.probe.to_dtype(dtype)?,
            scaling,
            adam: std::cell::RefCell::new(Direction::new(DirectionConfig::Adam(
                AdamConfig::default(),
            ))?),
        })
    }

    fn net(&self) -> &Network {
        self.objective.network()
    }

    fn gradient_evaluation(&self) -> anyhow::Result<stepsharp_models::Evaluation> {
        Ok(self.objective.evaluate(
            &self.inputs,
            &self.labels,
            BatchNormMode::Train,
            Gradient::Compute,
        )?)
    }

    /// Double backward through a kept gradient graph.
    fn double_backward(&self) -> anyhow::Result<HessianOperator> {
        let logits = self.net().forward(&self.inputs, BatchNormMode::Train)?;
        let loss = stepsharp_models::loss(&logits, &self.labels, Loss::Mse)?;
        Ok(HessianOperator::new(self.net().parameters(), &[loss])?)
    }

    /// Times a product operation (`started` when its setup began) on the operator stepsharp's
    /// runs use: an MLP's R-operator ([`stepsharp_models::MlpCurvature`]), a CNN's double
    /// backward.
    fn time_products(&self, operation: Operation, started: Instant) -> anyhow::Result<(f64, f64)> {
        if self.model == Model::Mlp && operation != Operation::HvpDoubleBackward {
            let curvature = self.objective.curvature(&self.inputs, &self.labels)?;
            let operator = ProductOperator::new(self.net().parameters(), |v| {
                curvature.hessian_vector_product(v)
            })?;
            self.time_on(operator, operation, started)
        } else {
            self.time_on(self.double_backward()?, operation, started)
        }
    }

    /// Runs `operation` once; returns its seconds and a value to compare with JAX's.
    pub(super) fn time(&self, operation: Operation) -> anyhow::Result<(f64, f64)> {
        // The GD and Adam steps move the parameters: keep them to restore after timing.
        let w0 = matches!(operation, Operation::GradientStep | Operation::AdamStep)
            .then(|| self.net().flat_parameters())
            .transpose()?;
        let started = Instant::now();
        let value = match operation {
            Operation::ValueAndGradient => self.gradient_evaluation()?.loss,
            Operation::GradientStep => {
                let evaluation = self.gradient_evaluation()?;
                let gradient = evaluation.gradient.context("gradient")?;
                self.net().add_scaled(-GD_STEPSIZE, &gradient)?;
                evaluation.loss
            }
            Operation::AdamStep => {
                let evaluation = self.gradient_evaluation()?;
                let gradient = evaluation.gradient.context("gradient")?;
                let update = self
                    .adam
                    .borrow_mut()
                    .step(&gradient, NonDescentAction::Proceed)?;
                self.net().add_scaled(ADAM_STEPSIZE, &update.update)?;
                evaluation.loss
            }
            Operation::FirstTrial | Operation::FurtherTrial => {
                let evaluation = self.gradient_evaluation()?;
                let origin = evaluation.line_origin.context("an MLP keeps its origin")?;
                let started_line = Instant::now();
                let line = LineLoss::new(self.net(), &origin, &self.direction)?;
                let first = line.loss_at(TRIAL_STEPSIZE)?;
                let value = if operation == Operation::FirstTrial {
                    first
                } else {
                    let further = Instant::now();
                    let value = line.loss_at(TRIAL_STEPSIZE)?;
                    return Ok((further.elapsed().as_secs_f64(), value));
                };
                return Ok((started_line.elapsed().as_secs_f64(), value));
            }
            Operation::HvpFromScratch
            | Operation::HvpReused
            | Operation::HvpDoubleBackward
            | Operation::HvpPreconditioned
            | Operation::Lanczos => return self.time_products(operation, started),
        };
        let seconds = started.elapsed().as_secs_f64();
        if let Some(w0) = w0 {
            self.net().set_flat_parameters(&w0)?;
        }
        Ok((seconds, value))
    }
}

impl Subject {
    /// Runs a product `operation` on `hessian` (built since `started`): seconds and value.
    fn time_on<O: LinearOperator<Vector = Tensor>>(
        &self,
        mut hessian: O,
        operation: Operation,
        started: Instant,
    ) -> anyhow::Result<(f64, f64)> {
        let probe = &self.probe;
        let reused = Instant::now();
        let value = match operation {
            Operation::Lanczos => {
                let config = LanczosConfig {
                    k: 1,
                    max_iterations: LANCZOS_STEPS,
                    tolerance: f64::MIN_POSITIVE,
                    seed: SEED,
                };
                lanczos(&mut hessian, &config, Some(probe))?.lambda_max()
            }
            Operation::HvpPreconditioned => {
                let mut scaled = DiagonallyScaled::new(&mut hessian, self.scaling.clone())?;
                let reused = Instant::now();
                let value = entry_sum(&scaled.apply(probe)?)?;
                return Ok((reused.elapsed().as_secs_f64(), value));
            }
            _ => entry_sum(&hessian.apply(probe)?)?,
        };
        let since = if operation == Operation::HvpFromScratch || operation == Operation::Lanczos {
            started
        } else {
            reused
        };
        Ok((since.elapsed().as_secs_f64(), value))
    }
}

/// The sum of a flat vector's entries, in its own dtype, as JAX's script sums its HVPs (timed
/// on both sides: the value that lets the two be compared).
fn entry_sum(flat: &Tensor) -> anyhow::Result<f64> {
    Ok(flat.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}
