//! Curvature of the operator along one direction.

use crate::{LinearOperator, SharpnessError, Vector};

/// The curvature of a quadratic form along a direction `d`, from one product `Hd`.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionalCurvature {
    /// `dᵀHd`: the second derivative of `η ↦ L(w + ηd)` at `η = 0`. It is what an Armijo or
    /// CDAT stepsize "sees" along `d` (`docs/paper.md#cdat`:
    /// `η = σ·max(−∇fᵀu, 0)/(|uᵀHu| + ε)`).
    pub quadratic_form: f64,
    /// `dᵀHd / ‖d‖²`: the directional sharpness (a Rayleigh quotient, so it lies between the
    /// smallest and the largest eigenvalue). NaN for `d = 0`.
    pub normalized: f64,
    /// Products used: 1, or 0 for `d = 0`.
    pub hvps: usize,
}

/// `dᵀHd` and `dᵀHd/‖d‖²` for a given direction `d` (e.g. the gradient or an update).
///
/// A zero direction costs no product and gives `quadratic_form = 0`, `normalized = NaN`
/// (the Rayleigh quotient is undefined there).
///
/// ```
/// use stepsharp_sharpness::{directional_curvature, LinearOperator, SharpnessError};
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let curvature = directional_curvature(&mut Diagonal(vec![2.0, 4.0]), &vec![1.0, 1.0]).unwrap();
/// assert_eq!((curvature.quadratic_form, curvature.normalized, curvature.hvps), (6.0, 3.0, 1));
/// ```
pub fn directional_curvature<O: LinearOperator>(
    op: &mut O,
    direction: &O::Vector,
) -> Result<DirectionalCurvature, SharpnessError> {
    if direction.len() != op.dim() {
        return Err(SharpnessError::DimensionMismatch {
            expected: op.dim(),
            found: direction.len(),
        });
    }
    let squared_norm = direction.dot(direction)?;
    if squared_norm == 0.0 {
        return Ok(DirectionalCurvature {
            quadratic_form: 0.0,
            normalized: f64::NAN,
            hvps: 0,
        });
    }
    let product = op.apply(direction)?;
    let quadratic_form = direction.dot(&product)?;
    Ok(DirectionalCurvature {
        quadratic_form,
        normalized: quadratic_form / squared_norm,
        hvps: 1,
    })
}
