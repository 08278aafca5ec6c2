//! Which update direction a run follows, with every constant.

use serde::{Deserialize, Serialize};

use crate::error::{DirectionError, check};
use crate::policy::NonDescentPolicy;

/// The update direction `u_t` that a stepsize rule scales: `w_{t+1} = w_t + η_t·u_t`.
///
/// Serialized with a `kind` tag next to the direction's fields; fields left out take their
/// defaults. In TOML:
///
/// ```toml
/// direction = { kind = "adam", beta1 = 0.9, beta2 = 0.999, eps = 1e-8 }
/// ```
///
/// | kind | state | update `u_t` (gradient `g_t`) |
/// |---|---|---|
/// | `gradient_descent` | none | `−g_t` |
/// | `heavy_ball` | `b ← β·b + g_t` | `−b` |
/// | `nesterov` | `b ← β·b + g_t` | `−(g_t + β·b)` |
/// | `adam` | `m ← β₁m + (1 − β₁)g_t`, `v ← β₂v + (1 − β₂)g_t²`, `t ← t + 1` | `−m̂/(√v̂ + ε)` |
///
/// Momentum is PyTorch's form (`torch.optim.SGD` with `momentum = β`, `dampening = 0`, and
/// `nesterov = true` for Nesterov), which Cohen et al.'s edge-of-stability code runs as
/// `--opt polyak` / `--opt nesterov`; Adam is Kingma & Ba (2015) with `m̂ = m/(1 − β₁ᵗ)`,
/// `v̂ = v/(1 − β₂ᵗ)` (see [`BiasCorrection`]). Buffers start at zero, so the first momentum
/// update is `b = g_0`, as in PyTorch.
///
/// ```
/// use stepsharp_direction::{AdamConfig, DirectionConfig};
/// let config: DirectionConfig =
///     serde_json::from_str(r#"{"kind": "adam", "beta1": 0.8}"#).unwrap();
/// assert_eq!(config, DirectionConfig::Adam(AdamConfig { beta1: 0.8, ..AdamConfig::default() }));
/// assert_eq!(config.name(), "adam");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DirectionConfig {
    /// `u = −g`: the paper's setting, and the default.
    #[default]
    GradientDescent,
    /// Heavy-ball momentum (Polyak 1964) in PyTorch's form.
    HeavyBall(MomentumConfig),
    /// Nesterov momentum in PyTorch's form (Sutskever et al. 2013).
    Nesterov(MomentumConfig),
    /// Adam (Kingma & Ba 2015).
    Adam(AdamConfig),
}

impl DirectionConfig {
    /// The direction's name, as in the serialized `kind`.
    pub fn name(&self) -> &'static str {
        match self {
            DirectionConfig::GradientDescent => "gradient_descent",
            DirectionConfig::HeavyBall(_) => "heavy_ball",
            DirectionConfig::Nesterov(_) => "nesterov",
            DirectionConfig::Adam(_) => "adam",
        }
    }

    /// Checks every field; the error names it (e.g. `"adam.beta2"`).
    pub fn validate(&self) -> Result<(), DirectionError> {
        match self {
            DirectionConfig::GradientDescent => Ok(()),
            DirectionConfig::HeavyBall(config) => config.validate("heavy_ball.beta"),
            DirectionConfig::Nesterov(config) => config.validate("nesterov.beta"),
            DirectionConfig::Adam(config) => config.validate(),
        }
    }

    /// What each stepsize rule does when this direction's update is not a descent direction
    /// (gradient descent's always is, so it has the default policy, never used).
    pub fn non_descent(&self) -> NonDescentPolicy {
        match self {
            DirectionConfig::GradientDescent => NonDescentPolicy::default(),
            DirectionConfig::HeavyBall(config) | DirectionConfig::Nesterov(config) => {
                config.non_descent
            }
            DirectionConfig::Adam(config) => config.non_descent,
        }
    }

    /// Whether the direction keeps a momentum buffer (heavy ball, Nesterov: `b`; Adam: `m`).
    pub fn has_momentum(&self) -> bool {
        !matches!(self, DirectionConfig::GradientDescent)
    }

    /// Whether the direction is preconditioned (Adam: `P = diag(√v̂ + ε)`), so that its
    /// stability is decided by `λ_max(P⁻¹H)` rather than `λ_max(H)`.
    pub fn is_preconditioned(&self) -> bool {
        matches!(self, DirectionConfig::Adam(_))
    }
}

