//! An MLP's gradient by backpropagation written out, and its exact Hessian-vector products by
//! Pearlmutter's R-operator (B. Pearlmutter, "Fast exact multiplication by the Hessian",
//! Neural Computation 6(1), 1994).
//!
//! Candle's autograd accumulates every node's gradient into a fresh zero tensor
//! (`GradStore::or_insert`, then `add`), also for operands that track nothing, and a
//! Hessian-vector product by double backward differentiates through all those accumulation
//! nodes once more: for figure 3's MLP that bookkeeping was 16% of a product (profiled with
//! `perf`, crates/models/README.md). An MLP's derivatives have closed forms of a few matrix
//! products per layer, with no graph at all.
//!
//! Layers `l = 1…L`, input `a₀ = X`, activation σ between layers (none after the last), chunk
//! `c` of `n_c` of the `n` examples weighted `w_c = n_c/n` (the loss is `Σ_c w_c·mean_i ℓ_i`):
//!
//! - forward: `z_l = a_{l−1}·W_lᵀ + b_l`, `a_l = σ(z_l)`;
//! - backward: `δ_L = ∂L/∂z_L`, `∂L/∂W_l = δ_lᵀ·a_{l−1}`, `∂L/∂b_l = Σ_i δ_{l,i}`,
//!   `g_{l−1} = δ_l·W_l`, `δ_{l−1} = g_{l−1} ⊙ σ'(z_{l−1})`;
//! - R-operator along `v = (V_l, c_l)` (`R{·} = d/dε ·(w + ε·v)` at `ε = 0`, so `R{∇L} = Hv`):
//!   `Rz_1 = X·V_1ᵀ + c_1`, `Ra_l = σ'(z_l) ⊙ Rz_l`, `Rz_l = Ra_{l−1}·W_lᵀ + a_{l−1}·V_lᵀ + c_l`;
//!   `Rδ_L = ∇²ℓ·Rz_L` — MSE `(w_c/n_c)·Rz_L`, cross-entropy `(w_c/n_c)·(p ⊙ Rz_L − p ⊙
//!   Σ_k (p ⊙ Rz_L)_k)` with `p = softmax(z_L)` row by row;
//!   `R{∂L/∂W_l} = Rδ_lᵀ·a_{l−1} + δ_lᵀ·Ra_{l−1}`, `R{∂L/∂b_l} = Σ_i Rδ_{l,i}`,
//!   `Rδ_{l−1} = (Rδ_l·W_l + δ_l·V_l) ⊙ σ'(z_{l−1}) + g_{l−1} ⊙ σ''(z_{l−1}) ⊙ Rz_{l−1}`.
//!
//! The products with the data are `X·V_1ᵀ` and `Rδ_1ᵀ·X`, the same two as a gradient's, so a
//! Hessian-vector product costs about one gradient. The gradient here performs the same
//! operations as Candle's backward pass through [`crate::Network::forward`] (data product,
//! matmul, broadcast bias, activation), so on the CPU its values are bitwise those of
//! `backward()` (tested for every activation and loss, f32 and f64).

use candle_core::{DType, Tensor, Var};

use crate::architectures::layers::{Linear, activate};
use crate::architectures::mlp::Mlp;
use crate::chunks::{ChunkSum, for_each_chunk_examples};
use crate::loss::correct;
use crate::ops::column_sums::column_sums;
use crate::ops::data_product::{data_product, weight_gradient};
use crate::ops::elementwise::{add, add_row, mul};
use crate::ops::matrix::matmul;
use crate::ops::tanh::tanh_gradient;
use crate::{Activation, Loss, ModelError, Network, loss};

/// One chunk's forward and backward pass at the current parameters (all tensors detached).
pub(crate) struct ChunkPass {
    /// Each layer's input `a_{l−1}`, input side first (`a₀ = X`, shape (n_c, 3072)).
    inputs: Vec<Tensor>,
    /// Each layer's output `z_l` before the activation; the last is the logits.
    outputs: Vec<Tensor>,
    /// `δ_l = ∂(w_c·mean ℓ)/∂z_l` per layer.
    deltas: Vec<Tensor>,
    /// `g_l = ∂(w_c·mean ℓ)/∂a_l` for every hidden layer's activation.
    upstream: Vec<Tensor>,
    /// Labels (n_c,).
    labels: Tensor,
    /// The chunk's term `w_c·mean_i ℓ_i`.
    term: f64,
    /// `w_c = n_c/n`.
    weight: f64,
}

