//! `cargo xtask list`: experiments and cached runs.

use clap::Args;
use std::path::Path;

use stepsharp_runner::figure::{EXPERIMENTS_DIR, Scale, figure_names};
use stepsharp_runner::store::list_runs;

use crate::Global;

/// Arguments of `list`.
#[derive(Args)]
pub struct ListCommand {}

impl ListCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        println!("Experiments (cargo xtask reproduce <name> [--scale quick|paper]):");
        let experiments = Path::new(EXPERIMENTS_DIR);
        for name in figure_names(experiments)? {
            match crate::reproduce::load(&name) {
                Ok(figure) => {
                    let quick = figure.runs(Scale::Quick)?.len();
                    let paper = figure.runs(Scale::Paper)?.len();
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
