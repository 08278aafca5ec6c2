//! What a run trains: a network on CIFAR-10 or a quadratic, behind one interface the training
//! loop is written against. Both hold their parameters as candle `Var`s, so the same exact
//! Hessian operator, line-search oracle and checkpoint code serve both.

use anyhow::Context;
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use stepsharp_data::Dataset;
use stepsharp_models::{BatchNormMode, LineLoss, LineOrigin, Loss, Network};
use stepsharp_quadratic::Quadratic;

use crate::QuadraticSpec;

/// The examples one loss evaluation runs over.
pub struct Examples {
    /// Inputs, on the device.
    pub inputs: Tensor,
    /// Class labels `(n,)` u32, on the device.
    pub labels: Tensor,
}

impl Examples {
    /// All examples of a dataset.
    pub fn all(dataset: &Dataset) -> Self {
        Self {
            inputs: dataset.inputs.clone(),
            labels: dataset.labels.clone(),
        }
    }

    /// The examples at `indices`.
    pub fn select(dataset: &Dataset, indices: &[u32]) -> anyhow::Result<Self> {
        let (inputs, labels) = dataset.select(indices)?;
        Ok(Self { inputs, labels })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.dims().first().copied().unwrap_or(0)
    }
}

/// Loss (and optionally accuracy and gradient) at the current parameters.
pub struct Measurement {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy (NaN for a quadratic).
    pub accuracy: f64,
    /// Flat gradient, when asked for.
    pub gradient: Option<Tensor>,
    /// Forward passes it took.
    pub forward_passes: u64,
    /// With the gradient of an MLP: what [`Problem::line_loss`] needs to evaluate trial
    /// stepsizes on the same examples without a full forward pass.
    pub line_origin: Option<LineOrigin>,
}

/// The objective of a run (one value per run, so the size difference between variants is
/// irrelevant).
#[allow(clippy::large_enum_variant)]
pub enum Problem {
    /// A network with its training loss.
    Network {
        /// The network.
        net: Network,
        /// Training loss.
        loss: Loss,
        /// Examples per chunk.
        chunk_size: usize,
    },
    /// `f(w) = ½(w − w*)ᵀH(w − w*)`.
    Quadratic {
        /// The parameter vector `w`.
        w: Var,
        /// The Hessian `H` as an `(n, n)` tensor.
        hessian: Tensor,
        /// The minimizer `w*`, `(n,)`.
        w_star: Tensor,
    },
}

