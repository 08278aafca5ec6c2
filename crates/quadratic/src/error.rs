//! The error type of this crate.

/// Everything that can go wrong when building a quadratic or configuring the simple model.
///
/// Divergence of a simulated trajectory (a non-finite state) is *not* an error: the
/// trajectory simply ends at the last finite point.
#[derive(Debug, thiserror::Error)]
pub enum QuadraticError {
    /// A configuration value is outside its allowed range.
    #[error("invalid config `{field}` = {value}: expected {expected}")]
    InvalidConfig {
        /// The field name (path within the config).
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// A spectrum with no eigenvalues was given.
    #[error("the spectrum is empty: a quadratic needs at least one eigenvalue")]
    EmptySpectrum,
    /// A vector disagrees in length with the dimension of the quadratic.
    #[error("dimension mismatch: expected {expected} entries, found {found}")]
    DimensionMismatch {
        /// The dimension of the quadratic.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A stepsize rule rejected its configuration or failed.
    #[error(transparent)]
    Stepsize(#[from] stepsharp_stepsize::StepsizeError),
}
