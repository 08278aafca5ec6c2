//! The enum-valued options of the Armijo search, with TOML-friendly serde forms.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How the first guess of a step grows from the previous accepted η.
///
/// First guess: `η₀ = min(c₊·η_{t−1}, η_max)` for `Factor(c₊)`; `η_max` every step for
/// `ResetToMax` (optax's `increase_factor = inf`).
///
/// Serialized as a number or a string: `growth = 1.5` or `growth = "reset_to_max"`.
///
/// ```
/// use stepsharp_stepsize::Growth;
/// assert_eq!(serde_json::from_str::<Growth>("1.5").unwrap(), Growth::Factor(1.5));
/// assert_eq!(serde_json::from_str::<Growth>("2").unwrap(), Growth::Factor(2.0));
/// assert_eq!(serde_json::from_str::<Growth>(r#""reset_to_max""#).unwrap(), Growth::ResetToMax);
/// assert_eq!(serde_json::to_string(&Growth::ResetToMax).unwrap(), r#""reset_to_max""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Growth {
    /// Multiply the previous η by this factor `c₊ ≥ 1` (1 keeps the previous η).
    Factor(f64),
    /// Start from `η_max` at every step.
    ResetToMax,
}

/// How many trials a search may evaluate.
///
/// Serialized as a number or a string: `max_trials = 30` or `max_trials = "unlimited"`.
/// Even `Unlimited` stops once η falls below `f64::MIN_POSITIVE`.
///
/// ```
/// use stepsharp_stepsize::TrialLimit;
/// assert_eq!(serde_json::from_str::<TrialLimit>("30").unwrap(), TrialLimit::AtMost(30));
/// assert_eq!(serde_json::from_str::<TrialLimit>(r#""unlimited""#).unwrap(), TrialLimit::Unlimited);
/// assert_eq!(serde_json::to_string(&TrialLimit::AtMost(100)).unwrap(), "100");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialLimit {
    /// Shrink until a trial passes or η underflows below `f64::MIN_POSITIVE`.
    Unlimited,
    /// At most this many loss evaluations (≥ 1). Note: optax's `max_backtracking_steps = n`
    /// evaluates up to `n + 1` trials; the same search here is `AtMost(n + 1)`.
    AtMost(u32),
}

impl TrialLimit {
    /// Whether `trials` evaluations exhaust the limit.
    pub fn exhausted(self, trials: u32) -> bool {
        match self {
            TrialLimit::Unlimited => false,
            TrialLimit::AtMost(n) => trials >= n,
        }
    }
}

/// What η a step returns when no trial passed the Armijo test (the step is then recorded as
/// failed).
///
/// Serialized in serde's external form: `on_failure = "keep_last_tried"`, `"zero_step"`,
/// `"error"`, or `on_failure = { fixed_step = 1e-6 }`.
///
/// ```
/// use stepsharp_stepsize::FailurePolicy;
/// let p: FailurePolicy = serde_json::from_str(r#"{"fixed_step": 1e-6}"#).unwrap();
/// assert_eq!(p, FailurePolicy::FixedStep(1e-6));
/// assert_eq!(serde_json::to_string(&FailurePolicy::KeepLastTried).unwrap(), r#""keep_last_tried""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Use the last (smallest) η tried (optax).
    KeepLastTried,
    /// Use this fixed η (sls: 1e-6).
    FixedStep(f64),
    /// Do not move: η = 0.
    ZeroStep,
    /// Return [`StepsizeError::LineSearchFailed`](crate::StepsizeError::LineSearchFailed).
    Error,
}

const RESET_TO_MAX: &str = "reset_to_max";
const UNLIMITED: &str = "unlimited";

impl Serialize for Growth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Growth::Factor(factor) => serializer.serialize_f64(factor),
            Growth::ResetToMax => serializer.serialize_str(RESET_TO_MAX),
        }
    }
}

impl<'de> Deserialize<'de> for Growth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GrowthVisitor;

        impl Visitor<'_> for GrowthVisitor {
            type Value = Growth;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a growth factor (number) or \"{RESET_TO_MAX}\"")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Growth, E> {
                Ok(Growth::Factor(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Growth, E> {
                Ok(Growth::Factor(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Growth, E> {
                Ok(Growth::Factor(v as f64))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Growth, E> {
                if v == RESET_TO_MAX {
                    Ok(Growth::ResetToMax)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }

        deserializer.deserialize_any(GrowthVisitor)
    }
}

impl Serialize for TrialLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            TrialLimit::Unlimited => serializer.serialize_str(UNLIMITED),
            TrialLimit::AtMost(n) => serializer.serialize_u32(n),
        }
    }
}

impl<'de> Deserialize<'de> for TrialLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TrialLimitVisitor;

        impl Visitor<'_> for TrialLimitVisitor {
            type Value = TrialLimit;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a number of trials (non-negative integer) or \"{UNLIMITED}\""
                )
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TrialLimit, E> {
                u32::try_from(v)
                    .map(TrialLimit::AtMost)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TrialLimit, E> {
                u32::try_from(v)
                    .map(TrialLimit::AtMost)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<TrialLimit, E> {
                if v == UNLIMITED {
                    Ok(TrialLimit::Unlimited)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }

        deserializer.deserialize_any(TrialLimitVisitor)
    }
}
