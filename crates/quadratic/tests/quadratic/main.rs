//! The crate's integration tests, in one binary: ground truth for `Quadratic` (closed forms,
//! dense matrices, finite differences) first, then gradient descent's exact stability
//! threshold, the simple model's claims and closed forms, and the README's example.

mod descent;
mod quadratic;
mod readme;
mod simple_model;
