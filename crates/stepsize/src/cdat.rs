//! CDAT: curvature-dynamics aware tuning.

use serde::{Deserialize, Serialize};

use crate::context::{Oracle, StepContext};
use crate::error::{StepsizeError, check};
use crate::record::{Diagnostics, StepRecord};

/// CDAT (Roulet et al. 2024, "Stepping on the Edge"): a multiple σ of the minimizer of the
/// quadratic model along `u`,
///
/// ```text
/// η = σ·N / (D + ε),   N = EMA_β(max(−∇fᵀu, 0)),   D = EMA_β(|uᵀHu|)
/// ```
///
/// On a quadratic, σ = 1 is the exact line minimizer and σ = 2 lands where `f(w + ηu) = f(w)`
/// ("on edge"). Each step calls [`Oracle::curvature`] once (one Hessian-vector product).
///
/// EMA, bias handling: `m_1 = x_1`, `m_t = β·m_{t−1} + (1 − β)·x_t`; initializing with the
/// first value makes the average unbiased without a correction factor. β = 0 uses the current
/// values only. A NaN/Inf slope or curvature gives η = 0, a failed record, and leaves the
/// averages unchanged (the record then shows the previous averages, or 0 before any).
/// An η that is not finite (`D + ε = 0`) is also replaced by 0 and recorded as failed.
///
/// ```
/// use stepsharp_stepsize::{CdatConfig, FnOracle, RuleConfig, StepContext, Stepsize};
/// // f(w) = ½·4·w² at w = 1, u = −4: uᵀHu = 64, −slope = 16, line minimizer 0.25.
/// let config = CdatConfig { sigma: 1.0, eps: 0.0, ..CdatConfig::default() };
/// let mut rule = Stepsize::new(RuleConfig::Cdat(config)).unwrap();
/// let mut oracle = FnOracle { loss_at: |_| unreachable!(), curvature: || 64.0 };
/// let record = rule.step(&StepContext::gradient_descent(2.0, 16.0), &mut oracle).unwrap();
/// assert_eq!(record.eta, 0.25);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdatConfig {
    /// Scale σ > 0 (finite) of the quadratic minimizer. Default: 2 ("on edge", CDAT paper).
    pub sigma: f64,
    /// EMA factor β ∈ [0, 1) of numerator and denominator. Default: 0 (no averaging; the
    /// CDAT paper uses β ∈ {0, 0.9, 0.99}).
    pub beta: f64,
    /// ε ≥ 0 added to the denominator. Default: 1e-12 (chosen here, not from a source: it
    /// only guards a zero curvature).
    pub eps: f64,
}

impl Default for CdatConfig {
    fn default() -> Self {
        Self {
            sigma: 2.0,
            beta: 0.0,
            eps: 1e-12,
        }
    }
}

impl CdatConfig {
    /// Checks every field; the error names it (`"cdat.<field>"`).
    pub fn validate(&self) -> Result<(), StepsizeError> {
        check(
            self.sigma.is_finite() && self.sigma > 0.0,
            "cdat.sigma",
            self.sigma,
            "finite and > 0",
        )?;
        check(
            (0.0..1.0).contains(&self.beta),
            "cdat.beta",
            self.beta,
            "0 <= beta < 1",
        )?;
        check(
            self.eps.is_finite() && self.eps >= 0.0,
            "cdat.eps",
            self.eps,
            "finite and >= 0",
        )
    }
}

/// The exponential moving averages of CDAT's numerator and denominator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdatAverages {
    /// EMA of `max(−∇fᵀu, 0)`.
    pub numerator: f64,
    /// EMA of `|uᵀHu|`.
    pub denominator: f64,
}

/// The state CDAT carries from step to step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdatState {
    /// The averages after the last step; `None` before the first step with finite inputs.
    pub averages: Option<CdatAverages>,
}

impl CdatState {
    pub(crate) fn validate(&self) -> Result<(), StepsizeError> {
        let Some(averages) = self.averages else {
            return Ok(());
        };
        for (field, value) in [
            ("cdat.averages.numerator", averages.numerator),
            ("cdat.averages.denominator", averages.denominator),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(StepsizeError::InvalidState {
                    field,
                    value,
                    expected: "finite and >= 0",
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn step(
    config: &CdatConfig,
    state: &mut CdatState,
    ctx: &StepContext,
    oracle: &mut impl Oracle,
) -> StepRecord {
    let mut curvature_evaluations = 0;
    let curvature = if ctx.slope.is_finite() {
        curvature_evaluations = 1;
        oracle.curvature()
    } else {
        f64::NAN
    };
    let (eta, failed) = if curvature.is_finite() {
        let numerator = (-ctx.slope).max(0.0);
        let denominator = curvature.abs();
        let averages = match state.averages {
            None => CdatAverages {
                numerator,
                denominator,
            },
            Some(previous) => CdatAverages {
                numerator: config.beta * previous.numerator + (1.0 - config.beta) * numerator,
                denominator: config.beta * previous.denominator + (1.0 - config.beta) * denominator,
            },
        };
        state.averages = Some(averages);
        let eta = config.sigma * averages.numerator / (averages.denominator + config.eps);
        if eta.is_finite() {
            (eta, false)
        } else {
            (0.0, true)
        }
    } else {
        (0.0, true)
    };
    let shown = state.averages.unwrap_or(CdatAverages {
        numerator: 0.0,
        denominator: 0.0,
    });
    StepRecord {
        eta,
        trials: 0,
        loss_evaluations: 0,
        curvature_evaluations,
        failed,
        diagnostics: Diagnostics::Cdat {
            numerator: shown.numerator,
            denominator: shown.denominator,
        },
    }
}
