//! `cargo xtask verify`: re-hash every cached run and check its files.

use clap::Args;
use stepsharp_runner::{RUN_ID_LEN, RunStatus, list_runs, read_trajectory, run_hash};

use crate::Global;

/// Arguments of `verify`.
#[derive(Args)]
pub struct VerifyCommand {}

impl VerifyCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let mut problems = 0;
        let mut checked = 0;
        for (dir, metadata) in list_runs(&global.results)? {
            if dir.path.file_name().is_some_and(|n| n == "figures") {
                continue;
            }
            checked += 1;
            let result = (|| -> anyhow::Result<String> {
                let metadata = metadata?;
                let config = dir.config()?;
                let hash = run_hash(&config, &metadata.data_fingerprint);
                anyhow::ensure!(
                    hash == metadata.hash,
                    "stored config hashes to {hash}, metadata says {}",
                    metadata.hash
                );
                let name = dir.path.file_name().unwrap_or_default().to_string_lossy();
                anyhow::ensure!(
                    name == hash[..RUN_ID_LEN],
                    "folder name {name} does not match hash {hash}"
                );
                let trajectory = dir.file("trajectory.csv");
                if metadata.status == RunStatus::Running && !trajectory.exists() {
                    return Ok("incomplete, no checkpoint yet".into());
                }
                let rows = read_trajectory(&trajectory)?;
                for (i, row) in rows.iter().enumerate() {
                    anyhow::ensure!(row.step == i, "trajectory row {i} has step {}", row.step);
                }
                match metadata.status {
                    RunStatus::Completed { steps } => {
                        anyhow::ensure!(
                            rows.len() == steps,
                            "completed with {steps} steps but {} rows",
                            rows.len()
                        )
                    }
                    RunStatus::Diverged { step, .. } => {
                        anyhow::ensure!(
                            rows.len() == step + 1,
                            "diverged at step {step} but {} rows",
                            rows.len()
                        )
                    }
                    RunStatus::Running => {}
                }
                Ok(metadata.status.describe())
            })();
            match result {
                Ok(status) => println!("ok       {}  {status}", dir.path.display()),
                Err(error) => {
                    problems += 1;
                    println!("PROBLEM  {}  {error:#}", dir.path.display());
                }
            }
        }
        println!("{checked} runs checked, {problems} problems");
        anyhow::ensure!(problems == 0, "{problems} runs failed verification");
        Ok(())
    }
}
