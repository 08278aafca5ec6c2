//! `cargo xtask verify`: re-hash every cached run and check its files
//! ([`stepsharp_runner::RunDir::verify`]), then warn about every plotted figure whose runs were
//! computed on CPUs with different kernel features (their trajectories are not bit-identical
//! to a rerun on one machine).

use std::collections::BTreeMap;
use std::path::Path;

use clap::Args;
use stepsharp_runner::{Scale, load_figure, plan_figure, verify_runs};

use crate::Global;
use crate::reproduce::EXPERIMENTS;

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

/// One warning line per figure under `<results>/figures/<name>-<scale>/` whose runs record
/// different CPU kernel features (or a note when its runs cannot be looked up).
fn mixed_cpu_features(global: &Global) -> Vec<String> {
    let figures = global.results.join(stepsharp_runner::FIGURES_DIR);
    let Ok(entries) = std::fs::read_dir(&figures) else {
        return Vec::new();
    };
    let mut folders: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut lines = Vec::new();
    for folder in folders {
        for scale in [Scale::Quick, Scale::Paper] {
            let Some(name) = folder.strip_suffix(&format!("-{}", scale.name())) else {
                continue;
            };
            let path = Path::new(EXPERIMENTS).join(format!("{name}.toml"));
            let label = format!("{name} ({} scale)", scale.name());
            let plan = load_figure(&path).and_then(|f| plan_figure(&f, scale, &global.options()));
            let plan = match plan {
                Ok(plan) => plan,
                Err(error) => {
                    lines.push(format!(
                        "note     {label}: CPU features not checked: {error:#}"
                    ));
                    continue;
                }
            };
            // Feature set → number of run attempts computed with it.
            let mut seen: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for dir in &plan.ended {
                if let Ok(Some(metadata)) = dir.metadata() {
                    for machine in metadata.machines {
                        *seen.entry(machine.cpu_features).or_default() += 1;
                    }
                }
            }
            if seen.len() > 1 {
                let sets: Vec<String> = seen
                    .iter()
                    .map(|(features, n)| format!("[{}] ({n} attempts)", features.join(", ")))
                    .collect();
                lines.push(format!(
                    "warning  {label}: runs computed on CPUs with different kernel features: {}; \
                     a rerun on one machine may not be bit-identical",
                    sets.join(", ")
                ));
            }
        }
    }
    lines
}
