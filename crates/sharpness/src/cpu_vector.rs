//! Inner products ([`dot`]) and classical Gram–Schmidt ([`project_out`]) on the values of CPU
//! tensors, accumulated in f64, for the Krylov solvers' `Vector` implementation on tensors.
//!
//! Gram–Schmidt of one vector against an orthonormal basis goes in blocks. Pass `p` computes
//!
//! `c⁽ᵖ⁾_i = Σ_k b_i[k]·w[k]` for every basis vector `b_i`, then `w ← w − Σ_i c⁽ᵖ⁾_i·b_i`,
//!
//! both sums accumulated in f64 (an f32 vector's inner products and corrections are rounded
//! once, not once per term). The work goes block by block ([`BLOCK`] entries): the first
//! sweep computes `c⁽¹⁾`; each later sweep subtracts the current pass's correction from a
//! block and, while that block of every basis vector is still in cache, accumulates the next
//! pass's coefficients on the corrected block. `P` passes therefore read the basis `P + 1`
//! times (three for Lanczos' two), with no stacked copy of the basis and no packed operands
//! — which is what the matrix–vector products of Candle/`gemm` cost on top (before this
//! kernel: four reads, a stacked copy and `gemm`'s packing per step of Lanczos).

use candle_core::{CpuStorage, Layout, WithDType};

/// Entries per block: for 20 basis vectors, the blocks of the basis (20 × 2048 f64 = 320 KiB)
/// stay in a second-level cache between the two uses of a sweep.
const BLOCK: usize = 2048;

/// The values of `storage` seen through `layout`, when the layout is contiguous and the
/// storage holds `T`s; `None` otherwise.
pub(crate) fn contiguous_values<'a, T: WithDType>(
    storage: &'a CpuStorage,
    layout: &Layout,
) -> Option<&'a [T]> {
    let (start, end) = layout.contiguous_offsets()?;
    Some(&T::cpu_storage_as_slice(storage).ok()?[start..end])
}

/// `Σ_k a[k]·b[k]` accumulated in f64 (`a` and `b` of the same length, checked by the caller).
///
/// On x86-64 CPUs with AVX2 this and [`project_out`] are compiled for AVX2 as well and chosen
/// at run time. The arithmetic is the same operations in the same order (Rust does not fuse
/// multiply-adds), so the result is bitwise the same on every CPU, only faster.
pub(crate) fn dot<T: WithDType>(a: &[T], b: &[T]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { dot_avx2(a, b) };
    }
    dot_portable(a, b)
}

/// [`dot_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2<T: WithDType>(a: &[T], b: &[T]) -> f64 {
    dot_portable(a, b)
}

/// `passes` passes of classical Gram–Schmidt on `w` (module documentation); returns each
/// pass's coefficients. Every basis vector must have `w.len()` entries (checked by the
/// caller). Compiled for AVX2 too (see [`dot`]).
pub(crate) fn project_out<T: WithDType>(
    w: &mut [T],
    basis: &[&[T]],
    passes: usize,
) -> Vec<Vec<f64>> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { project_out_avx2(w, basis, passes) };
    }
    project_out_portable(w, basis, passes)
}

/// [`project_out_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn project_out_avx2<T: WithDType>(
    w: &mut [T],
    basis: &[&[T]],
    passes: usize,
) -> Vec<Vec<f64>> {
    project_out_portable(w, basis, passes)
}

/// The passes of [`project_out`] for the baseline instruction set (inlined into the AVX2
/// variant, which compiles it again with wider vectors). Sweep `s` over the blocks subtracts
/// pass `s`'s correction (none in the first sweep) and accumulates pass `s + 1`'s coefficients
/// on the corrected block (none in the last).
#[inline(always)]
fn project_out_portable<T: WithDType>(w: &mut [T], basis: &[&[T]], passes: usize) -> Vec<Vec<f64>> {
    let mut all = Vec::with_capacity(passes);
    let mut correction = vec![0.0f64; BLOCK.min(w.len())];
    let mut subtracting: Option<Vec<f64>> = None;
    for sweep in 0..=passes {
        let mut next = (sweep < passes).then(|| vec![0.0; basis.len()]);
        for (index, block) in w.chunks_mut(BLOCK).enumerate() {
            let (start, len) = (index * BLOCK, block.len());
            let rows = basis.iter().map(|b| &b[start..start + len]);
            if let Some(current) = &subtracting {
                subtract(block, current, rows.clone(), &mut correction);
            }
            if let Some(next) = next.as_mut() {
                for (c, row) in next.iter_mut().zip(rows) {
                    *c += dot_portable(block, row);
                }
            }
        }
        all.extend(subtracting.take());
        subtracting = next;
    }
    all
}

/// `block ← block − Σ_i c_i·row_i`, the sum accumulated in f64 in `correction`.
#[inline(always)]
fn subtract<'a, T: WithDType>(
    block: &mut [T],
    coefficients: &[f64],
    rows: impl Iterator<Item = &'a [T]>,
    correction: &mut [f64],
) {
    let correction = &mut correction[..block.len()];
    correction.fill(0.0);
    for (&c, row) in coefficients.iter().zip(rows) {
        for (total, &value) in correction.iter_mut().zip(row) {
            *total += c * value.to_f64();
        }
    }
    for (value, &total) in block.iter_mut().zip(correction.iter()) {
        *value = T::from_f64(value.to_f64() - total);
    }
}

