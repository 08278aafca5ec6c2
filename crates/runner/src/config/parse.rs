//! Reading run configs from TOML: text (a run config file; parse errors give line and column)
//! or an already parsed table (a figure's `base` with its `group` and `series` settings merged
//! in). Every reader validates once and names its `origin` in errors.

use std::path::Path;

use super::{RunConfig, ValidRunConfig};
use crate::config::ConfigError;

impl ValidRunConfig {
    /// Parses and validates a run config from TOML text; `origin` (a file name, …) heads every
    /// error: [`ConfigError::Parse`] for bad TOML, unknown keys or wrong types,
    /// [`ConfigError::In`] around an invalid value.
    ///
    /// ```
    /// # use stepsharp_runner::config::ValidRunConfig;
    /// let config = ValidRunConfig::from_toml("training = { max_steps = 20 }", "run.toml").unwrap();
    /// assert_eq!(config.training.max_steps, 20);
    /// let error = ValidRunConfig::from_toml("stepsize = { kind = \"armijo\", c = 2.0 }", "run.toml")
    ///     .unwrap_err();
    /// assert_eq!(error.field().as_deref(), Some("stepsize.c"));
    /// // The origin heads the chain; the stepsize crate's own error ends it.
    /// let chain = format!("{:#}", anyhow::Error::from(error));
    /// assert!(chain.starts_with("run.toml: invalid value for `stepsize.c` = 2"), "{chain}");
    /// ```
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: RunConfig = toml::from_str(text).map_err(|error| parse_error(origin, error))?;
        Self::new(config).map_err(|error| ConfigError::in_origin(origin, error))
    }

    /// Deserializes and validates a run config from a TOML table, without going through
    /// text; `origin` heads every error as in [`ValidRunConfig::from_toml`].
    ///
    /// ```
    /// # use stepsharp_runner::config::ValidRunConfig;
    /// let table: toml::Table = toml::from_str("training = { max_steps = 20 }").unwrap();
    /// let config = ValidRunConfig::from_table(table, "group `a`, series `b`").unwrap();
    /// assert_eq!(config.training.max_steps, 20);
    /// ```
    pub fn from_table(table: toml::Table, origin: &str) -> Result<Self, ConfigError> {
        let config: RunConfig = table
            .try_into()
            .map_err(|error| parse_error(origin, error))?;
        Self::new(config).map_err(|error| ConfigError::in_origin(origin, error))
    }

    /// Reads, parses and validates a run config file; an empty file (no setting at all) is an
    /// error ([`ConfigError::Empty`]), so a default run is never started by accident.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Parse {
            origin: origin.clone(),
            message: format!("cannot read the file: {error}"),
        })?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|error| parse_error(&origin, error))?;
        if table.is_empty() {
            return Err(ConfigError::Empty { origin });
        }
        Self::from_toml(&text, &origin)
    }
}

impl RunConfig {
    /// Parses and validates a run config from TOML text ([`ValidRunConfig::from_toml`]), and
    /// returns it as a plain, editable config.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        ValidRunConfig::from_toml(text, origin).map(ValidRunConfig::into_config)
    }

    /// Reads and validates a run config file ([`ValidRunConfig::from_file`]), and returns it as
    /// a plain, editable config.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        ValidRunConfig::from_file(path).map(ValidRunConfig::into_config)
    }
}

/// A [`ConfigError::Parse`] from `origin`.
fn parse_error(origin: &str, error: toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        origin: origin.to_string(),
        message: error.to_string(),
    }
}
