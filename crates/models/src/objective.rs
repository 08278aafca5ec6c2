//! A network with its training loss and the chunk size its evaluations run in: the typed
//! entry point for the loss `L(w) = Σ_c (n_c/n)·mean_loss_c`, its gradient and its curvature
//! on any examples (evaluations are in `evaluate.rs`).

use candle_core::Tensor;

use crate::chunks::chunk_ranges;
use crate::closed_form::backprop::MlpCurvature;
use crate::{Loss, ModelError, Network};

/// Whether an evaluation also computes the flat gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gradient {
    /// The loss and its flat gradient (one backward pass per chunk, or an MLP's written-out
    /// backpropagation).
    Compute,
    /// The loss and accuracy only (forward passes).
    Skip,
}

/// A network, its loss and the number of examples per chunk: the objective
/// `L(w) = Σ_c (n_c/n)·mean_loss_c` over consecutive chunks `c` of `chunk_size` examples
/// ([`crate::chunk_ranges`]), whose graphs are built and dropped one chunk at a time so that
/// memory stays bounded.
///
/// Evaluations ([`Objective::evaluate`], [`Objective::chunk_losses`],
/// [`Objective::chunk_loss`]) take the examples and the [`crate::BatchNormMode`] of their
/// forward passes; an MLP's exact curvature comes from [`Objective::curvature`].
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use stepsharp_models::{Architecture, BatchNormMode, Gradient, Loss, Network, Objective};
/// # fn main() -> Result<(), stepsharp_models::ModelError> {
/// let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F64, &Device::Cpu)?;
/// let objective = Objective::new(net, Loss::Mse, 4)?;
/// let x = Tensor::rand(0f64, 1.0, (6, 3072), &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1, 2, 3, 4, 5], &Device::Cpu)?;
/// assert_eq!(objective.chunk_count(6), 2);
/// let at_w0 = objective.evaluate(&x, &y, BatchNormMode::Train, Gradient::Compute)?;
/// let chunks = objective.chunk_losses(&x, &y, BatchNormMode::Train)?;
/// let summed: f64 = chunks.iter().map(|c| c.to_scalar::<f64>().unwrap()).sum();
/// assert!((summed - at_w0.loss).abs() < 1e-12);
/// assert!(at_w0.gradient.is_some());
/// # Ok(()) }
/// ```
pub struct Objective {
    network: Network,
    loss: Loss,
    chunk_size: usize,
}

impl Objective {
    /// `network` trained on `loss`, evaluated in chunks of `chunk_size` examples (at least 1,
    /// else [`ModelError::InvalidConfig`]).
    pub fn new(network: Network, loss: Loss, chunk_size: usize) -> Result<Self, ModelError> {
        chunk_ranges(1, chunk_size)?; // the chunk size check of every evaluation
        Ok(Self {
            network,
            loss,
            chunk_size,
        })
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Examples per chunk.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The number of chunks of `examples` examples: one forward pass each.
    pub fn chunk_count(&self, examples: usize) -> usize {
        examples.div_ceil(self.chunk_size)
    }

    /// For an MLP (else an error): its forward and backward passes on `inputs` ((n, 3072) or
    /// images (n, 3, 32, 32)) and `labels` (n,), chunk by chunk, kept for exact
    /// Hessian-vector products by the R-operator ([`MlpCurvature`]).
    pub fn curvature(
        &self,
        inputs: &Tensor,
        labels: &Tensor,
    ) -> Result<MlpCurvature<'_>, ModelError> {
        MlpCurvature::new(&self.network, inputs, labels, self.loss, self.chunk_size)
    }
}
