//! Checkpoints: everything needed to continue a run bit for bit — parameters and BatchNorm
//! statistics (safetensors, in their own dtype, so no rounding), the stepsize rule's state,
//! the direction's moments and update count, the data-order streams, counters, the
//! eigen-solvers' warm-start vectors — and whether the run has ended.
//!
//! One commit point per checkpoint: the tensors are written under a partial name and renamed
//! to `checkpoint-<step>-<blake3>.safetensors` (a new name for new content, so the committed
//! checkpoint is never overwritten), then the manifest `checkpoint.json`, which names the step,
//! the tensor file and its blake3, is renamed into place. Tensor files no manifest names are
//! removed afterwards. [`load`] refuses a tensor file whose blake3 differs from the manifest's
//! and starts over from step 0, saying why.
//!
//! The manifest's `format` ([`CHECKPOINT_FORMAT`]) says how to read it; [`manifest`] reads
//! the current and every earlier format and refuses a later one.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stepsharp_data::BatcherState;
use stepsharp_stepsize::RuleState;

use crate::error::{Context, Result};
use crate::fsio::{self, StoreError};
use crate::status::RunStatus;
use crate::store::{CHECKPOINT_FILE, RunDir};
use crate::train::{Counters, Timers};

/// Format of the manifest written by this version. The formats:
///
/// 1. no manifest: `checkpoint.safetensors` beside a `checkpoint.json` that holds the bare
///    state (no `format` field);
/// 2. the manifest, naming the tensor file and its blake3; the state's counters positional,
///    `counters = [forward passes, backward passes, HVPs]`, and its wall time
///    `seconds = [training, tracking]`;
/// 3. the counters and the wall time named: `counters = {forward_passes, backward_passes,
///    hvps}`, `timers = {train_seconds, tracking_seconds}` ([`Counters`], [`Timers`]).
///
/// [`manifest`] reads formats 1 to this one, mapping the positional fields to the named ones,
/// and refuses any other, naming the file and the formats it reads.
pub const CHECKPOINT_FORMAT: u32 = 3;

/// The first format whose manifest records the blake3 of its tensor file.
const TENSOR_HASH_FORMAT: u32 = 2;

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
    /// Forward passes, backward passes and HVPs so far.
    pub counters: Counters,
    /// Wall time so far: training, tracking.
    pub timers: Timers,
    /// Updates the direction has taken (runs with a `direction` table; left out otherwise,
    /// so that the manifests of gradient-descent runs are as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction_updates: Option<u64>,
}

