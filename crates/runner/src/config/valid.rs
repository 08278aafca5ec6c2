//! A run config that has been validated, so that nothing downstream checks it again.

use std::ops::Deref;

use serde::Serialize;
use stepsharp_stepsize::{RuleConfig, Stepsize};

use super::{DeviceKind, Precision, RunConfig, Seeds};
use crate::config::ConfigError;

/// A [`RunConfig`] that passed [`RunConfig::validate`], with the stepsize rule built from it.
///
/// The constructors ([`ValidRunConfig::new`] and the readers `from_toml`, `from_table`,
/// `from_file`) are the only places a run config is validated; a function that takes a
/// `ValidRunConfig` needs no check of its own. It reads like a `RunConfig` (`Deref`) and
/// serializes like one (same canonical form, same run id), but changes only through methods
/// that keep it valid. The stepsize table is checked by building the rule ([`Stepsize::new`]),
/// which the training loop then takes from [`ValidRunConfig::rule`] instead of building
/// (and checking) it again.
///
/// ```
/// # use stepsharp_runner::config::{RunConfig, ValidRunConfig};
/// let config = ValidRunConfig::new(RunConfig::default()).unwrap();
/// assert_eq!(config.training.max_steps, 100);
/// assert_eq!(config.rule().config(), &config.stepsize);
/// let mut bad = RunConfig::default();
/// bad.sharpness.tolerance = 2.0;
/// assert!(ValidRunConfig::new(bad).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidRunConfig {
    config: RunConfig,
    #[serde(skip)]
    rule: Stepsize,
}

impl ValidRunConfig {
    /// Validates `config` ([`RunConfig::validate`]: every table, the first error is returned).
    pub fn new(config: RunConfig) -> Result<Self, ConfigError> {
        let rule = config.validated_rule()?;
        Ok(Self { config, rule })
    }

    /// The stepsize rule of `stepsize`, in its initial state (built, and so checked, once).
    pub fn rule(&self) -> &Stepsize {
        &self.rule
    }

    /// The same config with other `seeds` (seeds have no invalid values).
    ///
    /// ```
    /// # use stepsharp_runner::config::{RunConfig, Seeds, ValidRunConfig};
    /// let config = ValidRunConfig::new(RunConfig::default()).unwrap();
    /// let seeds = Seeds { init: 3, data_order: 3, probe: 3 };
    /// assert_eq!(config.with_seeds(seeds.clone()).seeds, seeds);
    /// ```
    pub fn with_seeds(mut self, seeds: Seeds) -> Self {
        self.config.seeds = seeds;
        self
    }

    /// The same config on another `device` (whether the device can be opened is only known
    /// when it is, [`DeviceKind::open`]).
    ///
    /// ```
    /// # use stepsharp_runner::config::{DeviceKind, RunConfig, ValidRunConfig};
    /// let config = ValidRunConfig::new(RunConfig::default()).unwrap();
    /// assert_eq!(config.with_device(DeviceKind::Cuda).device, DeviceKind::Cuda);
    /// ```
    pub fn with_device(mut self, device: DeviceKind) -> Self {
        self.config.device = device;
        self
    }

    /// The same config in another floating-point precision (every precision is valid).
    ///
    /// ```
    /// # use stepsharp_runner::config::{Precision, RunConfig, ValidRunConfig};
    /// let config = ValidRunConfig::new(RunConfig::default()).unwrap();
    /// assert_eq!(config.with_dtype(Precision::F64).dtype, Precision::F64);
    /// ```
    pub fn with_dtype(mut self, dtype: Precision) -> Self {
        self.config.dtype = dtype;
        self
    }

    /// The same config with the stepsize rule `stepsize`, which is checked (no other table's
    /// check reads `stepsize`, so the rest stays valid).
    ///
    /// ```
    /// # use stepsharp_runner::config::{RunConfig, ValidRunConfig};
    /// # use stepsharp_stepsize::{ConstantConfig, RuleConfig};
    /// let config = ValidRunConfig::new(RunConfig::default()).unwrap();
    /// let constant = RuleConfig::Constant(ConstantConfig { eta: 0.1 });
    /// assert_eq!(config.clone().with_stepsize(constant.clone()).unwrap().rule().config(), &constant);
    /// let error = config.with_stepsize(RuleConfig::Constant(ConstantConfig { eta: -1.0 }));
    /// assert_eq!(error.unwrap_err().field().as_deref(), Some("stepsize.eta"));
    /// ```
    pub fn with_stepsize(mut self, stepsize: RuleConfig) -> Result<Self, ConfigError> {
        self.rule = Stepsize::new(stepsize.clone())?;
        self.config.stepsize = stepsize;
        Ok(self)
    }

    /// The plain config, to edit (validate it again to use it as a `ValidRunConfig`).
    pub fn into_config(self) -> RunConfig {
        self.config
    }
}

impl Deref for ValidRunConfig {
    type Target = RunConfig;

    fn deref(&self) -> &RunConfig {
        &self.config
    }
}
