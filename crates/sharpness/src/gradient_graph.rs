//! The chunk gradients of a Candle loss with their graphs kept, and Hessian-vector products
//! by a second backward pass through them: the computation behind [`crate::HessianOperator`]
//! and the self-test that guards it.

use candle_core::{Shape, Tensor, Var};

use crate::SharpnessError;
use crate::parameter_space::ParameterSpace;
use crate::probe_product::probe_product;

/// The Hessian of `L = Σ_c L_c` with respect to `params` by double backward, unguarded:
/// `Hv = Σ_c ∇_w ⟨g_c(w), v⟩` with each `g_c = ∇_w L_c` computed once at construction (see
/// [`crate::HessianOperator`], which checks first that Candle keeps the graphs).
pub(crate) struct GradientGraph {
    params: Vec<Var>,
    shapes: Vec<Shape>,
    sizes: Vec<usize>,
    /// `chunk_gradients[c][p]`: gradient of chunk loss `c` w.r.t. parameter `p`, with graph.
    chunk_gradients: Vec<Vec<Tensor>>,
    gradient: Tensor,
    space: ParameterSpace,
    hvps: usize,
}

impl GradientGraph {
    /// Computes every chunk gradient `g_c = ∇_w L_c` once, keeping its graph.
    ///
    /// `chunk_losses` are scalar tensors built from `params` with a live graph; their sum is
    /// the loss. All parameters must share one dtype and device.
    pub(crate) fn new(params: &[Var], chunk_losses: &[Tensor]) -> Result<Self, SharpnessError> {
        let space = ParameterSpace::of(params)?;
        if chunk_losses.is_empty() {
            return Err(SharpnessError::NoLosses);
        }
        for (index, loss) in chunk_losses.iter().enumerate() {
            if loss.elem_count() != 1 {
                return Err(SharpnessError::LossNotScalar {
                    index,
                    elements: loss.elem_count(),
                });
            }
        }
        let shapes: Vec<Shape> = params.iter().map(|p| p.shape().clone()).collect();
        let sizes: Vec<usize> = params.iter().map(|p| p.elem_count()).collect();
        let mut chunk_gradients = Vec::with_capacity(chunk_losses.len());
        for loss in chunk_losses {
            let store = loss.sum_all()?.backward()?;
            let grads = params
                .iter()
                .map(|p| match store.get(p.as_tensor()) {
                    Some(g) => Ok(g.clone()),
                    None => Tensor::zeros(p.shape(), space.dtype, &space.device),
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            chunk_gradients.push(grads);
        }
        let gradient = flat_sum(&chunk_gradients)?.detach();
        Ok(Self {
            params: params.to_vec(),
            shapes,
            sizes,
            chunk_gradients,
            gradient,
            space,
            hvps: 0,
        })
    }

    /// The flat gradient `Σ_c g_c` of the loss (detached), in parameter order.
    pub(crate) fn gradient(&self) -> Tensor {
        self.gradient.clone()
    }

    /// Number of Hessian-vector products computed so far.
    pub(crate) fn hvps(&self) -> usize {
        self.hvps
    }

    /// Number of chunk losses (backward passes per product).
    pub(crate) fn chunks(&self) -> usize {
        self.chunk_gradients.len()
    }

    /// The flat vector space the products act on.
    pub(crate) fn space(&self) -> &ParameterSpace {
        &self.space
    }

    /// `Hv = Σ_c ∇_w ⟨g_c(w), v⟩` for a flat `v` of [`GradientGraph::space`].
    pub(crate) fn product(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        self.space.check(v)?;
        // A probe may come out of an earlier product and carry its graph: cut it, or the
        // backward pass would also differentiate v with respect to w.
        let v = v.detach();
        let mut pieces = Vec::with_capacity(self.params.len());
        let mut offset = 0;
        for (size, shape) in self.sizes.iter().zip(&self.shapes) {
            pieces.push(v.narrow(0, offset, *size)?.reshape(shape)?);
            offset += size;
        }
        let mut total: Option<Vec<Tensor>> = None;
        for grads in &self.chunk_gradients {
            let mut inner: Option<Tensor> = None;
            for (g, piece) in grads.iter().zip(&pieces) {
                let term = probe_product(g, piece)?;
                inner = Some(match inner {
                    Some(acc) => acc.add(&term)?,
                    None => term,
                });
            }
            let inner = inner.ok_or(SharpnessError::NoParameters)?;
            let store = inner.backward()?;
            let products = self
                .params
                .iter()
                .map(|p| match store.get(p.as_tensor()) {
                    Some(h) => Ok(h.detach()),
                    None => Tensor::zeros(p.shape(), self.space.dtype, &self.space.device),
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            total = Some(match total {
                Some(acc) => acc
                    .iter()
                    .zip(&products)
                    .map(|(a, b)| a.add(b))
                    .collect::<candle_core::Result<Vec<_>>>()?,
                None => products,
            });
        }
        let total = total.ok_or(SharpnessError::NoLosses)?;
        self.hvps += 1;
        Ok(flatten_cat(&total)?.detach())
    }
}

/// `Σ_c g_c`, flattened and concatenated.
fn flat_sum(chunks: &[Vec<Tensor>]) -> Result<Tensor, SharpnessError> {
    let mut sum: Vec<Tensor> = chunks[0].iter().map(Tensor::detach).collect();
    for grads in &chunks[1..] {
        for (acc, g) in sum.iter_mut().zip(grads) {
            *acc = acc.add(&g.detach())?;
        }
    }
    flatten_cat(&sum)
}

fn flatten_cat(parts: &[Tensor]) -> Result<Tensor, SharpnessError> {
    let flat = parts
        .iter()
        .map(Tensor::flatten_all)
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Tensor::cat(&flat, 0)?)
}
