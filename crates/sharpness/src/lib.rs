//! Certified sharpness estimation: the top eigenvalues of a loss Hessian from exact
//! Hessian-vector products.
//!
//! - [`Vector`] and [`LinearOperator`]: what solvers are written against (`Vec<f64>` in
//!   tests, flat Candle tensors on any device in runs).
//! - [`HessianOperator`]: the exact Hessian-vector product of a Candle loss by double
//!   backward, guarded by [`ensure_exact_second_derivatives`]; [`RecomputingHessian`] for
//!   the same product in bounded memory (one chunk's graph at a time); [`ProductOperator`]
//!   for a closed form (e.g. an MLP's R-operator); [`FiniteDifferenceHvp`] as a cross-check.
//! - [`lanczos`] (top-`k`, full reorthogonalization, Ritz residuals) and [`power_iteration`]
//!   (CDAT defaults), both for the largest *algebraic* eigenvalue, both with warm starts;
//!   [`directional_curvature`] for `dᵀHd`. Every estimate reports its number of products.
//! - [`DiagonallyScaled`]: `D·H·D` for a diagonal `D`, whose top eigenvalue is the
//!   preconditioned sharpness `λ_max(P⁻¹H)` of an adaptive method with `D = P^{−1/2}`.
//! - Beyond `λ_max` (PyHessian's other two estimates): [`hutchinson_trace`] for `tr(H)` with a
//!   standard error, and [`spectral_density`] for the eigenvalue density by stochastic
//!   Lanczos quadrature.
//! - [`SharpnessTracker`]: all of the above on a schedule, from a loss closure over your own
//!   `Var`s, with the warm start carried between measurements ([`EigenSolver`] picks Lanczos
//!   or power iteration). [`SharpnessMeter`] is its Candle-free measuring part, for loops that
//!   build their own operator and decide when to measure (this project's training loop): the
//!   warm-started solver ([`WarmStartedSolver`]), the directional and the preconditioned
//!   sharpness, the trace and the density, seeded per measurement.
//!
//! Features: `candle` (default) holds everything that needs Candle (the `Tensor` vector,
//! the Hessian operators, the double-backward guard). Without it the solvers, the trace and
//! the density build over any [`Vector`] and [`LinearOperator`] with no Candle dependency.
#![warn(missing_docs)]

#[cfg(feature = "candle")]
mod cpu_vector;
mod curvature;
mod density;
#[cfg(feature = "candle")]
mod double_backward;
mod error;
#[cfg(feature = "candle")]
mod finite_difference;
#[cfg(feature = "candle")]
mod gradient_graph;
#[cfg(feature = "candle")]
mod hessian;
mod lanczos;
mod meter;
mod operator;
#[cfg(feature = "candle")]
mod parameter_space;
mod power;
#[cfg(feature = "candle")]
mod probe_product;
#[cfg(feature = "candle")]
mod product_operator;
#[cfg(feature = "candle")]
mod recomputing;
mod recurrence;
mod scaled;
mod schedule;
mod solver;
mod spectrum;
#[cfg(feature = "candle")]
mod tensor;
mod trace;
#[cfg(feature = "candle")]
mod tracker;

pub use curvature::{DirectionalCurvature, directional_curvature};
pub use density::{DensityConfig, Quadrature, SpectralDensity, spectral_density};
#[cfg(feature = "candle")]
pub use double_backward::{
    DO_NOT_DETACH_VARIABLE, SELF_TEST_TOLERANCE, SelfTestReport, double_backward_requested,
    enable_double_backward, ensure_exact_second_derivatives, self_test,
};
pub use error::SharpnessError;
#[cfg(feature = "candle")]
pub use finite_difference::FiniteDifferenceHvp;
#[cfg(feature = "candle")]
pub use hessian::HessianOperator;
pub use lanczos::{LanczosConfig, lanczos};
pub use meter::{
    Due, Estimates, Measurement, SharpnessMeter, SolverEstimate, SpectrumEstimate, TrackerConfig,
};
pub use operator::{LinearOperator, Vector};
pub use power::{PowerConfig, power_iteration};
#[cfg(feature = "candle")]
pub use product_operator::ProductOperator;
#[cfg(feature = "candle")]
pub use recomputing::RecomputingHessian;
pub use scaled::DiagonallyScaled;
pub use schedule::Schedule;
pub use solver::{EigenSolver, WarmStart, WarmStartedSolver};
pub use spectrum::{Eigenpair, Spectrum, residual};
pub use trace::{TraceConfig, TraceEstimate, hutchinson_trace};
#[cfg(feature = "candle")]
pub use tracker::{SharpnessRecord, SharpnessTracker};
