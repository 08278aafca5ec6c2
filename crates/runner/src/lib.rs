//! The stepsharp experiment runner: TOML run and figure configs, blake3 run hashes, resumable
//! training with sharpness tracking, trajectories, figures and claims reports.
//!
//! The `xtask` CLI is a thin shell over this crate; everything it does can be called from Rust.
#![warn(missing_docs)]

mod checkpoint;
mod claims;
mod config;
mod error;
mod figure;
mod hash;
mod plot;
mod problem;
mod store;
mod tracking;
mod train;
mod trajectory;

pub use claims::{ClaimVerdict, claims_report};
pub use config::{
    DeviceKind, GraphMemory, LineSearchBatch, ModelSpec, Precision, QuadraticKind, QuadraticSpec,
    RunConfig, Schedule, Seeds, SharpnessConfig, SharpnessMethod, TrainingConfig, WarmStart,
};
pub use error::ConfigError;
pub use figure::{
    FigureConfig, FigureEvent, FigureKind, FigureOutput, FigureResult, FigureRun, GroupSpec, Scale,
    ScaleSpec, SeriesSpec, SimpleModelSeries, TuneSpec, Tuning, load_figure, reproduce,
    tail_mean_loss,
};
pub use hash::{RUN_ID_LEN, canonical_json, run_hash};
pub use store::{Metadata, RunDir, RunStatus, list_runs, write_atomic};
pub use train::{Progress, RunOptions, RunOutcome, execute, hash_of, prepare_data};
pub use trajectory::{Row, read_trajectory, trajectory_csv};
