//! `cargo xtask reproduce <figure>` (with the sequential, local or SLURM executor) and
//! `cargo xtask plot <figure>`.

use std::path::Path;
use std::time::Instant;

use clap::Args;
use stepsharp_runner::figure::{
    EXPERIMENTS_DIR, FigureConfig, figure_file, figure_names, load_figure,
};
use stepsharp_runner::report::{REPORT_FILES, figure_dir};
use stepsharp_runner::reproduce::reproduce;
use stepsharp_runner::train::RunOptions;

use crate::Global;
use crate::progress::Bars;

/// Arguments of `reproduce`.
#[derive(Args)]
pub struct ReproduceCommand {
    /// Figure names (files `experiments/<name>.toml`), or `all`.
    #[arg(required = true)]
    figures: Vec<String>,
    /// Recompute every run even if cached (sequential executor only).
    #[arg(long)]
    force: bool,
    /// Where the missing runs execute: as `--jobs` child processes at once (the default), in
    /// this process one after another, or as a SLURM job array followed by a plotting job.
    #[arg(long, value_enum, default_value = "local")]
    executor: Executor,
    /// Runs at once with `--executor local`; each gets `--threads` (default: all cores)
    /// divided by this many threads. Default: one run per core, one thread each (on 2 cores
    /// two one-thread runs finish a figure about twice as fast as one two-thread run).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
    #[command(flatten)]
    slurm: crate::slurm::SlurmArgs,
}

/// Where a figure's missing runs execute.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Executor {
    /// As child processes of this binary, `--jobs` at once.
    Local,
    /// In this process, one run after another.
    Sequential,
    /// As a SLURM job array (one task per run) and a dependent plotting job.
    Slurm,
}

/// Arguments of `plot`.
#[derive(Args)]
pub struct PlotCommand {
    /// Figure names, or `all`.
    #[arg(required = true)]
    figures: Vec<String>,
}

impl ReproduceCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.force || self.executor == Executor::Sequential,
            "--force works with `--executor sequential` only"
        );
        anyhow::ensure!(
            self.jobs.is_none() || self.executor == Executor::Local,
            "--jobs works with --executor local (the default) only"
        );
        let options = RunOptions {
            force: self.force,
            ..global.options()
        };
        for name in expand(&self.figures)? {
            match self.executor {
                Executor::Sequential => reproduce_one(&name, global, &options)?,
                Executor::Local => {
                    let figure = load(&name)?;
                    let jobs = match self.jobs {
                        Some(jobs) => jobs as usize,
                        None => crate::local::cores(global)?,
                    };
                    crate::local::run_missing(&figure, global, jobs)?;
                    plot(&name, global)?;
                }
                Executor::Slurm => {
                    let figure = load(&name)?;
                    if crate::slurm::submit(&name, &figure, global, &self.slurm)?
                        == crate::slurm::Submitted::NothingMissing
                    {
                        plot(&name, global)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl PlotCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        for name in expand(&self.figures)? {
            plot(&name, global)?;
        }
        Ok(())
    }
}

/// Plots `name` from cached runs only, and writes its claims report.
fn plot(name: &str, global: &Global) -> anyhow::Result<()> {
    let options = RunOptions {
        reuse_only: true,
        ..global.options()
    };
    reproduce_one(name, global, &options)
}

/// Loads `experiments/<name>.toml` (the one way `reproduce`, `plot`, `verify` and `list` read
/// an experiment).
pub(crate) fn load(name: &str) -> anyhow::Result<FigureConfig> {
    let path = figure_file(Path::new(EXPERIMENTS_DIR), name);
    anyhow::ensure!(
        path.exists(),
        "no experiment `{name}`: {} does not exist (see `cargo xtask list`)",
        path.display()
    );
    Ok(load_figure(&path)?)
}

fn expand(names: &[String]) -> anyhow::Result<Vec<String>> {
    if names.iter().any(|n| n == "all") {
        // figure4 overlays figure3's runs, so it comes after it.
        let mut all = figure_names(Path::new(EXPERIMENTS_DIR))?;
        all.sort_by_key(|n| (n == "figure4", n.clone()));
        return Ok(all);
    }
    Ok(names.to_vec())
}

fn reproduce_one(name: &str, global: &Global, options: &RunOptions) -> anyhow::Result<()> {
    let figure = load(name)?;
    let scale = global.scale();
    let out_dir = figure_dir(&options.results, name, scale, options.dtype);
    let started = Instant::now();
    let mut bars = Bars::default();
    let output = reproduce(&figure, name, scale, options, &out_dir, &mut |e| {
        bars.event(e)
    })?;
    eprintln!(
        "{name} ({} scale): {} runs in {:.1} min",
        scale.name(),
        output.results.len(),
        started.elapsed().as_secs_f64() / 60.0
    );
    for file in REPORT_FILES {
        println!("{}", out_dir.join(file).display());
    }
    Ok(())
}
