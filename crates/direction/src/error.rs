//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when building, running or restoring an update direction.
///
/// A non-finite gradient is not an error: its update is non-finite too, and the training loop
/// records the divergence.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum DirectionError {
    /// A configuration field is out of range. `field` is the path, e.g. `"adam.beta1"`.
    #[error("invalid config: {field} = {value}, expected {expected}")]
    InvalidConfig {
        /// Path of the offending field, e.g. `"heavy_ball.beta"`.
        field: &'static str,
        /// The value found.
        value: f64,
        /// The accepted range, in words.
        expected: &'static str,
    },
    /// [`Direction::restore`](crate::Direction::restore) got a state that this direction
    /// cannot have: a moment it does not keep, or one it needs missing.
    #[error("state mismatch: {direction} {problem}")]
    StateMismatch {
        /// The direction's name ([`DirectionConfig::name`](crate::DirectionConfig::name)).
        direction: &'static str,
        /// What is wrong, in words.
        problem: &'static str,
    },
    /// The vector type's own operation failed (e.g. a Candle error: shapes, device).
    #[error("vector operation failed: {0}")]
    Vector(String),
}

/// Builds a [`DirectionError::InvalidConfig`] unless `ok`.
pub(crate) fn check(
    ok: bool,
    field: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), DirectionError> {
    if ok {
        Ok(())
    } else {
        Err(DirectionError::InvalidConfig {
            field,
            value,
            expected,
        })
    }
}
