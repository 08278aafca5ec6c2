//! The values of a CPU tensor inside a custom op's kernel.

use candle_core::{Layout, Result, WithDType};

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
