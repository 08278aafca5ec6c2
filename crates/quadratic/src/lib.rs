//! Quadratic objectives with a prescribed spectrum, and the simple model of the joint dynamics
//! of the stepsize `η_t` and the sharpness `λ_t`.
//!
//! # Quadratics
//!
//! [`Quadratic`] is `f(w) = ½ (w − w*)ᵀ H (w − w*)` with `H = Q diag(s) Qᵀ`, `s` a prescribed
//! spectrum and `Q` a seeded random orthogonal matrix. Value, gradient, Hessian-vector product,
//! eigenvectors and `λ_max` are exact, so it is the ground-truth fixture for the sharpness
//! solvers ([`Quadratic::operator`] is a [`stepsharp_sharpness::LinearOperator`]) and for the
//! stepsize rules ([`gradient_descent`] runs GD with any rule on it).
//!
//! # The simple model (follow-up paper, "Stepping on the Edge", eqs. 4–6 and 10)
//!
//! `λ_t` is the top Hessian eigenvalue, `x_t` the component of the iterate along its
//! eigenvector. One step of gradient descent with stepsize `η_t` on `½λ_t x²` and the
//! self-stabilization feedback of Damian et al. give
//!
//! ```text
//! x_{t+1} = (1 − η_t λ_t) x_t
//! λ_{t+1} = λ_t + η_t (a − b x_{t+1}²)
//! ```
//!
//! with `a ≥ 0` the progressive-sharpening rate and `b ≥ 0` the stabilizing feedback. The
//! paper writes `x_t` in the second line (`docs/paper.md#the-simple-model`); that explicit
//! scheme is linearly unstable at the edge and diverges for the paper's constant-η parameters,
//! while feeding back `x_{t+1}` (semi-implicit Euler, the default) gives the bounded cycles the
//! paper describes. Both are available, see [`Discretization`]. The loss is `½λ_t x_t²`.
//!
//! The models ([`SimpleModelConfig`]) differ in how `η_t` is chosen:
//!
//! - **Constant** ([`SimpleModelConfig::ConstantStep`]): `η_t = η`. `λ` rises at rate `a`
//!   while `|1 − ηλ| < 1` shrinks `x`; once `ηλ > 2`, `x` grows, `−b x²` pulls `λ` back, and
//!   `λ` cycles around `2/η` (the edge of stability). Paper: `a = 0.03, b = 0.3, η = 1`.
//! - **Classical tuner** ([`SimpleModelConfig::ClassicalTuner`]): `η_t = 2(1 − ε)/λ_t` for
//!   `t ≥ 1` (`η_0` given), so `η_t λ_t − 2 = −2ε` below the edge at every step. Then
//!   `x_{t+1} = −(1 − 2ε) x_t → 0`, the feedback vanishes, and
//!   `λ_{t+1} ≈ λ_t + 2(1 − ε) a/λ_t`: `λ_t ~ √(4(1 − ε) a t)` grows without bound and
//!   `η_t` decays (the "snowball"). Paper: `a = 1, b = 0.5, η_0 = 1, ε = 0.1`.
//! - **CDAT** ([`SimpleModelConfig::Cdat`], paper eq. 10): a second direction `y` of fixed
//!   curvature `ν` joins, with loss `f = ½λ_t x² + ½ν y²`, gradient `g = (λ_t x, ν y)`,
//!   direction `u = −g` and `uᵀHu = λ_t³ x² + ν³ y²`. CDAT's `η = σ (−gᵀu)/|uᵀHu|` is
//!
//!   ```text
//!   η_t = σ (λ_t² x_t² + ν² y_t²) / (λ_t³ x_t² + ν³ y_t²)      (t ≥ 1; η_0 given)
//!   x_{t+1} = (1 − η_t λ_t) x_t
//!   y_{t+1} = (1 − η_t ν) y_t
//!   λ_{t+1} = λ_t + η_t (a − b x_{t+1}²)
//!   ```
//!
//!   Since `λ > ν`, `σ = 2` gives `η_t λ_t ≥ 2`: the step sits on (or just past) the edge,
//!   `x` does not decay and its feedback keeps acting (as `y` decays, `η_t λ_t → 2` and `|x|`
//!   freezes; λ still drifts up where `b x² < a`, more slowly than below the edge). `σ = 1.9` gives `η_t λ_t ≈ 1.9` while
//!   `x` dominates the gradient, so `x → 0` and `λ` sharpens like the classical tuner. Paper:
//!   `a = 0.05, b = 0.1, ν = 0.1, λ_0 = 18, η_0 = 0.05, g₀ = p₀ = 4, σ ∈ {2, 1.9}`. We read
//!   `g₀` and `p₀` as the initial coordinates along the sharpening and the fixed direction,
//!   `x_0 = y_0 = 4`.
//! - **A real rule** ([`SimpleModelConfig::Rule`]): the same two-direction model, with `η_t`
//!   chosen by a `stepsharp-stepsize` rule (Armijo, Polyak, CDAT, constant) on
//!   `f_t(x, y) = ½λ_t x² + ½ν y²` with `λ_t` frozen during the step: the rule gets
//!   `f_t`, `‖g‖² = λ_t² x² + ν² y²`, slope `−‖g‖²`, `φ(η) = ½λ_t (1 − ηλ_t)² x² + ½ν (1 − ην)² y²`
//!   and `uᵀHu = λ_t³ x² + ν³ y²`; then `x, y, λ` update as above. Its trajectory can be set
//!   beside a network's measured one.
//!
//! Initial conditions the paper does not state are documented choices on each preset.
//! [`simulate`] returns one [`ModelPoint`] `(step, η, λ, ηλ, loss, x, y)` per step, the
//! trajectory format of real runs; divergence ends the trajectory early, it is never an error.
//!
//! ```
//! use stepsharp_quadratic::{simulate, SimpleModelConfig};
//! let tuner = simulate(&SimpleModelConfig::paper_classical_tuner(), 500).unwrap();
//! assert!(tuner[499].lambda > 10.0 * tuner[0].lambda); // ever-increasing sharpness
//! assert!(tuner[499].eta < 0.1 * tuner[0].eta); // decaying stepsize
//! assert!((tuner[499].eta_lambda - 1.8).abs() < 1e-12); // always below the edge
//! ```
#![warn(missing_docs)]

mod config;
mod descent;
mod error;
mod operator;
mod quadratic;
mod simulate;

pub use config::SimpleModelConfig;
pub use descent::gradient_descent;
pub use error::QuadraticError;
pub use operator::QuadraticHessian;
pub use quadratic::Quadratic;
pub use simulate::{Discretization, ModelPoint, simulate, simulate_with};
