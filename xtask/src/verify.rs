//! `cargo xtask verify`: re-hash every cached run and check its files
//! ([`stepsharp_runner::RunDir::verify`]).

use clap::Args;
use stepsharp_runner::verify_runs;

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
        anyhow::ensure!(problems == 0, "{problems} runs failed verification");
        Ok(())
    }
}
