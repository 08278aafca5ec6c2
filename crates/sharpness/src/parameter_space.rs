//! The flat vector space of a set of Candle parameters, which Hessian operators act on.

use candle_core::{DType, Device, Tensor, Var};

use crate::SharpnessError;

/// Length, dtype and device of the flat vectors of `params`: the parameters concatenated in
/// order, each flattened row-major.
#[derive(Clone, Debug)]
pub(crate) struct ParameterSpace {
    pub(crate) dim: usize,
    pub(crate) dtype: DType,
    pub(crate) device: Device,
}

impl ParameterSpace {
    /// The space of `params`, which must be non-empty and share one dtype (the device is the
    /// first parameter's).
    pub(crate) fn of(params: &[Var]) -> Result<Self, SharpnessError> {
        let first = params.first().ok_or(SharpnessError::NoParameters)?;
        let dtype = first.dtype();
        if let Some(other) = params.iter().find(|p| p.dtype() != dtype) {
            return Err(SharpnessError::DtypeMismatch {
                expected: format!("{dtype:?}"),
                found: format!("{:?}", other.dtype()),
            });
        }
        Ok(Self {
            dim: params.iter().map(|p| p.elem_count()).sum(),
            dtype,
            device: first.device().clone(),
        })
    }

    /// The zero vector of the space.
    pub(crate) fn zeros(&self) -> Result<Tensor, SharpnessError> {
        Ok(Tensor::zeros(self.dim, self.dtype, &self.device)?)
    }

    /// `v` is a flat vector of this space (same length and dtype), or a typed error.
    pub(crate) fn check(&self, v: &Tensor) -> Result<(), SharpnessError> {
        if v.dims() != [self.dim] {
            return Err(SharpnessError::DimensionMismatch {
                expected: self.dim,
                found: v.elem_count(),
            });
        }
        if v.dtype() != self.dtype {
            return Err(SharpnessError::DtypeMismatch {
                expected: format!("{:?}", self.dtype),
                found: format!("{:?}", v.dtype()),
            });
        }
        Ok(())
    }
}
