//! The error type of this crate.

/// Everything that can go wrong while estimating sharpness.
///
/// Not converging within the iteration cap is *not* an error: solvers report it in their
/// result (`converged: false`, with the residual reached).
#[derive(Debug, thiserror::Error)]
pub enum SharpnessError {
    /// Two vectors (or a vector and an operator) disagree in length.
    #[error("dimension mismatch: expected {expected} entries, found {found}")]
    DimensionMismatch {
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A configuration value is outside its allowed range.
    #[error("invalid config `{field}` = {value}: expected {expected}")]
    InvalidConfig {
        /// The field name.
        field: &'static str,
        /// The offending value, printed.
        value: String,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// Candle's double backward does not return exact second derivatives on this thread
    /// (typically `CANDLE_GRAD_DO_NOT_DETACH` was not set before the first backward pass).
    #[error(
        "second derivatives are not exact (self-test relative error {relative_error:e}); \
         Candle detaches gradients unless CANDLE_GRAD_DO_NOT_DETACH=1 is set before the first \
         backward pass on this thread"
    )]
    SecondDerivativesNotExact {
        /// Largest relative error of the self-test HVP against the analytic Hessian.
        relative_error: f64,
    },
    /// A Hessian operator was asked for with an empty parameter list.
    #[error("no parameters: the Hessian needs at least one variable")]
    NoParameters,
    /// A Hessian operator was asked for with an empty list of chunk losses.
    #[error("no losses: the Hessian needs at least one chunk loss")]
    NoLosses,
    /// A chunk loss is not a scalar.
    #[error("chunk loss {index} is not a scalar: it has {elements} elements")]
    LossNotScalar {
        /// Position of the offending loss in the list.
        index: usize,
        /// Number of elements it has (a scalar has 1).
        elements: usize,
    },
    /// Tensors that must share a dtype do not (e.g. a probe vector and the parameters).
    #[error("dtype mismatch: expected {expected}, found {found}")]
    DtypeMismatch {
        /// The dtype required, printed.
        expected: String,
        /// The dtype given, printed.
        found: String,
    },
    /// More eigenpairs were requested than the operator has dimensions.
    #[error("asked for {requested} eigenpairs of an operator of dimension {dimension}")]
    TooManyEigenpairs {
        /// Number of eigenpairs requested (`k`).
        requested: usize,
        /// Dimension of the operator.
        dimension: usize,
    },
    /// An error raised by Candle (feature `candle`).
    #[cfg(feature = "candle")]
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl SharpnessError {
    /// [`SharpnessError::InvalidConfig`] for `field` = `value`, expected `expected`.
    pub(crate) fn invalid(
        field: &'static str,
        value: impl ToString,
        expected: &'static str,
    ) -> Self {
        Self::InvalidConfig {
            field,
            value: value.to_string(),
            expected,
        }
    }
}
