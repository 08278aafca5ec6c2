//! The on-disk layout of results: `results/<run id>/` with the resolved config, metadata,
//! trajectory and checkpoint. Every file is written atomically (temporary file in the same
//! folder, then rename), so a crash never leaves a half-written file that is taken as complete.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::RunConfig;
use crate::hash::RUN_ID_LEN;

/// How a run ended (or that it has not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished (interrupted runs stay here and resume from their checkpoint).
    Running,
    /// Reached `training.max_steps` or the loss goal.
    Completed {
        /// Steps taken.
        steps: usize,
    },
    /// The loss became NaN/Inf or exceeded the divergence threshold.
    Diverged {
        /// The step at which the loss was non-finite or above the threshold.
        step: usize,
        /// The offending loss.
        loss: f64,
    },
}

impl RunStatus {
    /// Whether the run has ended (completed or diverged) and can be reused as it is.
    pub fn is_final(&self) -> bool {
        !matches!(self, RunStatus::Running)
    }

    /// A short human-readable form, e.g. `diverged at step 12`.
    pub fn describe(&self) -> String {
        match self {
            RunStatus::Running => "incomplete".into(),
            RunStatus::Completed { steps } => format!("completed ({steps} steps)"),
            RunStatus::Diverged { step, .. } => format!("diverged at step {step}"),
        }
    }
}

/// Provenance of a run, stored as `metadata.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Full 64-character blake3 run hash.
    pub hash: String,
    /// Data fingerprint mixed into the hash.
    pub data_fingerprint: String,
    /// Human-readable data summary (source folder, sizes, preprocessing).
    pub data_summary: String,
    /// Code revision (`git describe`), when known.
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
}

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
/// Metadata file name.
pub const METADATA_FILE: &str = "metadata.json";
/// Trajectory file name.
pub const TRAJECTORY_FILE: &str = "trajectory.csv";
/// Checkpoint state file name.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
/// Checkpoint tensors file name.
pub const CHECKPOINT_TENSORS: &str = "checkpoint.safetensors";

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
    pub fn metadata(&self) -> anyhow::Result<Option<Metadata>> {
        let path = self.file(METADATA_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let metadata = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid run metadata", path.display()))?;
        Ok(Some(metadata))
    }

    /// Writes `metadata.json` atomically.
    pub fn write_metadata(&self, metadata: &Metadata) -> anyhow::Result<()> {
        write_atomic(
            &self.file(METADATA_FILE),
            serde_json::to_string_pretty(metadata)?.as_bytes(),
        )
    }

    /// Reads the resolved config stored with the run.
    pub fn config(&self) -> anyhow::Result<RunConfig> {
        let path = self.file(CONFIG_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(RunConfig::from_toml(&text, &path.display().to_string())?)
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
/// renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)?;
    // Temporary files are created private (0600); results are meant to be shared and read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// All run folders under `results` with their metadata (unreadable ones reported as errors).
pub fn list_runs(results: &Path) -> anyhow::Result<Vec<(RunDir, anyhow::Result<Metadata>)>> {
    let mut runs = Vec::new();
    let Ok(entries) = std::fs::read_dir(results) else {
        return Ok(runs);
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        let metadata = std::fs::read_to_string(path.join(METADATA_FILE))
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(serde_json::from_str::<Metadata>(&text)?));
        let hash = metadata
            .as_ref()
            .map(|m| m.hash.clone())
            .unwrap_or_else(|_| entry.file_name().to_string_lossy().into_owned());
        runs.push((RunDir { path, hash }, metadata));
    }
    runs.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    Ok(runs)
}
