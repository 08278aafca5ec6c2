//! What a figure still needs: its runs looked up in the results folder without computing
//! anything, for executors that run them elsewhere (child processes, a SLURM job array).
//!
//! A tuned series is resolved round by round as [`super::run_figure`] does: a round whose runs
//! have all ended is ranked (and the grid widened or the best stepsize chosen); a round with a
//! run that has not ended lists its missing runs, and everything after that round (wider grids,
//! the other seeds at the best stepsize) waits. Planning again once the missing runs have
//! ended moves on by one round.

use std::collections::BTreeMap;

use super::{FigureResult, resolve};
use crate::config::RunConfig;
use crate::error::{Context, Result};
use crate::figure::{FigureConfig, FigureRun, Scale};
use crate::store::RunDir;
use crate::train::{RunOptions, lookup_valid};

/// A run a figure needs that has not ended (never started, in progress or interrupted).
#[derive(Clone, Debug)]
pub struct MissingRun {
    /// `group / series / seed`.
    pub label: String,
    /// The config a run of it computes (the options' overrides applied).
    pub config: RunConfig,
    /// Its folder.
    pub dir: RunDir,
}

/// The state of a figure's runs in a results folder.
#[derive(Clone, Debug, Default)]
pub struct FigurePlan {
    /// Runs that can start now, each once.
    pub missing: Vec<MissingRun>,
    /// Runs that cannot be named yet: they wait for a tuning round among `missing` to end.
    pub waiting: Vec<String>,
    /// Folders of the runs that have ended (plotted runs and tuning candidates).
    pub ended: Vec<RunDir>,
}

impl FigurePlan {
    /// Whether every run of the figure has ended (it can be plotted).
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.waiting.is_empty()
    }

    /// The CPU kernel-feature sets the ended runs were computed with (every attempt of a
    /// resumed run counts), each with its number of attempts. More than one set means a rerun
    /// on one machine may not be bit-identical (chaotic runs depend on the vector kernels).
    /// Runs whose metadata cannot be read are skipped.
    pub fn cpu_feature_sets(&self) -> BTreeMap<Vec<String>, usize> {
        let mut seen = BTreeMap::new();
        for dir in &self.ended {
            if let Ok(Some(metadata)) = dir.metadata() {
                for machine in metadata.machines {
                    *seen.entry(machine.cpu_features).or_default() += 1;
                }
            }
        }
        seen
    }
}

/// Looks up every run of `figure` at `scale` under `options.results` (see the module docs).
pub fn plan_figure(
    figure: &FigureConfig,
    scale: Scale,
    options: &RunOptions,
) -> Result<FigurePlan> {
    let mut plan = FigurePlan::default();
    let mut run_one = |run: FigureRun| -> Result<Option<FigureResult>> {
        let found =
            lookup_valid(&run.config, options).with_context(|| format!("run `{}`", run.label()))?;
        match found.outcome {
            Some(outcome) => {
                if !plan.ended.iter().any(|d| d.hash == outcome.dir.hash) {
                    plan.ended.push(outcome.dir.clone());
                }
                Ok(Some(FigureResult { run, outcome }))
            }
            None => {
                if !plan.missing.iter().any(|m| m.dir.hash == found.dir.hash) {
                    plan.missing.push(MissingRun {
                        label: run.label(),
                        config: found.config,
                        dir: found.dir,
                    });
                }
                Ok(None)
            }
        }
    };
    let resolved = resolve(figure, scale, figure.runs(scale)?, &mut run_one)?;
    plan.waiting = resolved.waiting;
    Ok(plan)
}
