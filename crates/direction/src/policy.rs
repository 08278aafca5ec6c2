//! What a stepsize rule does when the update is not a descent direction.

use serde::{Deserialize, Serialize};

/// What happens on a step whose update `u` is not a descent direction, `∇f(w)ᵀu ≥ 0` (with
/// `g ≠ 0`): possible for momentum and Adam, never for gradient descent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonDescentAction {
    /// Keep the update; the rule applies its own formula to the non-negative slope.
    Proceed,
    /// Restart the momentum for this step: the buffer is set as if the run started here with
    /// this gradient (heavy ball, Nesterov: `b = g`; Adam: `m` such that `m̂ = g`, with `v`,
    /// the preconditioner, kept), so the update becomes the direction's momentum-free member
    /// (`−g`, `−(1 + β)g`, `−g/(√v̂ + ε)`), a descent direction.
    Restart,
}

/// The [`NonDescentAction`] of each stepsize rule, e.g. in TOML
/// `non_descent = { armijo = "restart", polyak = "proceed" }` inside a `direction` table.
///
/// Why the defaults:
/// - **constant: proceed.** A constant stepsize ignores the slope; heavy ball and Adam with a
///   constant η *are* these updates, non-descent steps included (they are how momentum
///   oscillates at the edge of stability). Changing them would study another optimizer.
/// - **armijo: restart.** The sufficient-decrease test `f(w + ηu) ≤ f(w) + c·η·∇fᵀu` has no
///   small accepted η when `∇fᵀu ≥ 0` (optax's `scale_by_backtracking_linesearch` warns that
///   it needs a descent direction and leaves that to the caller); the search would shrink η
///   to its trial limit or accept an increase of the loss. The momentum-free member of the
///   direction is a descent direction, so the search is well posed.
/// - **polyak: restart.** `η = (f − f*)/(c·(−∇fᵀu))` has a non-positive denominator; the rule
///   would guard it to η = 0 and lose the step. The momentum-free member gives Polyak's step
///   along a descent direction.
/// - **cdat: proceed.** CDAT's formula `η = σ·max(−∇fᵀu, 0)/|uᵀHu|` already answers a
///   non-descent update with η = 0 (no step), as published (Roulet et al. 2024).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NonDescentPolicy {
    /// Constant stepsize. Default: proceed.
    pub constant: NonDescentAction,
    /// Armijo backtracking. Default: restart.
    pub armijo: NonDescentAction,
    /// Polyak SPS_max. Default: restart.
    pub polyak: NonDescentAction,
    /// CDAT. Default: proceed (its formula takes no step).
    pub cdat: NonDescentAction,
}

impl Default for NonDescentPolicy {
    fn default() -> Self {
        Self {
            constant: NonDescentAction::Proceed,
            armijo: NonDescentAction::Restart,
            polyak: NonDescentAction::Restart,
            cdat: NonDescentAction::Proceed,
        }
    }
}

impl NonDescentPolicy {
    /// The action for the rule named `rule` (`"constant"`, `"armijo"`, `"polyak"`, `"cdat"`,
    /// the names of `stepsharp-stepsize`'s rules); `None` for another name.
    ///
    /// ```
    /// use stepsharp_direction::{NonDescentAction, NonDescentPolicy};
    /// let policy = NonDescentPolicy::default();
    /// assert_eq!(policy.for_rule("armijo"), Some(NonDescentAction::Restart));
    /// assert_eq!(policy.for_rule("cdat"), Some(NonDescentAction::Proceed));
    /// assert_eq!(policy.for_rule("adagrad"), None);
    /// ```
    pub fn for_rule(&self, rule: &str) -> Option<NonDescentAction> {
        match rule {
            "constant" => Some(self.constant),
            "armijo" => Some(self.armijo),
            "polyak" => Some(self.polyak),
            "cdat" => Some(self.cdat),
            _ => None,
        }
    }
}