impl ChunkPass {
    /// Forward and backward pass of `mlp` on the chunk `x` (n_c, 3072), `y` (n_c,) with weight
    /// `weight`. The forward pass computes [`Mlp`]'s own values without a graph
    /// ([`Linear::forward_values`]); the loss head's gradient `δ_L` comes from Candle's backward
    /// through [`loss`] alone (a few operations on (n_c, classes)).
    pub(crate) fn new(
        mlp: &Mlp,
        x: &Tensor,
        y: &Tensor,
        kind: Loss,
        weight: f64,
    ) -> Result<Self, ModelError> {
        let layers = mlp.layers();
        let mut inputs = vec![x.clone()];
        let mut outputs = Vec::with_capacity(layers.len());
        for (index, layer) in layers.iter().enumerate() {
            let z = layer.forward_values(&inputs[index])?;
            if index + 1 < layers.len() {
                inputs.push(activate(&z, mlp.activation())?);
            }
            outputs.push(z);
        }
        let logits = Var::from_tensor(outputs.last().expect("an MLP has layers"))?;
        let term = (loss(logits.as_tensor(), y, kind)? * weight)?;
        let mut delta = term
            .backward()?
            .get(logits.as_tensor())
            .expect("the loss depends on the logits")
            .detach();
        let mut deltas = vec![delta.clone()];
        let mut upstream = Vec::with_capacity(layers.len() - 1);
        for index in (1..layers.len()).rev() {
            // Candle's matmul backward for `a·(Wᵀ)`: `δ·(Wᵀ)ᵀ`.
            let g = matmul(&delta, &layers[index].weight.as_tensor().detach())?;
            delta = activation_backward(mlp.activation(), &outputs[index - 1], &inputs[index], &g)?;
            upstream.push(g);
            deltas.push(delta.clone());
        }
        deltas.reverse();
        upstream.reverse();
        Ok(Self {
            inputs,
            outputs,
            deltas,
            upstream,
            labels: y.clone(),
            term: term.to_dtype(DType::F64)?.to_scalar::<f64>()?,
            weight,
        })
    }

    /// The chunk's term `w_c·mean_i ℓ_i`.
    pub(crate) fn term(&self) -> f64 {
        self.term
    }

    /// Correctly classified examples of the chunk.
    pub(crate) fn correct(&self) -> Result<usize, ModelError> {
        correct(self.logits(), &self.labels)
    }

    /// The logits `z_L`.
    fn logits(&self) -> &Tensor {
        self.outputs.last().expect("an MLP has layers")
    }

    /// The inputs `X` (n_c, 3072).
    pub(crate) fn data(&self) -> &Tensor {
        &self.inputs[0]
    }

    /// The first layer's output `X·W₁ᵀ + b₁`.
    pub(crate) fn first_layer(&self) -> &Tensor {
        &self.outputs[0]
    }

    /// Labels (n_c,).
    pub(crate) fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// `w_c = n_c/n`.
    pub(crate) fn weight(&self) -> f64 {
        self.weight
    }

