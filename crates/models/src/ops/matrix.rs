//! Matrix products on the CPU by the `gemm` crate (Candle's own matmul kernel), split across
//! Candle's threads by blocks of the result.
//!
//! `gemm`'s own threading (`Parallelism::Rayon`, what Candle's matmul asks for) divides its
//! micro-tiles unevenly for the shapes of an MLP on CIFAR-10: measured on a 2-core AVX-512
//! Xeon, the first layer's product `X·Wᵀ` (1000 × 3072 × 200) took as long on two threads as
//! on one (crates/models/README.md). [`multiply`] instead gives each thread one block of
//! contiguous rows or columns of the result and runs `gemm` single-threaded on it.
//!
//! The split does not change a bit. Each entry of `lhs · rhs` is a dot product over `k` that
//! `gemm` accumulates in blocks of `kc` terms, and `kc` depends on `k` and the caches only
//! (`gemm_common::cache::kernel_params`), except for results of at most 64 × 64 entries, where
//! `gemm` takes another block size, and for its small-matrix and matrix-vector kernels;
//! [`multiply`] therefore splits only into blocks of more than 64 rows (or columns) and more
//! than 16 across. Tested against the unsplit product on shapes with remainders (tests below).

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};
use gemm::Parallelism;
use rayon::prelude::*;

/// A matrix view: entry `(r, c)` is `values[r·row_stride + c·column_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a, T> {
    values: &'a [T],
    rows: usize,
    columns: usize,
    row_stride: usize,
    column_stride: usize,
}

impl<'a, T> Matrix<'a, T> {
    /// The contiguous row-major `rows × columns` matrix at the start of `values`.
    pub(crate) fn new(values: &'a [T], rows: usize, columns: usize) -> Self {
        Self {
            values,
            rows,
            columns,
            row_stride: columns,
            column_stride: 1,
        }
    }

    /// The 2-D view `layout` of a CPU tensor's storage `values`.
    pub(crate) fn from_layout(values: &'a [T], layout: &Layout) -> Result<Self> {
        let (rows, columns) = layout.shape().dims2()?;
        let stride = layout.stride();
        let view = Self {
            values: &values[layout.start_offset()..],
            rows,
            columns,
            row_stride: stride[0],
            column_stride: stride[1],
        };
        view.check();
        Ok(view)
    }

    /// The transpose (the same values).
    pub(crate) fn t(self) -> Self {
        Self {
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `start..start + rows`.
    fn rows(self, start: usize, rows: usize) -> Self {
        Self {
            values: &self.values[start * self.row_stride..],
            rows,
            ..self
        }
    }

    /// Columns `start..start + columns`.
    fn columns(self, start: usize, columns: usize) -> Self {
        Self {
            values: &self.values[start * self.column_stride..],
            columns,
            ..self
        }
    }

    /// Panics unless every entry lies inside `values` (what makes [`multiply`] sound).
    fn check(&self) {
        if self.rows > 0 && self.columns > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.columns - 1) * self.column_stride;
            assert!(last < self.values.len(), "matrix view out of bounds");
        }
    }
}

/// `a · b`: for 2-D f32 or f64 CPU tensors that carry no gradient graph by [`multiply`]
/// (bitwise Candle's matmul, split across its threads); otherwise Candle's `matmul`.
pub(crate) fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let cpu_float = a.device().is_cpu() && matches!(a.dtype(), DType::F32 | DType::F64);
    let plain = a.rank() == 2 && b.rank() == 2 && !a.track_op() && !b.track_op();
    if !plain || !cpu_float || a.dtype() != b.dtype() {
        return a.matmul(b);
    }
    a.apply_op2_no_bwd(b, &Product)
}

/// Candle's custom-op interface for [`matmul`] on the CPU.
struct Product;

impl CustomOp2 for Product {
    fn name(&self) -> &'static str {
        "product"
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        a_layout: &Layout,
        b: &CpuStorage,
        b_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        storage_product(self.name(), a, a_layout, b, b_layout)
    }
}

