//! The rule chosen by a config, with its state.

use serde::{Deserialize, Serialize};

use crate::armijo::{self, ArmijoConfig, ArmijoState};
use crate::cdat::{self, CdatConfig, CdatState};
use crate::constant::{self, ConstantConfig};
use crate::context::{Oracle, StepContext};
use crate::error::StepsizeError;
use crate::polyak::{self, PolyakConfig};
use crate::record::StepRecord;

/// Which stepsize rule to run, with its parameters.
///
/// Serialized with a `kind` tag next to the rule's fields; fields left out take the rule's
/// defaults (except the constant's `eta`). In TOML:
///
/// ```toml
/// [stepsize]
/// kind = "armijo"
/// growth = "reset_to_max"
/// max_trials = 30
/// on_failure = { fixed_step = 1e-6 }
/// ```
///
/// ```
/// use stepsharp_stepsize::{ArmijoConfig, FailurePolicy, Growth, RuleConfig, TrialLimit};
/// let json = r#"{"kind": "armijo", "growth": "reset_to_max", "max_trials": 30,
///                "on_failure": {"fixed_step": 1e-6}}"#;
/// let config: RuleConfig = serde_json::from_str(json).unwrap();
/// let expected = ArmijoConfig {
///     growth: Growth::ResetToMax,
///     max_trials: TrialLimit::AtMost(30),
///     on_failure: FailurePolicy::FixedStep(1e-6),
///     ..ArmijoConfig::optax()
/// };
/// assert_eq!(config, RuleConfig::Armijo(expected));
/// assert_eq!(config.name(), "armijo");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleConfig {
    /// Constant η.
    Constant(ConstantConfig),
    /// Armijo backtracking line search.
    Armijo(ArmijoConfig),
    /// Polyak SPS_max.
    Polyak(PolyakConfig),
    /// CDAT.
    Cdat(CdatConfig),
}

impl RuleConfig {
    /// Checks the rule's fields; the error names the field path, e.g. `"armijo.shrink"`.
    pub fn validate(&self) -> Result<(), StepsizeError> {
        match self {
            RuleConfig::Constant(config) => config.validate(),
            RuleConfig::Armijo(config) => config.validate(),
            RuleConfig::Polyak(config) => config.validate(),
            RuleConfig::Cdat(config) => config.validate(),
        }
    }

    /// The rule's name, as in the serialized `kind`: `"constant"`, `"armijo"`, `"polyak"` or
    /// `"cdat"`.
    pub fn name(&self) -> &'static str {
        match self {
            RuleConfig::Constant(_) => "constant",
            RuleConfig::Armijo(_) => "armijo",
            RuleConfig::Polyak(_) => "polyak",
            RuleConfig::Cdat(_) => "cdat",
        }
    }

    /// The state of this rule before its first step.
    fn initial_state(&self) -> RuleState {
        match self {
            RuleConfig::Constant(_) => RuleState::Constant,
            RuleConfig::Armijo(_) => RuleState::Armijo(ArmijoState::default()),
            RuleConfig::Polyak(_) => RuleState::Polyak,
            RuleConfig::Cdat(_) => RuleState::Cdat(CdatState::default()),
        }
    }
}

/// Everything a rule carries from one step to the next; saving it and calling
/// [`Stepsize::restore`] resumes a run exactly. Serialized with a `kind` tag, e.g.
/// `{"kind": "armijo", "previous_eta": 0.4096}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleState {
    /// Constant η: no state.
    Constant,
    /// Armijo: the previous η.
    Armijo(ArmijoState),
    /// Polyak: no state.
    Polyak,
    /// CDAT: the moving averages.
    Cdat(CdatState),
}

impl RuleState {
    /// The name of the rule this state belongs to (see [`RuleConfig::name`]).
    pub fn name(&self) -> &'static str {
        match self {
            RuleState::Constant => "constant",
            RuleState::Armijo(_) => "armijo",
            RuleState::Polyak => "polyak",
            RuleState::Cdat(_) => "cdat",
        }
    }
}

