//! The exact Hessian-vector product of a Candle loss by double backward.
//!
//! Candle has no forward mode, so `Hv` is computed as the gradient of a scalar:
//! `Hv = ∇_w ⟨∇_w L(w), v⟩`. The inner gradient `g = ∇_w L` is computed once, *keeping its
//! graph*, and every probe `v` only costs the second backward pass through `⟨g, v⟩`
//! (about 1.1–1.6 gradients per product, `docs/candle.md#no-forward-mode`).

use candle_core::{Shape, Tensor, Var};

use crate::double_backward::ensure_exact_second_derivatives;
use crate::parameter_space::ParameterSpace;
use crate::probe_product::probe_product;
use crate::{LinearOperator, SharpnessError};

/// The Hessian of a loss with respect to a set of Candle variables, as a [`LinearOperator`].
///
/// The loss is `L = Σ_c L_c`, one scalar per data chunk (chunks bound the memory of one
/// backward pass). At construction each chunk gradient `g_c = ∇_w L_c` is computed once with
/// its graph kept; every product then reuses them:
///
/// `Hv = Σ_c ∇_w ⟨g_c(w), v⟩`   (one backward pass per chunk, no forward pass).
///
/// Vectors are flat 1-D tensors with the dtype and device of the parameters: the parameters
/// concatenated in the order given, each flattened row-major.
///
/// The operator describes the Hessian at the point where the losses were built: after the
/// variables are changed (`Var::set`, an optimizer step) its graph is stale, so build a new
/// operator from fresh losses.
///
/// Construction calls [`ensure_exact_second_derivatives`] first, so a thread on which Candle
/// detaches gradients yields [`SharpnessError::SecondDerivativesNotExact`], never a wrong
/// number.
///
/// ```
/// # use candle_core::{Device, Tensor, Var};
/// # use stepsharp_sharpness::{HessianOperator, LinearOperator, Vector};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // L(w) = Σ w_i³ has Hessian diag(6 w_i).
/// let w = Var::from_tensor(&Tensor::new(&[1.0f64, -2.0], &Device::Cpu)?)?;
/// let loss = w.as_tensor().powf(3.0)?.sum_all()?;
/// let mut hessian = HessianOperator::new(&[w], &[loss])?;
/// let probe = Tensor::new(&[1.0f64, 1.0], &Device::Cpu)?;
/// let product = hessian.apply(&probe)?.to_vec()?;
/// assert!((product[0] - 6.0).abs() < 1e-12 && (product[1] + 12.0).abs() < 1e-12);
/// assert_eq!(hessian.hvps(), 1);
/// # Ok(()) }
/// ```
pub struct HessianOperator {
    params: Vec<Var>,
    shapes: Vec<Shape>,
    sizes: Vec<usize>,
    /// `chunk_gradients[c][p]`: gradient of chunk loss `c` w.r.t. parameter `p`, with graph.
    chunk_gradients: Vec<Vec<Tensor>>,
    gradient: Tensor,
    space: ParameterSpace,
    hvps: usize,
    guard: Guard,
}

/// Whether products re-check (per thread, cached) that double backward is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// Every product calls [`ensure_exact_second_derivatives`] (free after the first).
    SelfTested,
    /// The self-test's own operator: no check (it would recurse).
    Unchecked,
}

impl HessianOperator {
    /// Builds the operator: checks that double backward is exact on this thread
    /// ([`ensure_exact_second_derivatives`]), then computes every chunk gradient once.
    ///
    /// `chunk_losses` are scalar tensors built from `params` with a live graph; their sum is
    /// the loss. All parameters must share one dtype and device.
    pub fn new(params: &[Var], chunk_losses: &[Tensor]) -> Result<Self, SharpnessError> {
        ensure_exact_second_derivatives()?;
        Self::build(params, chunk_losses, Guard::SelfTested)
    }

    /// [`HessianOperator::new`] without the self-test (used by the self-test itself).
    pub(crate) fn new_unchecked(
        params: &[Var],
        chunk_losses: &[Tensor],
    ) -> Result<Self, SharpnessError> {
        Self::build(params, chunk_losses, Guard::Unchecked)
    }

    fn build(
        params: &[Var],
        chunk_losses: &[Tensor],
        guard: Guard,
    ) -> Result<Self, SharpnessError> {
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
            guard,
        })
    }

    /// The flat gradient `Σ_c g_c` of the loss (detached), in parameter order.
    pub fn gradient(&self) -> Result<Tensor, SharpnessError> {
        Ok(self.gradient.clone())
    }

    /// Number of Hessian-vector products computed so far.
    pub fn hvps(&self) -> usize {
        self.hvps
    }

    /// Number of chunk losses (backward passes per product).
    pub fn chunks(&self) -> usize {
        self.chunk_gradients.len()
    }
}

impl LinearOperator for HessianOperator {
    type Vector = Tensor;

    fn dim(&self) -> usize {
        self.space.dim
    }

    fn template(&self) -> Result<Tensor, SharpnessError> {
        self.space.zeros()
    }

    fn apply(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        // Cheap after the first call; protects an operator moved to a fresh thread.
        if self.guard == Guard::SelfTested {
            ensure_exact_second_derivatives()?;
        }
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
