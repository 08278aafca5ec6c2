//! The stepsharp side of the benchmark: what each operation runs, on one precision's network.

use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use stepsharp_direction::{AdamConfig, Direction, DirectionConfig, NonDescentAction};
use stepsharp_models::{
    Architecture, BatchNormMode, LineLoss, Loss, MlpCurvature, Network, ResNetDepth, evaluate,
};
use stepsharp_sharpness::{
    DiagonallyScaled, HessianOperator, LanczosConfig, LinearOperator, ProductOperator, lanczos,
};

use super::reference::{Reference, SEED};

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

/// The benchmarked network.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Debug)]
pub(super) enum Model {
    /// Figure 3's MLP 3072-200-200-10 (tanh, biases).
    Mlp,
    /// ResNet-20, width 16, BatchNorm with batch statistics, option-B shortcuts.
    Resnet20,
    /// VGG-11, width 64, BatchNorm with batch statistics, one linear head.
    Vgg11,
}

impl Model {
    pub(super) fn architecture(self) -> Architecture {
        match self {
            Model::Mlp => Architecture::mlp_cohen(),
            Model::Resnet20 => Architecture::resnet(ResNetDepth::ResNet20, true),
            Model::Vgg11 => Architecture::vgg11(true),
        }
    }

    /// The name `jax_bench.py --model` takes.
    pub(super) fn name(self) -> &'static str {
        match self {
            Model::Mlp => "mlp",
            Model::Resnet20 => "resnet20",
            Model::Vgg11 => "vgg11",
        }
    }

    pub(super) fn description(self) -> &'static str {
        match self {
            Model::Mlp => "MLP 3072-200-200-10 tanh, MSE",
            Model::Resnet20 => "ResNet-20 (width 16, BatchNorm with batch statistics), MSE",
            Model::Vgg11 => "VGG-11 (width 64, BatchNorm with batch statistics), MSE",
        }
    }

    /// Examples in the batch when `--examples` is not given.
    pub(super) fn default_examples(self) -> usize {
        match self {
            Model::Mlp => 1000,
            Model::Resnet20 | Model::Vgg11 => 64,
        }
    }

    /// Whether the operation exists for this network (line-search trials reuse an MLP's first
    /// layer, [`LineLoss`]; a CNN's products are by double backward already).
    pub(super) fn supports(self, operation: Operation) -> bool {
        self == Model::Mlp
            || !matches!(
                operation,
                Operation::FirstTrial | Operation::FurtherTrial | Operation::HvpDoubleBackward
            )
    }
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq)]
pub(super) enum Precision {
    F32,
    F64,
}

impl Precision {
    pub(super) fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

/// A timed operation, with the name of its JAX counterpart when there is one.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq)]
pub(super) enum Operation {
    /// Loss and gradient (`evaluate` with the gradient; `jax.value_and_grad`).
    ValueAndGradient,
    /// Loss, gradient and the update `w − η∇f` (a full-batch gradient-descent step).
    GradientStep,
    /// A line search's first trial `f(w + t·d)`, which builds the [`LineLoss`] (JAX: a forward
    /// pass at `w + t·d`).
    FirstTrial,
    /// A further trial on the same line (JAX: a forward pass at `w + t·d`).
    FurtherTrial,
    /// What an HVP needs at `w` (an MLP's forward and backward pass for its R-operator, a
    /// CNN's gradient graph) and one HVP (JAX: `jvp(grad)` from scratch).
    HvpFromScratch,
    /// One HVP on what `HvpFromScratch` built (an MLP's R-operator, a CNN's kept gradient
    /// graph; JAX: a jitted `jax.linearize` of the gradient).
    HvpReused,
    /// MLP only: one HVP by double backward through a kept gradient graph, the generic path
    /// the R-operator replaces (JAX: as `HvpReused`).
    HvpDoubleBackward,
    /// A 20-step Lanczos on the operator of `HvpReused` (JAX: 20 `jvp(grad)` with full
    /// reorthogonalisation, jitted as one loop).
    Lanczos,
    /// Loss, gradient, Adam's update (moments, bias corrections, `−m̂/(√v̂ + ε)`) and
    /// `w + η·u` (JAX: the same, written out in `jnp`).
    AdamStep,
    /// One product `D·H·D` with a positive diagonal `D` on the operator of `HvpReused`: the
    /// preconditioned sharpness' product (JAX: `d ⊙ linearized(d ⊙ v)`).
    HvpPreconditioned,
}

impl Operation {
    pub(super) const ALL: [Operation; 10] = [
        Operation::ValueAndGradient,
        Operation::GradientStep,
        Operation::AdamStep,
        Operation::FirstTrial,
        Operation::FurtherTrial,
        Operation::HvpFromScratch,
        Operation::HvpReused,
        Operation::HvpDoubleBackward,
        Operation::HvpPreconditioned,
        Operation::Lanczos,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Operation::ValueAndGradient => "value + gradient",
            Operation::GradientStep => "GD step",
            Operation::FirstTrial => "line-search trial, first",
            Operation::FurtherTrial => "line-search trial, further",
            Operation::HvpFromScratch => "HVP from scratch",
            Operation::HvpReused => "HVP, reused",
            Operation::HvpDoubleBackward => "HVP, double backward",
            Operation::Lanczos => "Lanczos, 20 steps",
            Operation::AdamStep => "Adam step",
            Operation::HvpPreconditioned => "HVP, preconditioned",
        }
    }

