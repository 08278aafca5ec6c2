//! Configuration of the simple model of joint stepsize–sharpness dynamics.

use serde::{Deserialize, Serialize};
use stepsharp_stepsize::RuleConfig;

use crate::error::QuadraticError;

/// Which simple model to simulate, with its parameters (follow-up paper, eqs. 4–6 and 10;
/// the equations are in the [crate docs](crate)).
///
/// Every model evolves the top Hessian eigenvalue `λ_t` and the component `x_t` of the iterate
/// along its eigenvector; the two-direction models ([`Cdat`](Self::Cdat), [`Rule`](Self::Rule))
/// add a coordinate `y_t` along a direction of fixed curvature `ν`. `a ≥ 0` is the progressive
/// sharpening rate and `b ≥ 0` the strength of the stabilizing feedback `−b x²`.
///
/// Serialized with a `kind` tag; unknown fields are rejected. In TOML:
///
/// ```toml
/// [model]
/// kind = "cdat"
/// a = 0.05
/// b = 0.1
/// nu = 0.1
/// sigma = 2.0
/// lambda0 = 18.0
/// eta0 = 0.05
/// x0 = 4.0
/// y0 = 4.0
/// ```
///
/// ```
/// use stepsharp_quadratic::SimpleModelConfig;
/// let config = SimpleModelConfig::paper_constant();
/// config.validate().unwrap();
/// let bad = SimpleModelConfig::ConstantStep { a: 0.03, b: 0.3, eta: -1.0, lambda0: 1.8, x0: 0.1 };
/// assert!(bad.validate().unwrap_err().to_string().contains("constant_step.eta"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SimpleModelConfig {
    /// Constant stepsize `η_t = η`: `λ` self-stabilizes around `2/η` (Damian et al.).
    /// Preset: [`paper_constant`](Self::paper_constant).
    ConstantStep {
        /// Sharpening rate `a ≥ 0`. Paper: 0.03.
        a: f64,
        /// Feedback strength `b ≥ 0`. Paper: 0.3.
        b: f64,
        /// The stepsize `η > 0`. Paper: 1.
        eta: f64,
        /// Initial sharpness `λ_0 > 0`. Preset: 1.8 (ours: just below the edge `2/η`).
        lambda0: f64,
        /// Initial component `x_0` along the top eigenvector. Preset: 0.1 (ours).
        x0: f64,
    },
    /// Classical tuner `η_t = 2(1 − ε)/λ_t` for `t ≥ 1` (always just below the edge,
    /// `η_t λ_t − 2 = −2ε`), `η_0` given: the "snowball" of ever-increasing sharpness.
    /// Preset: [`paper_classical_tuner`](Self::paper_classical_tuner).
    ClassicalTuner {
        /// Sharpening rate `a ≥ 0`. Paper: 1.
        a: f64,
        /// Feedback strength `b ≥ 0`. Paper: 0.5.
        b: f64,
        /// Distance below the edge, `ε < 1`. Paper: 0.1.
        epsilon: f64,
        /// Stepsize of the first step, `η_0 > 0`. Paper: 1.
        eta0: f64,
        /// Initial sharpness `λ_0 > 0`. Preset: `2(1 − ε)/η_0 = 1.8` (ours: on the tuner's
        /// own line, so step 0 obeys the same rule as the others).
        lambda0: f64,
        /// Initial component `x_0` along the top eigenvector. Preset: 1 (ours).
        x0: f64,
    },
    /// CDAT on the two-direction model, `η_t = σ (λ_t² x_t² + ν² y_t²) / (λ_t³ x_t² + ν³ y_t²)`
    /// for `t ≥ 1`, `η_0` given. Preset: [`paper_cdat`](Self::paper_cdat).
    Cdat {
        /// Sharpening rate `a ≥ 0`. Paper: 0.05.
        a: f64,
        /// Feedback strength `b ≥ 0`. Paper: 0.1.
        b: f64,
        /// Fixed curvature `ν > 0` of the second direction. Paper: 0.1.
        nu: f64,
        /// CDAT scaling `σ > 0` (2 = on edge, 1 = greedy). Paper: 2 and 1.9.
        sigma: f64,
        /// Initial sharpness `λ_0 > 0`. Paper: 18.
        lambda0: f64,
        /// Stepsize of the first step, `η_0 > 0`. Paper: 0.05.
        eta0: f64,
        /// Initial component `x_0` along the sharpening direction. Paper: `g₀ = 4` (read as
        /// `x_0`; see the crate docs).
        x0: f64,
        /// Initial component `y_0` along the fixed-curvature direction. Paper: `p₀ = 4` (read
        /// as `y_0`; see the crate docs).
        y0: f64,
    },
    /// A real stepsize rule from `stepsharp-stepsize` choosing `η_t` on the two-direction
    /// quadratic `f_t(x, y) = ½λ_t x² + ½ν y²` (with `λ_t` frozen during the step).
    /// Preset: [`paper_rule`](Self::paper_rule).
    Rule {
        /// Sharpening rate `a ≥ 0`. Preset: 0.05 (the paper's CDAT-variant value).
        a: f64,
        /// Feedback strength `b ≥ 0`. Preset: 0.1 (the paper's CDAT-variant value).
        b: f64,
        /// Fixed curvature `ν > 0` of the second direction. Preset: 0.1 (paper, CDAT variant).
        nu: f64,
        /// Initial sharpness `λ_0 > 0`. Preset: 18 (paper, CDAT variant).
        lambda0: f64,
        /// Initial component `x_0` along the sharpening direction. Preset: 4 (paper, CDAT
        /// variant).
        x0: f64,
        /// Initial component `y_0` along the fixed-curvature direction. Preset: 4 (paper, CDAT
        /// variant).
        y0: f64,
        /// The stepsize rule.
        rule: RuleConfig,
    },
}

