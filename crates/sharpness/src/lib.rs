//! Certified sharpness estimation: the top eigenvalues of a loss Hessian from exact
//! Hessian-vector products.
//!
//! - [`Vector`] and [`LinearOperator`]: what solvers are written against (`Vec<f64>` in
//!   tests, flat Candle tensors on any device in runs).
//! - [`HessianOperator`]: the exact Hessian-vector product of a Candle loss by double
//!   backward, guarded by [`ensure_exact_second_derivatives`]; [`RecomputingHessian`] for
//!   the same product in bounded memory (one chunk's graph at a time); [`FiniteDifferenceHvp`]
//!   as a cross-check.
//! - [`lanczos`] (top-`k`, full reorthogonalization, Ritz residuals) and [`power_iteration`]
//!   (CDAT defaults), both for the largest *algebraic* eigenvalue, both with warm starts;
//!   [`directional_curvature`] for `dᵀHd`. Every estimate reports its number of products.
#![warn(missing_docs)]

mod curvature;
mod double_backward;
mod error;
mod finite_difference;
mod hessian;
mod lanczos;
mod operator;
mod parameter_space;
mod power;
mod recomputing;
mod spectrum;
mod tensor;

pub use curvature::{DirectionalCurvature, directional_curvature};
pub use double_backward::{
    DO_NOT_DETACH_VARIABLE, SELF_TEST_TOLERANCE, SelfTestReport, double_backward_requested,
    enable_double_backward, ensure_exact_second_derivatives, self_test,
};
pub use error::SharpnessError;
pub use finite_difference::FiniteDifferenceHvp;
pub use hessian::HessianOperator;
pub use lanczos::{LanczosConfig, lanczos};
pub use operator::{LinearOperator, Vector};
pub use power::{PowerConfig, power_iteration};
pub use recomputing::RecomputingHessian;
pub use spectrum::{Eigenpair, Spectrum, residual};
