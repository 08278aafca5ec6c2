//! Figure configs: a figure is a grid of runs, `groups × series`, at two scales.
//!
//! A file `experiments/<name>.toml` holds a title, a [`FigureKind`] (which decides the panel
//! layout and the claims checked) and, per scale (`quick`, `paper`), a `base` run config plus
//! `[[<scale>.group]]` and `[[<scale>.series]]` entries whose `set` tables are deep-merged over
//! the base (a table with a different `kind` replaces instead of merging): each
//! (group, series) pair is one run. Unknown keys are rejected at every level.
//!
//! ```toml
//! title = "Stepsize tuners and sharpness"
//! kind = "interplay"
//! [quick.base]
//! training = { max_steps = 100 }
//! [[quick.group]]
//! label = "full batch"
//! [[quick.series]]
//! label = "armijo"
//! set = { stepsize = { kind = "armijo" } }
//! ```
//!
//! A scale may list `seeds = [0, 1, 2]` (a group may override it): each seed `s` becomes its own
//! run, with `seeds = { init = s, data_order = s, probe = s }` and so its own run id. Figures
//! draw the median over seeds with a min–max band; claims are judged per seed
//! ([`crate::claims`]). Without `seeds`, a group × series pair is one run with the base's seeds.
//!
//! A series may carry `tune`: a constant-stepsize grid search on a log2 grid `η0·2^i`; the best
//! stepsize (by default the lowest median training loss over the last 10% of steps; diverged
//! runs rank last) is kept, and the grid is widened until the best value is interior
//! (paper-spec.md, "Constant"). With several seeds the grid is searched on the first seed and
//! the other seeds run at the chosen stepsize.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use stepsharp_quadratic::SimpleModelConfig;
use toml::{Table, Value};

use crate::{ConfigError, Progress, RunConfig, RunOptions, RunOutcome, Seeds, execute};

/// What a figure shows; decides panels and claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// Rows = groups (regimes); columns = loss, η, λ_max, η·λ_max (figure3, cdat).
    Interplay,
    /// One panel per group (architecture): training loss against steps (figure1).
    LossCurves,
    /// Final training loss and test accuracy against the group (batch size) (figure2).
    BatchSensitivity,
    /// λ_max against steps with a dashed line at 2/η per series (eos-baseline).
    EdgeOfStability,
    /// The simple model's η–λ trajectories beside measured ones (figure4).
    SimpleModel,
    /// Per run: the Hessian's spectral density at the steps of `sharpness.density` (log
    /// scale, a line at 2/η), and λ_max against steps (spectrum).
    Spectrum,
}

/// Run-size presets of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// CPU, 2 cores, minutes.
    Quick,
    /// GPU-sized, as in the paper.
    Paper,
}

impl Scale {
    /// `"quick"` or `"paper"`.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Paper => "paper",
        }
    }
}

/// A figure file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureConfig {
    /// Title printed on the figure.
    pub title: String,
    /// Layout and claims.
    pub kind: FigureKind,
    /// What the figure reproduces, for the README and the claims report.
    #[serde(default)]
    pub description: String,
    /// Quick scale (CPU).
    pub quick: ScaleSpec,
    /// Paper scale (GPU).
    pub paper: ScaleSpec,
    /// Simple-model trajectories to draw (figure4).
    #[serde(default)]
    pub simple_model: Vec<SimpleModelSeries>,
    /// Another figure whose measured runs are drawn beside the simple model (figure4).
    #[serde(default)]
    pub measured_from: Option<String>,
}

/// The runs of one scale.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSpec {
    /// Run config shared by all runs (a partial [`RunConfig`]).
    #[serde(default)]
    pub base: Table,
    /// Rows or x-values (regimes, architectures, batch sizes). None = one unnamed group.
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupSpec>,
    /// Curves (rules, stepsizes).
    #[serde(default, rename = "series")]
    pub series: Vec<SeriesSpec>,
    /// Seeds of every run (init, data order and probe all set to the seed), one run each.
    /// Default: none (one run per group × series with the base's `seeds` table).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// The windows the claims report judges trajectories by (`[<scale>.claims]`: warm-up
    /// steps and window fraction). Default: no warm-up, 10% windows.
    #[serde(default)]
    pub claims: crate::stats::Windows,
    /// What each run asks a SLURM cluster for (`[<scale>.slurm]`, used by `cargo xtask
    /// reproduce --executor slurm`). Default: [`crate::SlurmResources::default`].
    #[serde(default)]
    pub slurm: crate::SlurmResources,
}

