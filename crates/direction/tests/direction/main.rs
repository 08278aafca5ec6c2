//! The crate's integration tests, in one binary: the thresholds as exact stability boundaries
//! on quadratics first, then hand-computed updates, the non-descent policy, configs and state,
//! and the Candle tensors against `Vec<f64>`.

mod common;
mod config;
mod non_descent;
mod state;
#[cfg(feature = "candle")]
mod tensor;
mod thresholds;
mod updates;
