//! `cargo xtask list`: experiments and cached runs.

use clap::Args;
use stepsharp_runner::{list_runs, load_figure};

use crate::Global;
use crate::reproduce::EXPERIMENTS;

/// Arguments of `list`.
#[derive(Args)]
pub struct ListCommand {}

/// Names of the figure files under `experiments/`.
pub fn experiment_names() -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(EXPERIMENTS)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

impl ListCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        println!("Experiments (cargo xtask reproduce <name> [--scale quick|paper]):");
        for name in experiment_names()? {
            let path = std::path::Path::new(EXPERIMENTS).join(format!("{name}.toml"));
            match load_figure(&path) {
                Ok(figure) => {
                    let quick = figure.runs(stepsharp_runner::Scale::Quick)?.len();
                    let paper = figure.runs(stepsharp_runner::Scale::Paper)?.len();
                    println!(
                        "  {name:<14} {} ({quick} quick runs, {paper} paper runs)",
                        figure.title
                    );
                }
                Err(error) => println!("  {name:<14} INVALID: {error:#}"),
            }
        }
        println!("\nCached runs in {}:", global.results.display());
        if !global.results.exists() {
            println!("  none (the folder does not exist yet)");
            return Ok(());
        }
        for (dir, metadata) in list_runs(&global.results)? {
            match metadata {
                Ok(m) => println!(
                    "  {}  {:<24} {} {} resumes={}",
                    dir.path.file_name().unwrap_or_default().to_string_lossy(),
                    m.status.describe(),
                    m.dtype,
                    m.device,
                    m.resumes
                ),
                Err(error) => println!("  {}  unreadable metadata: {error}", dir.path.display()),
            }
        }
        Ok(())
    }
}