/// The product of the 2-D views `lhs_layout` of `lhs` and `rhs_layout` of `rhs` (any strides,
/// so a transpose is a transposed layout), f32 or f64, by [`multiply`]; `op` names the caller
/// in errors.
pub(crate) fn storage_product(
    op: &str,
    lhs: &CpuStorage,
    lhs_layout: &Layout,
    rhs: &CpuStorage,
    rhs_layout: &Layout,
) -> Result<(CpuStorage, Shape)> {
    fn values<T: WithDType>(op: &str, lhs: Matrix<T>, rhs: Matrix<T>) -> Result<(Vec<T>, Shape)> {
        if lhs.columns != rhs.rows {
            candle_core::bail!(
                "{op}: ({}, {}) and ({}, {}) do not multiply",
                lhs.rows,
                lhs.columns,
                rhs.rows,
                rhs.columns
            );
        }
        let mut values = vec![T::zero(); lhs.rows * rhs.columns];
        multiply(lhs, rhs, &mut values, false);
        Ok((values, Shape::from((lhs.rows, rhs.columns))))
    }
    match (lhs, rhs) {
        (CpuStorage::F32(l), CpuStorage::F32(r)) => {
            let (l, r) = (
                Matrix::from_layout(l, lhs_layout)?,
                Matrix::from_layout(r, rhs_layout)?,
            );
            let (values, shape) = values(op, l, r)?;
            Ok((CpuStorage::F32(values), shape))
        }
        (CpuStorage::F64(l), CpuStorage::F64(r)) => {
            let (l, r) = (
                Matrix::from_layout(l, lhs_layout)?,
                Matrix::from_layout(r, rhs_layout)?,
            );
            let (values, shape) = values(op, l, r)?;
            Ok((CpuStorage::F64(values), shape))
        }
        (l, r) => candle_core::bail!(
            "{op}: dtypes {:?} and {:?} (both f32 or both f64 expected)",
            l.dtype(),
            r.dtype()
        ),
    }
}

/// The fewest rows (or columns) of a block: `gemm` takes other accumulation blocks for results
/// of at most 64 × 64 entries (module documentation).
const SMALLEST_BLOCK: usize = 65;

/// The fewest entries of the side not split: at most 16 × 16 results take `gemm`'s small-matrix
/// kernels.
const SMALLEST_WIDTH: usize = 17;

/// Result columns of one of `gemm`'s register tiles (16 f32 lanes of AVX-512), for
/// [`split_rows`]'s estimate of the work in a block.
const TILE_COLUMNS: usize = 16;

/// `dst ← lhs · rhs`, or `dst ← dst + lhs · rhs` when `accumulate`, for a contiguous
/// row-major `dst`, on Candle's thread count: bitwise the single-threaded `gemm` product
/// (module documentation). `T` is f32 or f64.
pub(crate) fn multiply<T: WithDType>(
    lhs: Matrix<T>,
    rhs: Matrix<T>,
    dst: &mut [T],
    accumulate: bool,
) {
    multiply_on(
        candle_core::utils::get_num_threads(),
        lhs,
        rhs,
        dst,
        accumulate,
    );
}

/// How [`multiply_on`] splits an `m × n` result on `threads` threads: `Some(true)` by rows,
/// `Some(false)` by columns, `None` not at all (too few threads, or blocks too small to keep
/// the bits).
///
/// `gemm` computes a row-major result as its transpose, in register tiles of 16 result
/// columns (AVX-512, f32) by a few rows. Blocks of columns are each packed by one thread only,
/// but a block width that is no multiple of 16 leaves part of a tile empty; blocks of rows
/// keep the tiles full, but every thread packs the whole left operand. The split with the
/// least padded work in its largest block wins, columns on a tie.
fn split_rows(threads: usize, m: usize, n: usize) -> Option<bool> {
    let padded = |columns: usize| columns.next_multiple_of(TILE_COLUMNS);
    let blocks = |side: usize| threads.min(side / SMALLEST_BLOCK);
    let by_columns =
        (blocks(n) > 1 && m >= SMALLEST_WIDTH).then(|| padded(n.div_ceil(blocks(n))) * m);
    let by_rows = (blocks(m) > 1 && n >= SMALLEST_WIDTH).then(|| padded(n) * m.div_ceil(blocks(m)));
    match (by_rows, by_columns) {
        (Some(rows), Some(columns)) => Some(rows < columns),
        (Some(_), None) => Some(true),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    }
}

