//! What a run trains: a network on CIFAR-10 or a quadratic, behind one interface the training
//! loop is written against. Both hold their parameters as candle `Var`s, so the same exact
//! Hessian operator, line-search oracle and checkpoint code serve both. What only one kind
//! can do lives on its own type (the models crate's [`Objective`], [`QuadraticProblem`]);
//! [`Problem`] matches once and delegates.

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use stepsharp_data::{Dataset, NUM_CLASSES};
use stepsharp_models::{
    Architecture, BatchNormMode, Gradient, LineOrigin, MlpCurvature, Network, Objective,
};
use stepsharp_quadratic::Quadratic;

use crate::config::{ModelSpec, QuadraticSpec, RunConfig};
use crate::error::{Context, Result};

/// The examples one loss evaluation runs over.
#[derive(Clone)]
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
    pub fn select(dataset: &Dataset, indices: &[u32]) -> Result<Self> {
        let (inputs, labels) = dataset.select(indices)?;
        Ok(Self { inputs, labels })
    }

    /// No examples (what a quadratic, which has no data, is "evaluated on").
    pub fn none(device: &Device) -> Result<Self> {
        let empty = Tensor::zeros(0, DType::U32, device)?;
        Ok(Self {
            inputs: empty.clone(),
            labels: empty,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.dims().first().copied().unwrap_or(0)
    }
}

/// What the forward passes of [`Problem::measure`] do to BatchNorm's running statistics
/// (both use batch statistics; see [`BatchNormMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunningStatistics {
    /// Update them: the training step's gradient evaluation only.
    Update,
    /// Leave them: line-search trials, the evaluation loss.
    Keep,
}

impl RunningStatistics {
    /// The BatchNorm mode of a training-mode forward pass with this policy.
    fn batch_norm_mode(self) -> BatchNormMode {
        match self {
            RunningStatistics::Update => BatchNormMode::TrainUpdate,
            RunningStatistics::Keep => BatchNormMode::Train,
        }
    }
}

/// Loss (and optionally accuracy and gradient) at the current parameters.
pub struct Measurement {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy (NaN for a quadratic).
    pub accuracy: f64,
    /// Flat gradient, with [`Gradient::Compute`].
    pub gradient: Option<Tensor>,
    /// Forward passes it took.
    pub forward_passes: u64,
    /// With the gradient of an MLP: what a [`stepsharp_models::LineLoss`] needs to evaluate
    /// trial stepsizes on the same examples without a full forward pass.
    pub line_origin: Option<LineOrigin>,
}

/// The objective of a run (one value per run, so the size difference between variants is
/// irrelevant).
#[allow(clippy::large_enum_variant)]
pub enum Problem {
    /// A network with its training loss and the chunk size its evaluations run in.
    Network(Objective),
    /// A quadratic objective.
    Quadratic(QuadraticProblem),
}

/// `f(w) = ½(w − w*)ᵀH(w − w*)`, with `w` one candle `Var`.
pub struct QuadraticProblem {
    /// The parameter vector `w`.
    w: Var,
    /// The Hessian `H` as an `(n, n)` tensor.
    hessian: Tensor,
    /// The minimizer `w*`, `(n,)`.
    w_star: Tensor,
}

impl Problem {
    /// The objective of `config`'s `model`: a network initialized from `seeds.init`, or a
    /// quadratic ([`QuadraticProblem::new`]), in `config.dtype` on `device`.
    pub fn new(config: &RunConfig, device: &Device) -> Result<Self> {
        let dtype = config.dtype.dtype();
        Ok(match &config.model {
            ModelSpec::Network(architecture) => Problem::Network(Objective::new(
                Network::new(architecture, NUM_CLASSES, config.seeds.init, dtype, device)?,
                config.loss,
                config.training.chunk_size,
            )?),
            ModelSpec::Quadratic(spec) => {
                Problem::Quadratic(QuadraticProblem::new(spec, dtype, device)?)
            }
        })
    }

    /// The trainable parameters, in flat-vector order.
    pub fn parameters(&self) -> Vec<Var> {
        match self {
            Problem::Network(objective) => objective.network().parameters().to_vec(),
            Problem::Quadratic(quadratic) => vec![quadratic.w.clone()],
        }
    }

    /// A copy of the parameters as one flat vector.
    pub fn flat_parameters(&self) -> Result<Tensor> {
        Ok(match self {
            Problem::Network(objective) => objective.network().flat_parameters()?,
            Problem::Quadratic(quadratic) => quadratic.w.as_tensor().copy()?,
        })
    }

    /// Sets the parameters from a flat vector.
    pub fn set_flat_parameters(&self, flat: &Tensor) -> Result<()> {
        match self {
            Problem::Network(objective) => objective.network().set_flat_parameters(flat)?,
            Problem::Quadratic(quadratic) => quadratic.w.set(flat)?,
        }
        Ok(())
    }

