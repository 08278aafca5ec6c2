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
//! (the claims report). Without `seeds`, a group × series pair is one run with the base's seeds.
//!
//! A series may carry `tune`: a constant-stepsize grid search on a log2 grid `η0·2^i`; the best
//! stepsize (by default the lowest median training loss over the last 10% of steps; diverged
//! runs rank last) is kept, and the grid is widened until the best value is interior
//! (`docs/paper.md#constant`). With several seeds the grid is searched on the first seed and
//! the other seeds run at the chosen stepsize.

mod runs;
mod slurm;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use stepsharp_quadratic::SimpleModelConfig;
use toml::Table;

use crate::config::ConfigError;
use crate::error::{Context, Result};

pub use runs::FigureRun;
pub use slurm::SlurmResources;

/// The folder of figure files, relative to the workspace root (`experiments/<name>.toml`).
pub const EXPERIMENTS_DIR: &str = "experiments";

/// The file of the figure `name` in the folder `experiments`: `<experiments>/<name>.toml`.
pub fn figure_file(experiments: &Path, name: &str) -> PathBuf {
    experiments.join(format!("{name}.toml"))
}

/// The names of the figure files in `experiments` (every `<name>.toml`), sorted.
pub fn figure_names(experiments: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(experiments)
        .with_context(|| format!("cannot list the figure files in {}", experiments.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

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
    /// scale, a line at 2/η), and λ_max against steps (the `spectrum` experiment).
    SpectralDensity,
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
    /// Another figure whose measured runs are drawn beside the simple model (figure4), looked
    /// up in the same folder as this file.
    #[serde(default)]
    pub measured_from: Option<String>,
    /// The folder this file was read from (set by [`load_figure`]; where `measured_from` is).
    #[serde(skip)]
    pub folder: PathBuf,
}

/// The runs of one scale.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleSpec {
    /// Run config shared by all runs (a partial [`RunConfig`](crate::config::RunConfig)).
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
    /// reproduce --executor slurm`). Default: [`SlurmResources::default`].
    #[serde(default)]
    pub slurm: SlurmResources,
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

/// The regimes of the paper's claims (`docs/paper.md#claims`, claims 1–4).
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
    /// Mean training loss over the last `n` iterates (the paper's rank, `docs/paper.md#constant`).
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

/// Reads and checks a figure file.
pub fn load_figure(path: &Path) -> Result<FigureConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read figure config {}", path.display()))?;
    let mut figure: FigureConfig = toml::from_str(&text).map_err(|error| ConfigError::Parse {
        origin: path.display().to_string(),
        message: error.to_string(),
    })?;
    figure.folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
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