impl Problem {
    /// A quadratic with the given spectrum, started at a seeded standard-normal point.
    pub fn quadratic(spec: &QuadraticSpec, dtype: DType, device: &Device) -> anyhow::Result<Self> {
        let quadratic = Quadratic::with_spectrum(&spec.spectrum, spec.seed)
            .context("building the quadratic objective")?;
        let n = quadratic.dim();
        let dense = quadratic.hessian();
        let entries: Vec<f64> = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| dense[(i, j)])
            .collect();
        let hessian = Tensor::from_vec(entries, (n, n), device)?.to_dtype(dtype)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(spec.seed.wrapping_add(1));
        let start: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let w = Var::from_tensor(&Tensor::from_vec(start, n, device)?.to_dtype(dtype)?)?;
        let w_star = Tensor::zeros(n, dtype, device)?;
        Ok(Problem::Quadratic { w, hessian, w_star })
    }

    /// The trainable parameters, in flat-vector order.
    pub fn parameters(&self) -> Vec<Var> {
        match self {
            Problem::Network { net, .. } => net.parameters().to_vec(),
            Problem::Quadratic { w, .. } => vec![w.clone()],
        }
    }

    /// A copy of the parameters as one flat vector.
    pub fn flat_parameters(&self) -> anyhow::Result<Tensor> {
        Ok(match self {
            Problem::Network { net, .. } => net.flat_parameters()?,
            Problem::Quadratic { w, .. } => w.as_tensor().copy()?,
        })
    }

    /// Sets the parameters from a flat vector.
    pub fn set_flat_parameters(&self, flat: &Tensor) -> anyhow::Result<()> {
        match self {
            Problem::Network { net, .. } => net.set_flat_parameters(flat)?,
            Problem::Quadratic { w, .. } => w.set(flat)?,
        }
        Ok(())
    }

    /// Loss on `examples` at the current parameters; with `gradient`, also the flat gradient.
    /// `update_statistics` lets BatchNorm update its running statistics (training step only).
    pub fn measure(
        &self,
        examples: &Examples,
        gradient: bool,
        update_statistics: bool,
    ) -> anyhow::Result<Measurement> {
        let mode = if update_statistics {
            BatchNormMode::TrainUpdate
        } else {
            BatchNormMode::Train
        };
        match self {
            Problem::Network { chunk_size, .. } => {
                let evaluation = self.evaluate_network(examples, mode, gradient)?;
                Ok(Measurement {
                    loss: evaluation.loss,
                    accuracy: evaluation.accuracy,
                    gradient: evaluation.gradient,
                    forward_passes: examples.len().div_ceil(*chunk_size) as u64,
                    line_origin: evaluation.line_origin,
                })
            }
            Problem::Quadratic { w, .. } => {
                let value = self.quadratic_loss()?;
                let gradient = if gradient {
                    let grads = value.backward()?;
                    Some(
                        grads
                            .get(w.as_tensor())
                            .context("no gradient for w")?
                            .clone(),
                    )
                } else {
                    None
                };
                Ok(Measurement {
                    loss: value.to_dtype(DType::F64)?.to_scalar::<f64>()?,
                    accuracy: f64::NAN,
                    gradient,
                    forward_passes: 1,
                    line_origin: None,
                })
            }
        }
    }

    fn evaluate_network(
        &self,
        examples: &Examples,
        mode: BatchNormMode,
        gradient: bool,
    ) -> anyhow::Result<stepsharp_models::Evaluation> {
        let Problem::Network {
            net,
            loss,
            chunk_size,
        } = self
        else {
            unreachable!("evaluate_network on a quadratic")
        };
        Ok(stepsharp_models::evaluate(
            net,
            &examples.inputs,
            &examples.labels,
            *loss,
            *chunk_size,
            mode,
            gradient,
        )?)
    }

    /// Loss on `examples` as scalar tensors with live graphs (one per chunk, summing to the
    /// loss), for the exact Hessian operator. BatchNorm uses batch statistics without update.
    pub fn chunk_losses(&self, examples: &Examples) -> anyhow::Result<Vec<Tensor>> {
        (0..self.chunk_count(examples))
            .map(|index| self.chunk_loss(examples, index))
            .collect()
    }

    /// Number of chunks [`Problem::chunk_losses`] splits `examples` into.
    pub fn chunk_count(&self, examples: &Examples) -> usize {
        match self {
            Problem::Network { chunk_size, .. } => examples.len().div_ceil(*chunk_size),
            Problem::Quadratic { .. } => 1,
        }
    }

    /// Chunk `index` of [`Problem::chunk_losses`] alone, so that one graph at a time is alive.
    pub fn chunk_loss(&self, examples: &Examples, index: usize) -> anyhow::Result<Tensor> {
        match self {
            Problem::Network {
                net,
                loss,
                chunk_size,
            } => Ok(stepsharp_models::chunk_loss(
                net,
                &examples.inputs,
                &examples.labels,
                *loss,
                *chunk_size,
                BatchNormMode::Train,
                index,
            )?),
            Problem::Quadratic { .. } => self.quadratic_loss(),
        }
    }

    /// The loss `η ↦ f(w + η·direction)` on the examples of the measurement that returned
    /// `origin`, at the current parameters `w` (see [`LineLoss`]: an MLP's trials skip the
    /// product with the data).
    pub fn line_loss(&self, origin: &LineOrigin, direction: &Tensor) -> anyhow::Result<LineLoss> {
        match self {
            Problem::Network { net, .. } => Ok(LineLoss::new(net, origin, direction)?),
            Problem::Quadratic { .. } => anyhow::bail!("a quadratic has no line origin"),
        }
    }

    /// Test loss and accuracy with BatchNorm running statistics.
    pub fn test(&self, examples: &Examples) -> anyhow::Result<(f64, f64)> {
        match self {
            Problem::Network { .. } => {
                let evaluation = self.evaluate_network(examples, BatchNormMode::Eval, false)?;
                Ok((evaluation.loss, evaluation.accuracy))
            }
            Problem::Quadratic { .. } => Ok((f64::NAN, f64::NAN)),
        }
    }

    /// Non-trainable state to checkpoint (BatchNorm running statistics).
    pub fn buffers(&self) -> anyhow::Result<Vec<(String, Tensor)>> {
        match self {
            Problem::Network { net, .. } => Ok(net.buffers()?),
            Problem::Quadratic { .. } => Ok(Vec::new()),
        }
    }

    /// Restores [`Problem::buffers`].
    pub fn set_buffers(&self, buffers: &[(String, Tensor)]) -> anyhow::Result<()> {
        if let Problem::Network { net, .. } = self {
            net.set_buffers(buffers)?;
        }
        Ok(())
    }

    fn quadratic_loss(&self) -> anyhow::Result<Tensor> {
        let Problem::Quadratic { w, hessian, w_star } = self else {
            unreachable!("quadratic_loss on a network")
        };
        let d = w.as_tensor().sub(w_star)?.unsqueeze(1)?;
        let hd = hessian.matmul(&d)?;
        Ok((d.t()?.matmul(&hd)?.squeeze(0)?.squeeze(0)? * 0.5)?)
    }
}