/// `Σ_k a[k]·b[k]` in f64, in 16 interleaved partial sums (vectorised by the compiler).
#[inline(always)]
fn dot_portable<T: WithDType>(a: &[T], b: &[T]) -> f64 {
    let mut lanes = [0.0f64; 16];
    let (a_chunks, b_chunks) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f64 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x.to_f64() * y.to_f64())
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += x.to_f64() * y.to_f64();
        }
    }
    lanes.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::{dot, project_out};

    /// Deterministic pseudo-random values in (−0.5, 0.5), independent across seeds.
    fn values(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 * 12.9898 + seed * 78.233).sin() * 43758.5453).fract() * 0.5)
            .collect()
    }

    /// `count` orthonormal vectors of length `n` by modified Gram–Schmidt in f64.
    fn orthonormal(n: usize, count: usize) -> Vec<Vec<f64>> {
        let mut basis: Vec<Vec<f64>> = Vec::new();
        for j in 0..count {
            let mut v = values(n, 1.0 + j as f64);
            for b in &basis {
                let c: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            basis.push(v.iter().map(|x| x / norm).collect());
        }
        basis
    }

    /// Lengths around the block size (one block, a partial block, several blocks).
    #[test]
    fn equals_the_textbook_formula_in_f64_and_f32() {
        for n in [5, 4096, 4100, 3 * 4096 + 17] {
            let basis = orthonormal(n, 4);
            let w = values(n, 0.3);
            let expected_c: Vec<f64> = basis
                .iter()
                .map(|b| b.iter().zip(&w).map(|(x, y)| x * y).sum())
                .collect();
            let expected: Vec<f64> = (0..n)
                .map(|k| w[k] - (0..4).map(|i| expected_c[i] * basis[i][k]).sum::<f64>())
                .collect();

            let mut ours = w.clone();
            let rows: Vec<&[f64]> = basis.iter().map(Vec::as_slice).collect();
            let c = project_out(&mut ours, &rows, 1).remove(0);
            for (a, b) in c.iter().zip(&expected_c).chain(ours.iter().zip(&expected)) {
                assert!((a - b).abs() < 1e-12 * n as f64, "f64, n = {n}: {a} vs {b}");
            }

            let basis32: Vec<Vec<f32>> = basis
                .iter()
                .map(|b| b.iter().map(|&x| x as f32).collect())
                .collect();
            let rows32: Vec<&[f32]> = basis32.iter().map(Vec::as_slice).collect();
            let mut ours32: Vec<f32> = w.iter().map(|&x| x as f32).collect();
            let c32 = project_out(&mut ours32, &rows32, 1).remove(0);
            for (a, b) in c32.iter().zip(&expected_c) {
                assert!((a - b).abs() < 1e-5, "f32 coefficient, n = {n}: {a} vs {b}");
            }
            for (a, b) in ours32.iter().zip(&expected) {
                assert!((*a as f64 - b).abs() < 1e-5, "f32, n = {n}: {a} vs {b}");
            }
        }
    }

    /// Two passes equal one pass applied twice (the second pass's coefficients are computed
    /// on the corrected blocks); on a vector almost in the span, the second pass restores
    /// orthogonality that the first leaves at the level of its rounding.
    #[test]
    fn two_passes_equal_one_pass_twice_and_restore_orthogonality() {
        let n = 3 * 2048 + 5;
        let basis = orthonormal(n, 6);
        let rows: Vec<&[f64]> = basis.iter().map(Vec::as_slice).collect();
        // w = Σ b_i + 1e-9·noise: nearly dependent on the basis.
        let noise = values(n, 7.0);
        let w: Vec<f64> = (0..n)
            .map(|k| basis.iter().map(|b| b[k]).sum::<f64>() + 1e-9 * noise[k])
            .collect();
        let mut twice = w.clone();
        let both = project_out(&mut twice, &rows, 2);
        let mut once = w.clone();
        let first = project_out(&mut once, &rows, 1).remove(0);
        let second = project_out(&mut once, &rows, 1).remove(0);
        assert_eq!(both, vec![first, second]);
        assert_eq!(twice, once);
        let norm = twice.iter().map(|x| x * x).sum::<f64>().sqrt();
        for b in &basis {
            let overlap: f64 = b.iter().zip(&twice).map(|(x, y)| x * y).sum();
            assert!(
                overlap.abs() < 1e-12 * norm,
                "{overlap} against ‖w‖ = {norm}"
            );
        }
    }

    #[test]
    fn inner_products_are_accumulated_in_f64() {
        for n in [0, 7, 16, 1000] {
            let (a, b) = (values(n, 1.0), values(n, 2.0));
            let expected: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - expected).abs() < 1e-13, "n = {n}");
        }
        // 1 + 10⁴ terms of 10⁻⁴ in f32: an f32 sum would stall at 1; f64 gives 2.
        let mut a = vec![1e-4f32; 10_001];
        a[0] = 1.0;
        let ones = vec![1.0f32; 10_001];
        assert!((dot(&a, &ones) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn an_empty_basis_leaves_the_vector_alone() {
        let mut w = values(10, 0.0);
        assert_eq!(
            project_out::<f64>(&mut w, &[], 2),
            vec![Vec::<f64>::new(); 2]
        );
        assert_eq!(w, values(10, 0.0));
    }
}
