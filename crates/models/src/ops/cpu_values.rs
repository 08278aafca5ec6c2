//! The values of a CPU tensor inside a custom op's kernel, and element-wise maps over them on
//! every thread.

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

/// Entries per parallel task in [`map`] and [`zip_map`]: below this, handing work to another
/// thread costs more than it saves.
const ENTRIES_PER_TASK: usize = 1 << 14;

/// `f` applied to every entry of `values`, in parallel on rayon's threads for long inputs, in
/// plain loops over contiguous chunks (which the compiler vectorises). An entry's value does
/// not depend on the split, so the result is the same on any thread count.
pub(crate) fn map<T: Sync, U: Send>(values: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    if values.len() <= ENTRIES_PER_TASK {
        return values.iter().map(f).collect();
    }
    let mut out = Vec::with_capacity(values.len());
    out.spare_capacity_mut()
        .par_chunks_mut(ENTRIES_PER_TASK)
        .zip(values.par_chunks(ENTRIES_PER_TASK))
        .for_each(|(out, values)| {
            for (out, value) in out.iter_mut().zip(values) {
                out.write(f(value));
            }
        });
    // SAFETY: the chunks cover the first `values.len()` entries, each written above.
    unsafe { out.set_len(values.len()) };
    out
}

/// `f` applied entry by entry to two inputs of the same length, as [`map`].
pub(crate) fn zip_map<T: Sync, U: Sync, V: Send>(
    left: &[T],
    right: &[U],
    f: impl Fn(&T, &U) -> V + Sync,
) -> Vec<V> {
    assert_eq!(left.len(), right.len(), "zip_map: lengths");
    if left.len() <= ENTRIES_PER_TASK {
        return left.iter().zip(right).map(|(l, r)| f(l, r)).collect();
    }
    let mut out = Vec::with_capacity(left.len());
    out.spare_capacity_mut()
        .par_chunks_mut(ENTRIES_PER_TASK)
        .zip(left.par_chunks(ENTRIES_PER_TASK))
        .zip(right.par_chunks(ENTRIES_PER_TASK))
        .for_each(|((out, left), right)| {
            for (out, (left, right)) in out.iter_mut().zip(left.iter().zip(right)) {
                out.write(f(left, right));
            }
        });
    // SAFETY: the chunks cover the first `left.len()` entries, each written above.
    unsafe { out.set_len(left.len()) };
    out
}
