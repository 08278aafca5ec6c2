//! Checkpoints: everything needed to continue a run bit for bit — parameters and BatchNorm
//! statistics (safetensors, in their own dtype, so no rounding), the stepsize rule's state,
//! the data-order streams, counters, the eigen-solver's warm-start vector — and whether the
//! run has ended.
//!
//! One commit point per checkpoint: the tensors are written under a partial name and renamed
//! to `checkpoint-<step>-<blake3>.safetensors` (a new name for new content, so the committed
//! checkpoint is never overwritten), then the manifest `checkpoint.json`, which names the step,
//! the tensor file and its blake3, is renamed into place. Tensor files no manifest names are
//! removed afterwards. [`load`] refuses a tensor file whose blake3 differs from the manifest's
//! and starts over from step 0, saying why.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use stepsharp_data::BatcherState;
use stepsharp_stepsize::RuleState;

use crate::RunStatus;
use crate::fsio::{self, StoreError};
use crate::store::{CHECKPOINT_FILE, RunDir};

/// Format of the manifest written by this version (older manifests have no `format` field).
pub const CHECKPOINT_FORMAT: u32 = 2;

/// Tensor file of checkpoints written before the manifest existed.
const LEGACY_TENSORS: &str = "checkpoint.safetensors";
/// Name prefix and extension of tensor files.
const TENSORS_PREFIX: &str = "checkpoint-";
const TENSORS_EXTENSION: &str = ".safetensors";
/// Hex digits of the blake3 in a tensor file's name.
const TENSORS_NAME_HASH_LEN: usize = 16;

/// Scalar state of a run between two steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// The next step to take.
    pub next_step: usize,
    /// Trajectory rows that belong to the checkpoint (later rows are discarded on resume).
    pub rows: usize,
    /// Stepsize rule state.
    pub rule: RuleState,
    /// Training batch stream.
    pub batcher: Option<BatcherState>,
    /// Independent line-search batch stream.
    pub line_search_batcher: Option<BatcherState>,
    /// Counters so far: forward passes, backward passes, HVPs.
    pub counters: [u64; 3],
    /// Seconds so far: training, tracking.
    pub seconds: [f64; 2],
}

/// Tensors of a checkpoint.
pub struct CheckpointTensors {
    /// Flat parameters.
    pub parameters: Tensor,
    /// BatchNorm running statistics by name.
    pub buffers: Vec<(String, Tensor)>,
    /// Warm-start eigenvector, if any.
    pub warm_start: Option<Tensor>,
}

/// `checkpoint.json`: the commit point of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`CHECKPOINT_FORMAT`].
    pub format: u32,
    /// The step the checkpoint continues from (`state.next_step`).
    pub step: usize,
    /// Name of the tensor file in the run folder.
    pub tensors: String,
    /// blake3 of the tensor file.
    pub tensors_blake3: String,
    /// Whether the run has ended at this checkpoint, and why.
    pub status: RunStatus,
    /// The scalar state.
    pub state: CheckpointState,
}

/// A checkpoint read back.
pub struct Checkpoint {
    /// The scalar state.
    pub state: CheckpointState,
    /// The tensors.
    pub tensors: CheckpointTensors,
    /// The status recorded with it (`Running` for checkpoints of older versions).
    pub status: RunStatus,
}

/// What [`load`] found.
pub enum Loaded {
    /// No checkpoint: start at step 0.
    Nothing,
    /// A complete checkpoint (boxed: it holds the tensors).
    Resumed(Box<Checkpoint>),
    /// A checkpoint that cannot be trusted: start at step 0.
    Refused {
        /// Why, naming the file.
        reason: String,
    },
}

const PARAMETERS: &str = "parameters";
const WARM_START: &str = "warm_start";
const BUFFER_PREFIX: &str = "buffer/";

