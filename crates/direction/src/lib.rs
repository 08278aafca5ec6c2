//! Update directions for stepsize-tuned training — gradient descent, heavy-ball and Nesterov
//! momentum, Adam — with the stability threshold each one has on a quadratic, a stated policy
//! for steps whose update is not a descent direction, and a state that resumes exactly.
//!
//! A stepsize rule (e.g. `stepsharp-stepsize`'s Armijo, Polyak or CDAT) scales the update:
//! `w_{t+1} = w_t + η_t·u_t`. The rule needs the slope `∇fᵀu`; the edge-of-stability question
//! needs the right sharpness against the right threshold: `λ_max(H)` against `(2 + 2β)/η` for
//! heavy ball, `λ_max(P⁻¹H)` against `(2 + 2β₁)/((1 − β₁)η)` for Adam (Cohen et al. 2022).
//!
//! - [`DirectionConfig`]: which direction, every constant a documented field;
//!   [`DirectionConfig::stability_threshold`] with its derivation.
//! - [`Direction`]: the config with its state; [`Direction::step`] takes a gradient and returns
//!   the [`Update`] (with its slope), applying the [`NonDescentAction`] of the caller's rule
//!   ([`NonDescentPolicy`]).
//! - [`DirectionVector`]: the handful of element-wise operations a direction needs, for
//!   `Vec<f64>` here and for flat Candle tensors with the `candle` feature (default).
//!
//! ```
//! use stepsharp_direction::{AdamConfig, Direction, DirectionConfig, NonDescentAction};
//! // Adam's first update is −g/(|g| + ε) per coordinate: m̂ = g, v̂ = g².
//! let mut adam = Direction::new(DirectionConfig::Adam(AdamConfig::default())).unwrap();
//! let step = adam.step(&vec![0.5, -2.0], NonDescentAction::Restart).unwrap();
//! assert!((step.update[0] + 1.0).abs() < 1e-7 && (step.update[1] - 1.0).abs() < 1e-7);
//! assert!(step.slope < 0.0 && step.non_descent.is_none());
//! // Its stability threshold at η = 1e-3 on λ_max(P⁻¹H), after the first update:
//! // (2 + 2β₁)(1 − β₁)/((1 − β₁)η) = 3.8/η.
//! assert!((adam.stability_threshold(1e-3) - 3800.0).abs() < 1e-9);
//! ```
#![warn(missing_docs)]

mod config;
mod direction;
mod error;
mod policy;
#[cfg(feature = "candle")]
mod tensor;
mod threshold;
mod vector;

pub use config::{AdamConfig, BiasCorrection, DirectionConfig, MomentumConfig};
pub use direction::{Direction, DirectionState, Update};
pub use error::DirectionError;
pub use policy::{NonDescentAction, NonDescentPolicy};
pub use threshold::RelevantSharpness;
pub use vector::{AdamStepConstants, DirectionVector};
