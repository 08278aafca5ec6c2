//! Gradient descent with any stepsize rule on a quadratic.

use stepsharp_stepsize::{FnOracle, RuleConfig, StepContext, Stepsize};

use crate::error::QuadraticError;
use crate::quadratic::Quadratic;
use crate::simulate::{ModelPoint, is_finite};

/// Runs `steps` steps of gradient descent `w_{t+1} = w_t − η_t ∇f(w_t)` from `w0` on
/// `quadratic`, with `η_t` chosen by the stepsize `rule`, and records the trajectory in the
/// format of real runs.
///
/// The rule sees the exact context: `f(w_t)`, `‖g_t‖²`, slope `−‖g_t‖²`, and closed-form oracles
/// `f(w_t − ηg_t) = f(w_t) − η‖g_t‖² + ½η² g_tᵀHg_t` and `uᵀHu = g_tᵀHg_t` (one
/// Hessian-vector product per step). Each [`ModelPoint`] has `lambda = λ_max` (constant),
/// `x` = the component of `w_t − w*` along the top eigenvector ([`Quadratic::top_index`]) and
/// `y` = the norm of the rest. Divergence ends the trajectory at the last finite point.
///
/// Errors: `w0` of the wrong length, an invalid rule, or a line search failed under
/// `FailurePolicy::Error`.
///
/// ```
/// use stepsharp_quadratic::{gradient_descent, Quadratic};
/// use stepsharp_stepsize::{ConstantConfig, RuleConfig};
/// let q = Quadratic::with_spectrum(&[4.0, 1.0, 0.5], 3).unwrap();
/// let rule = RuleConfig::Constant(ConstantConfig { eta: 0.4 }); // η λ_max = 1.6 < 2
/// let trajectory = gradient_descent(&q, &[1.0, 1.0, 1.0], &rule, 100).unwrap();
/// assert!(trajectory[99].loss < 1e-6 * trajectory[0].loss);
/// ```
pub fn gradient_descent(
    quadratic: &Quadratic,
    w0: &[f64],
    rule: &RuleConfig,
    steps: usize,
) -> Result<Vec<ModelPoint>, QuadraticError> {
    if w0.len() != quadratic.dim() {
        return Err(QuadraticError::DimensionMismatch {
            expected: quadratic.dim(),
            found: w0.len(),
        });
    }
    let mut stepsize = Stepsize::new(rule.clone())?;
    let lambda_max = quadratic.lambda_max();
    let top = quadratic.top_index();
    let mut w = w0.to_vec();
    let mut trajectory = Vec::with_capacity(steps);
    for step in 0..steps {
        let loss = quadratic.value(&w);
        let g = quadratic.gradient(&w);
        let grad_norm_sq = dot(&g, &g);
        let curvature = dot(&g, &quadratic.hvp(&g));
        let mut oracle = FnOracle {
            loss_at: |eta: f64| loss - eta * grad_norm_sq + 0.5 * eta * eta * curvature,
            curvature: || curvature,
        };
        let ctx = StepContext::gradient_descent(loss, grad_norm_sq);
        let eta = stepsize.step(&ctx, &mut oracle)?.eta;
        let coordinates = quadratic.eigen_coordinates(&w);
        let rest_sq: f64 = coordinates
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != top)
            .map(|(_, c)| c * c)
            .sum();
        let point = ModelPoint {
            step,
            eta,
            lambda: lambda_max,
            eta_lambda: eta * lambda_max,
            loss,
            x: coordinates[top],
            y: rest_sq.sqrt(),
        };
        if !is_finite(&point) || !grad_norm_sq.is_finite() {
            break;
        }
        trajectory.push(point);
        w.iter_mut().zip(&g).for_each(|(w, g)| *w -= eta * g);
    }
    Ok(trajectory)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}
