//! Element-wise sums and products of CPU tensors without a gradient graph, on every thread:
//! the R-operator's and the closed-form backward pass's passes over (examples × width)
//! matrices, and parameter updates ([`plus_scaled`]).
//!
//! Candle parallelises its binary operations with a pool of its own beside rayon's, whose
//! threads spin after each operation (candle-core 0.11.1, `BarrierPool`): on a two-thread
//! Hessian-vector product of figure 3's MLP they spun for a quarter of the samples of a thread
//! that the matrix products needed (`perf record`, 2026-12-08). These ops run on rayon's
//! threads ([`crate::ops::cpu_values`]) with the same formula in the tensor's dtype, so the
//! same bits; tensors with a graph, other devices and dtypes keep Candle's operations.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};

use crate::ops::cpu_values::{contiguous, map_rows, zip_map};

/// `a + b` (same shapes): bitwise Candle's `add`.
pub(crate) fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    apply(a, b, Elementwise::Add)
}

/// `a ⊙ b` (same shapes): bitwise Candle's `mul`.
pub(crate) fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    apply(a, b, Elementwise::Mul)
}

/// `a + 1·rowᵀ` for `a` (n, m) and `row` (m,): bitwise Candle's `a.broadcast_add(row)`.
pub(crate) fn add_row(a: &Tensor, row: &Tensor) -> Result<Tensor> {
    apply(a, row, Elementwise::AddRow)
}

/// `w + η·u` (same shapes): bitwise Candle's `w + u * η`, whose product is `affine(η, 0)`,
/// i.e. `w + (u·η + 0)` with `η` and `0` in the tensors' dtype; one pass instead of two and
/// the copies between them. A parameter update `w_{t+1} = w_t + η_t·u_t`.
pub fn plus_scaled(w: &Tensor, eta: f64, u: &Tensor) -> Result<Tensor> {
    apply(w, u, Elementwise::PlusScaled(eta))
}

/// One of this module's operations.
#[derive(Clone, Copy, Debug)]
enum Elementwise {
    Add,
    Mul,
    AddRow,
    PlusScaled(f64),
}

/// `op` on `(a, b)`: this module's kernel for graph-free f32/f64 CPU tensors of fitting
/// shapes, else Candle's operation (which also reports shape errors).
fn apply(a: &Tensor, b: &Tensor, op: Elementwise) -> Result<Tensor> {
    let fits = match op {
        Elementwise::Add | Elementwise::Mul | Elementwise::PlusScaled(_) => a.shape() == b.shape(),
        Elementwise::AddRow => a.rank() == 2 && b.dims() == [a.dim(1)?],
    };
    let ours = fits
        && !a.track_op()
        && !b.track_op()
        && a.device().is_cpu()
        && matches!(a.dtype(), DType::F32 | DType::F64)
        && a.dtype() == b.dtype();
    match (ours, op) {
        (true, _) => a.contiguous()?.apply_op2_no_bwd(&b.contiguous()?, &op),
        (false, Elementwise::Add) => a.add(b),
        (false, Elementwise::Mul) => a.mul(b),
        (false, Elementwise::AddRow) => a.broadcast_add(b),
        (false, Elementwise::PlusScaled(eta)) => a + (b * eta)?,
    }
}

impl Elementwise {
    fn values<T: WithDType>(self, a: &[T], b: &[T]) -> Vec<T> {
        match self {
            Self::Add => zip_map(a, b, |&x, &y| x + y),
            Self::Mul => zip_map(a, b, |&x, &y| x * y),
            Self::AddRow => map_rows(a, b, |&x, &y| x + y),
            Self::PlusScaled(eta) => {
                let (eta, zero) = (T::from_f64(eta), T::from_f64(0.0));
                zip_map(a, b, |&w, &u| w + (u * eta + zero))
            }
        }
    }
}

impl CustomOp2 for Elementwise {
    fn name(&self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Mul => "mul",
            Self::AddRow => "add-row",
            Self::PlusScaled(_) => "plus-scaled",
        }
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        a_layout: &Layout,
        b: &CpuStorage,
        b_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let name = self.name();
        let values = match (a, b) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(self.values(
                contiguous(name, a, a_layout)?,
                contiguous(name, b, b_layout)?,
            )),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(self.values(
                contiguous(name, a, a_layout)?,
                contiguous(name, b, b_layout)?,
            )),
            (a, b) => candle_core::bail!(
                "{name}: dtypes {:?} and {:?} (both f32 or both f64 expected)",
                a.dtype(),
                b.dtype()
            ),
        };
        Ok((values, a_layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor, Var};

    use super::{add, add_row, mul, plus_scaled};

    /// Values of mixed sign and magnitude, (rows, columns), in `dtype`.
    fn matrix(rows: usize, columns: usize, seed: usize, dtype: DType) -> Tensor {
        let values: Vec<f64> = (0..rows * columns)
            .map(|i| ((i * 7919 + seed * 31) % 1013) as f64 / 97.0 - 5.0)
            .map(|v| v * 10f64.powi((v.abs() as i32) % 7 - 3))
            .collect();
        Tensor::from_vec(values, (rows, columns), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    }

    fn bits(t: &Tensor) -> Vec<u64> {
        let t = t.flatten_all().unwrap();
        match t.dtype() {
            DType::F32 => t
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits() as u64)
                .collect(),
            _ => t
                .to_vec1::<f64>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect(),
        }
    }

    /// Long enough to run on several threads, short, transposed (made contiguous), both dtypes.
    #[test]
    fn equal_candle_operations_bitwise() {
        for dtype in [DType::F32, DType::F64] {
            for (rows, columns) in [(1000, 200), (3, 5)] {
                let (a, b) = (
                    matrix(rows, columns, 1, dtype),
                    matrix(rows, columns, 2, dtype),
                );
                assert_eq!(bits(&add(&a, &b).unwrap()), bits(&(&a + &b).unwrap()));
                assert_eq!(bits(&mul(&a, &b).unwrap()), bits(&(&a * &b).unwrap()));
                for eta in [-0.37, 1e-3, 0.0] {
                    let candle = (&a + (&b * eta).unwrap()).unwrap();
                    assert_eq!(bits(&plus_scaled(&a, eta, &b).unwrap()), bits(&candle));
                }
                let row = matrix(1, columns, 3, dtype).flatten_all().unwrap();
                let candle = a.broadcast_add(&row).unwrap();
                assert_eq!(bits(&add_row(&a, &row).unwrap()), bits(&candle));
            }
            let (a, b) = (
                matrix(40, 30, 4, dtype).t().unwrap(),
                matrix(30, 40, 5, dtype),
            );
            assert_eq!(bits(&mul(&a, &b).unwrap()), bits(&(&a * &b).unwrap()));
        }
    }

    #[test]
    fn tensors_with_a_graph_keep_candle_operations_and_gradients() {
        let a = Var::from_tensor(&matrix(4, 3, 6, DType::F64)).unwrap();
        let b = matrix(4, 3, 7, DType::F64);
        let grads = mul(a.as_tensor(), &b)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_eq!(bits(grads.get(a.as_tensor()).unwrap()), bits(&b));
        let error = add(&b, &matrix(3, 4, 8, DType::F64)).unwrap_err();
        assert!(error.to_string().contains("shape"), "{error}");
    }
}
