//! The configuration of one training run: everything that determines its trajectory.
//!
//! A [`RunConfig`] is written in TOML (usually as part of a figure file under `experiments/`),
//! every field has a documented default, unknown keys are rejected, and [`RunConfig::validate`]
//! names the offending field path. The fully resolved config (defaults filled in) is what the
//! run hash is computed from (see [`crate::hash::run_hash`]). A [`ValidRunConfig`] is one that has
//! been validated, carrying the stepsize rule built from it.
//!
//! One file per table: [`model`](ModelSpec), [`training`](TrainingConfig),
//! [`sharpness`](SharpnessConfig) with its [`trace` and `density`](TraceOptions) estimators,
//! [`seeds`](Seeds), [`dtype` and `device`](DeviceKind); the periodic schedule they share
//! ([`Periodic`]); reading TOML (`parse.rs`) and the validated form (`valid.rs`). `data` and
//! `stepsize` are the data and stepsize crates' own config types.

mod device;
mod error;
mod estimators;
mod model;
mod parse;
mod periodic;
mod seeds;
mod sharpness;
mod training;
mod valid;

use serde::{Deserialize, Serialize};
use stepsharp_data::DataConfig;
use stepsharp_direction::DirectionConfig;
use stepsharp_models::{Architecture, Loss};
use stepsharp_stepsize::{RuleConfig, Stepsize};

pub use device::{DeviceKind, Precision};
pub use error::ConfigError;
pub use estimators::{DensityOptions, TraceOptions};
pub use model::{ModelSpec, QuadraticKind, QuadraticSpec};
pub use periodic::Periodic;
pub use seeds::Seeds;
pub use sharpness::{GraphMemory, SharpnessConfig, SharpnessMethod};
pub use stepsharp_sharpness::WarmStart;
pub use training::{LineSearchBatch, TrainingConfig};
pub use valid::ValidRunConfig;

/// One training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// What is trained: a network on CIFAR-10 (`kind = "mlp" | "vgg11" | "resnet"`) or a
    /// quadratic (`kind = "quadratic"`, no data). Default: Cohen et al.'s fully connected tanh
    /// net `[200, 200]`.
    pub model: ModelSpec,
    /// Which CIFAR-10 examples, and how they are preprocessed. Default: see [`DataConfig`].
    pub data: DataConfig,
    /// Training loss. Default: MSE (Cohen et al.).
    pub loss: Loss,
    /// Regime (full batch or mini-batch), length and stop conditions.
    pub training: TrainingConfig,
    /// The stepsize rule and all its constants. Default: Armijo with optax constants.
    pub stepsize: RuleConfig,
    /// The update direction the rule scales (`w ← w + η·u`), e.g.
    /// `direction = { kind = "adam", beta1 = 0.9 }`, with its constants and its non-descent
    /// policy ([`DirectionConfig`]). Default: none, i.e. gradient descent `u = −g` (left out
    /// of the canonical form, so run ids from before this field existed stay valid; an
    /// explicit `kind = "gradient_descent"` is a different, equivalent run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionConfig>,
    /// How and when the sharpness λ_max is measured.
    pub sharpness: SharpnessConfig,
    /// Seeds of every random stream of the run.
    pub seeds: Seeds,
    /// Floating-point precision of parameters and data. Default: f32.
    pub dtype: Precision,
    /// Where tensors live. Default: CPU. CUDA needs the `cuda` cargo feature.
    pub device: DeviceKind,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            model: ModelSpec::Network(Architecture::mlp_cohen()),
            data: DataConfig::default(),
            loss: Loss::Mse,
            training: TrainingConfig::default(),
            stepsize: RuleConfig::Armijo(Default::default()),
            direction: None,
            sharpness: SharpnessConfig::default(),
            seeds: Seeds::default(),
            dtype: Precision::F32,
            device: DeviceKind::Cpu,
        }
    }
}

impl RunConfig {
    /// Checks every value against its allowed range, table by table; the error names the
    /// field path. [`ValidRunConfig::new`] runs the same checks once and keeps the result.
    ///
    /// ```
    /// # use stepsharp_runner::config::RunConfig;
    /// let mut config = RunConfig::default();
    /// assert!(config.validate().is_ok());
    /// config.training.max_steps = 0;
    /// assert_eq!(config.validate().unwrap_err().field().as_deref(), Some("training.max_steps"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validated_rule().map(drop)
    }

    /// Checks every table, in the order `model`, `data`, `stepsize`, `direction`, `training`,
    /// `sharpness` (the first error is reported), and returns the stepsize rule:
    /// [`Stepsize::new`] is where the `stepsize` table is checked.
    fn validated_rule(&self) -> Result<Stepsize, ConfigError> {
        self.model.validate(self.training.batch_size)?;
        self.data.validate()?;
        let rule = Stepsize::new(self.stepsize.clone())?;
        if let Some(direction) = &self.direction {
            direction.validate()?;
        }
        self.training.validate(&self.data)?;
        self.sharpness.validate(self.training.max_steps)?;
        Ok(rule)
    }

    /// The update direction: the `direction` table, or gradient descent without one.
    pub fn direction(&self) -> DirectionConfig {
        self.direction.unwrap_or_default()
    }

    /// Checks that a mini-batch fits in a training set of `examples` records: the one check
    /// that needs the loaded data (a `train_subset` of `"all"` has no size in the config).
    pub fn check_batch_fits(&self, examples: usize) -> Result<(), ConfigError> {
        self.training.check_batch_fits(examples)
    }
}

/// A count `value` of `field` is at least 1.
fn positive(field: &str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::invalid(field, value, "an integer ≥ 1"))
    } else {
        Ok(())
    }
}
