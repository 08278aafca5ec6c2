//! Full-dataset loss, accuracy and gradient of an [`Objective`] in fixed chunks, and its
//! per-chunk losses with their graphs.

use candle_core::Tensor;

use crate::chunks::{
    ChunkExamples, ChunkSum, chunk_examples, chunk_ranges, example_count, for_each_chunk_examples,
};
use crate::closed_form::backprop::for_each_mlp_chunk;
use crate::closed_form::line::{LineOrigin, OriginChunk};
use crate::loss::correct;
use crate::{BatchNormMode, Gradient, Loss, ModelError, Network, Objective, loss};

/// Loss, accuracy and optionally the gradient of a network on a dataset.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// L = Σ_c (n_c/n)·mean_loss_c over the chunks c (= the mean loss over all examples).
    pub loss: f64,
    /// Fraction of correctly classified examples.
    pub accuracy: f64,
    /// ∇L as a flat tensor in [`Network::parameters`] order (detached), if requested.
    pub gradient: Option<Tensor>,
    /// For an MLP whose gradient was requested: the examples with the first layer's outputs at
    /// these parameters, from which [`crate::LineLoss`] evaluates a line search's trials.
    pub line_origin: Option<LineOrigin>,
}

/// Runs `f(chunk)` on every chunk (see [`ChunkTerm`]). Inputs are moved to the network's
/// device and dtype chunk by chunk.
fn for_each_chunk(
    net: &Network,
    inputs: &Tensor,
    labels: &Tensor,
    kind: Loss,
    chunk_size: usize,
    mode: BatchNormMode,
    mut f: impl FnMut(ChunkTerm) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    for_each_chunk_examples(net, inputs, labels, chunk_size, |examples| {
        f(chunk_term(net, kind, mode, examples)?)
    })
}

/// One chunk's share of the loss and what produced it.
struct ChunkTerm {
    /// (n_c/n)·mean_loss_c, with its graph.
    term: Tensor,
    /// The chunk's logits.
    logits: Tensor,
    /// The chunk's labels.
    labels: Tensor,
}

/// The term of one chunk (see [`ChunkTerm`]).
fn chunk_term(
    net: &Network,
    kind: Loss,
    mode: BatchNormMode,
    examples: ChunkExamples,
) -> Result<ChunkTerm, ModelError> {
    let logits = net.forward(&examples.inputs, mode)?;
    let term = (loss(&logits, &examples.labels, kind)? * examples.weight)?;
    Ok(ChunkTerm {
        term,
        logits,
        labels: examples.labels,
    })
}

impl Objective {
    /// Loss, accuracy and (with [`Gradient::Compute`]) gradient over the whole dataset,
    /// computed on consecutive chunks of [`Objective::chunk_size`] examples so that memory
    /// stays bounded.
    ///
    /// L = Σ_c (n_c/n)·mean_loss_c; the gradient is accumulated chunk by chunk and each
    /// chunk's graph is dropped before the next. Without BatchNorm the result does not depend
    /// on the chunk size beyond rounding; with BatchNorm in a train mode each chunk is a ghost
    /// batch (see [`BatchNormMode`]). Use `mode = Train` for everything but the training step.
    ///
    /// An MLP's gradient is backpropagation written out (`closed_form/backprop.rs`: the same
    /// operations as Candle's backward pass, bitwise the same values, without its gradient
    /// store).
    pub fn evaluate(
        &self,
        inputs: &Tensor,
        labels: &Tensor,
        mode: BatchNormMode,
        gradient: Gradient,
    ) -> Result<Evaluation, ModelError> {
        let (net, loss, chunk_size) = (self.network(), self.loss(), self.chunk_size());
        let with_gradient = gradient == Gradient::Compute;
        let n = inputs.dim(0)?;
        let mut sum = ChunkSum::default();
        let mut hits = 0;
        let mut origin = Vec::new();
        match net.mlp().filter(|_| with_gradient) {
            Some(mlp) => for_each_mlp_chunk(net, mlp, inputs, labels, loss, chunk_size, |pass| {
                hits += pass.correct()?;
                sum.add(pass.term(), Some(pass.gradient(net, mlp)?))?;
                origin.push(OriginChunk {
                    inputs: pass.data().clone(),
                    labels: pass.labels().clone(),
                    first_layer: pass.first_layer().clone(),
                    weight: pass.weight(),
                });
                Ok(())
            })?,
            None => for_each_chunk(net, inputs, labels, loss, chunk_size, mode, |chunk| {
                let term = chunk
                    .term
                    .to_dtype(candle_core::DType::F64)?
                    .to_scalar::<f64>()?;
                hits += correct(&chunk.logits, &chunk.labels)?;
                let gradient = with_gradient
                    .then(|| {
                        let grads = chunk.term.backward()?;
                        let per_parameter = net
                            .parameters()
                            .iter()
                            .map(|v| match grads.get(v.as_tensor()) {
                                Some(g) => Ok(g.detach()),
                                None => v.as_tensor().zeros_like(),
                            })
                            .collect::<candle_core::Result<Vec<_>>>()?;
                        net.flatten(&per_parameter)
                    })
                    .transpose()?;
                sum.add(term, gradient)
            })?,
        }
        let line_origin = (!origin.is_empty()).then(|| LineOrigin::new(origin, loss));
        Ok(Evaluation {
            loss: sum.loss,
            accuracy: hits as f64 / n as f64,
            gradient: sum.gradient,
            line_origin,
        })
    }

    /// The per-chunk terms (n_c/n)·mean_loss_c with live graphs, in chunk order; their sum is
    /// the full-dataset loss of [`Objective::evaluate`]. For Hessian-vector operators that
    /// differentiate chunk by chunk. Use `mode = Train` (never `TrainUpdate`) for Hessian
    /// products.
    ///
    /// All graphs are alive at once, so memory grows with the number of chunks (an HVP over
    /// one 512-image ResNet-20 graph ran out of 24 GB of RAM in f32 on CPU). For bounded
    /// memory, use [`Objective::chunk_loss`] one chunk at a time and drop each graph after its
    /// HVP.
    pub fn chunk_losses(
        &self,
        inputs: &Tensor,
        labels: &Tensor,
        mode: BatchNormMode,
    ) -> Result<Vec<Tensor>, ModelError> {
        let (net, loss, chunk_size) = (self.network(), self.loss(), self.chunk_size());
        let mut out = Vec::new();
        for_each_chunk(net, inputs, labels, loss, chunk_size, mode, |chunk| {
            out.push(chunk.term);
            Ok(())
        })?;
        Ok(out)
    }

    /// The single term (n_c/n)·mean_loss_c of chunk `index` (in [`crate::chunk_ranges`]
    /// order) with its graph; summing it over all indices gives the loss of
    /// [`Objective::evaluate`].
    pub fn chunk_loss(
        &self,
        inputs: &Tensor,
        labels: &Tensor,
        mode: BatchNormMode,
        index: usize,
    ) -> Result<Tensor, ModelError> {
        let net = self.network();
        let n = example_count(inputs, labels)?;
        let ranges = chunk_ranges(n, self.chunk_size())?;
        let &range = ranges.get(index).ok_or_else(|| ModelError::Shape {
            expected: format!("chunk index < {}", ranges.len()),
            found: index.to_string(),
        })?;
        let examples = chunk_examples(net, inputs, labels, n, range)?;
        Ok(chunk_term(net, self.loss(), mode, examples)?.term)
    }
}
