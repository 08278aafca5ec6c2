//! Reading run configs from TOML text; `origin` names the file in every error.

use std::path::Path;

use super::RunConfig;
use crate::ConfigError;

impl RunConfig {
    /// Parses and validates a run config from TOML text; `origin` (a file name, …) heads every
    /// error: [`ConfigError::Parse`] for bad TOML, unknown keys or wrong types,
    /// [`ConfigError::In`] around an invalid value.
    ///
    /// ```
    /// # use stepsharp_runner::RunConfig;
    /// let config = RunConfig::from_toml("training = { max_steps = 20 }", "run.toml").unwrap();
    /// assert_eq!(config.training.max_steps, 20);
    /// let error = RunConfig::from_toml("stepsize = { kind = \"armijo\", c = 2.0 }", "run.toml")
    ///     .unwrap_err();
    /// assert_eq!(error.field().as_deref(), Some("stepsize.c"));
    /// // The origin heads the chain; the stepsize crate's own error ends it.
    /// let chain = format!("{:#}", anyhow::Error::from(error));
    /// assert!(chain.starts_with("run.toml: invalid value for `stepsize.c` = 2"), "{chain}");
    /// ```
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|error| parse_error(origin, error))?;
        config
            .validate()
            .map_err(|error| ConfigError::in_origin(origin, error))?;
        Ok(config)
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

/// A [`ConfigError::Parse`] from `origin`.
fn parse_error(origin: &str, error: toml::de::Error) -> ConfigError {
    ConfigError::Parse {
        origin: origin.to_string(),
        message: error.to_string(),
    }
}