    /// The chunk's gradient as a flat tensor in [`Network::parameters`] order.
    pub(crate) fn gradient(&self, net: &Network, mlp: &Mlp) -> Result<Tensor, ModelError> {
        let parts = mlp
            .layers()
            .iter()
            .zip(self.deltas.iter().zip(&self.inputs))
            .enumerate()
            .map(|(index, (layer, (delta, input)))| {
                // The first layer is a data product; the others Candle's matmul with `Wᵀ`,
                // whose gradient is `(aᵀ·δ)ᵀ`.
                let weight = if index == 0 {
                    weight_gradient(input, delta)?
                } else {
                    matmul(&input.t()?, delta)?.t()?
                };
                let bias = layer
                    .bias
                    .as_ref()
                    .map(|_| column_sums(delta))
                    .transpose()?;
                Ok((weight, bias))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        assemble(net, mlp.layers(), parts)
    }
}

/// Runs `f` on the forward and backward pass of every chunk (in [`crate::chunk_ranges`]
/// order) of the MLP `mlp` of `net`; inputs move to the network's device and dtype chunk by
/// chunk.
pub(crate) fn for_each_mlp_chunk(
    net: &Network,
    mlp: &Mlp,
    inputs: &Tensor,
    labels: &Tensor,
    kind: Loss,
    chunk_size: usize,
    mut f: impl FnMut(ChunkPass) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    for_each_chunk_examples(net, inputs, labels, chunk_size, |chunk| {
        let x = net.mlp_input(&chunk.inputs)?;
        f(ChunkPass::new(mlp, &x, &chunk.labels, kind, chunk.weight)?)
    })
}

/// `δ = ∂/∂z` of an activation's output gradient `g` at `z` (with `a = σ(z)`): Candle's own
/// backward of [`activate`] (for tanh its fused gradient op), so values match `backward()`.
fn activation_backward(
    activation: Activation,
    z: &Tensor,
    a: &Tensor,
    g: &Tensor,
) -> Result<Tensor, ModelError> {
    if activation == Activation::Tanh {
        return Ok(tanh_gradient(g, a)?);
    }
    let z = Var::from_tensor(z)?;
    let grads = activate(z.as_tensor(), activation)?
        .mul(g)?
        .sum_all()?
        .backward()?;
    Ok(grads
        .get(z.as_tensor())
        .expect("the activation depends on its input")
        .detach())
}

/// σ'(z) and σ''(z) (`None` where σ'' vanishes) from `z` and `a = σ(z)`, formulas of
/// [`Activation`]: tanh `1 − a²`, `−2a(1 − a²)`; ReLU `1[z > 0]`, 0; ELU `1` / `eᶻ` for
/// `z > 0` / `z ≤ 0`, `0` / `eᶻ`; softplus `s = 1/(1 + e⁻ᶻ)`, `s(1 − s)`; GELU
/// `Φ(z) + z·φ(z)`, `φ(z)·(2 − z²)` with `Φ(z) = ½(1 + erf(z/√2))`, `φ(z) = e^(−z²/2)/√(2π)`.
fn activation_derivatives(
    activation: Activation,
    z: &Tensor,
    a: &Tensor,
) -> candle_core::Result<(Tensor, Option<Tensor>)> {
    Ok(match activation {
        Activation::Tanh => {
            let slope = a.sqr()?.affine(-1.0, 1.0)?;
            let second = (a * &slope)?.affine(-2.0, 0.0)?;
            (slope, Some(second))
        }
        Activation::Relu => (z.gt(0.0)?.to_dtype(z.dtype())?, None),
        Activation::Elu => {
            let negative = z.le(0.0)?;
            let exp = z.exp()?;
            let slope = negative.where_cond(&exp, &z.ones_like()?)?;
            let second = negative.where_cond(&exp, &z.zeros_like()?)?;
            (slope, Some(second))
        }
        Activation::Softplus => {
            let s = (z.neg()?.exp()? + 1.0)?.recip()?;
            let second = (&s * s.affine(-1.0, 1.0)?)?;
            (s, Some(second))
        }
        Activation::Gelu => {
            let cdf = ((z * std::f64::consts::FRAC_1_SQRT_2)?.erf()? + 1.0)?.affine(0.5, 0.0)?;
            let density = (z.sqr()? * -0.5)?.exp()?.affine(
                0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2,
                0.0,
            )?;
            let slope = (cdf + (z * &density)?)?;
            let second = (density * z.sqr()?.affine(-1.0, 2.0)?)?;
            (slope, Some(second))
        }
    })
}

/// A layer's weight part and, if it has a bias, its bias part (gradients, products, or
/// directions).
type LayerParts = (Tensor, Option<Tensor>);

/// Per-layer `(weight, bias)` parts (a bias part for each layer that has a bias) as one flat
/// tensor in [`Network::parameters`] order.
fn assemble(
    net: &Network,
    layers: &[Linear],
    parts: Vec<LayerParts>,
) -> Result<Tensor, ModelError> {
    let mut per_parameter: Vec<Option<Tensor>> = vec![None; net.parameters().len()];
    for (layer, (weight, bias)) in layers.iter().zip(parts) {
        per_parameter[net.parameter_index(&layer.weight)] = Some(weight);
        if let (Some(b), Some(bias)) = (&layer.bias, bias) {
            per_parameter[net.parameter_index(b)] = Some(bias);
        }
    }
    let per_parameter: Vec<Tensor> = per_parameter
        .into_iter()
        .map(|part| part.expect("an MLP's parameters are its layers'"))
        .collect();
    net.flatten(&per_parameter)
}

/// One chunk's pass with what the R-operator needs besides it.
struct CurvedChunk {
    pass: ChunkPass,
    /// σ'(z_l) for every hidden layer.
    slopes: Vec<Tensor>,
    /// `g_l ⊙ σ''(z_l)` for every hidden layer (`None` where σ'' vanishes).
    bends: Vec<Option<Tensor>>,
    /// Cross-entropy: `softmax(z_L)`; MSE: none (its Hessian in `z_L` is the identity).
    probabilities: Option<Tensor>,
}

/// The loss of an MLP on fixed examples at its current parameters `w₀`, with its gradient
/// and exact Hessian-vector products `v ↦ ∇²L(w₀)·v` by the R-operator (module documentation):
/// no autograd graph is kept, and a product costs about one gradient.
///
/// Built by [`crate::Objective::curvature`]. The loss is [`crate::Objective::evaluate`]'s:
/// `Σ_c (n_c/n)·mean_loss_c` over the objective's chunks. Products are those of double
/// backward through [`crate::Objective::chunk_losses`] up to rounding (tested against it for
/// every activation and loss).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use stepsharp_models::{Architecture, Loss, Network, Objective};
/// # fn main() -> Result<(), stepsharp_models::ModelError> {
/// let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F64, &Device::Cpu)?;
/// let objective = Objective::new(net, Loss::Mse, 8)?;
/// let x = Tensor::rand(0f64, 1.0, (8, 3072), &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1, 2, 3, 4, 5, 6, 7], &Device::Cpu)?;
/// let curvature = objective.curvature(&x, &y)?;
/// let g = curvature.gradient()?;
/// // The curvature along the gradient, gᵀHg, from one product.
/// let hg = curvature.hessian_vector_product(&g)?;
/// let along = (&g * &hg)?.sum_all()?.to_scalar::<f64>()?;
/// assert!(along.is_finite());
/// # Ok(()) }
/// ```
pub struct MlpCurvature<'a> {
    net: &'a Network,
    mlp: &'a Mlp,
    chunks: Vec<CurvedChunk>,
}

impl<'a> MlpCurvature<'a> {
    /// Forward and backward passes of `net` (an MLP, else an error) on `inputs` ((n, 3072) or
    /// images (n, 3, 32, 32)) and `labels` (n,) in chunks of `chunk_size`, kept for products.
    pub(crate) fn new(
        net: &'a Network,
        inputs: &Tensor,
        labels: &Tensor,
        loss: Loss,
        chunk_size: usize,
    ) -> Result<Self, ModelError> {
        let mlp = net.mlp().ok_or_else(|| ModelError::Shape {
            expected: "an MLP (closed-form derivatives exist for fully connected layers)".into(),
            found: net.architecture().name().to_string(),
        })?;
        let mut chunks = Vec::new();
        for_each_mlp_chunk(net, mlp, inputs, labels, loss, chunk_size, |pass| {
            chunks.push(CurvedChunk::new(mlp, pass, loss)?);
            Ok(())
        })?;
        Ok(Self { net, mlp, chunks })
    }

