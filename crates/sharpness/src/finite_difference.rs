//! A central finite-difference Hessian-vector product, for cross-checks on smooth models.

use candle_core::Tensor;

use crate::tensor::check_compatible;
use crate::{LinearOperator, SharpnessError, Vector};

/// `Hv ≈ (g(w + h v) − g(w − h v)) / (2h)` with `h = ε / ‖v‖`, from a gradient closure.
///
/// The step is taken along the unit direction `v/‖v‖` with length `ε`, so the truncation
/// error `O(ε²)` does not depend on the scale of `v`. Each product costs two gradients.
///
/// Not a substitute for [`crate::HessianOperator`]: across ReLU kinks, and in f32, the
/// error is of order one at every `ε` (`docs/candle.md#finite-differences`). In f64 on smooth
/// models `ε ≈ 1e-5` balances truncation (`ε²`) against cancellation (`10⁻¹⁶/ε`).
///
/// `gradient` maps a flat point to the flat gradient there; `point` is `w`.
///
/// ```
/// # use candle_core::{Device, Tensor};
/// # use stepsharp_sharpness::{FiniteDifferenceHvp, LinearOperator, SharpnessError, Vector};
/// // L(w) = Σ w_i³: g(w) = 3w², H = diag(6w).
/// let gradient = |w: &Tensor| -> Result<Tensor, SharpnessError> { Ok((w.sqr()? * 3.0)?) };
/// let point = Tensor::new(&[1.0f64, -2.0], &Device::Cpu).unwrap();
/// let mut hessian = FiniteDifferenceHvp::new(gradient, point, 1e-5).unwrap();
/// let product = hessian.apply(&Tensor::new(&[1.0f64, 1.0], &Device::Cpu).unwrap()).unwrap();
/// let product = product.to_vec().unwrap();
/// assert!((product[0] - 6.0).abs() < 1e-8 && (product[1] + 12.0).abs() < 1e-8);
/// ```
pub struct FiniteDifferenceHvp<F> {
    gradient: F,
    point: Tensor,
    epsilon: f64,
    hvps: usize,
}

impl<F> FiniteDifferenceHvp<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, SharpnessError>,
{
    /// Wraps a gradient closure at `point` with step length `epsilon` (finite, positive).
    pub fn new(gradient: F, point: Tensor, epsilon: f64) -> Result<Self, SharpnessError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(SharpnessError::invalid(
                "epsilon",
                epsilon,
                "a finite number above 0",
            ));
        }
        Ok(Self {
            gradient,
            point,
            epsilon,
            hvps: 0,
        })
    }

    /// Products computed so far (each used two gradient evaluations).
    pub fn hvps(&self) -> usize {
        self.hvps
    }
}

impl<F> LinearOperator for FiniteDifferenceHvp<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, SharpnessError>,
{
    type Vector = Tensor;

    fn dim(&self) -> usize {
        self.point.elem_count()
    }

    fn template(&self) -> Result<Tensor, SharpnessError> {
        Ok(self.point.zeros_like()?)
    }

    fn apply(&mut self, v: &Tensor) -> Result<Tensor, SharpnessError> {
        check_compatible(&self.point, v)?;
        let norm = Vector::norm(v)?;
        self.hvps += 1;
        if norm == 0.0 {
            return Ok(v.zeros_like()?);
        }
        let step = self.epsilon / norm;
        let mut forward = self.point.clone();
        forward.axpy(step, v)?;
        let mut backward = self.point.clone();
        backward.axpy(-step, v)?;
        let mut product = (self.gradient)(&forward)?;
        product.axpy(-1.0, &(self.gradient)(&backward)?)?;
        product.scale(1.0 / (2.0 * step))?;
        Ok(product)
    }
}