/// A group of runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Label on the figure.
    pub label: String,
    /// Overrides over the base.
    #[serde(default)]
    pub set: Table,
    /// Seeds of this group's runs, instead of the scale's `seeds` (e.g. fewer seeds for a
    /// costly row). Default: the scale's.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// Which of the paper's regimes the group is judged as (claims 1–4). Default: `"full_batch"`
    /// for full-batch runs, `"medium"` for mini-batch runs.
    #[serde(default)]
    pub regime: Option<Regime>,
}

/// The regimes of the paper's claims (paper-spec.md, claims 1–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Deterministic gradient descent (claims 1 and 2).
    FullBatch,
    /// Large mini-batches: "behave like full batch" (claim 3).
    Large,
    /// Medium mini-batches: Armijo performs well with some sharpening, Polyak near the edge
    /// (claim 3).
    Medium,
    /// Small mini-batches: both tuners unstable and poor (claim 4).
    Small,
}

impl Regime {
    /// The regime of a group without an explicit `regime`.
    pub fn default_for(batch_size: stepsharp_data::BatchSize) -> Self {
        match batch_size {
            stepsharp_data::BatchSize::Full => Regime::FullBatch,
            stepsharp_data::BatchSize::Size(_) => Regime::Medium,
        }
    }
}

/// A curve.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    /// Label on the figure (and the color key: the same label has the same color everywhere).
    pub label: String,
    /// Overrides over the base and the group.
    #[serde(default)]
    pub set: Table,
    /// Tune a constant stepsize for this series by grid search.
    #[serde(default)]
    pub tune: Option<TuneSpec>,
}

/// A log2 grid search over a constant stepsize.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TuneSpec {
    /// Grid anchor η0; candidates are η0·2^i.
    pub eta0: f64,
    /// Initial exponents i.
    pub exponents: Vec<i32>,
    /// How many times the grid may be widened by one exponent at an edge. Default: 4.
    #[serde(default = "default_widenings")]
    pub max_widenings: usize,
    /// How candidates are ranked. Default: `{ tail_median = 0.1 }`, the median training loss
    /// over the last 10% of steps (robust to a loss that oscillates at the edge of stability).
    #[serde(default)]
    pub rank: TuneRank,
}

fn default_widenings() -> usize {
    4
}

/// The score of a tuning candidate (lower is better; diverged runs score +∞).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TuneRank {
    /// Mean training loss over the last `n` iterates (paper-spec.md, "Constant").
    LastMean(usize),
    /// Median training loss over the last fraction of the steps.
    TailMedian(f64),
}

impl Default for TuneRank {
    fn default() -> Self {
        TuneRank::TailMedian(crate::stats::TAIL_FRACTION)
    }
}

impl TuneRank {
    /// The score of `outcome`: +∞ for a run that did not complete or whose score is not finite.
    pub fn score(self, outcome: &RunOutcome) -> f64 {
        if !matches!(outcome.status, crate::RunStatus::Completed { .. }) {
            return f64::INFINITY;
        }
        let losses: Vec<f64> = outcome.rows.iter().map(|r| r.loss).collect();
        let score = match self {
            TuneRank::LastMean(n) => crate::stats::mean(&losses[losses.len().saturating_sub(n)..]),
            TuneRank::TailMedian(fraction) => {
                crate::stats::median(crate::stats::tail(&losses, fraction))
            }
        };
        score.filter(|s| s.is_finite()).unwrap_or(f64::INFINITY)
    }

    /// What the score is, for reports.
    pub fn describe(self) -> String {
        match self {
            TuneRank::LastMean(n) => format!("mean loss over the last {n} iterates"),
            TuneRank::TailMedian(f) => {
                format!("median loss over the last {:.0}% of steps", f * 100.0)
            }
        }
    }
}

/// One simple-model trajectory of figure4.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleModelSeries {
    /// Label.
    pub label: String,
    /// Steps to simulate.
    pub steps: usize,
    /// The model and its parameters.
    pub model: SimpleModelConfig,
}