    /// `L(w₀)`, the mean loss over the examples.
    pub fn loss(&self) -> f64 {
        self.chunks.iter().map(|chunk| chunk.pass.term()).sum()
    }

    /// `∇L(w₀)`, flat in [`Network::parameters`] order: computed on demand (sharpness
    /// measurements need only products), with the two products per layer of a backward pass.
    pub fn gradient(&self) -> Result<Tensor, ModelError> {
        let mut sum = ChunkSum::default();
        for chunk in &self.chunks {
            sum.add(
                chunk.pass.term(),
                Some(chunk.pass.gradient(self.net, self.mlp)?),
            )?;
        }
        Ok(sum.gradient.expect("at least one chunk"))
    }

    /// Number of parameters (the Hessian is `n × n`).
    pub fn dim(&self) -> usize {
        self.net.num_parameters()
    }

    /// `∇²L(w₀)·v` for a flat `v` in [`Network::parameters`] order (length, dtype and device
    /// checked), by the R-operator (module documentation).
    pub fn hessian_vector_product(&self, v: &Tensor) -> Result<Tensor, ModelError> {
        let parts = self.net.split_flat(v)?;
        let layers = self.mlp.layers();
        let directions: Vec<LayerParts> = layers
            .iter()
            .map(|layer| {
                let weight = parts[self.net.parameter_index(&layer.weight)].clone();
                let bias = layer
                    .bias
                    .as_ref()
                    .map(|b| parts[self.net.parameter_index(b)].clone());
                (weight, bias)
            })
            .collect();
        let mut total: Option<Vec<LayerParts>> = None;
        for chunk in &self.chunks {
            let products = chunk.product(layers, &directions)?;
            total = Some(match total.take() {
                Some(acc) => acc
                    .into_iter()
                    .zip(products)
                    .map(|((w, b), (dw, db))| {
                        let bias = b.zip(db).map(|(b, db)| b + db).transpose()?;
                        Ok(((w + dw)?, bias))
                    })
                    .collect::<candle_core::Result<Vec<_>>>()?,
                None => products,
            });
        }
        assemble(self.net, layers, total.expect("at least one chunk"))
    }
}

impl CurvedChunk {
    fn new(mlp: &Mlp, pass: ChunkPass, kind: Loss) -> Result<Self, ModelError> {
        let mut slopes = Vec::with_capacity(pass.upstream.len());
        let mut bends = Vec::with_capacity(pass.upstream.len());
        for (index, g) in pass.upstream.iter().enumerate() {
            let (slope, second) = activation_derivatives(
                mlp.activation(),
                &pass.outputs[index],
                &pass.inputs[index + 1],
            )?;
            slopes.push(slope);
            bends.push(second.map(|s| s * g).transpose()?);
        }
        let probabilities = match kind {
            Loss::Mse => None,
            Loss::CrossEntropy => Some(softmax_rows(pass.logits())?),
        };
        Ok(Self {
            pass,
            slopes,
            bends,
            probabilities,
        })
    }