/// [`multiply`] split into at most `threads` blocks.
fn multiply_on<T: WithDType>(
    threads: usize,
    lhs: Matrix<T>,
    rhs: Matrix<T>,
    dst: &mut [T],
    accumulate: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.columns, rhs.columns);
    assert_eq!(rhs.rows, k, "inner dimensions");
    assert_eq!(dst.len(), m * n, "destination size");
    lhs.check();
    rhs.check();
    let Some(by_rows) = split_rows(threads, m, n) else {
        // SAFETY: checked views, `dst` exclusive, `T` f32 or f64 (see `gemm_block`).
        unsafe { gemm_block(lhs, rhs, dst.as_mut_ptr(), n, accumulate) };
        return;
    };
    let side = if by_rows { m } else { n };
    let blocks = threads.min(side / SMALLEST_BLOCK);
    // `blocks` blocks of `side / blocks` or one more, each at least `SMALLEST_BLOCK`.
    let block_start = |b: usize| b * side / blocks;
    let dst = Destination(dst.as_mut_ptr());
    (0..blocks).into_par_iter().for_each(|b| {
        let (start, size) = (block_start(b), block_start(b + 1) - block_start(b));
        // SAFETY: the blocks of `dst` are disjoint (rows `start..start + size` of a row-major
        // `m × n` result, or those columns), and `dst` outlives this loop.
        unsafe {
            if by_rows {
                gemm_block(lhs.rows(start, size), rhs, dst.at(start * n), n, accumulate);
            } else {
                gemm_block(lhs, rhs.columns(start, size), dst.at(start), n, accumulate);
            }
        }
    });
}

/// A result's base pointer, shared by the threads that write its disjoint blocks.
struct Destination<T>(*mut T);

// SAFETY: each thread writes its own block only (see `multiply_on`).
unsafe impl<T: Send> Send for Destination<T> {}
unsafe impl<T: Send> Sync for Destination<T> {}

impl<T> Destination<T> {
    /// The pointer `offset` entries in.
    ///
    /// # Safety
    /// `offset` lies inside the result.
    unsafe fn at(&self, offset: usize) -> *mut T {
        unsafe { self.0.add(offset) }
    }
}

