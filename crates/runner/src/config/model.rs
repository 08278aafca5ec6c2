//! `model`: what a run trains, a network on CIFAR-10 or a quadratic objective.

use serde::{Deserialize, Serialize};
use stepsharp_data::BatchSize;
use stepsharp_models::Architecture;

use crate::config::ConfigError;

/// What a run trains.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModelSpec {
    /// A quadratic objective (`kind = "quadratic"`).
    Quadratic(QuadraticSpec),
    /// A network (`kind = "mlp"`, `"vgg11"` or `"resnet"`).
    Network(Architecture),
}

impl<'de> Deserialize<'de> for ModelSpec {
    /// Dispatches on `kind` so that errors come from the matching type (an untagged enum would
    /// only say that no variant matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::Value::deserialize(deserializer)?;
        if value.get("kind").and_then(toml::Value::as_str) == Some("quadratic") {
            value
                .try_into()
                .map(ModelSpec::Quadratic)
                .map_err(D::Error::custom)
        } else {
            value
                .try_into()
                .map(ModelSpec::Network)
                .map_err(D::Error::custom)
        }
    }
}

impl ModelSpec {
    /// Checks the `model` table of a run trained with `batch_size`: a network's fields
    /// ([`Architecture::validate`], errors as [`ConfigError::Model`]), or a quadratic's spectrum
    /// and its full-batch regime (a quadratic has no examples to sample).
    pub(super) fn validate(&self, batch_size: BatchSize) -> Result<(), ConfigError> {
        match self {
            ModelSpec::Network(architecture) => Ok(architecture.validate()?),
            ModelSpec::Quadratic(quadratic) => quadratic.validate(batch_size),
        }
    }
}

/// The tag of [`QuadraticSpec`]: always `"quadratic"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuadraticKind {
    /// The only value.
    #[default]
    Quadratic,
}

/// A quadratic objective `f(w) = ½(w − w*)ᵀH(w − w*)`, `H = Q diag(spectrum) Qᵀ`, `w* = 0`,
/// started at a seeded standard-normal point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuadraticSpec {
    /// Always `"quadratic"`.
    pub kind: QuadraticKind,
    /// Eigenvalues of `H`. Default: `[100, 10, 1, 0.1]`.
    pub spectrum: Vec<f64>,
    /// Seed of the orthogonal basis `Q` and of the starting point. Default: 0.
    pub seed: u64,
}

impl Default for QuadraticSpec {
    fn default() -> Self {
        Self {
            kind: QuadraticKind::Quadratic,
            spectrum: vec![100.0, 10.0, 1.0, 0.1],
            seed: 0,
        }
    }
}

impl QuadraticSpec {
    /// `model.spectrum` is a non-empty list of finite eigenvalues, and `training.batch_size`
    /// is `"full"`.
    fn validate(&self, batch_size: BatchSize) -> Result<(), ConfigError> {
        if self.spectrum.is_empty() || self.spectrum.iter().any(|l| !l.is_finite()) {
            return Err(ConfigError::invalid(
                "model.spectrum",
                format!("{:?}", self.spectrum),
                "a non-empty list of finite eigenvalues",
            ));
        }
        if batch_size != BatchSize::Full {
            return Err(ConfigError::invalid(
                "training.batch_size",
                format!("{batch_size:?}"),
                "\"full\" for a quadratic objective",
            ));
        }
        Ok(())
    }
}
