//! Armijo backtracking line search.

use serde::{Deserialize, Serialize};

use crate::armijo_options::{FailurePolicy, Growth, TrialLimit};
use crate::context::{Oracle, StepContext};
use crate::error::{StepsizeError, check};
use crate::record::{Diagnostics, StepRecord};

/// Armijo backtracking line search (sufficient decrease), with optax's relative slack δ.
///
/// Each step starts from the first guess `η₀ = min(c₊·η_{t−1}, η_max)` ([`Growth::Factor`]), or
/// `η₀ = η_max` ([`Growth::ResetToMax`], and on the very first step), and shrinks
/// `η ← c₋·η` until
///
/// ```text
/// f(w + ηu) ≤ (1 + δ)·f(w) + c·η·∇f(w)ᵀu
/// ```
///
/// A trial whose loss is NaN or ±Inf fails. The search stops after
/// [`max_trials`](Self::max_trials) evaluations, and in any case before η falls below
/// `f64::MIN_POSITIVE`; then [`on_failure`](Self::on_failure) picks η and the step is recorded
/// as failed.
///
/// On a quadratic along `u = −g`, an accepted η satisfies `η·gᵀHg/‖g‖² ≤ 2(1 − c) < 2`:
/// Armijo stays below the edge of stability along the gradient.
///
/// Sources: the criterion and the defaults are optax's `scale_by_backtracking_linesearch`
/// (same first author as the paper); [`ArmijoConfig::sls`] holds Vaswani et al. (2019) "sls"
/// defaults; [`ArmijoConfig::cdat_paper`] the relaxed criterion of the CDAT paper.
///
/// ```
/// use stepsharp_stepsize::{ArmijoConfig, FnOracle, RuleConfig, StepContext, Stepsize};
/// // f(w) = ½·4·w² at w = 1, u = −g = −4: accepted iff 4η ≤ 2(1 − c).
/// let mut rule = Stepsize::new(RuleConfig::Armijo(ArmijoConfig::optax())).unwrap();
/// let ctx = StepContext::gradient_descent(2.0, 16.0);
/// let mut oracle = FnOracle { loss_at: |eta: f64| 2.0 * (1.0 - 4.0 * eta).powi(2), curvature: || 64.0 };
/// let record = rule.step(&ctx, &mut oracle).unwrap();
/// assert!(!record.failed);
/// assert!(record.eta * 4.0 <= 2.0 * (1.0 - 1e-4));
/// // 1, 0.8, 0.64, 0.512 fail (4η > 2); 0.8⁴ = 0.4096 passes.
/// assert_eq!(record.trials, 5);
/// assert!((record.eta - 0.4096).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArmijoConfig {
    /// Sufficient-decrease coefficient `c`, in (0, 1). Default: 1e-4 (optax `slope_rtol`).
    pub c: f64,
    /// Shrink factor `c₋`, in (0, 1). Default: 0.8 (optax `decrease_factor`).
    pub shrink: f64,
    /// Growth of the first guess, factor `c₊ ≥ 1` or reset to η_max.
    /// Default: `Factor(1.5)` (optax `increase_factor`).
    pub growth: Growth,
    /// Largest η ever tried, `η_max > 0`. Default: 1.0 (optax `max_learning_rate`).
    pub eta_max: f64,
    /// Relative slack `δ ≥ 0` of the criterion. Default: 0 (optax `rtol`).
    pub slack: f64,
    /// Trial limit. Default: `Unlimited` (unlimited in full batch, `docs/paper.md#armijo`;
    /// optax has no default; a mini-batch run may set a limit such as 30).
    pub max_trials: TrialLimit,
    /// η when no trial passes. Default: `KeepLastTried` (optax returns the last η tried).
    pub on_failure: FailurePolicy,
}

impl Default for ArmijoConfig {
    fn default() -> Self {
        Self {
            c: 1e-4,
            shrink: 0.8,
            growth: Growth::Factor(1.5),
            eta_max: 1.0,
            slack: 0.0,
            max_trials: TrialLimit::Unlimited,
            on_failure: FailurePolicy::KeepLastTried,
        }
    }
}

impl ArmijoConfig {
    /// optax defaults (= [`Default`]): c = 1e-4, c₋ = 0.8, c₊ = 1.5, η_max = 1, δ = 0,
    /// unlimited trials, keep the last η tried on failure.
    pub fn optax() -> Self {
        Self::default()
    }

    /// Vaswani et al. (2019) "sls" defaults (`sls.Sls`): c = 0.1, c₋ = 0.9 (`beta_b`),
    /// c₊ = 2^(1/n_batches) (`gamma = 2`, `reset_option = 1`), η_max = 10 (`eta_max`),
    /// at most 100 trials, η = 1e-6 on failure.
    ///
    /// Differences from sls: sls starts its first step from `init_step_size = 1`, here the
    /// first guess is η_max; after a failure sls stores the last η tried times c₋, here the
    /// last η tried. `n_batches = 0` gives an infinite factor that [`validate`](Self::validate)
    /// rejects.
    pub fn sls(n_batches: usize) -> Self {
        Self {
            c: 0.1,
            shrink: 0.9,
            growth: Growth::Factor(2f64.powf(1.0 / n_batches as f64)),
            eta_max: 10.0,
            slack: 0.0,
            max_trials: TrialLimit::AtMost(100),
            on_failure: FailurePolicy::FixedStep(1e-6),
        }
    }

    /// The CDAT paper's relaxed criterion `f(w + ηu) ≤ (1 + δ)·f(w) + c·η·∇fᵀu` with
    /// `δ = slack`; every other field as [`optax`](Self::optax).
    pub fn cdat_paper(slack: f64) -> Self {
        Self {
            slack,
            ..Self::optax()
        }
    }

