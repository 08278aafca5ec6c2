//! `cargo xtask run <file>`: run a single run config, or every run of a figure file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stepsharp_runner::{RunConfig, execute, load_figure};

use crate::Global;
use crate::progress::Bars;

/// Arguments of `run`.
#[derive(Args)]
pub struct RunCommand {
    /// A figure file (`experiments/<name>.toml`, runs of `--scale`) or a run config file.
    config: PathBuf,
    /// Recompute even if a completed run with the same hash exists.
    #[arg(long)]
    force: bool,
    /// Stop after this many steps of each run, as if interrupted (the next call resumes).
    #[arg(long)]
    stop_after: Option<usize>,
}

impl RunCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(&self.config)
            .with_context(|| format!("cannot read {}", self.config.display()))?;
        let is_figure = toml::from_str::<toml::Table>(&text)
            .map(|t| t.contains_key("quick") || t.contains_key("paper"))
            .unwrap_or(false);
        let configs = if is_figure {
            let figure = load_figure(&self.config)?;
            figure
                .runs(global.scale())?
                .into_iter()
                .map(|r| (format!("{} / {}", r.group, r.series), r.config))
                .collect()
        } else {
            let label = self.config.display().to_string();
            vec![(label, RunConfig::from_file(&self.config)?)]
        };
        let options = stepsharp_runner::RunOptions {
            force: self.force,
            stop_after: self.stop_after,
            ..global.options()
        };
        let total = configs.len();
        let mut bars = Bars::default();
        for (index, (label, config)) in configs.into_iter().enumerate() {
            bars.start(format!("[{}/{total}] {label}", index + 1));
            let outcome = execute(&config, &options, &mut |p| bars.step(p))
                .with_context(|| format!("run `{label}`"))?;
            bars.finish(&outcome);
            println!("{}", outcome.dir.path.display());
        }
        Ok(())
    }
}
