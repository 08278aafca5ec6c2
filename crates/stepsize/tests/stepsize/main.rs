//! The crate's integration tests, in one binary: ground truth on quadratics first, then
//! properties (proptest), configs and state.

mod armijo;
mod common;
mod config;
mod directions;
mod polyak_cdat;
mod properties;
mod state;