    pub(super) fn jax_name(self) -> &'static str {
        match self {
            Operation::ValueAndGradient => "value_and_grad",
            Operation::GradientStep => "gd_step",
            Operation::FirstTrial | Operation::FurtherTrial => "trial",
            Operation::HvpFromScratch => "hvp",
            Operation::HvpReused | Operation::HvpDoubleBackward => "hvp_linearized",
            Operation::Lanczos => "lanczos",
            Operation::AdamStep => "adam_step",
            Operation::HvpPreconditioned => "hvp_preconditioned",
        }
    }
}

/// The network, data, direction and probe of one precision.
pub(super) struct Subject {
    model: Model,
    net: Network,
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
        let net = Network::new(&architecture, 10, SEED, dtype, &Device::Cpu)?;
        net.set_flat_parameters(&reference.weights.to_dtype(dtype)?)?;
        let direction = reference.direction.to_dtype(dtype)?;
        let scaling = direction
            .abs()?
            .affine(1.0, PRECONDITIONER_FLOOR)?
            .sqrt()?
            .recip()?;
        Ok(Self {
            model: reference.model,
            net,
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

    fn examples(&self) -> usize {
        self.labels.dims()[0]
    }

    fn gradient_evaluation(&self) -> anyhow::Result<stepsharp_models::Evaluation> {
        let n = self.examples();
        Ok(evaluate(
            &self.net,
            &self.inputs,
            &self.labels,
            Loss::Mse,
            n,
            BatchNormMode::Train,
            true,
        )?)
    }

    /// Double backward through a kept gradient graph.
    fn double_backward(&self) -> anyhow::Result<HessianOperator> {
        let logits = self.net.forward(&self.inputs, BatchNormMode::Train)?;
        let loss = stepsharp_models::loss(&logits, &self.labels, Loss::Mse)?;
        Ok(HessianOperator::new(self.net.parameters(), &[loss])?)
    }

    /// Times a product operation (`started` when its setup began) on the operator stepsharp's
    /// runs use: an MLP's R-operator ([`MlpCurvature`]), a CNN's double backward.
    fn time_products(&self, operation: Operation, started: Instant) -> anyhow::Result<(f64, f64)> {
        if self.model == Model::Mlp && operation != Operation::HvpDoubleBackward {
            let n = self.examples();
            let curvature = MlpCurvature::new(&self.net, &self.inputs, &self.labels, Loss::Mse, n)?;
            let operator = ProductOperator::new(self.net.parameters(), |v| {
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
            .then(|| self.net.flat_parameters())
            .transpose()?;
        let started = Instant::now();
        let value = match operation {
            Operation::ValueAndGradient => self.gradient_evaluation()?.loss,
            Operation::GradientStep => {
                let evaluation = self.gradient_evaluation()?;
                let gradient = evaluation.gradient.context("gradient")?;
                self.net.add_scaled(-GD_STEPSIZE, &gradient)?;
                evaluation.loss
            }
            Operation::AdamStep => {
                let evaluation = self.gradient_evaluation()?;
                let gradient = evaluation.gradient.context("gradient")?;
                let update = self
                    .adam
                    .borrow_mut()
                    .step(&gradient, NonDescentAction::Proceed)?;
                self.net.add_scaled(ADAM_STEPSIZE, &update.update)?;
                evaluation.loss
            }
            Operation::FirstTrial | Operation::FurtherTrial => {
                let evaluation = self.gradient_evaluation()?;
                let origin = evaluation.line_origin.context("an MLP keeps its origin")?;
                let started_line = Instant::now();
                let line = LineLoss::new(&self.net, &origin, &self.direction)?;
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
            self.net.set_flat_parameters(&w0)?;
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

/// The sum of a flat vector's entries (JAX's script returns the same value for its HVPs).
fn entry_sum(flat: &Tensor) -> anyhow::Result<f64> {
    Ok(flat.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?)
}
