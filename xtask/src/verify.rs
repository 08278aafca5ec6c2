//! `cargo xtask verify`: re-hash every cached run and check its files
//! ([`stepsharp_runner::store::RunDir::verify`]), then warn about every plotted figure whose runs were
//! computed on CPUs with different kernel features (their trajectories are not bit-identical
//! to a rerun on one machine).

use clap::Args;
use stepsharp_runner::report::figure_dirs;
use stepsharp_runner::sweep::plan_figure;
use stepsharp_runner::train::RunOptions;
use stepsharp_runner::verify::verify_runs;

use crate::Global;

/// Arguments of `verify`.
#[derive(Args)]
pub struct VerifyCommand {}

impl VerifyCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let runs = verify_runs(&global.results)?;
        let mut problems = 0;
        for (dir, verdict) in &runs {
            match verdict {
                Ok(verified) => {
                    println!("ok       {}  {}", dir.path.display(), verified.status);
                    for note in &verified.notes {
                        println!("         note: {note}");
                    }
                }
                Err(error) => {
                    problems += 1;
                    println!("PROBLEM  {}  {error:#}", dir.path.display());
                }
            }
        }
        println!("{} runs checked, {problems} problems", runs.len());
        for line in mixed_cpu_features(global) {
            println!("{line}");
        }
        anyhow::ensure!(problems == 0, "{problems} runs failed verification");
        Ok(())
    }
}

/// One warning line per figure under `<results>/figures/` whose runs record different CPU
/// kernel features (or a note when its runs cannot be looked up).
fn mixed_cpu_features(global: &Global) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, scale, dtype) in figure_dirs(&global.results) {
        let label = format!(
            "{name} ({} scale{})",
            scale.name(),
            dtype.map_or(String::new(), |d| format!(", {}", d.name()))
        );
        let options = RunOptions {
            dtype,
            ..global.options()
        };
        let plan =
            crate::reproduce::load(&name).and_then(|f| Ok(plan_figure(&f, scale, &options)?));
        match plan {
            Ok(plan) => {
                let sets = plan.cpu_feature_sets();
                if sets.len() > 1 {
                    let sets: Vec<String> = sets
                        .iter()
                        .map(|(features, n)| format!("[{}] ({n} attempts)", features.join(", ")))
                        .collect();
                    lines.push(format!(
                        "warning  {label}: runs computed on CPUs with different kernel features: \
                         {}; a rerun on one machine may not be bit-identical",
                        sets.join(", ")
                    ));
                }
            }
            Err(error) => lines.push(format!(
                "note     {label}: CPU features not checked: {error:#}"
            )),
        }
    }
    lines
}