impl Default for SimpleModelConfig {
    /// [`SimpleModelConfig::paper_constant`].
    fn default() -> Self {
        Self::paper_constant()
    }
}

impl SimpleModelConfig {
    /// Constant η with the paper's figure parameters `a = 0.03, b = 0.3, η = 1`, started below
    /// the edge at `λ_0 = 1.8, x_0 = 0.1` (our choice; the paper's initial point is unknown).
    pub fn paper_constant() -> Self {
        Self::ConstantStep {
            a: 0.03,
            b: 0.3,
            eta: 1.0,
            lambda0: 1.8,
            x0: 0.1,
        }
    }

    /// The classical-tuner model with the paper's `a = 1, b = 0.5, ε = 0.1, η_0 = 1`, and
    /// `λ_0 = 2(1 − ε)/η_0 = 1.8`, `x_0 = 1` (our choices).
    pub fn paper_classical_tuner() -> Self {
        Self::ClassicalTuner {
            a: 1.0,
            b: 0.5,
            epsilon: 0.1,
            eta0: 1.0,
            lambda0: 1.8,
            x0: 1.0,
        }
    }

    /// The CDAT variant with the paper's `a = 0.05, b = 0.1, ν = 0.1, λ_0 = 18, η_0 = 0.05`,
    /// `x_0 = y_0 = 4` (the paper's `g₀ = p₀ = 4`), and scaling `sigma` (paper: 2 and 1.9).
    pub fn paper_cdat(sigma: f64) -> Self {
        Self::Cdat {
            a: 0.05,
            b: 0.1,
            nu: 0.1,
            sigma,
            lambda0: 18.0,
            eta0: 0.05,
            x0: 4.0,
            y0: 4.0,
        }
    }

    /// A real stepsize rule on the two-direction model, with the parameters of the paper's CDAT
    /// variant (`a = 0.05, b = 0.1, ν = 0.1, λ_0 = 18, x_0 = y_0 = 4`).
    pub fn paper_rule(rule: RuleConfig) -> Self {
        Self::Rule {
            a: 0.05,
            b: 0.1,
            nu: 0.1,
            lambda0: 18.0,
            x0: 4.0,
            y0: 4.0,
            rule,
        }
    }

    /// The model's name, as in the serialized `kind`: `"constant_step"`, `"classical_tuner"`,
    /// `"cdat"` or `"rule"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ConstantStep { .. } => "constant_step",
            Self::ClassicalTuner { .. } => "classical_tuner",
            Self::Cdat { .. } => "cdat",
            Self::Rule { .. } => "rule",
        }
    }

    /// Checks every field; the error names the field path, e.g. `"cdat.sigma"`.
    ///
    /// Ranges: `a, b ≥ 0`; `η, η_0, λ_0, ν, σ > 0`; `ε < 1`; `x_0, y_0` finite; all finite;
    /// the rule's own [`RuleConfig::validate`].
    pub fn validate(&self) -> Result<(), QuadraticError> {
        match self {
            Self::ConstantStep {
                a,
                b,
                eta,
                lambda0,
                x0,
            } => {
                non_negative("constant_step.a", *a)?;
                non_negative("constant_step.b", *b)?;
                positive("constant_step.eta", *eta)?;
                positive("constant_step.lambda0", *lambda0)?;
                finite("constant_step.x0", *x0)
            }
            Self::ClassicalTuner {
                a,
                b,
                epsilon,
                eta0,
                lambda0,
                x0,
            } => {
                non_negative("classical_tuner.a", *a)?;
                non_negative("classical_tuner.b", *b)?;
                check(
                    epsilon.is_finite() && *epsilon < 1.0,
                    "classical_tuner.epsilon",
                    *epsilon,
                    "a finite number < 1 (so that η = 2(1 − ε)/λ > 0)",
                )?;
                positive("classical_tuner.eta0", *eta0)?;
                positive("classical_tuner.lambda0", *lambda0)?;
                finite("classical_tuner.x0", *x0)
            }
            Self::Cdat {
                a,
                b,
                nu,
                sigma,
                lambda0,
                eta0,
                x0,
                y0,
            } => {
                non_negative("cdat.a", *a)?;
                non_negative("cdat.b", *b)?;
                positive("cdat.nu", *nu)?;
                positive("cdat.sigma", *sigma)?;
                positive("cdat.lambda0", *lambda0)?;
                positive("cdat.eta0", *eta0)?;
                finite("cdat.x0", *x0)?;
                finite("cdat.y0", *y0)
            }
            Self::Rule {
                a,
                b,
                nu,
                lambda0,
                x0,
                y0,
                rule,
            } => {
                non_negative("rule.a", *a)?;
                non_negative("rule.b", *b)?;
                positive("rule.nu", *nu)?;
                positive("rule.lambda0", *lambda0)?;
                finite("rule.x0", *x0)?;
                finite("rule.y0", *y0)?;
                Ok(rule.validate()?)
            }
        }
    }
}

fn check(
    ok: bool,
    field: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), QuadraticError> {
    if ok {
        Ok(())
    } else {
        Err(QuadraticError::InvalidConfig {
            field,
            value,
            expected,
        })
    }
}

fn finite(field: &'static str, value: f64) -> Result<(), QuadraticError> {
    check(value.is_finite(), field, value, "a finite number")
}

fn positive(field: &'static str, value: f64) -> Result<(), QuadraticError> {
    check(
        value.is_finite() && value > 0.0,
        field,
        value,
        "a finite number > 0",
    )
}

fn non_negative(field: &'static str, value: f64) -> Result<(), QuadraticError> {
    check(
        value.is_finite() && value >= 0.0,
        field,
        value,
        "a finite number ≥ 0",
    )
}