/// The constants of heavy-ball and Nesterov momentum.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MomentumConfig {
    /// Momentum `β ∈ [0, 1)`. Default: 0.9 (PyTorch's usual value; the one of Cohen et al.'s
    /// momentum runs, whose heavy-ball threshold is 3.8/η).
    pub beta: f64,
    /// What each rule does on a step whose update is not a descent direction. Default:
    /// see [`NonDescentPolicy`].
    pub non_descent: NonDescentPolicy,
}

impl Default for MomentumConfig {
    fn default() -> Self {
        Self {
            beta: 0.9,
            non_descent: NonDescentPolicy::default(),
        }
    }
}

impl MomentumConfig {
    fn validate(&self, field: &'static str) -> Result<(), DirectionError> {
        check(
            (0.0..1.0).contains(&self.beta),
            field,
            self.beta,
            "0 <= beta < 1",
        )
    }
}

/// Which of Adam's moment estimates are divided by `1 − βᵗ`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BiasCorrection {
    /// `m̂ = m/(1 − β₁ᵗ)` and `v̂ = v/(1 − β₂ᵗ)` (Kingma & Ba 2015, optax, PyTorch).
    #[default]
    Both,
    /// `m̂ = m`, `v̂ = v` (RMSprop with momentum).
    None,
}

/// The constants of Adam.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// First-moment decay `β₁ ∈ [0, 1)`. Default: 0.9 (Kingma & Ba 2015; optax, PyTorch).
    pub beta1: f64,
    /// Second-moment decay `β₂ ∈ [0, 1]`. Default: 0.999 (Kingma & Ba 2015; optax, PyTorch).
    /// `β₂ = 1` keeps `v` at its restored value — a frozen diagonal preconditioner, the
    /// setting of Cohen et al. 2022's stability analysis — and needs `bias_correction = "none"`
    /// (`1 − β₂ᵗ` would be 0).
    pub beta2: f64,
    /// `ε ≥ 0` added to `√v̂`. Default: 1e-8 (Kingma & Ba 2015; optax, PyTorch).
    pub eps: f64,
    /// Bias correction of the moments. Default: both (Kingma & Ba 2015).
    pub bias_correction: BiasCorrection,
    /// What each rule does on a step whose update is not a descent direction. Default:
    /// see [`NonDescentPolicy`].
    pub non_descent: NonDescentPolicy,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            bias_correction: BiasCorrection::Both,
            non_descent: NonDescentPolicy::default(),
        }
    }
}

impl AdamConfig {
    fn validate(&self) -> Result<(), DirectionError> {
        check(
            (0.0..1.0).contains(&self.beta1),
            "adam.beta1",
            self.beta1,
            "0 <= beta1 < 1",
        )?;
        check(
            (0.0..=1.0).contains(&self.beta2),
            "adam.beta2",
            self.beta2,
            "0 <= beta2 <= 1",
        )?;
        check(
            self.beta2 < 1.0 || self.bias_correction == BiasCorrection::None,
            "adam.beta2",
            self.beta2,
            "< 1 with bias_correction = \"both\" (1 − beta2^t would be 0)",
        )?;
        check(
            self.eps.is_finite() && self.eps >= 0.0,
            "adam.eps",
            self.eps,
            "finite and >= 0",
        )
    }

    /// The first-moment correction `1 − β₁ᵗ` after `t ≥ 1` updates (1 without bias correction).
    pub fn first_moment_correction(&self, t: u64) -> f64 {
        self.correction(self.beta1, t)
    }

    /// The second-moment correction `1 − β₂ᵗ` after `t ≥ 1` updates (1 without bias
    /// correction).
    pub fn second_moment_correction(&self, t: u64) -> f64 {
        self.correction(self.beta2, t)
    }

    fn correction(&self, beta: f64, t: u64) -> f64 {
        match self.bias_correction {
            BiasCorrection::Both => 1.0 - beta.powf(t as f64),
            BiasCorrection::None => 1.0,
        }
    }
}
