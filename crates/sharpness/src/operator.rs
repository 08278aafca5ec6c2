//! The two abstractions every eigen-solver in this crate is written against: a flat
//! [`Vector`] with the handful of BLAS-1 operations Lanczos and power iteration need, and a
//! symmetric [`LinearOperator`] `v ↦ Hv` over such vectors.
//!
//! The split follows faer's `matrix_free` module (`faer/src/operator/mod.rs`): solvers never
//! see where products come from (a dense matrix in a test, a quadratic with a known spectrum,
//! or double backward through a Candle graph on a GPU), and tests can use plain `Vec<f64>`.

use crate::SharpnessError;

/// A flat real vector: the state a Krylov solver manipulates.
///
/// Implemented for `Vec<f64>` (tests, quadratics) and for 1-D [`candle_core::Tensor`]s of
/// dtype f32 or f64 on any device (network Hessians). Scalars cross the boundary as `f64`.
pub trait Vector: Clone {
    /// Number of entries.
    fn len(&self) -> usize;
    /// Whether the vector has no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Inner product `⟨self, other⟩`.
    fn dot(&self, other: &Self) -> Result<f64, SharpnessError>;
    /// Euclidean norm `‖self‖₂`.
    fn norm(&self) -> Result<f64, SharpnessError> {
        Ok(self.dot(self)?.sqrt())
    }
    /// `self ← self + alpha · x`.
    fn axpy(&mut self, alpha: f64, x: &Self) -> Result<(), SharpnessError>;
    /// `self ← alpha · self`.
    fn scale(&mut self, alpha: f64) -> Result<(), SharpnessError>;
    /// A vector shaped like `self` (same length, dtype and device) holding `values`.
    fn like(&self, values: &[f64]) -> Result<Self, SharpnessError>;
    /// The entries, converted to `f64` and copied to the host.
    fn to_vec(&self) -> Result<Vec<f64>, SharpnessError>;
    /// The element-wise product `self ⊙ other`. The default goes through [`Vector::to_vec`]
    /// and [`Vector::like`]; tensors multiply in place on their device.
    fn hadamard(&self, other: &Self) -> Result<Self, SharpnessError> {
        let (left, right) = (self.to_vec()?, other.to_vec()?);
        check_same_len(left.len(), right.len())?;
        let product: Vec<f64> = left.iter().zip(&right).map(|(a, b)| a * b).collect();
        self.like(&product)
    }
    /// One pass of classical Gram–Schmidt against `basis` (assumed orthonormal):
    /// `c_i = ⟨self, b_i⟩` for all `i`, then `self ← self − Σ_i c_i b_i`; returns `c`.
    ///
    /// The default uses [`Vector::dot`] and [`Vector::axpy`]; implementations may batch the
    /// work (tensors use two matrix-vector products), which is what makes full
    /// reorthogonalization in Lanczos cheap next to the Hessian-vector products.
    fn project_out(&mut self, basis: &[Self]) -> Result<Vec<f64>, SharpnessError> {
        let coefficients = basis
            .iter()
            .map(|b| self.dot(b))
            .collect::<Result<Vec<f64>, SharpnessError>>()?;
        for (c, b) in coefficients.iter().zip(basis) {
            self.axpy(-c, b)?;
        }
        Ok(coefficients)
    }

    /// `passes` passes of [`Vector::project_out`] against the same `basis`; returns the
    /// coefficients of each pass. Implementations may share work between passes (tensors
    /// stack the basis into one matrix once).
    fn project_out_repeatedly(
        &mut self,
        basis: &[Self],
        passes: usize,
    ) -> Result<Vec<Vec<f64>>, SharpnessError> {
        (0..passes).map(|_| self.project_out(basis)).collect()
    }
}

/// A symmetric linear operator `v ↦ Hv` (typically a Hessian).
///
/// `apply` takes `&mut self` so that operators may count products or cache graphs.
pub trait LinearOperator {
    /// The vector type the operator acts on.
    type Vector: Vector;
    /// Dimension `n` of the space (`H` is `n × n`).
    fn dim(&self) -> usize;
    /// A template vector of the right length, dtype and device (its values are unspecified);
    /// solvers call [`Vector::like`] on it to create start vectors.
    fn template(&self) -> Result<Self::Vector, SharpnessError>;
    /// The product `Hv`.
    fn apply(&mut self, v: &Self::Vector) -> Result<Self::Vector, SharpnessError>;
}

impl Vector for Vec<f64> {
    fn len(&self) -> usize {
        <[f64]>::len(self)
    }
    fn dot(&self, other: &Self) -> Result<f64, SharpnessError> {
        check_same_len(self.len(), other.len())?;
        Ok(self.iter().zip(other).map(|(a, b)| a * b).sum())
    }
    fn axpy(&mut self, alpha: f64, x: &Self) -> Result<(), SharpnessError> {
        check_same_len(self.len(), x.len())?;
        self.iter_mut().zip(x).for_each(|(s, x)| *s += alpha * x);
        Ok(())
    }
    fn scale(&mut self, alpha: f64) -> Result<(), SharpnessError> {
        self.iter_mut().for_each(|s| *s *= alpha);
        Ok(())
    }
    fn like(&self, values: &[f64]) -> Result<Self, SharpnessError> {
        check_same_len(self.len(), values.len())?;
        Ok(values.to_vec())
    }
    fn to_vec(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(self.clone())
    }
}

fn check_same_len(left: usize, right: usize) -> Result<(), SharpnessError> {
    if left == right {
        Ok(())
    } else {
        Err(SharpnessError::DimensionMismatch {
            expected: left,
            found: right,
        })
    }
}
