//! `verify`: what a run folder promises, checked again from its files — the stored config
//! hashes to the run id, the trajectory has one row per step and as many as the status says,
//! and the trajectory, the final checkpoint and the density file (when the run has one) still
//! have the blake3 recorded at completion.

use std::path::Path;

use crate::checkpoint;
use crate::error::{Context, Result, bail, ensure};
use crate::fsio::{StoreError, blake3_file};
use crate::hash::RUN_ID_LEN;
use crate::hash::run_hash;
use crate::status::RunStatus;
use crate::store::{CHECKPOINT_FILE, DENSITY_FILE, Metadata, RunDir, TRAJECTORY_FILE, list_runs};
use crate::trajectory::read_trajectory;

/// A run that passed [`RunDir::verify`].
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// Its status, described.
    pub status: String,
    /// What could not be checked, e.g. a run written before content hashes were recorded.
    pub notes: Vec<String>,
}

/// The note on a final run whose metadata holds no content hashes.
pub const NO_CONTENT_HASH: &str = "no content hash recorded (written by an older version)";

impl RunDir {
    /// Checks the run's files against its metadata; `Err` describes the first problem.
    pub fn verify(&self) -> Result<Verified> {
        let metadata = self.metadata()?.context("metadata.json is missing")?;
        self.verify_identity(&metadata)?;
        let mut notes = Vec::new();
        let trajectory = self.file(TRAJECTORY_FILE);
        let manifest = checkpoint::manifest(self)?;
        if metadata.status == RunStatus::Running && manifest.is_none() {
            return Ok(Verified {
                status: "incomplete, no checkpoint yet".into(),
                notes,
            });
        }
        let rows = self.verify_trajectory(&metadata)?;
        let manifest = manifest.with_context(|| {
            format!(
                "the checkpoint {} is missing",
                self.file(CHECKPOINT_FILE).display()
            )
        })?;
        ensure!(
            manifest.state.rows <= rows,
            "the checkpoint covers {} rows but {} has {rows}",
            manifest.state.rows,
            trajectory.display(),
        );
        if let Some(reason) = checkpoint::check_tensors(self, &manifest)? {
            bail!("checkpoint: {reason}");
        }
        if metadata.status.is_final() && !self.verify_content_hashes(&metadata)? {
            notes.push(NO_CONTENT_HASH.to_string());
        }
        if !manifest.records_tensor_hash() {
            notes.push("checkpoint in the older format (tensor hash not recorded)".into());
        }
        Ok(Verified {
            status: metadata.status.describe(),
            notes,
        })
    }

    /// The trajectory has one row per step, and as many rows as the status says; returns how
    /// many it has.
    fn verify_trajectory(&self, metadata: &Metadata) -> Result<usize> {
        let trajectory = self.file(TRAJECTORY_FILE);
        let rows = read_trajectory(&trajectory)?;
        for (i, row) in rows.iter().enumerate() {
            ensure!(row.step == i, "trajectory row {i} has step {}", row.step);
        }
        if let Some(expected) = metadata.status.rows() {
            ensure!(
                rows.len() == expected,
                "{} but {} has {} rows",
                metadata.status.describe(),
                trajectory.display(),
                rows.len()
            );
        }
        Ok(rows.len())
    }

    /// The trajectory, the checkpoint and the density file (if any) still have the blake3
    /// recorded when the run ended; false when no hash was recorded (an older version).
    fn verify_content_hashes(&self, metadata: &Metadata) -> Result<bool> {
        let (Some(trajectory_hash), Some(checkpoint_hash)) =
            (&metadata.trajectory_blake3, &metadata.checkpoint_blake3)
        else {
            return Ok(false);
        };
        same_blake3(&self.file(TRAJECTORY_FILE), trajectory_hash)?;
        same_blake3(&self.file(CHECKPOINT_FILE), checkpoint_hash)?;
        if let Some(density_hash) = &metadata.density_blake3 {
            same_blake3(&self.file(DENSITY_FILE), density_hash)?;
        }
        Ok(true)
    }

    /// The stored config hashes to the metadata's hash, whose start is the folder name.
    fn verify_identity(&self, metadata: &Metadata) -> Result<()> {
        let config = self.config()?;
        let hash = run_hash(&config, &metadata.data_fingerprint);
        ensure!(
            hash == metadata.hash,
            "stored config hashes to {hash}, metadata says {}",
            metadata.hash
        );
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        ensure!(
            name == hash[..RUN_ID_LEN],
            "folder name {name} does not match hash {hash}"
        );
        Ok(())
    }
}

/// Whether `path` still has the blake3 `expected`.
fn same_blake3(path: &Path, expected: &str) -> Result<()> {
    let found = blake3_file(path)?;
    ensure!(
        found == expected,
        "{} was changed after the run ended: blake3 {found}, recorded {expected}",
        path.display()
    );
    Ok(())
}

/// Verifies every run under `results` (a missing results folder is an error).
pub fn verify_runs(results: &Path) -> Result<Vec<(RunDir, Result<Verified>)>, StoreError> {
    Ok(list_runs(results)?
        .into_iter()
        .map(|(dir, _)| {
            let verdict = dir.verify();
            (dir, verdict)
        })
        .collect())
}
