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
//! A series may carry `tune`: a constant-stepsize grid search on a log2 grid `η0·2^i`; the best
//! stepsize (lowest mean training loss over the last 5 iterates; diverged runs rank last) is
//! kept, and the grid is widened until the best value is interior (paper-spec.md, "Constant").

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use stepsharp_quadratic::SimpleModelConfig;
use toml::{Table, Value};

use crate::{ConfigError, Progress, RunConfig, RunOptions, RunOutcome, execute};

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
    /// Iterates averaged to rank candidates. Default: 5 (paper-spec.md).
    #[serde(default = "default_last")]
    pub last: usize,
}

fn default_widenings() -> usize {
    4
}
fn default_last() -> usize {
    5
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
    /// The resolved config.
    pub config: RunConfig,
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
        }];
        let groups = if spec.groups.is_empty() {
            &unnamed[..]
        } else {
            &spec.groups[..]
        };
        let mut runs = Vec::new();
        for group in groups {
            for series in &spec.series {
                let mut table = spec.base.clone();
                merge(&mut table, &group.set);
                merge(&mut table, &series.set);
                if let Some(tune) = &series.tune {
                    merge(&mut table, &constant_stepsize(tune.eta0));
                }
                let origin = format!("group `{}`, series `{}`", group.label, series.label);
                let config = RunConfig::from_toml(&toml::to_string(&table)?, &origin)?;
                runs.push(FigureRun {
                    group: group.label.clone(),
                    series: series.label.clone(),
                    config,
                });
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

    fn tune_of(&self, scale: Scale, series: &str) -> Option<&TuneSpec> {
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
    /// Every candidate tried: (η, mean loss over the last iterates, run id).
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
        /// `group / series`.
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
    /// One entry per plotted run.
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
    let runs = figure.runs(scale)?;
    let total = runs.len();
    let mut results = Vec::new();
    let mut tunings = Vec::new();
    let mut index = 0;
    let mut run_one =
        |run: FigureRun, events: &mut dyn FnMut(FigureEvent)| -> anyhow::Result<FigureResult> {
            events(FigureEvent::RunStarted {
                index,
                total,
                label: format!("{} / {}", run.group, run.series),
            });
            index += 1;
            let outcome = execute(&run.config, options, &mut |p| events(FigureEvent::Step(p)))
                .with_context(|| format!("run `{} / {}`", run.group, run.series))?;
            events(FigureEvent::RunFinished { outcome: &outcome });
            Ok(FigureResult { run, outcome })
        };
    for run in runs {
        match figure.tune_of(scale, &run.series).cloned() {
            None => results.push(run_one(run, events)?),
            Some(tune) => {
                let (best, tuning) = tune_constant(&run, &tune, &mut run_one, events)?;
                tunings.push(tuning);
                results.push(best);
            }
        }
    }
    std::fs::create_dir_all(out_dir)?;
    let output = FigureOutput {
        results,
        tunings,
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

type RunOne<'r> =
    dyn FnMut(FigureRun, &mut dyn FnMut(FigureEvent)) -> anyhow::Result<FigureResult> + 'r;

fn tune_constant(
    template: &FigureRun,
    tune: &TuneSpec,
    run_one: &mut RunOne,
    events: &mut dyn FnMut(FigureEvent),
) -> anyhow::Result<(FigureResult, Tuning)> {
    let mut exponents = tune.exponents.clone();
    exponents.sort_unstable();
    exponents.dedup();
    let mut tried: Vec<(i32, f64, FigureResult)> = Vec::new();
    let mut widenings = 0;
    loop {
        for &i in &exponents {
            if tried.iter().any(|(j, ..)| *j == i) {
                continue;
            }
            let eta = tune.eta0 * 2f64.powi(i);
            let mut run = template.clone();
            run.config.stepsize =
                stepsharp_stepsize::RuleConfig::Constant(stepsharp_stepsize::ConstantConfig {
                    eta,
                });
            run.series = format!("{} (η = {eta:.4})", template.series);
            let result = run_one(run, events)?;
            let score = tail_mean_loss(&result.outcome, tune.last);
            tried.push((i, score, result));
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
            return Ok((best_result, tuning));
        }
        exponents.push(if best == lo { lo - 1 } else { hi + 1 });
        exponents.sort_unstable();
        widenings += 1;
    }
}

/// Mean training loss over the last `last` iterates; diverged runs score +∞.
pub fn tail_mean_loss(outcome: &RunOutcome, last: usize) -> f64 {
    if !matches!(outcome.status, crate::RunStatus::Completed { .. }) || outcome.rows.is_empty() {
        return f64::INFINITY;
    }
    let tail = &outcome.rows[outcome.rows.len().saturating_sub(last)..];
    let mean = tail.iter().map(|r| r.loss).sum::<f64>() / tail.len() as f64;
    if mean.is_finite() {
        mean
    } else {
        f64::INFINITY
    }
}

fn runs_table(name: &str, scale: Scale, output: &FigureOutput) -> String {
    let mut text = format!(
        "# Runs of `{name}` at scale `{}`\n\nReproduce: `cargo xtask reproduce {name} --scale {}`\n\n\
         | group | series | run id | status | steps |\n|---|---|---|---|---|\n",
        scale.name(),
        scale.name()
    );
    for result in &output.results {
        text.push_str(&format!(
            "| {} | {} | `{}` | {} | {} |\n",
            result.run.group,
            result.run.series,
            result.outcome.dir.id(),
            result.outcome.status.describe(),
            result.outcome.rows.len()
        ));
    }
    for tuning in &output.tunings {
        text.push_str(&format!(
            "\nTuned `{}` in group `{}`: best η = {} ({}), candidates (η, mean loss over the last iterates, run):\n",
            tuning.series,
            tuning.group,
            tuning.best_eta,
            if tuning.interior { "interior" } else { "at the edge of the widened grid" }
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
