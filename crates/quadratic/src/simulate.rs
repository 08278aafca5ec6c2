//! Simulation of the simple model.

use serde::{Deserialize, Serialize};
use stepsharp_stepsize::{FnOracle, StepContext, Stepsize};

use crate::config::SimpleModelConfig;
use crate::error::QuadraticError;

/// One step of a trajectory, in the format of real runs: the state at step `t` and the
/// stepsize `η_t` chosen there.
///
/// `loss = ½λ_t x_t² + ½ν y_t²` (`y = 0` for the one-direction models). For gradient descent
/// on a [`Quadratic`](crate::Quadratic) ([`gradient_descent`](crate::gradient_descent)),
/// `lambda` is `λ_max`, `x` the component of `w_t − w*` along the top eigenvector and `y` the
/// norm of the rest.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelPoint {
    /// The step index `t`, from 0.
    pub step: usize,
    /// The stepsize `η_t` used from this state.
    pub eta: f64,
    /// The sharpness `λ_t`.
    pub lambda: f64,
    /// `η_t · λ_t` (the edge of stability is 2).
    pub eta_lambda: f64,
    /// The loss at this state.
    pub loss: f64,
    /// The component `x_t` along the top eigenvector.
    pub x: f64,
    /// The component `y_t` along the second direction (0 for one-direction models).
    pub y: f64,
}

/// Which displacement the sharpness update sees.
///
/// The paper writes `λ_{t+1} = λ_t + η_t (a − b x_t²)` next to `x_{t+1} = (1 − η_t λ_t)
/// x_t`: an explicit Euler step of a Lotka–Volterra-like system. Linearized at the edge
/// (`η λ = 2`, `x² = a/b`), its Jacobian has eigenvalues `1 ± iη√(2a)` of modulus
/// `√(1 + 2η²a) > 1`: constant η spirals out and diverges (with the paper's `a = 0.03,
/// b = 0.3, η = 1`, within a few hundred steps from every start we tried). Feeding back the
/// *updated* displacement, `λ_{t+1} = λ_t + η_t (a − b x_{t+1}²)` (semi-implicit, symplectic
/// Euler: the Jacobian has determinant 1), gives the bounded cycles around `2/η` the paper
/// describes, and is what a GD step does: `λ_{t+1}` is measured at the new iterate.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Discretization {
    /// `λ_{t+1} = λ_t + η_t (a − b x_{t+1}²)`. Default (reproduces the paper's qualitative
    /// claims).
    #[default]
    SemiImplicit,
    /// `λ_{t+1} = λ_t + η_t (a − b x_t²)`: the paper's literal equations
    /// (`docs/paper.md#the-simple-model`).
    Explicit,
}

/// Simulates `steps` steps of the simple model with [`Discretization::SemiImplicit`].
///
/// Returns one [`ModelPoint`] per step, `t = 0 … steps − 1`. Divergence is not an error: the
/// trajectory stops at the last finite point (as soon as `η_t`, `λ_t`, `x_t`, `y_t` or the loss
/// is NaN or infinite), so it may be shorter than `steps`. Never panics.
///
/// Errors: an invalid config ([`SimpleModelConfig::validate`]), or a line search that failed
/// under the rule's `FailurePolicy::Error`.
///
/// ```
/// use stepsharp_quadratic::{simulate, SimpleModelConfig};
/// let trajectory = simulate(&SimpleModelConfig::paper_constant(), 400).unwrap();
/// assert_eq!(trajectory.len(), 400);
/// let last: Vec<f64> = trajectory[300..].iter().map(|p| p.lambda).collect();
/// let mean = last.iter().sum::<f64>() / last.len() as f64;
/// assert!((mean - 2.0).abs() < 0.1); // self-stabilized around 2/η
/// ```
pub fn simulate(
    config: &SimpleModelConfig,
    steps: usize,
) -> Result<Vec<ModelPoint>, QuadraticError> {
    simulate_with(config, steps, Discretization::SemiImplicit)
}

/// [`simulate`] with a chosen [`Discretization`] of the sharpness update.
pub fn simulate_with(
    config: &SimpleModelConfig,
    steps: usize,
    discretization: Discretization,
) -> Result<Vec<ModelPoint>, QuadraticError> {
    config.validate()?;
    let (dynamics, mut state, mut chooser) = setup(config)?;
    let mut trajectory = Vec::with_capacity(steps);
    for step in 0..steps {
        let eta = chooser.eta(step, &state, dynamics.nu)?;
        let point = ModelPoint {
            step,
            eta,
            lambda: state.lambda,
            eta_lambda: eta * state.lambda,
            loss: state.loss(dynamics.nu),
            x: state.x,
            y: state.y,
        };
        if !is_finite(&point) {
            break;
        }
        trajectory.push(point);
        state = dynamics.advance(state, eta, discretization);
    }
    Ok(trajectory)
}

