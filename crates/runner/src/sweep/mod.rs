//! Running a figure: every run of a scale obtained through one callback (computed here, looked
//! up in the results folder, or asked of another executor), constant stepsizes tuned round by
//! round on the way (`tune.rs`), and what still has to run (`plan.rs`, [`plan_figure`]).

mod plan;
mod simple_model;
mod tune;

use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use crate::figure::{FigureConfig, FigureRun, Scale};
use crate::train::{Progress, RunOptions, RunOutcome, execute_valid};

pub use plan::{FigurePlan, MissingRun, plan_figure};
pub use simple_model::{SimpleModelInputs, simple_model_inputs};
pub use tune::Tuning;

/// A run of a reproduced figure with its outcome.
#[derive(Clone, Debug)]
pub struct FigureResult {
    /// The resolved run.
    pub run: FigureRun,
    /// Its outcome.
    pub outcome: RunOutcome,
}

/// Progress of a figure reproduction.
pub enum FigureEvent<'a> {
    /// A run starts (`index` of `total`).
    RunStarted {
        /// 0-based index.
        index: usize,
        /// Number of runs known so far (a grid search that widens adds runs).
        total: usize,
        /// `group / series / seed`.
        label: String,
    },
    /// A step of the current run.
    Step(&'a Progress<'a>),
    /// The current run ended.
    RunFinished {
        /// Its outcome.
        outcome: &'a RunOutcome,
    },
}

/// Everything a reproduced figure consists of.
#[derive(Clone, Debug)]
pub struct FigureOutput {
    /// One entry per plotted run (every seed of every group × series).
    pub results: Vec<FigureResult>,
    /// Grid searches performed.
    pub tunings: Vec<Tuning>,
    /// Folder with the images and the claims report.
    pub out_dir: PathBuf,
}

/// The runs of a figure as far as they could be resolved.
pub(crate) struct Resolved {
    /// One entry per plotted run whose outcome is known.
    pub results: Vec<FigureResult>,
    /// Grid searches that ended.
    pub tunings: Vec<Tuning>,
    /// Labels of runs that cannot be asked for yet: they wait for a tuning round to complete
    /// (their stepsize is the grid's best, or the grid may widen). Runs that were asked for
    /// and not given are not listed: `run_one` knows them.
    pub waiting: Vec<String>,
}

/// Obtains the outcome of a run: `None` when it is not available (not run yet).
pub(crate) type RunOne<'r> = dyn FnMut(FigureRun) -> Result<Option<FigureResult>> + 'r;

/// Resolves `runs` (of `figure` at `scale`, as [`FigureConfig::runs`] expands them) through
/// `run_one`, tuning constant stepsizes round by round. A tuning round with a run `run_one`
/// cannot give stops that grid search: its later rounds and the runs at its best stepsize are
/// `waiting`.
pub(crate) fn resolve(
    figure: &FigureConfig,
    scale: Scale,
    runs: Vec<FigureRun>,
    run_one: &mut RunOne,
) -> Result<Resolved> {
    let mut resolved = Resolved {
        results: Vec::new(),
        tunings: Vec::new(),
        waiting: Vec::new(),
    };
    // (group, series) of grid searches whose current round is not complete.
    let mut pending: Vec<(String, String)> = Vec::new();
    for mut run in runs {
        let Some(tune) = figure.tune_of(scale, &run.series).cloned() else {
            resolved.results.extend(run_one(run)?);
            continue;
        };
        let key = (run.group.clone(), run.series.clone());
        if pending.contains(&key) {
            resolved.waiting.push(run.label());
            continue;
        }
        let tuned = resolved
            .tunings
            .iter()
            .find(|t| t.group == run.group && t.series == run.series);
        match tuned {
            Some(tuning) => {
                run.config = run
                    .config
                    .with_stepsize(tune::constant_rule(tuning.best_eta))?;
                resolved.results.extend(run_one(run)?);
            }
            None => match tune::tune_constant(&run, &tune, run_one)? {
                Some((best, tuning)) => {
                    resolved.tunings.push(tuning);
                    resolved.results.push(best);
                }
                None => {
                    pending.push(key);
                    resolved.waiting.push(run.label());
                }
            },
        }
    }
    Ok(resolved)
}

/// How many of `runs` (of `figure` at `scale`) are asked for before any grid is widened:
/// every run once, and a tuned series' grid (its initial exponents) in place of its first
/// seed's run.
pub(crate) fn expected_runs(figure: &FigureConfig, scale: Scale, runs: &[FigureRun]) -> usize {
    let mut grids: Vec<(&str, &str)> = Vec::new();
    let mut total = 0;
    for run in runs {
        match figure.tune_of(scale, &run.series) {
            Some(tune) if !grids.contains(&(&run.group, &run.series)) => {
                grids.push((&run.group, &run.series));
                total += tune.exponents.len();
            }
            _ => total += 1,
        }
    }
    total
}

/// Runs every run of `figure` at `scale` in this process, one after another (reusing completed
/// ones and resuming interrupted ones, see [`execute`](crate::train::execute)), tuning constant stepsizes on the way;
/// `events` hears of each run and each step. The outcome's `out_dir` is `out_dir`.
pub fn run_figure(
    figure: &FigureConfig,
    scale: Scale,
    options: &RunOptions,
    out_dir: &Path,
    events: &mut dyn FnMut(FigureEvent),
) -> Result<FigureOutput> {
    let runs = figure.runs(scale)?;
    let mut total = expected_runs(figure, scale, &runs);
    let mut index = 0;
    let mut run_one = |run: FigureRun| -> Result<Option<FigureResult>> {
        total = total.max(index + 1);
        events(FigureEvent::RunStarted {
            index,
            total,
            label: run.label(),
        });
        index += 1;
        let outcome = execute_valid(&run.config, options, &mut |p| events(FigureEvent::Step(p)))
            .with_context(|| format!("run `{}`", run.label()))?;
        events(FigureEvent::RunFinished { outcome: &outcome });
        Ok(Some(FigureResult { run, outcome }))
    };
    let resolved = resolve(figure, scale, runs, &mut run_one)?;
    debug_assert!(resolved.waiting.is_empty(), "an executed run never waits");
    Ok(FigureOutput {
        results: resolved.results,
        tunings: resolved.tunings,
        out_dir: out_dir.to_path_buf(),
    })
}
