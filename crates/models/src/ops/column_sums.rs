//! The sum over the rows of a matrix, `Σ_i x_{i,·}`, for tensors without a gradient graph:
//! the bias gradients of the MLP's closed-form derivatives.
//!
//! Candle's `sum(0)` on the CPU (candle-core 0.11.1, `ReduceSum`) walks the entries in memory
//! order and finds each one's destination by an integer division: for a (1000, 200) matrix
//! that was 6.6% of a two-thread gradient of figure 3's MLP, all on one thread (`perf`). Adding
//! row after row into a zeroed accumulator performs the same additions in the same order,
//! `((0 + x₀ⱼ) + x₁ⱼ) + …`, in a loop the compiler vectorises: bitwise the same sums.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, WithDType};

use crate::ops::cpu_values::contiguous;

/// `Σ_i x_{i,·}` of a 2-D tensor `x` (n, m), shape (m,): bitwise Candle's `x.sum(0)`, which
/// it is for tensors that carry a gradient graph, off the CPU and in other dtypes.
pub(crate) fn column_sums(x: &Tensor) -> Result<Tensor> {
    x.dims2()?;
    if x.track_op() || !x.device().is_cpu() || !matches!(x.dtype(), DType::F32 | DType::F64) {
        return x.sum(0);
    }
    x.contiguous()?.apply_op1_no_bwd(&ColumnSums)
}

/// Candle's custom-op interface for [`column_sums`] on the CPU.
struct ColumnSums;

/// Row after row of the `columns`-wide row-major `values` added into zeros.
fn sum_rows<T: WithDType>(values: &[T], columns: usize) -> Vec<T> {
    let mut sums = vec![T::zero(); columns];
    for row in values.chunks_exact(columns) {
        for (sum, &value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
    sums
}

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "column-sums"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, columns) = layout.shape().dims2()?;
        let out = match storage {
            CpuStorage::F32(x) => {
                CpuStorage::F32(sum_rows(contiguous(self.name(), x, layout)?, columns))
            }
            CpuStorage::F64(x) => {
                CpuStorage::F64(sum_rows(contiguous(self.name(), x, layout)?, columns))
            }
            other => candle_core::bail!(
                "column-sums: dtype {:?} (f32 or f64 expected)",
                other.dtype()
            ),
        };
        Ok((out, Shape::from(columns)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::column_sums;

    /// Values of mixed sign and magnitude whose sums round differently in different orders.
    fn matrix(rows: usize, columns: usize) -> Tensor {
        let values: Vec<f32> = (0..rows * columns)
            .map(|i| ((i * 7919 % 1009) as f32 - 504.0) * 10f32.powi((i % 5) as i32 - 2))
            .collect();
        Tensor::from_vec(values, (rows, columns), &Device::Cpu).unwrap()
    }

    #[test]
    fn equal_candle_sum_over_rows_bitwise() {
        for (rows, columns) in [(1000, 200), (7, 3), (1, 10), (33, 1)] {
            let x = matrix(rows, columns);
            let ours = column_sums(&x).unwrap().to_vec1::<f32>().unwrap();
            let candle = x.sum(0).unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(ours, candle, "({rows}, {columns})");
            let x = x.to_dtype(candle_core::DType::F64).unwrap();
            let ours = column_sums(&x).unwrap().to_vec1::<f64>().unwrap();
            assert_eq!(ours, x.sum(0).unwrap().to_vec1::<f64>().unwrap());
        }
        // A transposed view is made contiguous first.
        let x = matrix(40, 30).t().unwrap();
        assert_eq!(
            column_sums(&x).unwrap().to_vec1::<f32>().unwrap(),
            x.sum(0).unwrap().to_vec1::<f32>().unwrap()
        );
    }

    #[test]
    fn tensors_with_a_graph_keep_candle_sum_and_its_gradient() {
        let x = Var::from_tensor(&matrix(5, 4)).unwrap();
        let sums = column_sums(x.as_tensor()).unwrap();
        let grads = sums.sum_all().unwrap().backward().unwrap();
        let ones = grads.get(x.as_tensor()).unwrap().flatten_all().unwrap();
        assert_eq!(ones.to_vec1::<f32>().unwrap(), vec![1.0; 20]);
    }
}