/// Tensors of a checkpoint.
pub struct CheckpointTensors {
    /// Flat parameters.
    pub parameters: Tensor,
    /// BatchNorm running statistics by name.
    pub buffers: Vec<(String, Tensor)>,
    /// Warm-start eigenvector, if any.
    pub warm_start: Option<Tensor>,
    /// Warm-start eigenvector of the preconditioned sharpness, if any.
    pub preconditioned_warm_start: Option<Tensor>,
    /// The direction's momentum buffer (heavy ball, Nesterov) or first moment (Adam).
    pub momentum: Option<Tensor>,
    /// Adam's second moment.
    pub second_moment: Option<Tensor>,
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

impl Manifest {
    /// Whether it records the blake3 of its tensor file (format 2 on); the tensors of a
    /// format-1 checkpoint are checked by modification time instead ([`check_tensors`]).
    pub fn records_tensor_hash(&self) -> bool {
        self.format >= TENSOR_HASH_FORMAT
    }
}

/// A checkpoint read back.
pub struct Checkpoint {
    /// The scalar state.
    pub state: CheckpointState,
    /// The tensors.
    pub tensors: CheckpointTensors,
    /// The status recorded with it (`Running` for checkpoints of format 1).
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
const PRECONDITIONED_WARM_START: &str = "preconditioned_warm_start";
const MOMENTUM: &str = "direction/momentum";
const SECOND_MOMENT: &str = "direction/second_moment";
const BUFFER_PREFIX: &str = "buffer/";

/// Writes and commits a checkpoint, then removes the tensor files it supersedes.
pub fn save(
    dir: &RunDir,
    state: &CheckpointState,
    tensors: &CheckpointTensors,
    status: &RunStatus,
) -> Result<()> {
    let mut map: HashMap<String, Tensor> = HashMap::new();
    map.insert(PARAMETERS.into(), tensors.parameters.clone());
    for (name, tensor) in [
        (WARM_START, &tensors.warm_start),
        (
            PRECONDITIONED_WARM_START,
            &tensors.preconditioned_warm_start,
        ),
        (MOMENTUM, &tensors.momentum),
        (SECOND_MOMENT, &tensors.second_moment),
    ] {
        if let Some(tensor) = tensor {
            map.insert(name.into(), tensor.clone());
        }
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

/// Reads the committed manifest, if any, in any format up to [`CHECKPOINT_FORMAT`] (see
/// there). A format-1 state is returned with the legacy tensor file name and no hash.
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
    let mut value: Value =
        serde_json::from_str(&fsio::read_text(&path)?).map_err(|e| invalid(e.to_string()))?;
    let format = format_of(&value).map_err(invalid)?;
    if format == 1 {
        name_positional_fields(&mut value).map_err(invalid)?;
        let state: CheckpointState =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        return Ok(Some(Manifest {
            format,
            step: state.next_step,
            tensors: LEGACY_TENSORS.into(),
            tensors_blake3: String::new(),
            status: RunStatus::Running,
            state,
        }));
    }
    if format < CHECKPOINT_FORMAT {
        name_positional_fields(&mut value["state"]).map_err(invalid)?;
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

/// The format of a `checkpoint.json` (1 without a `format` field), if this version reads it.
fn format_of(manifest: &Value) -> Result<u32, String> {
    let Some(field) = manifest.get("format") else {
        return Ok(1);
    };
    match field.as_u64() {
        Some(format) if (2..=u64::from(CHECKPOINT_FORMAT)).contains(&format) => Ok(format as u32),
        _ => Err(format!(
            "it has format {field}, but this version of stepsharp reads formats 1 to \
             {CHECKPOINT_FORMAT} (was it written by a newer version?)"
        )),
    }
}

/// Rewrites a state of formats 1 and 2, whose counters and wall time are positional
/// (`counters = [forward passes, backward passes, HVPs]`, `seconds = [training, tracking]`),
/// into the named layout of [`CHECKPOINT_FORMAT`].
fn name_positional_fields(state: &mut Value) -> Result<(), String> {
    let state = state
        .as_object_mut()
        .ok_or("the checkpoint state is not a JSON object")?;
    let [forward_passes, backward_passes, hvps]: [u64; 3] = take(state, "counters")?;
    let [train_seconds, tracking_seconds]: [f64; 2] = take(state, "seconds")?;
    let counters = Counters {
        forward_passes,
        backward_passes,
        hvps,
    };
    let timers = Timers {
        train_seconds,
        tracking_seconds,
    };
    let named = |e: serde_json::Error| e.to_string();
    state.insert(
        "counters".into(),
        serde_json::to_value(counters).map_err(named)?,
    );
    state.insert(
        "timers".into(),
        serde_json::to_value(timers).map_err(named)?,
    );
    Ok(())
}

/// Removes `key` from `state` and reads it as a `T`.
fn take<T: serde::de::DeserializeOwned>(
    state: &mut Map<String, Value>,
    key: &str,
) -> Result<T, String> {
    let value = state
        .remove(key)
        .ok_or_else(|| format!("the checkpoint state has no `{key}`"))?;
    serde_json::from_value(value).map_err(|e| format!("the checkpoint state's `{key}`: {e}"))
}

/// Why the tensor file of `manifest` cannot be trusted, if it cannot.
pub fn check_tensors(dir: &RunDir, manifest: &Manifest) -> Result<Option<String>, StoreError> {
    let path = dir.file(&manifest.tensors);
    if !path.exists() {
        return Ok(Some(format!("{} is missing", path.display())));
    }
    if !manifest.records_tensor_hash() {
        // Format 1 renamed the tensors into place before writing the state: tensors
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
pub fn load(dir: &RunDir, device: &Device) -> Result<Loaded> {
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
    let preconditioned_warm_start = map.remove(PRECONDITIONED_WARM_START);
    let momentum = map.remove(MOMENTUM);
    let second_moment = map.remove(SECOND_MOMENT);
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
            preconditioned_warm_start,
            momentum,
            second_moment,
        },
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn positional_counters_and_seconds_are_named_in_their_order() {
        let mut state = json!({"next_step": 5, "counters": [11, 7, 3], "seconds": [1.5, 2.5]});
        name_positional_fields(&mut state).unwrap();
        let named = json!({
            "next_step": 5,
            "counters": {"forward_passes": 11, "backward_passes": 7, "hvps": 3},
            "timers": {"train_seconds": 1.5, "tracking_seconds": 2.5},
        });
        assert_eq!(state, named);
    }

    #[test]
    fn a_positional_state_without_its_seconds_is_refused_naming_the_field() {
        let mut state = json!({"counters": [11, 7, 3]});
        let reason = name_positional_fields(&mut state).unwrap_err();
        assert!(reason.contains("`seconds`"), "{reason}");
    }

    #[test]
    fn formats_1_to_the_current_one_are_read_and_no_other() {
        assert_eq!(format_of(&json!({"step": 3})), Ok(1));
        for format in 2..=CHECKPOINT_FORMAT {
            assert_eq!(format_of(&json!({"format": format})), Ok(format));
        }
        for format in [json!(0), json!(1), json!(CHECKPOINT_FORMAT + 1), json!("3")] {
            let reason = format_of(&json!({"format": format})).unwrap_err();
            assert!(reason.contains(&format!("format {format}")), "{reason}");
            assert!(reason.contains("formats 1 to 3"), "{reason}");
        }
    }
}