/// One resolved run of a figure.
#[derive(Clone, Debug)]
pub struct FigureRun {
    /// Group label.
    pub group: String,
    /// Series label.
    pub series: String,
    /// The seed from the figure's `seeds` list (None: the base's seeds).
    pub seed: Option<u64>,
    /// The regime the group is judged as.
    pub regime: Regime,
    /// The resolved config.
    pub config: RunConfig,
}

impl FigureRun {
    /// `group / series` and the seed, for progress lines and tables.
    pub fn label(&self) -> String {
        let seed = self.seed.map_or(String::new(), |s| format!(" / seed {s}"));
        format!("{} / {}{seed}", self.group, self.series)
    }
}

/// Reads and checks a figure file.
pub fn load_figure(path: &Path) -> anyhow::Result<FigureConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read figure config {}", path.display()))?;
    let figure: FigureConfig = toml::from_str(&text).map_err(|error| ConfigError::Parse {
        origin: path.display().to_string(),
        message: error.to_string(),
    })?;
    for scale in [Scale::Quick, Scale::Paper] {
        figure
            .runs(scale)
            .with_context(|| format!("{}: scale `{}`", path.display(), scale.name()))?;
        figure
            .scale(scale)
            .slurm
            .validate(scale)
            .with_context(|| format!("{}", path.display()))?;
    }
    Ok(figure)
}

impl FigureConfig {
    /// The runs of `scale` (a tuned series appears with its grid anchor η0 as stepsize).
    pub fn runs(&self, scale: Scale) -> anyhow::Result<Vec<FigureRun>> {
        let spec = self.scale(scale);
        let unnamed = [GroupSpec {
            label: String::new(),
            set: Table::new(),
            seeds: None,
            regime: None,
        }];
        let groups = if spec.groups.is_empty() {
            &unnamed[..]
        } else {
            &spec.groups[..]
        };
        let mut runs = Vec::new();
        for group in groups {
            let seeds: Vec<Option<u64>> = match group.seeds.as_ref().unwrap_or(&spec.seeds) {
                seeds if seeds.is_empty() => vec![None],
                seeds => seeds.iter().copied().map(Some).collect(),
            };
            for series in &spec.series {
                let mut table = spec.base.clone();
                merge(&mut table, &group.set);
                merge(&mut table, &series.set);
                if let Some(tune) = &series.tune {
                    merge(&mut table, &constant_stepsize(tune.eta0));
                }
                let origin = format!("group `{}`, series `{}`", group.label, series.label);
                let template = crate::ValidRunConfig::from_table(table, &origin)?.into_config();
                let regime = group
                    .regime
                    .unwrap_or_else(|| Regime::default_for(template.training.batch_size));
                for &seed in &seeds {
                    let mut config = template.clone();
                    if let Some(s) = seed {
                        config.seeds = Seeds {
                            init: s,
                            data_order: s,
                            probe: s,
                        };
                    }
                    runs.push(FigureRun {
                        group: group.label.clone(),
                        series: series.label.clone(),
                        seed,
                        regime,
                        config,
                    });
                }
            }
        }
        Ok(runs)
    }

    /// The spec of `scale`.
    pub fn scale(&self, scale: Scale) -> &ScaleSpec {
        match scale {
            Scale::Quick => &self.quick,
            Scale::Paper => &self.paper,
        }
    }

    /// The grid search of `series` at `scale`, if it is tuned.
    pub(crate) fn tune_of(&self, scale: Scale, series: &str) -> Option<&TuneSpec> {
        self.scale(scale)
            .series
            .iter()
            .find(|s| s.label == series)
            .and_then(|s| s.tune.as_ref())
    }
}

fn constant_stepsize(eta: f64) -> Table {
    let mut stepsize = Table::new();
    stepsize.insert("kind".into(), Value::String("constant".into()));
    stepsize.insert("eta".into(), Value::Float(eta));
    let mut table = Table::new();
    table.insert("stepsize".into(), Value::Table(stepsize));
    table
}

