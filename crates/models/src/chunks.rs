//! The examples of a dataset in fixed chunks: their ranges, each chunk moved to the network's
//! device and dtype, and the sum of the chunks' loss terms and gradients.

use candle_core::Tensor;

use crate::{ModelError, Network};

/// The chunks (start, length) that the evaluations of an [`crate::Objective`] use for `n`
/// examples: consecutive runs of `chunk_size`, the last one possibly shorter.
pub fn chunk_ranges(n: usize, chunk_size: usize) -> Result<Vec<(usize, usize)>, ModelError> {
    if chunk_size == 0 {
        return Err(ModelError::InvalidConfig {
            field: "chunk_size",
            value: "0".into(),
            expected: ">= 1",
        });
    }
    if n == 0 {
        return Err(ModelError::Shape {
            expected: "at least one example".into(),
            found: "0".into(),
        });
    }
    Ok((0..n)
        .step_by(chunk_size)
        .map(|start| (start, chunk_size.min(n - start)))
        .collect())
}

/// Runs `f` on the examples of every chunk, in [`chunk_ranges`] order, moved to the network's
/// device and dtype chunk by chunk.
pub(crate) fn for_each_chunk_examples(
    net: &Network,
    inputs: &Tensor,
    labels: &Tensor,
    chunk_size: usize,
    mut f: impl FnMut(ChunkExamples) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let n = example_count(inputs, labels)?;
    for range in chunk_ranges(n, chunk_size)? {
        f(chunk_examples(net, inputs, labels, n, range)?)?;
    }
    Ok(())
}

/// The number of examples `n`, after checking that `labels` has shape (n,).
pub(crate) fn example_count(inputs: &Tensor, labels: &Tensor) -> Result<usize, ModelError> {
    let n = inputs.dim(0)?;
    if labels.dims() != [n] {
        return Err(ModelError::Shape {
            expected: format!("labels ({n},)"),
            found: format!("{:?}", labels.dims()),
        });
    }
    Ok(n)
}

/// One chunk of the examples.
pub(crate) struct ChunkExamples {
    /// Inputs, on the network's device and dtype.
    pub(crate) inputs: Tensor,
    /// Labels.
    pub(crate) labels: Tensor,
    /// The chunk's share n_c/n of the mean loss.
    pub(crate) weight: f64,
}

/// The chunk `(start, len)` of `n` examples.
pub(crate) fn chunk_examples(
    net: &Network,
    inputs: &Tensor,
    labels: &Tensor,
    n: usize,
    (start, len): (usize, usize),
) -> Result<ChunkExamples, ModelError> {
    Ok(ChunkExamples {
        inputs: inputs
            .narrow(0, start, len)?
            .to_device(net.device())?
            .to_dtype(net.dtype())?,
        labels: labels.narrow(0, start, len)?,
        weight: len as f64 / n as f64,
    })
}

/// The sum over chunks of their loss terms and gradients.
#[derive(Default)]
pub(crate) struct ChunkSum {
    /// Σ_c (n_c/n)·mean_loss_c.
    pub(crate) loss: f64,
    /// Σ_c of the chunks' flat gradients, if any was added.
    pub(crate) gradient: Option<Tensor>,
}

impl ChunkSum {
    /// Adds one chunk's term and (if computed) flat gradient.
    pub(crate) fn add(&mut self, term: f64, gradient: Option<Tensor>) -> Result<(), ModelError> {
        self.loss += term;
        if let Some(flat) = gradient {
            self.gradient = Some(match self.gradient.take() {
                Some(acc) => (acc + flat)?,
                None => flat,
            });
        }
        Ok(())
    }
}
