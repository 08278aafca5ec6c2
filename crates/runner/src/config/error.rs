//! Configuration errors: each names the file or the full field path at fault, and keeps the
//! typed error of the crate that found it underneath.
//!
//! A value rejected by a lower crate (`stepsize`, `direction`, `model`, `data`, `sharpness.trace` and
//! `sharpness.density`) is a variant holding that crate's error as its
//! [`source`](std::error::Error::source), and its message names the field by its full path in
//! the run config. A config read from TOML wraps such an error in [`ConfigError::In`], which
//! names where it came from. Printed as a chain (`{:#}` of the runner's
//! [`Error`](crate::error::Error) or of an `anyhow::Error`, or anyhow's `Caused by:` list), a
//! bad Armijo constant in a figure reads:
//!
//! ```text
//! experiments/figure3.toml: scale `quick`: group `full batch`, series `armijo`:
//! invalid value for `stepsize.c` = 1.5: expected 0 < c < 1:
//! invalid config: armijo.c = 1.5, expected 0 < c < 1
//! ```
//!
//! (file and scale from the figure loader, group and series from [`ConfigError::In`], then the
//! runner's message and the stepsize crate's error.)

use std::fmt::Display;

use stepsharp_data::DataError;
use stepsharp_direction::DirectionError;
use stepsharp_models::ModelError;
use stepsharp_sharpness::SharpnessError;
use stepsharp_stepsize::StepsizeError;

/// A config that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML text does not parse, or has unknown keys or wrong types.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or other source) being read.
        origin: String,
        /// What the parser said: with line and column for text, with the key path (e.g.
        /// ``in `training.batch_size` ``) for a table.
        message: String,
    },
    /// The config file holds no setting at all (a default run is never started by accident).
    #[error("{origin}: the config file is empty (write at least one setting, e.g. `model`)")]
    Empty {
        /// The file.
        origin: String,
    },
    /// A value is outside its allowed range.
    #[error("invalid value for `{field}`{value}: expected {expected}")]
    Invalid {
        /// Dotted path of the field, e.g. `sharpness.tolerance`.
        field: String,
        /// The offending value, printed as ` = value` (empty when not a scalar).
        value: String,
        /// The allowed range, in words.
        expected: String,
    },
    /// The `stepsize` table is invalid; the message names `stepsize.<field>`.
    #[error("{}", nested("stepsize", .0))]
    Stepsize(#[from] StepsizeError),
    /// The `direction` table is invalid; the message names `direction.<field>`.
    #[error("{}", nested("direction", .0))]
    Direction(#[from] DirectionError),
    /// The `data` table is invalid; the message names `data.<field>`.
    #[error("{}", nested("data", .0))]
    Data(#[from] DataError),
    /// The `model` table is invalid; the message names `model.<field>`.
    #[error("{}", nested("model", .0))]
    Model(#[from] ModelError),
    /// `sharpness.trace` or `sharpness.density` is invalid (the sharpness crate's estimator
    /// rejected it); the message names the field.
    #[error("{}", sharpness_message(field, source))]
    Sharpness {
        /// Dotted path of the field, e.g. `sharpness.density.lanczos_steps`.
        field: String,
        /// The sharpness crate's error.
        source: SharpnessError,
    },
    /// The config read from `origin` has an invalid value; `error`, its source, says which.
    #[error("{origin}")]
    In {
        /// The file, or a figure's group and series, the config came from.
        origin: String,
        /// What is wrong.
        #[source]
        error: Box<ConfigError>,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `field` holding `value`.
    pub fn invalid(field: &str, value: impl Display, expected: impl Display) -> Self {
        let value = value.to_string();
        ConfigError::Invalid {
            field: field.to_string(),
            value: if value.is_empty() {
                value
            } else {
                format!(" = {value}")
            },
            expected: expected.to_string(),
        }
    }

    /// `error` in the config read from `origin` ([`ConfigError::In`]).
    pub(crate) fn in_origin(origin: &str, error: ConfigError) -> Self {
        ConfigError::In {
            origin: origin.to_string(),
            error: Box::new(error),
        }
    }

    /// The full dotted path of the offending field, when one is known (e.g. `stepsize.eta`).
    pub fn field(&self) -> Option<String> {
        match self {
            ConfigError::Parse { .. } | ConfigError::Empty { .. } => None,
            ConfigError::Invalid { field, .. } | ConfigError::Sharpness { field, .. } => {
                Some(field.clone())
            }
            ConfigError::Stepsize(error) => nested_field("stepsize", error),
            ConfigError::Direction(error) => nested_field("direction", error),
            ConfigError::Data(error) => nested_field("data", error),
            ConfigError::Model(error) => nested_field("model", error),
            ConfigError::In { error, .. } => error.field(),
        }
    }
}

/// An error of a sub-crate whose invalid-config variant names a field relative to its own
/// table.
trait FieldError: Display {
    /// The field path as the sub-crate names it (`constant.eta`, `train_subset.count`), the
    /// value and the expected range, for an invalid-config error.
    fn invalid_field(&self) -> Option<(String, String, String)>;
    /// Whether the field path starts with the name of a variant (`constant.eta` for the
    /// `stepsize` table, whose variant is chosen by `kind`) rather than a key of the table.
    const VARIANT_PREFIXED: bool;
}

/// [`FieldError`] for a sub-crate error whose `InvalidConfig { field, value, expected }`
/// variant holds printable fields (the crates store them as `&str` or `String`).
macro_rules! field_error {
    ($error:ident, variant_prefixed: $prefixed:literal) => {
        impl FieldError for $error {
            fn invalid_field(&self) -> Option<(String, String, String)> {
                match self {
                    $error::InvalidConfig {
                        field,
                        value,
                        expected,
                    } => Some((field.to_string(), value.to_string(), expected.to_string())),
                    _ => None,
                }
            }
            const VARIANT_PREFIXED: bool = $prefixed;
        }
    };
}

field_error!(StepsizeError, variant_prefixed: true);
field_error!(DirectionError, variant_prefixed: true);
field_error!(DataError, variant_prefixed: false);
field_error!(ModelError, variant_prefixed: true);

/// `table.<field>`: the sub-crate's field path under the run config's `table`.
fn nested_field<E: FieldError>(table: &str, error: &E) -> Option<String> {
    let (field, ..) = error.invalid_field()?;
    let key = match E::VARIANT_PREFIXED {
        true => field.split_once('.').map_or(field.as_str(), |(_, key)| key),
        false => field.as_str(),
    };
    Some(format!("{table}.{key}"))
}

/// The message of a sub-crate error under `table`: `invalid value for `stepsize.eta` = -0.1:
/// expected …`, or the sub-crate's own message prefixed with the table.
fn nested<E: FieldError>(table: &str, error: &E) -> String {
    match (nested_field(table, error), error.invalid_field()) {
        (Some(field), Some((_, value, expected))) => invalid_value(&field, &value, &expected),
        _ => format!("invalid `{table}`: {error}"),
    }
}

/// The message of [`ConfigError::Sharpness`].
fn sharpness_message(field: &str, error: &SharpnessError) -> String {
    match error {
        SharpnessError::InvalidConfig {
            value, expected, ..
        } => invalid_value(field, value, expected),
        other => format!("invalid `{field}`: {other}"),
    }
}

/// `invalid value for `field` = value: expected …`.
fn invalid_value(field: &str, value: &str, expected: &str) -> String {
    format!("invalid value for `{field}` = {value}: expected {expected}")
}
