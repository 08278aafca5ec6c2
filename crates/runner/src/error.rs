//! Configuration errors: each names the file or the field path at fault.

use std::fmt::Display;

/// A config that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML text does not parse, or has unknown keys or wrong types.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or other source) being read.
        origin: String,
        /// What the parser said, with line and column.
        message: String,
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
}
