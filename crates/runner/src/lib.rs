//! The stepsharp experiment runner: TOML run and figure configs, blake3 run hashes, resumable
//! training with sharpness tracking, trajectories, figures and claims reports.
//!
//! The `xtask` CLI is a thin shell over this crate; everything it does can be called from Rust.
#![warn(missing_docs)]

mod checkpoint;
mod config;
mod density;
mod error;
mod faults;
mod figure;
mod fsio;
mod hash;
mod interrupt;
mod lock;
mod problem;
mod provenance;
mod report;
mod reproduce;
mod stats;
mod status;
mod store;
mod sweep;
mod tracking;
mod train;
mod trajectory;
mod verify;

pub use config::{
    DensityOptions, DeviceKind, GraphMemory, LineSearchBatch, ModelSpec, Periodic, Precision,
    QuadraticKind, QuadraticSpec, RunConfig, Seeds, SharpnessConfig, SharpnessMethod, TraceOptions,
    TrainingConfig, ValidRunConfig, WarmStart,
};
pub use density::{DensityLine, DensityLineKind, read_density};
pub use error::ConfigError;
pub use faults::FAULT_VAR;
pub use figure::{
    EXPERIMENTS_DIR, FigureConfig, FigureKind, FigureRun, GroupSpec, Regime, Scale, ScaleSpec,
    SeriesSpec, SimpleModelSeries, SlurmResources, TuneRank, TuneSpec, figure_file, figure_names,
    load_figure,
};
pub use fsio::{RESULT_FILE_MODE, StoreError, write_atomic};
pub use hash::{RUN_ID_LEN, canonical_json, run_hash};
pub use interrupt::{Interrupt, Interrupted, SECOND_SIGNAL_EXIT};
pub use lock::LockWait;
pub use provenance::{KERNEL_FEATURES, Machine, SlurmJob};
pub use report::claims::{
    Bound, Claim, ClaimRun, ClaimVerdict, EDGE_BAND, EOS_RELATIVE_BAND, ETA_FALL_THRESHOLD,
    EdgeClass, FAR_BEYOND, GROWTH_THRESHOLD, Margin, NEAR_THRESHOLD, SEED_AGREEMENT,
    SENSITIVITY_RATIO, SOME_SHARPENING, SeedTally, TIE_TOLERANCE, UNTRAINED_FRACTION,
    constant_predictor_loss, figure_claims, simple_model_claims,
};
pub use report::{
    CLAIMS_FILE, FIGURE_PNG, FIGURE_SVG, PRECISION_FILE, PrecisionCounterpart, REPORT_FILES,
    RUNS_FILE, figure_dir, figure_dirs, write_report,
};
pub use reproduce::reproduce;
pub use stats::{RunStats, TAIL_FRACTION, Windows, median};
pub use status::RunStatus;
pub use store::{FIGURES_DIR, Metadata, RunDir, SUBMISSIONS_DIR, StoredConfigError, list_runs};
pub use sweep::{
    FigureEvent, FigureOutput, FigurePlan, FigureResult, MissingRun, SimpleModelInputs, Tuning,
    plan_figure, run_figure, simple_model_inputs,
};
pub use train::{
    CANDLE_VERSION, CODE_REVISION, Lookup, Progress, RunOptions, RunOutcome, execute,
    execute_valid, hash_of, lookup, lookup_valid, prepare_data,
};
pub use trajectory::{Row, read_trajectory, trajectory_csv};
pub use verify::{NO_CONTENT_HASH, Verified, verify_runs};