    /// Loss on `examples` at the current parameters, and the flat gradient if `gradient`
    /// asks for it ([`Gradient::Compute`]: the training step; [`Gradient::Skip`]: line-search
    /// trials, the evaluation loss); `statistics` says whether BatchNorm updates its running
    /// statistics. A network's evaluation runs in chunks, and returns an MLP's [`LineOrigin`]
    /// with its gradient.
    pub fn measure(
        &self,
        examples: &Examples,
        gradient: Gradient,
        statistics: RunningStatistics,
    ) -> Result<Measurement> {
        match self {
            Problem::Network(objective) => {
                let evaluation = objective.evaluate(
                    &examples.inputs,
                    &examples.labels,
                    statistics.batch_norm_mode(),
                    gradient,
                )?;
                Ok(Measurement {
                    loss: evaluation.loss,
                    accuracy: evaluation.accuracy,
                    gradient: evaluation.gradient,
                    forward_passes: objective.chunk_count(examples.len()) as u64,
                    line_origin: evaluation.line_origin,
                })
            }
            Problem::Quadratic(quadratic) => quadratic.measure(gradient),
        }
    }

    /// Loss on `examples` as scalar tensors with live graphs (one per chunk, summing to the
    /// loss), for the exact Hessian operator. BatchNorm uses batch statistics without update.
    pub fn chunk_losses(&self, examples: &Examples) -> Result<Vec<Tensor>> {
        (0..self.chunk_count(examples))
            .map(|index| self.chunk_loss(examples, index))
            .collect()
    }

    /// Number of chunks [`Problem::chunk_losses`] splits `examples` into.
    pub fn chunk_count(&self, examples: &Examples) -> usize {
        match self {
            Problem::Network(objective) => objective.chunk_count(examples.len()),
            Problem::Quadratic(_) => 1,
        }
    }

    /// Chunk `index` of [`Problem::chunk_losses`] alone, so that one graph at a time is alive.
    pub fn chunk_loss(&self, examples: &Examples, index: usize) -> Result<Tensor> {
        match self {
            Problem::Network(objective) => Ok(objective.chunk_loss(
                &examples.inputs,
                &examples.labels,
                BatchNormMode::Train,
                index,
            )?),
            Problem::Quadratic(quadratic) => quadratic.loss(),
        }
    }

    /// For an MLP: its forward and backward passes on `examples`, kept for exact
    /// Hessian-vector products by the R-operator ([`MlpCurvature`], no autograd graph); `None`
    /// for other problems, whose products go through [`Problem::chunk_losses`].
    pub fn mlp_curvature(&self, examples: &Examples) -> Result<Option<MlpCurvature<'_>>> {
        match self {
            Problem::Network(objective)
                if matches!(objective.network().architecture(), Architecture::Mlp { .. }) =>
            {
                Ok(Some(
                    objective.curvature(&examples.inputs, &examples.labels)?,
                ))
            }
            Problem::Network(_) | Problem::Quadratic(_) => Ok(None),
        }
    }

    /// Test loss and accuracy with BatchNorm running statistics (NaN for a quadratic).
    pub fn test(&self, examples: &Examples) -> Result<(f64, f64)> {
        match self {
            Problem::Network(objective) => {
                let evaluation = objective.evaluate(
                    &examples.inputs,
                    &examples.labels,
                    BatchNormMode::Eval,
                    Gradient::Skip,
                )?;
                Ok((evaluation.loss, evaluation.accuracy))
            }
            Problem::Quadratic(_) => Ok((f64::NAN, f64::NAN)),
        }
    }

    /// Non-trainable state to checkpoint (BatchNorm running statistics).
    pub fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        match self {
            Problem::Network(objective) => Ok(objective.network().buffers()?),
            Problem::Quadratic(_) => Ok(Vec::new()),
        }
    }

    /// Restores [`Problem::buffers`].
    pub fn set_buffers(&self, buffers: &[(String, Tensor)]) -> Result<()> {
        if let Problem::Network(objective) = self {
            objective.network().set_buffers(buffers)?;
        }
        Ok(())
    }
}

impl QuadraticProblem {
    /// A quadratic with the given spectrum (`H = QΛQᵀ`, `Q` seeded by `spec.seed`; see
    /// [`Quadratic::with_spectrum`]) and `w* = 0`, started at a standard-normal point drawn
    /// with seed `spec.seed + 1`.
    pub fn new(spec: &QuadraticSpec, dtype: DType, device: &Device) -> Result<Self> {
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
        Ok(Self { w, hessian, w_star })
    }

    /// `f(w)` as a scalar tensor with a live graph.
    fn loss(&self) -> Result<Tensor> {
        let d = self.w.as_tensor().sub(&self.w_star)?.unsqueeze(1)?;
        let hd = self.hessian.matmul(&d)?;
        Ok((d.t()?.matmul(&hd)?.squeeze(0)?.squeeze(0)? * 0.5)?)
    }

    /// [`Problem::measure`] of the quadratic: one forward pass, the gradient by backward.
    fn measure(&self, gradient: Gradient) -> Result<Measurement> {
        let value = self.loss()?;
        let gradient = match gradient {
            Gradient::Compute => {
                let grads = value.backward()?;
                let of_w = grads.get(self.w.as_tensor()).context("no gradient for w")?;
                Some(of_w.clone())
            }
            Gradient::Skip => None,
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
