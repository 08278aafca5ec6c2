//! Reading run configs from TOML text; `origin` names the file in parse errors.

use std::path::Path;

use super::RunConfig;
use crate::ConfigError;

impl RunConfig {
    /// Parses and validates a run config from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|error| parse_error(origin, error))?;
        config.validate()?;
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
