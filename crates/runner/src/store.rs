//! The on-disk layout of results: `results/<run id>/` with the resolved config, metadata,
//! trajectory and checkpoint, and the lock `results/<run id>.lock` beside it. Every file is
//! written atomically ([`write_atomic`]), so a crash never leaves a half-written file that is
//! taken as complete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, RunConfig};
use crate::fsio::read_text;
use crate::hash::RUN_ID_LEN;
use crate::provenance::Machine;
use crate::status::RunStatus;

pub use crate::fsio::{RESULT_FILE_MODE, StoreError, write_atomic};

/// Provenance of a run, stored as `metadata.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Full 64-character blake3 run hash.
    pub hash: String,
    /// Data fingerprint mixed into the hash.
    pub data_fingerprint: String,
    /// Human-readable data summary (source folder, sizes, preprocessing).
    pub data_summary: String,
    /// Code revision the binary was built from (`git describe --always --dirty` at build
    /// time; older versions ran it in the current folder), or `unknown`.
    pub code_revision: String,
    /// stepsharp version.
    pub stepsharp_version: String,
    /// candle version the binary was built with.
    pub candle_version: String,
    /// Host name.
    pub host: String,
    /// Worker threads used by candle on CPU.
    pub threads: usize,
    /// Precision.
    pub dtype: String,
    /// Device.
    pub device: String,
    /// Start time (seconds since the Unix epoch) of the first attempt.
    pub started_unix: u64,
    /// End time (seconds since the Unix epoch), once final.
    pub ended_unix: Option<u64>,
    /// Number of times the run was resumed from a checkpoint.
    pub resumes: u32,
    /// Final or current status.
    pub status: RunStatus,
    /// blake3 of `trajectory.csv`, recorded once the run is final (absent in runs written by
    /// older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory_blake3: Option<String>,
    /// blake3 of the final `checkpoint.json` (which holds the blake3 of its tensor file),
    /// recorded once the run is final (absent in runs written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_blake3: Option<String>,
    /// The machine of every attempt: the first, then one per resume (absent in runs written
    /// by older versions). Not part of the run hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<Machine>,
    /// blake3 of `density.csv`, recorded once the run is final, for runs that measure the
    /// spectral density (`sharpness.density`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_blake3: Option<String>,
}

/// File names inside a run folder.
pub(crate) const CONFIG_FILE: &str = "config.toml";
/// Metadata file name.
pub(crate) const METADATA_FILE: &str = "metadata.json";
/// Trajectory file name.
pub(crate) const TRAJECTORY_FILE: &str = "trajectory.csv";
/// Spectral densities file name (runs with `sharpness.density`).
pub(crate) const DENSITY_FILE: &str = "density.csv";
/// Checkpoint manifest file name (its rename into place commits a checkpoint).
pub(crate) const CHECKPOINT_FILE: &str = "checkpoint.json";
/// The folder of figures under the results folder (not a run).
pub const FIGURES_DIR: &str = "figures";
/// The folder of cluster submissions (scripts, configs, logs) under the results folder (not a
/// run).
pub const SUBMISSIONS_DIR: &str = "slurm";

/// A run's folder `results/<id>/`.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
    /// The full hash.
    pub hash: String,
}

impl RunDir {
    /// The folder of the run with `hash` under `results`.
    pub fn new(results: &Path, hash: &str) -> Self {
        Self {
            path: results.join(&hash[..RUN_ID_LEN]),
            hash: hash.to_string(),
        }
    }

    /// The short id (folder name).
    pub fn id(&self) -> &str {
        &self.hash[..RUN_ID_LEN]
    }

    /// A file inside the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Reads `metadata.json`, if present.
    pub fn metadata(&self) -> Result<Option<Metadata>, StoreError> {
        let path = self.file(METADATA_FILE);
        if !path.exists() {
            return Ok(None);
        }
        read_metadata(&path).map(Some)
    }

    /// Writes `metadata.json` atomically.
    pub fn write_metadata(&self, metadata: &Metadata) -> Result<(), StoreError> {
        let text = serde_json::to_string_pretty(metadata).map_err(|error| StoreError::Invalid {
            path: self.file(METADATA_FILE),
            what: "run metadata",
            reason: error.to_string(),
        })?;
        write_atomic(&self.file(METADATA_FILE), text.as_bytes())
    }

    /// Reads the resolved config stored with the run.
    pub fn config(&self) -> Result<RunConfig, StoredConfigError> {
        let path = self.file(CONFIG_FILE);
        let text = read_text(&path)?;
        Ok(RunConfig::from_toml(&text, &path.display().to_string())?)
    }
}

/// The stored config of a run cannot be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum StoredConfigError {
    /// The file cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file does not parse or validate.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn read_metadata(path: &Path) -> Result<Metadata, StoreError> {
    serde_json::from_str(&read_text(path)?).map_err(|error| StoreError::Invalid {
        path: path.to_path_buf(),
        what: "run metadata",
        reason: error.to_string(),
    })
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A run folder with its metadata, or the error reading it.
pub type ListedRun = (RunDir, Result<Metadata, StoreError>);

/// All run folders under `results` with their metadata (unreadable ones reported as errors).
/// A missing or unreadable results folder is an error.
pub fn list_runs(results: &Path) -> Result<Vec<ListedRun>, StoreError> {
    let list = StoreError::io("list the results folder", results);
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(results).map_err(list)? {
        let entry = entry.map_err(StoreError::io("list the results folder", results))?;
        let path = entry.path();
        if !path.is_dir()
            || entry.file_name() == FIGURES_DIR
            || entry.file_name() == SUBMISSIONS_DIR
        {
            continue;
        }
        let metadata = read_metadata(&path.join(METADATA_FILE));
        let hash = metadata
            .as_ref()
            .map(|m| m.hash.clone())
            .unwrap_or_else(|_| entry.file_name().to_string_lossy().into_owned());
        runs.push((RunDir { path, hash }, metadata));
    }
    runs.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    Ok(runs)
}