    /// Checks every field; the error names it (`"armijo.<field>"`).
    pub fn validate(&self) -> Result<(), StepsizeError> {
        check(
            self.c > 0.0 && self.c < 1.0,
            "armijo.c",
            self.c,
            "0 < c < 1",
        )?;
        check(
            self.shrink > 0.0 && self.shrink < 1.0,
            "armijo.shrink",
            self.shrink,
            "0 < shrink < 1",
        )?;
        if let Growth::Factor(factor) = self.growth {
            check(
                factor.is_finite() && factor >= 1.0,
                "armijo.growth",
                factor,
                "a finite factor >= 1, or \"reset_to_max\"",
            )?;
        }
        check(
            self.eta_max.is_finite() && self.eta_max > 0.0,
            "armijo.eta_max",
            self.eta_max,
            "finite and > 0",
        )?;
        check(
            self.slack.is_finite() && self.slack >= 0.0,
            "armijo.slack",
            self.slack,
            "finite and >= 0",
        )?;
        if let TrialLimit::AtMost(n) = self.max_trials {
            check(
                n >= 1,
                "armijo.max_trials",
                f64::from(n),
                ">= 1, or \"unlimited\"",
            )?;
        }
        if let FailurePolicy::FixedStep(eta) = self.on_failure {
            check(
                eta.is_finite() && eta >= 0.0,
                "armijo.on_failure.fixed_step",
                eta,
                "finite and >= 0",
            )?;
        }
        Ok(())
    }

    /// The Armijo test, a pure predicate: `trial_loss ≤ (1 + δ)·loss + c·η·slope`, false when
    /// `trial_loss` is NaN or ±Inf.
    ///
    /// ```
    /// use stepsharp_stepsize::ArmijoConfig;
    /// let armijo = ArmijoConfig { c: 0.5, ..ArmijoConfig::optax() };
    /// // f = 2, slope = −16: the bound at η = 0.25 is 2 − 0.5·0.25·16 = 0.
    /// assert!(armijo.accepts(2.0, -16.0, 0.25, 0.0));
    /// assert!(!armijo.accepts(2.0, -16.0, 0.25, 1e-12));
    /// assert!(!armijo.accepts(2.0, -16.0, 0.25, f64::NAN));
    /// ```
    pub fn accepts(&self, loss: f64, slope: f64, eta: f64, trial_loss: f64) -> bool {
        trial_loss.is_finite() && trial_loss <= (1.0 + self.slack) * loss + self.c * eta * slope
    }

    /// The first η tried: `η_max` under [`Growth::ResetToMax`] or before any step
    /// (`previous_eta = None`), else `min(c₊·η_{t−1}, η_max)`.
    pub fn first_guess(&self, previous_eta: Option<f64>) -> f64 {
        match (self.growth, previous_eta) {
            (Growth::Factor(factor), Some(previous)) => (factor * previous).min(self.eta_max),
            (Growth::ResetToMax, _) | (_, None) => self.eta_max,
        }
    }
}

/// The state an Armijo search carries from step to step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmijoState {
    /// `η_{t−1}`, the base of the next first guess: the accepted η after a success; after a
    /// failure the last η tried, whatever η the failure policy returned (so that
    /// [`FailurePolicy::ZeroStep`] does not freeze the search at 0). `None` before the first
    /// step, and left unchanged by a step whose context held NaN/Inf (no trial ran).
    pub previous_eta: Option<f64>,
}

impl ArmijoState {
    pub(crate) fn validate(&self) -> Result<(), StepsizeError> {
        match self.previous_eta {
            Some(eta) if !(eta.is_finite() && eta > 0.0) => Err(StepsizeError::InvalidState {
                field: "armijo.previous_eta",
                value: eta,
                expected: "finite and > 0",
            }),
            _ => Ok(()),
        }
    }
}

/// One backtracking search. `Err` only under [`FailurePolicy::Error`].
pub(crate) fn step(
    config: &ArmijoConfig,
    state: &mut ArmijoState,
    ctx: &StepContext,
    oracle: &mut impl Oracle,
) -> Result<StepRecord, StepsizeError> {
    let first_guess = config.first_guess(state.previous_eta);
    let mut eta = first_guess;
    let mut last_tried = first_guess;
    let mut trials = 0u32;
    let mut accepted = false;
    // A NaN/Inf loss or slope makes the test meaningless: fail without a trial.
    if ctx.loss.is_finite() && ctx.slope.is_finite() {
        while eta >= f64::MIN_POSITIVE && !config.max_trials.exhausted(trials) {
            let trial_loss = oracle.loss_at(eta);
            trials += 1;
            last_tried = eta;
            if config.accepts(ctx.loss, ctx.slope, eta, trial_loss) {
                accepted = true;
                break;
            }
            eta *= config.shrink;
        }
    }
    if trials > 0 {
        state.previous_eta = Some(last_tried);
    }
    let eta = if accepted {
        last_tried
    } else {
        match config.on_failure {
            FailurePolicy::KeepLastTried => last_tried,
            FailurePolicy::FixedStep(eta) => eta,
            FailurePolicy::ZeroStep => 0.0,
            FailurePolicy::Error => {
                return Err(StepsizeError::LineSearchFailed {
                    trials,
                    last_eta: last_tried,
                });
            }
        }
    };
    Ok(StepRecord {
        eta,
        trials,
        loss_evaluations: trials,
        curvature_evaluations: 0,
        failed: !accepted,
        diagnostics: Diagnostics::Armijo {
            first_guess,
            last_tried,
        },
    })
}
