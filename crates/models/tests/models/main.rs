//! The crate's integration tests, in one binary: output shapes, parameter counts and seeded
//! initialization first, then the flat parameter view, losses and chunked evaluation, first
//! and second derivatives against finite differences, the MLP's written-out backpropagation
//! against autograd, and `LineLoss`.
//!
//! The tests of second derivatives set `CANDLE_GRAD_DO_NOT_DETACH` once for the process
//! (`common::enable_double_backward`); Candle reads it per thread at the thread's first
//! backward pass, and first derivatives are the same either way, so the other tests do not
//! depend on whether it is set.

mod architectures;
mod common;
mod derivatives;
mod evaluate;
mod flat_view;
mod line;
mod mlp_curvature;