/// One single-threaded `gemm` call: `dst ← (dst +) lhs · rhs`, `dst` row-major with row
/// stride `dst_row_stride`.
///
/// # Safety
/// `lhs` and `rhs` are checked views, `dst` points to `lhs.rows × rhs.columns` entries at row
/// stride `dst_row_stride` that nothing else reads or writes meanwhile, and `T` is f32 or f64
/// (the types `gemm` takes).
unsafe fn gemm_block<T: WithDType>(
    lhs: Matrix<T>,
    rhs: Matrix<T>,
    dst: *mut T,
    dst_row_stride: usize,
    accumulate: bool,
) {
    let one = T::from_f64(1.0);
    unsafe {
        gemm::gemm(
            lhs.rows,
            rhs.columns,
            lhs.columns,
            dst,
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.values.as_ptr(),
            lhs.column_stride as isize,
            lhs.row_stride as isize,
            rhs.values.as_ptr(),
            rhs.column_stride as isize,
            rhs.row_stride as isize,
            one,
            one,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{Matrix, multiply_on};

    /// Deterministic values of mixed sign and magnitude.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        (0..len as u64)
            .map(|i| {
                let x = (i.wrapping_mul(2654435761).wrapping_add(seed * 97)) % 10007;
                (x as f32 / 10007.0 - 0.5) * (1.0 + (i % 7) as f32)
            })
            .collect()
    }

    /// `lhs · rhs` on `threads`, with `lhs` given transposed when `transposed`.
    fn product(threads: usize, (m, k, n): (usize, usize, usize), transposed: bool) -> Vec<f32> {
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let lhs = if transposed {
            Matrix::new(&a, k, m).t()
        } else {
            Matrix::new(&a, m, k)
        };
        let mut dst = values(m * n, 3);
        multiply_on(threads, lhs, Matrix::new(&b, k, n), &mut dst, true);
        dst
    }

    #[test]
    fn split_products_equal_the_single_threaded_product_bitwise() {
        let shapes = [
            (1000, 3072, 200),
            (200, 1000, 3072),
            (333, 517, 70),
            (70, 600, 401),
            (130, 40, 131),
            (64, 700, 64),
            (3, 100, 1000),
            (20, 300, 200),
            (1000, 50, 1),
        ];
        for shape in shapes {
            for transposed in [false, true] {
                let single = product(1, shape, transposed);
                for threads in [2, 3, 7] {
                    assert!(
                        product(threads, shape, transposed) == single,
                        "{shape:?} on {threads} threads, transposed {transposed}"
                    );
                }
            }
        }
    }

    /// On the machine's thread count (two or more on CI) [`super::matmul`] is split, Candle's
    /// matmul threaded by `gemm` itself: the same bits, transposed operands included.
    #[test]
    fn matmul_equals_candle_matmul_bitwise() {
        use candle_core::{Device, Tensor};
        let tensor = |rows: usize, columns: usize, seed: u64| {
            Tensor::from_vec(values(rows * columns, seed), (rows, columns), &Device::Cpu).unwrap()
        };
        for (m, k, n) in [(1000, 200, 200), (200, 1000, 3072), (150, 70, 90)] {
            let (a, b) = (tensor(m, k, 6), tensor(k, n, 7));
            let ours = super::matmul(&a, &b).unwrap();
            let candle = a.matmul(&b).unwrap();
            assert_eq!(
                ours.to_vec2::<f32>().unwrap(),
                candle.to_vec2::<f32>().unwrap()
            );
            let (a_t, b_t) = (tensor(k, m, 8).t().unwrap(), tensor(n, k, 9).t().unwrap());
            let ours = super::matmul(&a_t, &b_t).unwrap();
            let candle = a_t.matmul(&b_t).unwrap();
            assert_eq!(
                ours.to_vec2::<f32>().unwrap(),
                candle.to_vec2::<f32>().unwrap()
            );
        }
    }

    #[test]
    fn splits_keep_register_tiles_full_and_blocks_large() {
        use super::split_rows;
        // Figure 3's first layer: 200 columns in two blocks of 100 would pad 12 per tile row.
        assert_eq!(split_rows(2, 1000, 200), Some(true));
        // Its weight gradient: 1536 columns per block, no padding, each thread packs its own.
        assert_eq!(split_rows(2, 200, 3072), Some(false));
        assert_eq!(split_rows(2, 64, 1000), Some(false));
        assert_eq!(split_rows(2, 1000, 10), None);
        assert_eq!(split_rows(2, 100, 100), None);
        assert_eq!(split_rows(1, 1000, 1000), None);
    }

    #[test]
    fn products_equal_a_plain_triple_loop() {
        let (m, k, n) = (150, 90, 80);
        let (a, b) = (values(m * k, 4), values(k * n, 5));
        let mut dst = vec![0.0f32; m * n];
        multiply_on(
            2,
            Matrix::new(&a, m, k),
            Matrix::new(&b, k, n),
            &mut dst,
            false,
        );
        for r in 0..m {
            for c in 0..n {
                let exact: f64 = (0..k)
                    .map(|i| a[r * k + i] as f64 * b[i * n + c] as f64)
                    .sum();
                assert!((dst[r * n + c] as f64 - exact).abs() < 1e-4, "({r}, {c})");
            }
        }
    }
}