    /// This chunk's `(R{∂L/∂W_l}, R{∂L/∂b_l})` per layer along `directions` `(V_l, c_l)`.
    fn product(
        &self,
        layers: &[Linear],
        directions: &[LayerParts],
    ) -> candle_core::Result<Vec<LayerParts>> {
        let pass = &self.pass;
        let count = layers.len();
        // R-forward: Rz_l and Ra_{l−1} (the R of each layer's input; none for X).
        let mut r_outputs: Vec<Tensor> = Vec::with_capacity(count);
        let mut r_inputs: Vec<Option<Tensor>> = vec![None];
        for (index, (layer, (direction, bias_direction))) in
            layers.iter().zip(directions).enumerate()
        {
            let input = &pass.inputs[index];
            let mut r = match &r_inputs[index] {
                None => data_product(input, direction)?,
                Some(r_input) => add(
                    &matmul(r_input, &layer.weight.as_tensor().detach().t()?)?,
                    &matmul(input, &direction.t()?)?,
                )?,
            };
            if let Some(c) = bias_direction {
                r = add_row(&r, c)?;
            }
            if index + 1 < count {
                r_inputs.push(Some(mul(&self.slopes[index], &r)?));
            }
            r_outputs.push(r);
        }
        // Rδ_L = ∇²ℓ·Rz_L.
        let scale = pass.weight / pass.labels.dim(0)? as f64;
        let r_logits = &r_outputs[count - 1];
        let mut r_delta = match &self.probabilities {
            None => (r_logits * scale)?,
            Some(p) => {
                let weighted = (p * r_logits)?;
                let centred = (&weighted - p.broadcast_mul(&weighted.sum_keepdim(1)?)?)?;
                (centred * scale)?
            }
        };
        // R-backward, last layer first.
        let mut products = Vec::with_capacity(count);
        for index in (0..count).rev() {
            let input = &pass.inputs[index];
            let delta = &pass.deltas[index];
            let weight = match &r_inputs[index] {
                None => weight_gradient(input, &r_delta)?,
                Some(r_input) => add(
                    &matmul(&r_delta.t()?, input)?,
                    &matmul(&delta.t()?, r_input)?,
                )?,
            };
            let bias = layers[index]
                .bias
                .as_ref()
                .map(|_| column_sums(&r_delta))
                .transpose()?;
            if index > 0 {
                let r_upstream = add(
                    &matmul(&r_delta, &layers[index].weight.as_tensor().detach())?,
                    &matmul(delta, &directions[index].0)?,
                )?;
                let mut next = mul(&r_upstream, &self.slopes[index - 1])?;
                if let Some(bend) = &self.bends[index - 1] {
                    next = add(&next, &mul(bend, &r_outputs[index - 1])?)?;
                }
                r_delta = next;
            }
            products.push((weight, bias));
        }
        products.reverse();
        Ok(products)
    }
}

/// Row-wise softmax of logits (n, k), shifted by the row maximum.
fn softmax_rows(logits: &Tensor) -> candle_core::Result<Tensor> {
    let exp = logits.broadcast_sub(&logits.max_keepdim(1)?)?.exp()?;
    exp.broadcast_div(&exp.sum_keepdim(1)?)
}
