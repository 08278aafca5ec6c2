//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when building, running or restoring a stepsize rule.
///
/// Divergence is not an error: a NaN or Inf met during a search is a failed trial, recorded in
/// [`StepRecord::failed`](crate::StepRecord::failed). The only `Err` a step can return is
/// [`StepsizeError::LineSearchFailed`], and only under [`FailurePolicy::Error`](crate::FailurePolicy::Error).
#[derive(Clone, Debug, PartialEq, Error)]
pub enum StepsizeError {
    /// A configuration field is out of range. `field` is the path, e.g. `"armijo.shrink"`.
    #[error("invalid config: {field} = {value}, expected {expected}")]
    InvalidConfig {
        /// Path of the offending field, e.g. `"armijo.c"`.
        field: &'static str,
        /// The value found (integers are converted to `f64`).
        value: f64,
        /// The accepted range, in words.
        expected: &'static str,
    },
    /// No trial of an Armijo search passed and the failure policy is
    /// [`FailurePolicy::Error`](crate::FailurePolicy::Error).
    #[error("line search failed after {trials} trials (last eta tried: {last_eta:e})")]
    LineSearchFailed {
        /// Number of trials evaluated.
        trials: u32,
        /// The last η tried (the smallest).
        last_eta: f64,
    },
    /// [`Stepsize::restore`](crate::Stepsize::restore) got the state of another rule.
    #[error("state mismatch: the rule is {expected}, the state belongs to {found}")]
    StateMismatch {
        /// Name of the rule being restored (see [`RuleConfig::name`](crate::RuleConfig::name)).
        expected: &'static str,
        /// Name of the rule the state came from.
        found: &'static str,
    },
    /// A restored state holds a value no run could have produced (e.g. a negative η).
    #[error("invalid state: {field} = {value}, expected {expected}")]
    InvalidState {
        /// Path of the offending field, e.g. `"armijo.previous_eta"`.
        field: &'static str,
        /// The value found.
        value: f64,
        /// The accepted range, in words.
        expected: &'static str,
    },
}

/// Builds an [`StepsizeError::InvalidConfig`] unless `ok`.
pub(crate) fn check(
    ok: bool,
    field: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), StepsizeError> {
    if ok {
        Ok(())
    } else {
        Err(StepsizeError::InvalidConfig {
            field,
            value,
            expected,
        })
    }
}
