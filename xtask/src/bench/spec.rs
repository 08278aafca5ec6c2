//! What the benchmark times, shared by both sides: the networks, the operations and the seed
//! of the weights, direction and probe.

#[cfg(doc)]
use stepsharp_models::LineLoss;
use stepsharp_models::{Architecture, ResNetDepth};

/// Seed of the network's weights, the direction and the probe.
pub(super) const SEED: u64 = 0;

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
