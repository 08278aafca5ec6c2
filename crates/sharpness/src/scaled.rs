//! An operator congruent to another by a diagonal scaling: `D·A·D`.

use crate::{LinearOperator, SharpnessError, Vector};

/// The operator `v ↦ d ⊙ A(d ⊙ v)`, i.e. `D·A·D` with `D = diag(d)`, over another operator `A`.
///
/// With `d = diag(P^{−1/2})` for a positive diagonal preconditioner `P`, `D·A·D` is symmetric
/// and has the eigenvalues of `P⁻¹A` (they are similar: `P⁻¹A = D·(D·A·D)·D⁻¹`), so Lanczos on
/// it gives the *preconditioned sharpness* `λ_max(P⁻¹H)` of an adaptive method, e.g. Adam with
/// `P = diag(√v̂ + ε)` (Cohen et al. 2022, arXiv 2207.14484; the same construction as
/// init2winit's `hessian/precondition.py`). Each product costs one product of `A` and two
/// element-wise products; the inner operator counts the products.
///
/// ```
/// use stepsharp_sharpness::{DiagonallyScaled, LanczosConfig, LinearOperator, lanczos};
/// struct Dense(Vec<Vec<f64>>);
/// impl LinearOperator for Dense {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, stepsharp_sharpness::SharpnessError> { Ok(vec![0.0; 2]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, stepsharp_sharpness::SharpnessError> {
///         Ok(self.0.iter().map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum()).collect())
///     }
/// }
/// // A = diag(10, 4), P = diag(2, 0.25): P⁻¹A = diag(5, 16).
/// let mut hessian = Dense(vec![vec![10.0, 0.0], vec![0.0, 4.0]]);
/// let d = vec![1.0 / 2f64.sqrt(), 1.0 / 0.25f64.sqrt()];
/// let mut scaled = DiagonallyScaled::new(&mut hessian, d).unwrap();
/// let top = lanczos(&mut scaled, &LanczosConfig::default(), None).unwrap();
/// assert!((top.eigenpairs[0].value - 16.0).abs() < 1e-9);
/// ```
pub struct DiagonallyScaled<'a, O: LinearOperator> {
    inner: &'a mut O,
    diagonal: O::Vector,
}

impl<'a, O: LinearOperator> DiagonallyScaled<'a, O> {
    /// `diag(d)·A·diag(d)` for `A = inner`; `diagonal` must have the operator's dimension.
    pub fn new(inner: &'a mut O, diagonal: O::Vector) -> Result<Self, SharpnessError> {
        if diagonal.len() != inner.dim() {
            return Err(SharpnessError::DimensionMismatch {
                expected: inner.dim(),
                found: diagonal.len(),
            });
        }
        Ok(Self { inner, diagonal })
    }
}

impl<O: LinearOperator> LinearOperator for DiagonallyScaled<'_, O> {
    type Vector = O::Vector;

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn template(&self) -> Result<O::Vector, SharpnessError> {
        self.inner.template()
    }

    fn apply(&mut self, v: &O::Vector) -> Result<O::Vector, SharpnessError> {
        let scaled = v.hadamard(&self.diagonal)?;
        self.inner.apply(&scaled)?.hadamard(&self.diagonal)
    }
}