/// Whether every number of `point` is finite.
pub(crate) fn is_finite(point: &ModelPoint) -> bool {
    [
        point.eta,
        point.lambda,
        point.eta_lambda,
        point.loss,
        point.x,
        point.y,
    ]
    .iter()
    .all(|v| v.is_finite())
}

/// The parameters of the sharpness and iterate updates.
#[derive(Clone, Copy, Debug)]
struct Dynamics {
    a: f64,
    b: f64,
    /// Curvature of the second direction (0 for one-direction models, where `y ≡ 0`).
    nu: f64,
}

#[derive(Clone, Copy, Debug)]
struct State {
    lambda: f64,
    x: f64,
    y: f64,
}

impl State {
    fn loss(&self, nu: f64) -> f64 {
        0.5 * self.lambda * self.x * self.x + 0.5 * nu * self.y * self.y
    }
}

impl Dynamics {
    fn advance(&self, state: State, eta: f64, discretization: Discretization) -> State {
        let x = (1.0 - eta * state.lambda) * state.x;
        let y = (1.0 - eta * self.nu) * state.y;
        let fed_back = match discretization {
            Discretization::SemiImplicit => x,
            Discretization::Explicit => state.x,
        };
        let lambda = state.lambda + eta * (self.a - self.b * fed_back * fed_back);
        State { lambda, x, y }
    }
}

/// How `η_t` is chosen.
enum Chooser {
    Constant(f64),
    Classical { epsilon: f64, eta0: f64 },
    Cdat { sigma: f64, eta0: f64 },
    Rule(Box<Stepsize>),
}

impl Chooser {
    fn eta(&mut self, step: usize, state: &State, nu: f64) -> Result<f64, QuadraticError> {
        let State { lambda, x, y } = *state;
        Ok(match self {
            Self::Constant(eta) => *eta,
            Self::Classical { eta0, .. } if step == 0 => *eta0,
            Self::Classical { epsilon, .. } => 2.0 * (1.0 - *epsilon) / lambda,
            Self::Cdat { eta0, .. } if step == 0 => *eta0,
            Self::Cdat { sigma, .. } => {
                let numerator = lambda * lambda * x * x + nu * nu * y * y;
                let denominator = lambda.powi(3) * x * x + nu.powi(3) * y * y;
                // 0/0 at the minimum gives NaN, which ends the trajectory.
                *sigma * numerator / denominator.abs()
            }
            Self::Rule(rule) => {
                if ![lambda, x, y].iter().all(|v| v.is_finite()) {
                    return Ok(f64::NAN);
                }
                // f(x, y) = ½λx² + ½νy², g = (λx, νy), u = −g.
                let loss = state.loss(nu);
                let grad_norm_sq = lambda * lambda * x * x + nu * nu * y * y;
                let curvature = lambda.powi(3) * x * x + nu.powi(3) * y * y;
                let mut oracle = FnOracle {
                    loss_at: |eta: f64| {
                        let x = (1.0 - eta * lambda) * x;
                        let y = (1.0 - eta * nu) * y;
                        0.5 * lambda * x * x + 0.5 * nu * y * y
                    },
                    curvature: || curvature,
                };
                let ctx = StepContext::gradient_descent(loss, grad_norm_sq);
                rule.step(&ctx, &mut oracle)?.eta
            }
        })
    }
}

/// The dynamics and the initial state; one-direction models have `ν = 0` and `y ≡ 0`.
fn start(a: f64, b: f64, nu: f64, lambda: f64, x: f64, y: f64) -> (Dynamics, State) {
    (Dynamics { a, b, nu }, State { lambda, x, y })
}

fn setup(config: &SimpleModelConfig) -> Result<(Dynamics, State, Chooser), QuadraticError> {
    let ((dynamics, state), chooser) = match config {
        SimpleModelConfig::ConstantStep {
            a,
            b,
            eta,
            lambda0,
            x0,
        } => (
            start(*a, *b, 0.0, *lambda0, *x0, 0.0),
            Chooser::Constant(*eta),
        ),
        SimpleModelConfig::ClassicalTuner {
            a,
            b,
            epsilon,
            eta0,
            lambda0,
            x0,
        } => (
            start(*a, *b, 0.0, *lambda0, *x0, 0.0),
            Chooser::Classical {
                epsilon: *epsilon,
                eta0: *eta0,
            },
        ),
        SimpleModelConfig::Cdat {
            a,
            b,
            nu,
            sigma,
            lambda0,
            eta0,
            x0,
            y0,
        } => (
            start(*a, *b, *nu, *lambda0, *x0, *y0),
            Chooser::Cdat {
                sigma: *sigma,
                eta0: *eta0,
            },
        ),
        SimpleModelConfig::Rule {
            a,
            b,
            nu,
            lambda0,
            x0,
            y0,
            rule,
        } => (
            start(*a, *b, *nu, *lambda0, *x0, *y0),
            Chooser::Rule(Box::new(Stepsize::new(rule.clone())?)),
        ),
    };
    Ok((dynamics, state, chooser))
}
