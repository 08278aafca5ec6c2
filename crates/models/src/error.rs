//! The crate's error type.

/// Errors raised while building, running or updating a [`crate::Network`].
///
/// Divergence (NaN or Inf in a loss) is not an error: it is returned as a value.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration field holds a value outside its valid range.
    #[error("invalid config: `{field}` = {value}, expected {expected}")]
    InvalidConfig {
        /// Path of the offending field, e.g. `"mlp.hidden"`.
        field: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A tensor has the wrong shape, dtype, device or length.
    #[error("shape mismatch: expected {expected}, found {found}")]
    Shape {
        /// What was expected, e.g. `"(n, 3, 32, 32)"`.
        expected: String,
        /// What was found.
        found: String,
    },
    /// An error raised by candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