/// Writes and commits a checkpoint, then removes the tensor files it supersedes.
pub fn save(
    dir: &RunDir,
    state: &CheckpointState,
    tensors: &CheckpointTensors,
    status: &RunStatus,
) -> anyhow::Result<()> {
    let mut map: HashMap<String, Tensor> = HashMap::new();
    map.insert(PARAMETERS.into(), tensors.parameters.clone());
    if let Some(v) = &tensors.warm_start {
        map.insert(WARM_START.into(), v.clone());
    }
    for (name, tensor) in &tensors.buffers {
        map.insert(format!("{BUFFER_PREFIX}{name}"), tensor.clone());
    }
    let partial = fsio::partial_file(&dir.path)?;
    candle_core::safetensors::save(&map, partial.path())
        .with_context(|| format!("cannot write {}", partial.path().display()))?;
    let tensors_blake3 = fsio::blake3_file(partial.path())?;
    let name = format!(
        "{TENSORS_PREFIX}{:08}-{}{TENSORS_EXTENSION}",
        state.next_step,
        &tensors_blake3[..TENSORS_NAME_HASH_LEN]
    );
    fsio::publish(partial, &dir.file(&name))?;
    let manifest = Manifest {
        format: CHECKPOINT_FORMAT,
        step: state.next_step,
        tensors: name,
        tensors_blake3,
        status: status.clone(),
        state: state.clone(),
    };
    fsio::write_atomic(
        &dir.file(CHECKPOINT_FILE),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    remove_superseded(dir, &manifest.tensors)?;
    Ok(())
}

/// Removes every tensor file but `keep` (those of earlier checkpoints, of checkpoints whose
/// manifest was never committed, and of older versions).
fn remove_superseded(dir: &RunDir, keep: &str) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(&dir.path).map_err(StoreError::io("list", &dir.path))?;
    for entry in entries {
        let entry = entry.map_err(StoreError::io("list", &dir.path))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let tensors = name == LEGACY_TENSORS
            || (name.starts_with(TENSORS_PREFIX) && name.ends_with(TENSORS_EXTENSION));
        if tensors && name != keep {
            fsio::remove_file(&entry.path())?;
        }
    }
    Ok(())
}

/// Reads the committed manifest, if any. A manifest of an older version (no `format`) is
/// returned with the legacy tensor file name and no hash.
pub fn manifest(dir: &RunDir) -> Result<Option<Manifest>, StoreError> {
    let path = dir.file(CHECKPOINT_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let invalid = |reason: String| StoreError::Invalid {
        path: path.clone(),
        what: "checkpoint manifest",
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(&fsio::read_text(&path)?).map_err(|e| invalid(e.to_string()))?;
    if value.get("format").is_some() {
        return serde_json::from_value(value)
            .map(Some)
            .map_err(|e| invalid(e.to_string()));
    }
    let state: CheckpointState =
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    Ok(Some(Manifest {
        format: 1,
        step: state.next_step,
        tensors: LEGACY_TENSORS.into(),
        tensors_blake3: String::new(),
        status: RunStatus::Running,
        state,
    }))
}

/// Why the tensor file of `manifest` cannot be trusted, if it cannot.
pub fn check_tensors(dir: &RunDir, manifest: &Manifest) -> Result<Option<String>, StoreError> {
    let path = dir.file(&manifest.tensors);
    if !path.exists() {
        return Ok(Some(format!("{} is missing", path.display())));
    }
    if manifest.format < CHECKPOINT_FORMAT {
        // Older versions renamed the tensors into place before writing the state: tensors
        // newer than the state belong to a later step whose state was never written.
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified());
        let state_path = dir.file(CHECKPOINT_FILE);
        let tensors_time = modified(&path).map_err(StoreError::io("inspect", &path))?;
        let state_time = modified(&state_path).map_err(StoreError::io("inspect", &state_path))?;
        return Ok((tensors_time > state_time).then(|| {
            format!(
                "{} (older format) is newer than {}: the tensors belong to a later step",
                path.display(),
                state_path.display()
            )
        }));
    }
    let found = fsio::blake3_file(&path)?;
    Ok((found != manifest.tensors_blake3).then(|| {
        format!(
            "{} has blake3 {found}, but {} says {}",
            path.display(),
            CHECKPOINT_FILE,
            manifest.tensors_blake3
        )
    }))
}

/// Reads the checkpoint, if the run has a trustworthy one.
pub fn load(dir: &RunDir, device: &Device) -> anyhow::Result<Loaded> {
    let Some(manifest) = manifest(dir)? else {
        return Ok(Loaded::Nothing);
    };
    if let Some(reason) = check_tensors(dir, &manifest)? {
        return Ok(Loaded::Refused { reason });
    }
    let tensors_path = dir.file(&manifest.tensors);
    let mut map = candle_core::safetensors::load(&tensors_path, device)
        .with_context(|| format!("cannot read checkpoint tensors {}", tensors_path.display()))?;
    let parameters = map
        .remove(PARAMETERS)
        .with_context(|| format!("{} has no parameters", tensors_path.display()))?;
    let warm_start = map.remove(WARM_START);
    let mut buffers: Vec<(String, Tensor)> = map
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(BUFFER_PREFIX).map(|k| (k.to_string(), v)))
        .collect();
    buffers.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Loaded::Resumed(Box::new(Checkpoint {
        state: manifest.state,
        status: manifest.status,
        tensors: CheckpointTensors {
            parameters,
            buffers,
            warm_start,
        },
    })))
}
