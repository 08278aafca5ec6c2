//! Polyak stepsize, SPS_max.

use serde::{Deserialize, Serialize};

use crate::context::StepContext;
use crate::error::{StepsizeError, check};
use crate::record::{Diagnostics, StepRecord};

/// Polyak stepsize with an upper bound (SPS_max, Loizou et al. 2021), along the update `u`:
///
/// ```text
/// η = min((f(w) − f*) / (c·(−∇f(w)ᵀu)), γ_max)
/// ```
///
/// the η at which the linear model `f(w) + η·∇fᵀu` reaches `f* + (1 − 1/c)(f(w) − f*)`; for
/// gradient descent (`u = −g`, `−∇fᵀu = ‖g‖²`) it is Loizou et al.'s `(f − f*)/(c‖g‖²)`. On
/// any other descent direction it is the same formula with the slope along `u` (as for
/// Armijo's test; Vaswani et al. 2020 apply it to Adam's preconditioned gradient).
/// η = 0 when `−∇fᵀu ≤ eps` (a stationary point, or an update that is not a descent
/// direction) or `f(w) < f*`. A NaN/Inf loss or slope gives η = 0 and a failed record. Calls
/// no oracle.
///
/// Sources: Roulet et al. 2023 use SPS_max (`docs/paper.md#polyak`); c = 0.5 is Loizou's code
/// (`sps.Sps`); the CDAT paper uses c = 1 with γ_max ∈ {1, 100}.
///
/// ```
/// use stepsharp_stepsize::{FnOracle, PolyakConfig, RuleConfig, StepContext, Stepsize};
/// let mut rule = Stepsize::new(RuleConfig::Polyak(PolyakConfig::loizou())).unwrap();
/// let mut no_oracle = FnOracle { loss_at: |_| unreachable!(), curvature: || unreachable!() };
/// // f = 2, ‖g‖² = 16: (2 − 0)/(0.5·16) = 0.25 < γ_max = 1.
/// let record = rule.step(&StepContext::gradient_descent(2.0, 16.0), &mut no_oracle).unwrap();
/// assert_eq!(record.eta, 0.25);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolyakConfig {
    /// Scale `c > 0` of the denominator. Default: 0.5 (Loizou et al., `sps.Sps`).
    pub c: f64,
    /// Upper bound `γ_max > 0`. Default: 1.0 (optax's `scale_by_polyak`; the CDAT paper uses 1
    /// and 100; `docs/paper.md#polyak`).
    pub gamma_max: f64,
    /// The optimal value `f*`, finite. Default: 0 (over-parameterized nets interpolate;
    /// Loizou et al.).
    pub f_star: f64,
    /// Threshold on `−∇fᵀu` (`‖g‖²` for gradient descent) at or below which η = 0,
    /// `eps ≥ 0`. Default: 1e-16 (Loizou's code sets η = 0 when `‖g‖ < 1e-8`).
    pub eps: f64,
}

impl Default for PolyakConfig {
    fn default() -> Self {
        Self {
            c: 0.5,
            gamma_max: 1.0,
            f_star: 0.0,
            eps: 1e-16,
        }
    }
}

impl PolyakConfig {
    /// Loizou et al. (2021): c = 0.5, f* = 0; γ_max = 1 (Loizou's code has no bound by
    /// default; a finite one is required here). Equals [`Default`].
    pub fn loizou() -> Self {
        Self::default()
    }

    /// The CDAT paper's variant: c = 1 and the given γ_max (1 or 100 there).
    pub fn cdat_paper(gamma_max: f64) -> Self {
        Self {
            c: 1.0,
            gamma_max,
            ..Self::default()
        }
    }

    /// Checks every field; the error names it (`"polyak.<field>"`).
    pub fn validate(&self) -> Result<(), StepsizeError> {
        check(
            self.c.is_finite() && self.c > 0.0,
            "polyak.c",
            self.c,
            "finite and > 0",
        )?;
        check(
            self.gamma_max.is_finite() && self.gamma_max > 0.0,
            "polyak.gamma_max",
            self.gamma_max,
            "finite and > 0",
        )?;
        check(
            self.f_star.is_finite(),
            "polyak.f_star",
            self.f_star,
            "finite",
        )?;
        check(
            self.eps.is_finite() && self.eps >= 0.0,
            "polyak.eps",
            self.eps,
            "finite and >= 0",
        )
    }
}

pub(crate) fn step(config: &PolyakConfig, ctx: &StepContext) -> StepRecord {
    let descent = -ctx.slope;
    let finite = ctx.loss.is_finite() && descent.is_finite();
    let guarded = !finite || descent <= config.eps || ctx.loss < config.f_star;
    let unclipped = if guarded {
        0.0
    } else {
        (ctx.loss - config.f_star) / (config.c * descent)
    };
    let clipped = unclipped > config.gamma_max;
    StepRecord {
        eta: unclipped.min(config.gamma_max),
        trials: 0,
        loss_evaluations: 0,
        curvature_evaluations: 0,
        failed: !finite,
        diagnostics: Diagnostics::Polyak { unclipped, clipped },
    }
}
