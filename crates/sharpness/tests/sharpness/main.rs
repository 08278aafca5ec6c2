//! The crate's integration tests, in one binary: the solvers on dense matrices with a known
//! spectrum first (Lanczos, power iteration, warm starts, Hutchinson's trace, the SLQ density,
//! the meter that takes them measurement after measurement),
//! then, with the `candle` feature, tensors as vectors, exact Hessian-vector products and
//! spectra of a tiny MLP against dense Hessians, and the tracker.
//!
//! `tests/detach_guard.rs` is a binary of its own: it removes `CANDLE_GRAD_DO_NOT_DETACH` and
//! needs a process in which no test has enabled double backward, which the Candle tests here
//! do.

mod common;
mod density;
mod lanczos;
mod meter;
#[cfg(feature = "candle")]
mod mlp_hvp;
#[cfg(feature = "candle")]
mod mlp_spectrum;
mod power;
#[cfg(feature = "candle")]
mod tensor_vector;
mod trace;
#[cfg(feature = "candle")]
mod tracker;
mod warm_start;
