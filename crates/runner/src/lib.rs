//! The stepsharp experiment runner: TOML run and figure configs, blake3 run hashes, resumable
//! training with sharpness tracking, trajectories, figures and claims reports.
//!
//! The `xtask` CLI is a thin shell over this crate; everything it does can be called from Rust.
//! The public API is grouped by concept, one module each:
//!
//! - [`config`]: the run config ([`config::RunConfig`], [`config::ValidRunConfig`]) and its tables;
//! - [`figure`]: figure configs, a grid of runs at two scales ([`figure::load_figure`]);
//! - [`train`]: one run, computed, resumed or reused ([`train::execute`], [`train::lookup`]);
//! - [`sweep`]: every run of a figure, with constant stepsizes tuned ([`sweep::run_figure`],
//!   [`sweep::plan_figure`]);
//! - [`reproduce`]: a figure's runs, then its report, in one call;
//! - [`report`]: the plot, claims report and table of runs of a figure ([`report::write_report`]);
//! - [`claims`]: the paper's claims judged on measured runs, and their thresholds;
//! - [`store`]: the results folder, run folders and their files ([`store::RunDir`]);
//! - [`trajectory`], [`density`], [`status`]: what a run records;
//! - [`stats`]: robust statistics of a trajectory;
//! - [`verify`]: a run folder checked again from its files;
//! - [`hash`]: run identity;
//! - [`error`]: the runner's [`error::Error`], a typed cause in the context of what was being
//!   done;
//! - [`lock`], [`interrupt`], [`faults`], [`provenance`]: one writer per run, Ctrl-C, fault
//!   injection for the crash tests, and where a run was computed.
#![warn(missing_docs)]

mod checkpoint;
pub mod config;
pub mod density;
pub mod error;
pub mod faults;
pub mod figure;
mod fsio;
pub mod hash;
pub mod interrupt;
pub mod lock;
mod problem;
pub mod provenance;
pub mod report;
pub mod reproduce;
pub mod stats;
pub mod status;
pub mod store;
pub mod sweep;
mod tracking;
pub mod train;
pub mod trajectory;
pub mod verify;

pub mod claims {
    //! The paper's claims (`docs/paper.md#claims`) judged on measured trajectories: each
    //! [`Claim`] with its [`ClaimVerdict`], the evidence, the threshold it was judged by (the
    //! named constants here) and its [`Margin`]s.
    pub use crate::report::claims::{
        Bound, Claim, ClaimRun, ClaimVerdict, EDGE_BAND, EOS_RELATIVE_BAND, ETA_FALL_THRESHOLD,
        EdgeClass, FAR_BEYOND, GROWTH_THRESHOLD, Margin, NEAR_THRESHOLD, SEED_AGREEMENT,
        SENSITIVITY_RATIO, SOME_SHARPENING, SeedTally, TIE_TOLERANCE, UNTRAINED_FRACTION,
        constant_predictor_loss, figure_claims, simple_model_claims,
    };
}
