//! [`Vector`] for flat Candle tensors, so that solvers run where the parameters live (CPU or
//! GPU) without copying them to the host.
//!
//! Inner products are accumulated in f64 (on the CPU in place, elsewhere after converting):
//! Lanczos with full reorthogonalization takes hundreds of inner products of vectors with up
//! to millions of entries, and an f32 sum would lose most of the orthogonality it restores.

use candle_core::{DType, Storage, Tensor, WithDType};

use crate::SharpnessError;
use crate::Vector;
use crate::cpu_vector;

impl Vector for Tensor {
    fn len(&self) -> usize {
        self.elem_count()
    }

    /// On the CPU by `cpu_vector::dot` (contiguous f32 or f64 tensors, no conversion
    /// copies); elsewhere as Candle ops on f64 conversions.
    fn dot(&self, other: &Self) -> Result<f64, SharpnessError> {
        check_compatible(self, other)?;
        let on_cpu = match self.dtype() {
            DType::F32 => {
                with_cpu_values::<f32, _>(&[self, other], |v| cpu_vector::dot(v[0], v[1]))
            }
            DType::F64 => {
                with_cpu_values::<f64, _>(&[self, other], |v| cpu_vector::dot(v[0], v[1]))
            }
            _ => None,
        };
        if let Some(value) = on_cpu {
            return Ok(value);
        }
        let (left, right) = (as_f64(self)?, as_f64(other)?);
        Ok(left.mul(&right)?.sum_all()?.to_scalar::<f64>()?)
    }

    fn norm(&self) -> Result<f64, SharpnessError> {
        Ok(Vector::dot(self, self)?.sqrt())
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

    fn hadamard(&self, other: &Self) -> Result<Self, SharpnessError> {
        check_compatible(self, other)?;
        Ok(self.mul(other)?)
    }

    /// Batched. On the CPU (contiguous f32 or f64 tensors) by `cpu_vector::project_out`:
    /// each basis vector is read in place, inner products and corrections are accumulated in
    /// f64. Elsewhere the basis is stacked into a `j × n` matrix `Q` (one copy), then
    /// `c = Q·self` and `self ← self − Qᵀc` are two matrix-vector products in the tensor's
    /// dtype.
    fn project_out(&mut self, basis: &[Self]) -> Result<Vec<f64>, SharpnessError> {
        Ok(self.project_out_repeatedly(basis, 1)?.remove(0))
    }

    /// [`Vector::project_out`] `passes` times against the same basis (elsewhere than on the
    /// CPU with one stacked `Q`, whose copy is paid once).
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
        let on_cpu = match self.dtype() {
            DType::F32 => project_out_on_cpu::<f32>(self, basis, passes)?,
            DType::F64 => project_out_on_cpu::<f64>(self, basis, passes)?,
            _ => None,
        };
        if let Some(coefficients) = on_cpu {
            return Ok(coefficients);
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

/// [`Vector::project_out_repeatedly`] by [`cpu_vector::project_out`] when `w` and every
/// basis vector are contiguous CPU tensors of dtype `T`; `None` otherwise.
fn project_out_on_cpu<T: WithDType>(
    w: &mut Tensor,
    basis: &[Tensor],
    passes: usize,
) -> Result<Option<Vec<Vec<f64>>>, SharpnessError> {
    if !w.device().is_cpu() {
        return Ok(None);
    }
    let mut values = w.flatten_all()?.to_vec1::<T>()?;
    let basis: Vec<&Tensor> = basis.iter().collect();
    let Some(coefficients) = with_cpu_values::<T, _>(&basis, |rows| {
        cpu_vector::project_out(&mut values, rows, passes)
    }) else {
        return Ok(None);
    };
    *w = Tensor::from_vec(values, w.shape(), w.device())?;
    Ok(Some(coefficients))
}

/// `f` of the values of `tensors` read in place, when every one is a contiguous CPU tensor of
/// dtype `T`; `None` otherwise.
fn with_cpu_values<T: WithDType, R>(
    tensors: &[&Tensor],
    f: impl FnOnce(&[&[T]]) -> R,
) -> Option<R> {
    let guards: Vec<_> = tensors.iter().map(|t| t.storage_and_layout()).collect();
    let mut values = Vec::with_capacity(tensors.len());
    for (storage, layout) in &guards {
        let Storage::Cpu(storage) = &**storage else {
            return None;
        };
        values.push(cpu_vector::contiguous_values::<T>(storage, layout)?);
    }
    Some(f(&values))
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
