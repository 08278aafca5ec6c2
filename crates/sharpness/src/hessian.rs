//! The exact Hessian-vector product of a Candle loss by double backward.
//!
//! Candle has no forward mode, so `Hv` is computed as the gradient of a scalar:
//! `Hv = ∇_w ⟨∇_w L(w), v⟩`. The inner gradient `g = ∇_w L` is computed once, *keeping its
//! graph*, and every probe `v` only costs the second backward pass through `⟨g, v⟩`
//! (about 1.1–1.6 gradients per product, `docs/candle.md#no-forward-mode`).

use candle_core::{Tensor, Var};

use crate::double_backward::ensure_exact_second_derivatives;
use crate::gradient_graph::GradientGraph;
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
    graph: GradientGraph,
}

impl HessianOperator {
    /// Builds the operator: checks that double backward is exact on this thread
    /// ([`ensure_exact_second_derivatives`]), then computes every chunk gradient once.
    ///
    /// `chunk_losses` are scalar tensors built from `params` with a live graph; their sum is
    /// the loss. All parameters must share one dtype and device.
    pub fn new(params: &[Var], chunk_losses: &[Tensor]) -> Result<Self, SharpnessError> {
        ensure_exact_second_derivatives()?;
        Ok(Self {
            graph: GradientGraph::new(params, chunk_losses)?,
        })
    }

    /// The flat gradient `Σ_c g_c` of the loss (detached), in parameter order.
    pub fn gradient(&self) -> Result<Tensor, SharpnessError> {
        Ok(self.graph.gradient())
    }

    /// Number of Hessian-vector products computed so far.
    pub fn hvps(&self) -> usize {
        self.graph.hvps()
    }

    /// Number of chunk losses (backward passes per product).
    pub fn chunks(&self) -> usize {
        self.graph.chunks()
    }
}

impl LinearOperator for HessianOperator {
    type Vector = Tensor;

    fn dim(&self) -> usize {
        self.graph.space().dim
    }

    fn template(&self) -> Result<Tensor, SharpnessError> {
        self.graph.space().zeros()
    }

    fn apply(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        // Cheap after the first call; protects an operator moved to a fresh thread.
        ensure_exact_second_derivatives()?;
        self.graph.product(v)
    }
}
