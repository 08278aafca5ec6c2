//! The values of a CPU tensor inside a custom op's kernel, and element-wise maps over them on
//! every thread.

use std::mem::MaybeUninit;

use candle_core::{Layout, Result, WithDType};
use rayon::prelude::*;

/// The values of a contiguous CPU tensor (`data` its storage, `layout` its view); errors,
/// naming the op `op`, for a strided view (the ops make their operands contiguous first).
pub(crate) fn contiguous<'a, T: WithDType>(
    op: &str,
    data: &'a [T],
    layout: &Layout,
) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op}: operand is not contiguous"),
    }
}

/// Entries per parallel task in [`map`], [`zip_map`] and [`map_rows`]: below this, handing
/// work to another thread costs more than it saves.
const ENTRIES_PER_TASK: usize = 1 << 14;

/// `f` applied to every entry of `values`: in parallel on rayon's threads for long inputs, in
/// plain loops over contiguous chunks compiled for the widest vectors of the CPU ([`widest`]).
/// An entry's value depends neither on the split nor on the vector width, so the result is
/// the same on any thread count and any CPU.
pub(crate) fn map<T: Sync, U: Send>(values: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    fill(values.len(), ENTRIES_PER_TASK, |start, out| {
        let values = &values[start..start + out.len()];
        widest(|| {
            for (out, value) in out.iter_mut().zip(values) {
                out.write(f(value));
            }
        })
    })
}

/// `f` applied entry by entry to two inputs of the same length, as [`map`].
pub(crate) fn zip_map<T: Sync, U: Sync, V: Send>(
    left: &[T],
    right: &[U],
    f: impl Fn(&T, &U) -> V + Sync,
) -> Vec<V> {
    assert_eq!(left.len(), right.len(), "zip_map: lengths");
    fill(left.len(), ENTRIES_PER_TASK, |start, out| {
        let end = start + out.len();
        let (left, right) = (&left[start..end], &right[start..end]);
        widest(|| {
            for (out, (left, right)) in out.iter_mut().zip(left.iter().zip(right)) {
                out.write(f(left, right));
            }
        })
    })
}

/// `f(x, r_j)` for every entry `x` in column `j` of the row-major `matrix` with rows as long as
/// `row`, as [`map`] (Candle's `broadcast_add` of a row is `f = +`).
pub(crate) fn map_rows<T: Sync, U: Sync, V: Send>(
    matrix: &[T],
    row: &[U],
    f: impl Fn(&T, &U) -> V + Sync,
) -> Vec<V> {
    let columns = row.len();
    assert!(
        columns > 0 && matrix.len().is_multiple_of(columns),
        "map_rows: lengths"
    );
    let chunk = (ENTRIES_PER_TASK / columns).max(1) * columns;
    fill(matrix.len(), chunk, |start, out| {
        let matrix = &matrix[start..start + out.len()];
        widest(|| {
            for (out, values) in out.chunks_mut(columns).zip(matrix.chunks(columns)) {
                for (out, (value, r)) in out.iter_mut().zip(values.iter().zip(row)) {
                    out.write(f(value, r));
                }
            }
        })
    })
}

/// A vector of `len` entries, each written once by `kernel(start, chunk)` for the chunk of
/// entries from `start` on: one chunk on the calling thread for vectors of at most `chunk`
/// entries, else chunks of `chunk` on rayon's threads.
fn fill<U: Send>(
    len: usize,
    chunk: usize,
    kernel: impl Fn(usize, &mut [MaybeUninit<U>]) + Sync,
) -> Vec<U> {
    let mut out = Vec::with_capacity(len);
    let spare = &mut out.spare_capacity_mut()[..len];
    if len <= chunk {
        kernel(0, spare);
    } else {
        spare
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(index, part)| kernel(index * chunk, part));
    }
    // SAFETY: the kernels write every entry of their chunks, which cover the first `len`.
    unsafe { out.set_len(len) };
    out
}

/// Runs `body` compiled for AVX-512F, else AVX2, when the CPU has them (x86-64; elsewhere
/// as is), so that its loops use the widest vectors. Without FMA in either set, and Rust
/// never fusing a multiplication with an addition, every operation is rounded as in the
/// scalar code: the values do not depend on the instruction set (tested for tanh).
#[inline(always)]
fn widest(body: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { with_avx512(body) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { with_avx2(body) };
        }
    }
    body()
}

/// `body` compiled with AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn with_avx512(body: impl FnOnce()) {
    body()
}

/// `body` compiled with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2(body: impl FnOnce()) {
    body()
}

#[cfg(test)]
mod tests {
    use super::{map, zip_map};
    use crate::ops::tanh_values::{tanh_f32, tanh_f64};

    /// Bit patterns across every magnitude, both signs, zeros, infinities and NaN.
    fn sweep() -> Vec<f32> {
        let mut values: Vec<f32> = (0..0x7f80_0000u32)
            .step_by(1009)
            .flat_map(|bits| [f32::from_bits(bits), -f32::from_bits(bits)])
            .collect();
        values.extend([
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            8.999,
            9.001,
        ]);
        values
    }

    /// The maps run in the widest vectors and on several threads; the scalar loops in the
    /// baseline instruction set on one: the same bits.
    #[test]
    fn maps_equal_scalar_loops_bitwise() {
        let x = sweep();
        assert!(x.len() > 4 * super::ENTRIES_PER_TASK);
        let scalar: Vec<u32> = x.iter().map(|&v| tanh_f32(v).to_bits()).collect();
        let mapped: Vec<u32> = map(&x, |&v| tanh_f32(v))
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert!(scalar == mapped, "tanh f32");
        let wide: Vec<f64> = x.iter().map(|&v| f64::from(v) * 2.5).collect();
        let scalar: Vec<u64> = wide.iter().map(|&v| tanh_f64(v).to_bits()).collect();
        let mapped: Vec<u64> = map(&wide, |&v| tanh_f64(v))
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert!(scalar == mapped, "tanh f64");
        let gradient = |&g: &f32, &y: &f32| g * (1.0 - y * y);
        let y: Vec<f32> = x.iter().map(|&v| tanh_f32(v)).collect();
        let scalar: Vec<u32> = x
            .iter()
            .zip(&y)
            .map(|(g, y)| gradient(g, y).to_bits())
            .collect();
        let mapped: Vec<u32> = zip_map(&x, &y, gradient)
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert!(scalar == mapped, "tanh gradient");
    }
}
