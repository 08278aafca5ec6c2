//! A Hessian given by a function that computes its products, e.g. a closed form.

use candle_core::{Tensor, Var};

use crate::parameter_space::ParameterSpace;
use crate::{LinearOperator, SharpnessError};

/// The Hessian over the flat space of `params` whose products `v ↦ Hv` a function computes:
/// for closed forms that need no autograd graph, such as `stepsharp-models`' `MlpCurvature`
/// (Pearlmutter's R-operator for an MLP). The function must be exact and symmetric — this
/// operator only checks shapes and counts products; test it against [`crate::HessianOperator`].
///
/// ```
/// # use candle_core::{Device, Tensor, Var};
/// # use stepsharp_sharpness::{LinearOperator, ProductOperator};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // L(w) = Σ_i w_i³, whose Hessian is diag(6 w_i), written out.
/// let w = Var::from_tensor(&Tensor::new(&[1.0f64, -2.0], &Device::Cpu)?)?;
/// let at = w.as_tensor().detach();
/// let mut hessian = ProductOperator::new(&[w], |v| (&at * 6.0)?.mul(v))?;
/// let product = hessian.apply(&Tensor::new(&[1.0f64, 1.0], &Device::Cpu)?)?.to_vec1::<f64>()?;
/// assert_eq!((product, hessian.hvps()), (vec![6.0, -12.0], 1));
/// # Ok(()) }
/// ```
pub struct ProductOperator<F> {
    space: ParameterSpace,
    product: F,
    hvps: usize,
}

impl<F, E> ProductOperator<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    /// The operator `v ↦ product(v)` over the flat vectors of `params` (which must share one
    /// dtype; checked here). The function's errors come back wrapped in
    /// [`SharpnessError::Candle`].
    pub fn new(params: &[Var], product: F) -> Result<Self, SharpnessError> {
        Ok(Self {
            space: ParameterSpace::of(params)?,
            product,
            hvps: 0,
        })
    }

    /// Number of products computed so far.
    pub fn hvps(&self) -> usize {
        self.hvps
    }
}

impl<F, E> LinearOperator for ProductOperator<F>
where
    F: FnMut(&Tensor) -> Result<Tensor, E>,
    E: std::error::Error + Send + Sync + 'static,
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
        let product = (self.product)(v).map_err(candle_core::Error::wrap)?;
        self.space.check(&product)?;
        self.hvps += 1;
        Ok(product)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor, Var};

    use super::ProductOperator;
    use crate::{LinearOperator, SharpnessError};

    #[test]
    fn checks_both_the_probe_and_the_product() {
        let w = Var::zeros(3, DType::F64, &Device::Cpu).unwrap();
        let mut operator = ProductOperator::new(&[w], |v| v.narrow(0, 0, 2)).unwrap();
        let short = Tensor::zeros(2, DType::F64, &Device::Cpu).unwrap();
        assert!(matches!(
            operator.apply(&short),
            Err(SharpnessError::DimensionMismatch {
                expected: 3,
                found: 2
            })
        ));
        let probe = Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap();
        assert!(matches!(
            operator.apply(&probe),
            Err(SharpnessError::DimensionMismatch {
                expected: 3,
                found: 2
            })
        ));
        assert_eq!(operator.hvps(), 0);
    }
}