/// A validated stepsize rule with its state: the one type a training loop drives.
///
/// Each [`step`](Self::step) gets the [`StepContext`] at the current point and an [`Oracle`]
/// it may call (Armijo calls `loss_at`, CDAT calls `curvature`), and returns a
/// [`StepRecord`]. The rule never prints and never moves the parameters.
///
/// ```
/// use stepsharp_stepsize::{ArmijoConfig, FnOracle, RuleConfig, StepContext, Stepsize};
/// // f(w) = ½·4·w² on w ∈ ℝ, gradient descent.
/// let mut rule = Stepsize::new(RuleConfig::Armijo(ArmijoConfig::optax())).unwrap();
/// let loss = |w: f64| 2.0 * w * w;
/// let mut w = 1.0f64;
/// for _ in 0..5 {
///     let g = 4.0 * w;
///     let ctx = StepContext::gradient_descent(loss(w), g * g);
///     let mut oracle = FnOracle { loss_at: |eta: f64| loss(w - eta * g), curvature: || 4.0 * g * g };
///     let record = rule.step(&ctx, &mut oracle).unwrap();
///     assert!(!record.failed && record.eta * 4.0 < 2.0); // below the edge 2/λ
///     let next = w - record.eta * g;
///     assert!(loss(next) < loss(w)); // sufficient decrease
///     w = next;
/// }
/// // Resume from a saved state.
/// let saved = serde_json::to_string(&rule.state()).unwrap();
/// let mut resumed = Stepsize::new(rule.config().clone()).unwrap();
/// resumed.restore(serde_json::from_str(&saved).unwrap()).unwrap();
/// assert_eq!(resumed.state(), rule.state());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Stepsize {
    config: RuleConfig,
    state: RuleState,
}

impl Stepsize {
    /// Validates `config` and starts the rule from its initial state.
    pub fn new(config: RuleConfig) -> Result<Self, StepsizeError> {
        config.validate()?;
        let state = config.initial_state();
        Ok(Self { config, state })
    }

    /// The rule's configuration.
    pub fn config(&self) -> &RuleConfig {
        &self.config
    }

    /// Proposes η at the current point and advances the state.
    ///
    /// Returns `Err` only for an Armijo search that failed under
    /// [`FailurePolicy::Error`](crate::FailurePolicy::Error) (the state is advanced as after
    /// any failure). NaN and Inf never panic: they show up as `failed` in the record.
    pub fn step(
        &mut self,
        ctx: &StepContext,
        oracle: &mut impl Oracle,
    ) -> Result<StepRecord, StepsizeError> {
        match (&self.config, &mut self.state) {
            (RuleConfig::Constant(config), RuleState::Constant) => Ok(constant::step(config)),
            (RuleConfig::Armijo(config), RuleState::Armijo(state)) => {
                armijo::step(config, state, ctx, oracle)
            }
            (RuleConfig::Polyak(config), RuleState::Polyak) => Ok(polyak::step(config, ctx)),
            (RuleConfig::Cdat(config), RuleState::Cdat(state)) => {
                Ok(cdat::step(config, state, ctx, oracle))
            }
            (config, state) => unreachable!(
                "Stepsize keeps state and config of one kind ({} vs {})",
                config.name(),
                state.name()
            ),
        }
    }

    /// A copy of the current state.
    pub fn state(&self) -> RuleState {
        self.state.clone()
    }

    /// Replaces the state with a saved one. Errors if it belongs to another rule
    /// ([`StepsizeError::StateMismatch`]) or holds an impossible value
    /// ([`StepsizeError::InvalidState`]); the state is then unchanged.
    pub fn restore(&mut self, state: RuleState) -> Result<(), StepsizeError> {
        if state.name() != self.config.name() {
            return Err(StepsizeError::StateMismatch {
                expected: self.config.name(),
                found: state.name(),
            });
        }
        match &state {
            RuleState::Armijo(armijo) => armijo.validate()?,
            RuleState::Cdat(cdat) => cdat.validate()?,
            RuleState::Constant | RuleState::Polyak => {}
        }
        self.state = state;
        Ok(())
    }

    /// Whether [`step`](Self::step) calls [`Oracle::curvature`] (CDAT).
    pub fn needs_curvature(&self) -> bool {
        matches!(self.config, RuleConfig::Cdat(_))
    }

    /// Whether [`step`](Self::step) calls [`Oracle::loss_at`] (Armijo).
    pub fn needs_line_search(&self) -> bool {
        matches!(self.config, RuleConfig::Armijo(_))
    }
}
