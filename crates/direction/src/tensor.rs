//! [`DirectionVector`] for flat Candle tensors (f32 or f64), so that the moments live where
//! the parameters live.
//!
//! On the CPU each operation is one pass over contiguous values, evaluated in f64 and rounded
//! once to the tensor's dtype (Adam's update is five Candle ops otherwise); elsewhere the same
//! formulas are Candle ops in the tensor's dtype. Negation and the inner product are Candle's
//! own on every device (the inner product sums `a ⊙ b` in the tensor's dtype, as a training
//! loop sums `g ⊙ g` for `‖g‖²`).

use candle_core::{DType, Storage, Tensor, WithDType};

use crate::vector::{AdamStepConstants, adam_step_by_parts};
use crate::{DirectionError, DirectionVector};

impl From<candle_core::Error> for DirectionError {
    fn from(error: candle_core::Error) -> Self {
        DirectionError::Vector(error.to_string())
    }
}

impl DirectionVector for Tensor {
    fn zeros_like(&self) -> Result<Self, DirectionError> {
        Ok(Tensor::zeros_like(self)?)
    }

    fn negated(&self) -> Result<Self, DirectionError> {
        Ok(self.neg()?)
    }

    fn combined(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError> {
        match on_cpu(self, x, |s, x| a * s + b * x)? {
            Some(result) => Ok(result),
            None => Ok(self.affine(a, 0.0)?.add(&x.affine(b, 0.0)?)?),
        }
    }

    fn combined_with_square(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError> {
        match on_cpu(self, x, |s, x| a * s + b * (x * x))? {
            Some(result) => Ok(result),
            None => Ok(self.affine(a, 0.0)?.add(&x.sqr()?.affine(b, 0.0)?)?),
        }
    }

    fn adam_update(&self, v: &Self, c1: f64, c2: f64, eps: f64) -> Result<Self, DirectionError> {
        match on_cpu(self, v, |m, v| -(m / c1) / ((v / c2).sqrt() + eps))? {
            Some(result) => Ok(result),
            None => {
                let denominator = v.affine(1.0 / c2, 0.0)?.sqrt()?.affine(1.0, eps)?;
                Ok(self.affine(-1.0 / c1, 0.0)?.div(&denominator)?)
            }
        }
    }

    /// On the CPU one pass computing the three outputs, each with the element-wise formula of
    /// the separate operations (so the same values).
    fn adam_step(
        &self,
        m: &Self,
        v: &Self,
        constants: AdamStepConstants,
    ) -> Result<(Self, Self, Self), DirectionError> {
        check_compatible(self, m)?;
        check_compatible(self, v)?;
        let fused = match self.dtype() {
            DType::F32 => adam_step_values::<f32>(self, m, v, constants)?,
            DType::F64 => adam_step_values::<f64>(self, m, v, constants)?,
            _ => None,
        };
        match fused {
            Some(outputs) => Ok(outputs),
            None => adam_step_by_parts(self, m, v, constants),
        }
    }

    fn inverse_root_preconditioner(&self, c2: f64, eps: f64) -> Result<Self, DirectionError> {
        match on_cpu(self, self, |v, _| ((v / c2).sqrt() + eps).sqrt().recip())? {
            Some(result) => Ok(result),
            None => Ok(self
                .affine(1.0 / c2, 0.0)?
                .sqrt()?
                .affine(1.0, eps)?
                .sqrt()?
                .recip()?),
        }
    }

    fn dot(&self, x: &Self) -> Result<f64, DirectionError> {
        check_compatible(self, x)?;
        Ok(self
            .mul(x)?
            .sum_all()?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?)
    }
}

/// `f(a_i, b_i)` element-wise in one pass when both are contiguous CPU tensors of dtype f32 or
/// f64; `None` otherwise (other devices, other dtypes, strided views).
fn on_cpu(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Option<Tensor>, DirectionError> {
    check_compatible(a, b)?;
    Ok(match a.dtype() {
        DType::F32 => map_values::<f32>(a, b, f)?,
        DType::F64 => map_values::<f64>(a, b, f)?,
        _ => None,
    })
}

fn map_values<T: WithDType>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Option<Tensor>, DirectionError> {
    let values = {
        let (left, left_layout) = a.storage_and_layout();
        let (right, right_layout) = b.storage_and_layout();
        let (Storage::Cpu(left), Storage::Cpu(right)) = (&*left, &*right) else {
            return Ok(None);
        };
        let (Some((l0, l1)), Some((r0, r1))) = (
            left_layout.contiguous_offsets(),
            right_layout.contiguous_offsets(),
        ) else {
            return Ok(None);
        };
        let left = &left.as_slice::<T>()?[l0..l1];
        let right = &right.as_slice::<T>()?[r0..r1];
        left.iter()
            .zip(right)
            .map(|(&x, &y)| T::from_f64(f(x.to_f64(), y.to_f64())))
            .collect::<Vec<T>>()
    };
    Ok(Some(Tensor::from_vec(values, a.shape(), a.device())?))
}

/// [`DirectionVector::adam_step`] in one pass over contiguous CPU values of dtype `T`; `None`
/// when an operand is elsewhere or strided.
fn adam_step_values<T: WithDType>(
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    constants: AdamStepConstants,
) -> Result<Option<(Tensor, Tensor, Tensor)>, DirectionError> {
    let AdamStepConstants {
        beta1,
        beta2,
        c1,
        c2,
        eps,
    } = constants;
    let n = g.elem_count();
    let (mut new_m, mut new_v, mut update) = (
        Vec::<T>::with_capacity(n),
        Vec::<T>::with_capacity(n),
        Vec::<T>::with_capacity(n),
    );
    {
        let guards = [g, m, v].map(|t| t.storage_and_layout());
        let mut slices: Vec<&[T]> = Vec::with_capacity(3);
        for (storage, layout) in &guards {
            let Storage::Cpu(storage) = &**storage else {
                return Ok(None);
            };
            let Some((start, end)) = layout.contiguous_offsets() else {
                return Ok(None);
            };
            slices.push(&storage.as_slice::<T>()?[start..end]);
        }
        assert!(
            slices.iter().all(|s| s.len() == n),
            "adam_step: operand lengths"
        );
        // Written through zipped iterators (no `push`), so that the compiler vectorises the loop.
        let outputs = new_m.spare_capacity_mut()[..n]
            .iter_mut()
            .zip(&mut new_v.spare_capacity_mut()[..n])
            .zip(&mut update.spare_capacity_mut()[..n]);
        let inputs = slices[0].iter().zip(slices[1]).zip(slices[2]);
        for (((new_m, new_v), update), ((&g, &m), &v)) in outputs.zip(inputs) {
            let g = g.to_f64();
            // The formulas of `combined`, `combined_with_square` and `adam_update`, each rounded
            // to `T` as those operations round their outputs.
            let m = T::from_f64(beta1 * m.to_f64() + (1.0 - beta1) * g);
            let v = T::from_f64(beta2 * v.to_f64() + (1.0 - beta2) * (g * g));
            let u = -(m.to_f64() / c1) / ((v.to_f64() / c2).sqrt() + eps);
            new_m.write(m);
            new_v.write(v);
            update.write(T::from_f64(u));
        }
    }
    // SAFETY: the loop wrote the first `n` entries of each (the three inputs have `n` entries,
    // asserted above).
    unsafe {
        new_m.set_len(n);
        new_v.set_len(n);
        update.set_len(n);
    }
    let tensor = |values: Vec<T>| Tensor::from_vec(values, g.shape(), g.device());
    Ok(Some((tensor(new_m)?, tensor(new_v)?, tensor(update)?)))
}

fn check_compatible(a: &Tensor, b: &Tensor) -> Result<(), DirectionError> {
    if a.dims() != b.dims() || a.dtype() != b.dtype() {
        return Err(DirectionError::Vector(format!(
            "operands differ: {:?} {:?} and {:?} {:?}",
            a.dims(),
            a.dtype(),
            b.dims(),
            b.dtype()
        )));
    }
    Ok(())
}
