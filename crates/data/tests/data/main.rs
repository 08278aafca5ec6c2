//! The crate's integration tests, in one binary: the binary reader and checksums on synthetic
//! files first, then subsets, fingerprints and preprocessing on the synthetic fixture,
//! deterministic resumable batching, and last the real CIFAR-10 files (`STEPSHARP_DATA`).

mod batching;
mod common;
mod format;
mod preprocess;
mod real_data;
mod subsets;
