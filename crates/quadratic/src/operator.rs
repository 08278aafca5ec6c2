//! The Hessian of a quadratic as a [`LinearOperator`].

use stepsharp_sharpness::{LinearOperator, SharpnessError};

use crate::quadratic::Quadratic;

/// The exact Hessian `v ↦ Hv` of a [`Quadratic`], as a
/// [`stepsharp_sharpness::LinearOperator`] over `Vec<f64>`, counting its products.
///
/// It is the ground-truth fixture for the eigen-solvers: the spectrum is known exactly.
///
/// ```
/// use stepsharp_quadratic::Quadratic;
/// use stepsharp_sharpness::LinearOperator;
/// let q = Quadratic::with_spectrum(&[3.0, 1.0], 0).unwrap();
/// let mut h = q.operator();
/// let v = q.eigenvector(0);
/// let hv = h.apply(&v).unwrap();
/// assert!((hv[0] - 3.0 * v[0]).abs() < 1e-12);
/// assert_eq!(h.hvps(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct QuadraticHessian<'a> {
    quadratic: &'a Quadratic,
    hvps: usize,
}

impl<'a> QuadraticHessian<'a> {
    /// The Hessian operator of `quadratic`, with its product counter at 0.
    pub fn new(quadratic: &'a Quadratic) -> Self {
        Self { quadratic, hvps: 0 }
    }

    /// Number of Hessian-vector products computed so far (successful calls to `apply`).
    pub fn hvps(&self) -> usize {
        self.hvps
    }
}

impl LinearOperator for QuadraticHessian<'_> {
    type Vector = Vec<f64>;

    fn dim(&self) -> usize {
        self.quadratic.dim()
    }

    fn template(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(vec![0.0; self.quadratic.dim()])
    }

    fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
        if v.len() != self.quadratic.dim() {
            return Err(SharpnessError::DimensionMismatch {
                expected: self.quadratic.dim(),
                found: v.len(),
            });
        }
        self.hvps += 1;
        Ok(self.quadratic.hvp(v))
    }
}

impl Quadratic {
    /// The exact Hessian as a counting [`LinearOperator`] (see [`QuadraticHessian`]).
    pub fn operator(&self) -> QuadraticHessian<'_> {
        QuadraticHessian::new(self)
    }
}