/// Deep merge of `over` into `base`; a table whose `kind` differs replaces the base table.
fn merge(base: &mut Table, over: &Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Table(base_table)), Value::Table(over_table))
                if over_table
                    .get("kind")
                    .is_none_or(|k| base_table.get("kind") == Some(k)) =>
            {
                merge(base_table, over_table)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// A run of a reproduced figure with its outcome.
#[derive(Clone, Debug)]
pub struct FigureResult {
    /// The resolved run.
    pub run: FigureRun,
    /// Its outcome.
    pub outcome: RunOutcome,
}

/// Grid-search record of a tuned series in one group.
#[derive(Clone, Debug, Serialize)]
pub struct Tuning {
    /// Group label.
    pub group: String,
    /// Series label.
    pub series: String,
    /// The seed the grid was searched on.
    pub seed: Option<u64>,
    /// How candidates were ranked.
    pub rank: TuneRank,
    /// Every candidate tried: (η, score, run id).
    pub candidates: Vec<(f64, f64, String)>,
    /// The chosen η.
    pub best_eta: f64,
    /// Whether the best η is interior to the grid (false: the widening budget ran out).
    pub interior: bool,
}

/// Progress of a figure reproduction.
pub enum FigureEvent<'a> {
    /// A run starts (`index` of `total`).
    RunStarted {
        /// 0-based index.
        index: usize,
        /// Number of runs known so far.
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

/// Runs every missing run of a figure at `scale` (reusing completed ones), tunes constant
/// stepsizes, then plots and writes `claims.md` into `out_dir`.
pub fn reproduce(
    figure: &FigureConfig,
    name: &str,
    scale: Scale,
    options: &RunOptions,
    out_dir: &Path,
    events: &mut dyn FnMut(FigureEvent),
) -> anyhow::Result<FigureOutput> {
    let total = figure.runs(scale)?.len();
    let mut index = 0;
    let mut run_one = |run: FigureRun| -> anyhow::Result<Option<FigureResult>> {
        events(FigureEvent::RunStarted {
            index,
            total,
            label: run.label(),
        });
        index += 1;
        let outcome = execute(&run.config, options, &mut |p| events(FigureEvent::Step(p)))
            .with_context(|| format!("run `{}`", run.label()))?;
        events(FigureEvent::RunFinished { outcome: &outcome });
        Ok(Some(FigureResult { run, outcome }))
    };
    let resolved = resolve(figure, scale, &mut run_one)?;
    debug_assert!(resolved.waiting.is_empty(), "an executed run never waits");
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the figure folder {}", out_dir.display()))?;
    let output = FigureOutput {
        results: resolved.results,
        tunings: resolved.tunings,
        out_dir: out_dir.to_path_buf(),
    };
    let simple = crate::plot::simple_model_trajectories(figure)?;
    let measured = crate::plot::measured_runs(figure, options, scale)?;
    crate::plot::plot_figure(figure, &output, &simple, &measured, scale)?;
    let report = crate::claims::claims_report(figure, name, scale, &output, &simple, &measured)?;
    crate::write_atomic(&out_dir.join("claims.md"), report.as_bytes())?;
    crate::write_atomic(
        &out_dir.join("runs.md"),
        runs_table(name, scale, &output).as_bytes(),
    )?;
    Ok(output)
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
pub(crate) type RunOne<'r> = dyn FnMut(FigureRun) -> anyhow::Result<Option<FigureResult>> + 'r;

/// Resolves every run of `figure` at `scale` through `run_one`, tuning constant stepsizes
/// round by round. A tuning round with a run `run_one` cannot give stops that grid search:
/// its later rounds and the runs at its best stepsize are `waiting`.
pub(crate) fn resolve(
    figure: &FigureConfig,
    scale: Scale,
    run_one: &mut RunOne,
) -> anyhow::Result<Resolved> {
    let mut resolved = Resolved {
        results: Vec::new(),
        tunings: Vec::new(),
        waiting: Vec::new(),
    };
    // (group, series) of grid searches whose current round is not complete.
    let mut pending: Vec<(String, String)> = Vec::new();
    for mut run in figure.runs(scale)? {
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
                run.config.stepsize = constant_rule(tuning.best_eta);
                resolved.results.extend(run_one(run)?);
            }
            None => match tune_constant(&run, &tune, run_one)? {
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

fn constant_rule(eta: f64) -> stepsharp_stepsize::RuleConfig {
    stepsharp_stepsize::RuleConfig::Constant(stepsharp_stepsize::ConstantConfig { eta })
}

/// The grid search of `tune` from `template`: the best run and the search's record, or `None`
/// when a round has a run that `run_one` cannot give (every run of that round is asked for).
fn tune_constant(
    template: &FigureRun,
    tune: &TuneSpec,
    run_one: &mut RunOne,
) -> anyhow::Result<Option<(FigureResult, Tuning)>> {
    let mut exponents = tune.exponents.clone();
    exponents.sort_unstable();
    exponents.dedup();
    let mut tried: Vec<(i32, f64, FigureResult)> = Vec::new();
    let mut widenings = 0;
    loop {
        let mut round_complete = true;
        for &i in &exponents {
            if tried.iter().any(|(j, ..)| *j == i) {
                continue;
            }
            let eta = tune.eta0 * 2f64.powi(i);
            let mut run = template.clone();
            run.config.stepsize = constant_rule(eta);
            run.series = format!("{} (η = {eta:.4})", template.series);
            match run_one(run)? {
                Some(result) => {
                    let score = tune.rank.score(&result.outcome);
                    tried.push((i, score, result));
                }
                None => round_complete = false,
            }
        }
        if !round_complete {
            return Ok(None);
        }
        let best = tried
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, ..)| *i)
            .context("empty tuning grid")?;
        let (lo, hi) = (exponents[0], exponents[exponents.len() - 1]);
        let interior = best != lo && best != hi;
        if interior || widenings >= tune.max_widenings {
            let (.., result) = tried
                .iter()
                .find(|(i, ..)| *i == best)
                .cloned()
                .expect("best is tried");
            let tuning = Tuning {
                group: template.group.clone(),
                series: template.series.clone(),
                seed: template.seed,
                rank: tune.rank,
                candidates: tried
                    .iter()
                    .map(|(i, s, r)| {
                        (
                            tune.eta0 * 2f64.powi(*i),
                            *s,
                            r.outcome.dir.id().to_string(),
                        )
                    })
                    .collect(),
                best_eta: tune.eta0 * 2f64.powi(best),
                interior,
            };
            let mut best_result = result;
            best_result.run.series = template.series.clone();
            return Ok(Some((best_result, tuning)));
        }
        exponents.push(if best == lo { lo - 1 } else { hi + 1 });
        exponents.sort_unstable();
        widenings += 1;
    }
}

fn runs_table(name: &str, scale: Scale, output: &FigureOutput) -> String {
    let mut text = format!(
        "# Runs of `{name}` at scale `{}`\n\nReproduce: `cargo xtask reproduce {name} --scale {}`\n\n\
         | group | series | seed | run id | status | steps |\n|---|---|---|---|---|---|\n",
        scale.name(),
        scale.name()
    );
    for result in &output.results {
        text.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {} |\n",
            result.run.group,
            result.run.series,
            result.run.seed.map_or("base".into(), |s| s.to_string()),
            result.outcome.dir.id(),
            result.outcome.status.describe(),
            result.outcome.rows.len()
        ));
    }
    for tuning in &output.tunings {
        text.push_str(&format!(
            "\nTuned `{}` in group `{}`{}: best η = {} ({}), candidates (η, {}, run):\n",
            tuning.series,
            tuning.group,
            tuning.seed.map_or(String::new(), |s| format!(
                " on seed {s} (other seeds use the same η)"
            )),
            tuning.best_eta,
            if tuning.interior {
                "interior"
            } else {
                "at the edge of the widened grid"
            },
            tuning.rank.describe(),
        ));
        for (eta, score, id) in &tuning.candidates {
            text.push_str(&format!("- η = {eta}: {score:.6} (`{id}`)\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_deep_but_kind_changes_replace() {
        let mut base: Table = toml::from_str(
            "training = { max_steps = 10, chunk_size = 5 }\nstepsize = { kind = \"armijo\", c = 0.1 }",
        )
        .unwrap();
        let over: Table = toml::from_str(
            "training = { max_steps = 20 }\nstepsize = { kind = \"constant\", eta = 0.5 }",
        )
        .unwrap();
        merge(&mut base, &over);
        assert_eq!(base["training"]["max_steps"].as_integer(), Some(20));
        assert_eq!(base["training"]["chunk_size"].as_integer(), Some(5));
        assert!(base["stepsize"].get("c").is_none());
        assert_eq!(base["stepsize"]["eta"].as_float(), Some(0.5));
    }
}
