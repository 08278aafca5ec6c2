//! The Hessian of a chunked loss that keeps no graph between products: bounded memory.

use candle_core::{Tensor, Var};

use crate::parameter_space::ParameterSpace;
use crate::{HessianOperator, LinearOperator, SharpnessError};

/// The Hessian of `L = Σ_c L_c` that rebuilds one chunk's graph at a time.
///
/// [`HessianOperator`] keeps the gradient graph of every chunk alive, so its memory grows with
/// the data (a 512-image ResNet-20 graph alone exceeded 24 GB in f32 on a CPU). This operator
/// stores nothing between products: for each probe it asks `chunk_loss(c)` for chunk `c`'s
/// loss (a forward pass), builds that chunk's gradient graph (a backward pass), applies it
/// (a second backward pass), and drops it before the next chunk:
///
/// `Hv = Σ_c ∇_w ⟨∇_w L_c(w), v⟩`, one chunk's graph in memory at a time.
///
/// Each product therefore costs a forward and a backward pass per chunk on top of the
/// [`HessianOperator`] product; the result is the same sum, chunk by chunk in the same order.
///
/// ```
/// # use candle_core::{Device, Tensor, Var};
/// # use stepsharp_sharpness::{LinearOperator, RecomputingHessian};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // L(w) = Σ_c Σ_i c·w_i³ over chunks c = 1, 2: Hessian diag(18 w_i).
/// let w = Var::from_tensor(&Tensor::new(&[1.0f64, -2.0], &Device::Cpu)?)?;
/// let params = [w.clone()];
/// let mut hessian = RecomputingHessian::new(&params, 2, |c| {
///     w.as_tensor().powf(3.0)?.sum_all()? * (c + 1) as f64
/// })?;
/// let product = hessian.apply(&Tensor::new(&[1.0f64, 1.0], &Device::Cpu)?)?.to_vec1::<f64>()?;
/// assert!((product[0] - 18.0).abs() < 1e-12 && (product[1] + 36.0).abs() < 1e-12);
/// assert_eq!((hessian.hvps(), hessian.forward_passes()), (1, 2));
/// # Ok(()) }
/// ```
pub struct RecomputingHessian<F> {
    params: Vec<Var>,
    chunks: usize,
    chunk_loss: F,
    space: ParameterSpace,
    hvps: usize,
    forward_passes: usize,
}

impl<F> RecomputingHessian<F>
where
    F: FnMut(usize) -> candle_core::Result<Tensor>,
{
    /// An operator over `params` for a loss made of `chunks` chunk losses, chunk `c` being
    /// `chunk_loss(c)` (a scalar built from `params` with a live graph). Nothing is computed
    /// until the first product. All parameters must share one dtype (checked here) and device.
    pub fn new(params: &[Var], chunks: usize, chunk_loss: F) -> Result<Self, SharpnessError> {
        let space = ParameterSpace::of(params)?;
        if chunks == 0 {
            return Err(SharpnessError::NoLosses);
        }
        Ok(Self {
            params: params.to_vec(),
            chunks,
            chunk_loss,
            space,
            hvps: 0,
            forward_passes: 0,
        })
    }

    /// Number of Hessian-vector products computed so far.
    pub fn hvps(&self) -> usize {
        self.hvps
    }

    /// Number of chunk losses built so far (one forward pass each).
    pub fn forward_passes(&self) -> usize {
        self.forward_passes
    }
}

impl<F> LinearOperator for RecomputingHessian<F>
where
    F: FnMut(usize) -> candle_core::Result<Tensor>,
{
    type Vector = Tensor;

    fn dim(&self) -> usize {
        self.space.dim
    }

    fn template(&self) -> Result<Tensor, SharpnessError> {
        self.space.zeros()
    }

    fn apply(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        self.space.check(v)?;
        let mut total: Option<Tensor> = None;
        for chunk in 0..self.chunks {
            let loss = (self.chunk_loss)(chunk)?;
            self.forward_passes += 1;
            // One chunk's graph lives only inside this block.
            let product = HessianOperator::new(&self.params, &[loss])?.apply(v)?;
            total = Some(match total {
                Some(acc) => acc.add(&product)?,
                None => product,
            });
        }
        self.hvps += 1;
        total.ok_or(SharpnessError::NoLosses)
    }
}
