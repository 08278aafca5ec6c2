//! `cargo xtask run <file>`: run a single run config, or every run of a figure file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use stepsharp_runner::config::ValidRunConfig;
use stepsharp_runner::figure::{FigureRun, load_figure};
use stepsharp_runner::train::execute_valid;

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
    /// Of a figure file, only the runs of this group (its `label`; repeatable). Default: all.
    #[arg(long)]
    group: Vec<String>,
    /// Of a figure file, only the runs of this series (its `label`; repeatable). Default: all.
    #[arg(long)]
    series: Vec<String>,
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
            select(figure.runs(global.scale())?, &self.group, &self.series)?
                .into_iter()
                .map(|r| (format!("{} / {}", r.group, r.series), r.config))
                .collect()
        } else {
            anyhow::ensure!(
                self.group.is_empty() && self.series.is_empty(),
                "--group and --series select runs of a figure file; {} is a run config",
                self.config.display()
            );
            let label = self.config.display().to_string();
            vec![(label, ValidRunConfig::from_file(&self.config)?)]
        };
        let options = stepsharp_runner::train::RunOptions {
            force: self.force,
            stop_after: self.stop_after,
            ..global.options()
        };
        let total = configs.len();
        let mut bars = Bars::default();
        for (index, (label, config)) in configs.into_iter().enumerate() {
            bars.start(format!("[{}/{total}] {label}", index + 1));
            let outcome = execute_valid(&config, &options, &mut |p| bars.step(p))
                .with_context(|| format!("run `{label}`"))?;
            bars.finish(&outcome);
            println!("{}", outcome.dir.path.display());
        }
        Ok(())
    }
}

/// The runs whose group is one of `groups` and whose series is one of `series` (an empty list
/// selects every label). A label that names no group (series) is an error listing the labels
/// there are, so that a typo never silently selects nothing.
fn select(
    runs: Vec<FigureRun>,
    groups: &[String],
    series: &[String],
) -> anyhow::Result<Vec<FigureRun>> {
    let known = |label: fn(&FigureRun) -> &String| {
        let mut labels: Vec<String> = Vec::new();
        for run in &runs {
            if !labels.contains(label(run)) {
                labels.push(label(run).clone());
            }
        }
        labels
    };
    for (option, wanted, labels) in [
        ("--group", groups, known(|r| &r.group)),
        ("--series", series, known(|r| &r.series)),
    ] {
        if let Some(unknown) = wanted.iter().find(|w| !labels.contains(w)) {
            anyhow::bail!("{option} {unknown:?} names nothing; the labels are {labels:?}");
        }
    }
    let keep = |wanted: &[String], label: &String| wanted.is_empty() || wanted.contains(label);
    Ok(runs
        .into_iter()
        .filter(|r| keep(groups, &r.group) && keep(series, &r.series))
        .collect())
}

#[cfg(test)]
mod tests {
    use stepsharp_runner::figure::{Scale, load_figure};

    use super::select;

    fn labels(groups: &[&str], series: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
        let figure = load_figure("../experiments/figure3.toml".as_ref())?;
        let owned = |labels: &[&str]| labels.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let runs = select(figure.runs(Scale::Paper)?, &owned(groups), &owned(series))?;
        Ok(runs.into_iter().map(|r| (r.group, r.series)).collect())
    }

    #[test]
    fn selects_one_row_of_a_figure_in_file_order() {
        let row = labels(&["full batch"], &["armijo", "polyak c=1"]).unwrap();
        let expected: Vec<(String, String)> = ["armijo", "polyak c=1"]
            .iter()
            .flat_map(|s| std::iter::repeat_n(("full batch".to_string(), s.to_string()), 3))
            .collect();
        assert_eq!(row, expected);
        assert!(labels(&[], &[]).unwrap().len() > row.len());
    }

    #[test]
    fn an_unknown_label_is_an_error_that_lists_the_labels() {
        let message = labels(&["full-batch"], &[]).unwrap_err().to_string();
        assert!(
            message.contains("--group \"full-batch\"") && message.contains("\"full batch\""),
            "{message}"
        );
        let message = labels(&[], &["Armijo"]).unwrap_err().to_string();
        assert!(message.contains("\"armijo\""), "{message}");
    }
}
