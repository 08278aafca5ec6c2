//! The training loop: one run of a [`RunConfig`](crate::config::RunConfig) into `results/<id>/`,
//! reused when complete, resumed from its checkpoint when interrupted.
//!
//! - `execute`: [`execute`] and [`lookup`], the run's data and hash;
//! - `options`: [`RunOptions`];
//! - `metadata`: what `metadata.json` records ([`CANDLE_VERSION`], [`CODE_REVISION`], …);
//! - `run`: the run in progress and its loop ([`Progress`]);
//! - `resume`: saving and restoring its state through checkpoints;
//! - `batches`: the examples it draws (training, line-search and evaluation sets);
//! - `step`: one step, in phases (direction, measure, stepsize, update, record);
//! - `oracle`: the stepsize rule's oracles over the parameters;
//! - `counters`: passes, HVPs and wall time so far (`Counters`, `Timers`).

mod batches;
mod counters;
mod execute;
mod metadata;
mod options;
mod oracle;
mod resume;
mod run;
mod step;

pub(crate) use counters::{Counters, Timers};
pub use execute::{
    Lookup, RunOutcome, execute, execute_valid, hash_of, lookup, lookup_valid, prepare_data,
};
pub use metadata::{CANDLE_VERSION, CODE_REVISION};
pub use options::RunOptions;
pub use run::Progress;
