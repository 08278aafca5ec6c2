//! `cargo xtask reproduce <figure>` and `cargo xtask plot <figure>`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use stepsharp_runner::{RunOptions, load_figure, reproduce};

use crate::Global;
use crate::progress::Bars;

/// Arguments of `reproduce`.
#[derive(Args)]
pub struct ReproduceCommand {
    /// Figure names (files `experiments/<name>.toml`), or `all`.
    #[arg(required = true)]
    figures: Vec<String>,
    /// Recompute every run even if cached.
    #[arg(long)]
    force: bool,
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
        let options = RunOptions {
            force: self.force,
            ..global.options()
        };
        for name in expand(&self.figures)? {
            reproduce_one(&name, global, &options)?;
        }
        Ok(())
    }
}

impl PlotCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let options = RunOptions {
            reuse_only: true,
            ..global.options()
        };
        for name in expand(&self.figures)? {
            reproduce_one(&name, global, &options)?;
        }
        Ok(())
    }
}

/// The folder of figure files.
pub const EXPERIMENTS: &str = "experiments";

fn expand(names: &[String]) -> anyhow::Result<Vec<String>> {
    if names.iter().any(|n| n == "all") {
        // figure4 overlays figure3's runs, so it comes after it.
        let mut all = crate::list::experiment_names()?;
        all.sort_by_key(|n| (n == "figure4", n.clone()));
        return Ok(all);
    }
    Ok(names.to_vec())
}

fn reproduce_one(name: &str, global: &Global, options: &RunOptions) -> anyhow::Result<()> {
    let path = Path::new(EXPERIMENTS).join(format!("{name}.toml"));
    anyhow::ensure!(
        path.exists(),
        "no experiment `{name}`: {} does not exist (see `cargo xtask list`)",
        path.display()
    );
    let figure = load_figure(&path)?;
    let scale = global.scale();
    let out_dir: PathBuf = options
        .results
        .join("figures")
        .join(format!("{name}-{}", scale.name()));
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
    for file in ["figure.png", "figure.svg", "claims.md", "runs.md"] {
        println!("{}", out_dir.join(file).display());
    }
    Ok(())
}
