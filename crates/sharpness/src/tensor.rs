//! [`Vector`] for flat Candle tensors, so that solvers run where the parameters live (CPU or
//! GPU) without copying them to the host.
//!
//! Inner products are accumulated in f64 (an f32 tensor is converted before the reduction):
//! Lanczos with full reorthogonalization takes hundreds of inner products of vectors with up
//! to millions of entries, and an f32 sum would lose most of the orthogonality it restores.

use candle_core::{DType, Tensor};

use crate::SharpnessError;
use crate::Vector;

impl Vector for Tensor {
    fn len(&self) -> usize {
        self.elem_count()
    }

    fn dot(&self, other: &Self) -> Result<f64, SharpnessError> {
        check_compatible(self, other)?;
        let (left, right) = (as_f64(self)?, as_f64(other)?);
        Ok(left.mul(&right)?.sum_all()?.to_scalar::<f64>()?)
    }

    fn norm(&self) -> Result<f64, SharpnessError> {
        let value = as_f64(self)?;
        Ok(value.sqr()?.sum_all()?.to_scalar::<f64>()?.sqrt())
    }

    fn axpy(&mut self, alpha: f64, x: &Self) -> Result<(), SharpnessError> {
        check_compatible(self, x)?;
        *self = self.add(&x.affine(alpha, 0.0)?)?;
        Ok(())
    }

    fn scale(&mut self, alpha: f64) -> Result<(), SharpnessError> {
        *self = self.affine(alpha, 0.0)?;
        Ok(())
    }

    fn like(&self, values: &[f64]) -> Result<Self, SharpnessError> {
        if values.len() != self.elem_count() {
            return Err(SharpnessError::DimensionMismatch {
                expected: self.elem_count(),
                found: values.len(),
            });
        }
        let device = self.device();
        let tensor = match self.dtype() {
            DType::F32 => {
                let narrowed: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                Tensor::from_vec(narrowed, values.len(), device)?
            }
            dtype => Tensor::from_vec(values.to_vec(), values.len(), device)?.to_dtype(dtype)?,
        };
        Ok(tensor)
    }

    fn to_vec(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(as_f64(self)?.flatten_all()?.to_vec1::<f64>()?)
    }

    /// Batched: stacks the basis into a `j × n` matrix `Q` (one copy), then `c = Q·self` and
    /// `self ← self − Qᵀc` as two matrix-vector products in the tensor's dtype (so f32
    /// vectors accumulate these inner products in f32, with blocked summation; two passes
    /// in Lanczos restore orthogonality to that precision).
    fn project_out(&mut self, basis: &[Self]) -> Result<Vec<f64>, SharpnessError> {
        Ok(self.project_out_repeatedly(basis, 1)?.remove(0))
    }

    /// [`Vector::project_out`] `passes` times with one stacked `Q`: the copy of the basis,
    /// as large as a pass's two products together, is paid once.
    fn project_out_repeatedly(
        &mut self,
        basis: &[Self],
        passes: usize,
    ) -> Result<Vec<Vec<f64>>, SharpnessError> {
        if basis.is_empty() {
            return Ok(vec![Vec::new(); passes]);
        }
        for b in basis {
            check_compatible(self, b)?;
        }
        let n = self.elem_count();
        let flat: Vec<Tensor> = basis
            .iter()
            .map(|b| b.reshape(n))
            .collect::<candle_core::Result<_>>()?;
        let q = Tensor::stack(&flat, 0)?;
        (0..passes)
            .map(|_| {
                let column = self.reshape((n, 1))?;
                let coefficients = q.matmul(&column)?;
                let projection = q.t()?.matmul(&coefficients)?;
                *self = self.sub(&projection.reshape(self.shape())?)?;
                Ok(as_f64(&coefficients)?.flatten_all()?.to_vec1::<f64>()?)
            })
            .collect()
    }
}

/// The tensor in f64 (a cheap clone when it already is).
fn as_f64(tensor: &Tensor) -> Result<Tensor, SharpnessError> {
    Ok(if tensor.dtype() == DType::F64 {
        tensor.clone()
    } else {
        tensor.to_dtype(DType::F64)?
    })
}

/// Same length and dtype, or a typed error (Candle would raise a generic shape error).
pub(crate) fn check_compatible(left: &Tensor, right: &Tensor) -> Result<(), SharpnessError> {
    if left.elem_count() != right.elem_count() || left.dims() != right.dims() {
        return Err(SharpnessError::DimensionMismatch {
            expected: left.elem_count(),
            found: right.elem_count(),
        });
    }
    if left.dtype() != right.dtype() {
        return Err(SharpnessError::DtypeMismatch {
            expected: format!("{:?}", left.dtype()),
            found: format!("{:?}", right.dtype()),
        });
    }
    Ok(())
}
