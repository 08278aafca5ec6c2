//! What a rule is told about the current point, and the oracles it may call.

use serde::{Deserialize, Serialize};

/// What the rule is told about the current point `w` and the update direction `u`
/// (`u = −g` for gradient descent; momentum or Adam's update otherwise, e.g. from
/// `stepsharp-direction`).
///
/// Both numbers are computed once by the caller, on the same batch as the gradient.
///
/// ```
/// use stepsharp_stepsize::StepContext;
/// // f(w) = ½·4·w² at w = 1: f = 2, g = 4, u = −g.
/// let ctx = StepContext::gradient_descent(2.0, 16.0);
/// assert_eq!(ctx, StepContext { loss: 2.0, slope: -16.0 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepContext {
    /// The loss `f(w)`.
    pub loss: f64,
    /// The directional derivative `∇f(w)ᵀu` (negative for a descent direction; `−‖g‖²` for
    /// gradient descent).
    pub slope: f64,
}

impl StepContext {
    /// The context for gradient descent, `u = −g`: `slope = −‖g‖²`.
    pub fn gradient_descent(loss: f64, grad_norm_sq: f64) -> Self {
        Self {
            loss,
            slope: -grad_norm_sq,
        }
    }
}

/// Oracles a rule may call lazily, at most as often as its record says.
///
/// - `loss_at(η) = f(w + ηu)`, evaluated on the same data as [`StepContext::loss`]. It may return
///   NaN or ±Inf; a line search counts such a value as a failed trial.
/// - `curvature() = uᵀHu`, one Hessian-vector product along `u` (CDAT only).
///
/// Adapters from model parameters to these oracles live next to the models; tests use
/// [`FnOracle`] over closed forms.
pub trait Oracle {
    /// `f(w + ηu)`.
    fn loss_at(&mut self, eta: f64) -> f64;
    /// `uᵀHu`, the curvature of the loss along `u`.
    fn curvature(&mut self) -> f64;
}

/// An [`Oracle`] from two closures.
///
/// ```
/// use stepsharp_stepsize::{FnOracle, Oracle};
/// // f(w) = ½·4·w² at w = 1 along u = −4.
/// let mut oracle = FnOracle {
///     loss_at: |eta: f64| 2.0 * (1.0 - 4.0 * eta).powi(2),
///     curvature: || 4.0 * 16.0,
/// };
/// assert_eq!(oracle.loss_at(0.25), 0.0);
/// assert_eq!(oracle.curvature(), 64.0);
/// ```
pub struct FnOracle<L, C> {
    /// `η ↦ f(w + ηu)`.
    pub loss_at: L,
    /// `() ↦ uᵀHu`.
    pub curvature: C,
}

impl<L, C> Oracle for FnOracle<L, C>
where
    L: FnMut(f64) -> f64,
    C: FnMut() -> f64,
{
    fn loss_at(&mut self, eta: f64) -> f64 {
        (self.loss_at)(eta)
    }

    fn curvature(&mut self) -> f64 {
        (self.curvature)()
    }
}
