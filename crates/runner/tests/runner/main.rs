//! The crate's integration tests, in one binary: configs first (validation, errors naming the
//! field, hashing, the validated form, every figure file under `experiments/`), then
//! end-to-end runs on fixture data (trajectories and resumes, directions, trace and density
//! estimates, the run store at its edges), claims on hand-built runs, the trajectory
//! snapshots, and checks of the sources: the Candle version and the modules' import order.

mod architecture;
mod candle_version;
mod claims;
mod common;
mod config_errors;
mod directions;
mod estimates;
mod experiments;
mod hashing;
mod runs;
mod snapshots;
mod store;
mod valid_config;
mod validation;
