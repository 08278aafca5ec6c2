//! Checkpoints: everything needed to continue a run bit for bit — parameters and BatchNorm
//! statistics (safetensors, in their own dtype, so no rounding), the stepsize rule's state,
//! the data-order streams, counters, and the eigen-solver's warm-start vector.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use stepsharp_data::BatcherState;
use stepsharp_stepsize::RuleState;

use crate::store::{CHECKPOINT_FILE, CHECKPOINT_TENSORS, RunDir, write_atomic};

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

const PARAMETERS: &str = "parameters";
const WARM_START: &str = "warm_start";
const BUFFER_PREFIX: &str = "buffer/";

/// Writes the checkpoint: tensors first, then the state file that makes it valid.
pub fn save(
    dir: &RunDir,
    state: &CheckpointState,
    tensors: &CheckpointTensors,
) -> anyhow::Result<()> {
    let mut map: HashMap<String, Tensor> = HashMap::new();
    map.insert(PARAMETERS.into(), tensors.parameters.clone());
    if let Some(v) = &tensors.warm_start {
        map.insert(WARM_START.into(), v.clone());
    }
    for (name, tensor) in &tensors.buffers {
        map.insert(format!("{BUFFER_PREFIX}{name}"), tensor.clone());
    }
    let tmp = dir.file(&format!("{CHECKPOINT_TENSORS}.tmp"));
    candle_core::safetensors::save(&map, &tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.file(CHECKPOINT_TENSORS))?;
    write_atomic(
        &dir.file(CHECKPOINT_FILE),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )
}

/// Reads the checkpoint, if the run has one.
pub fn load(
    dir: &RunDir,
    device: &Device,
) -> anyhow::Result<Option<(CheckpointState, CheckpointTensors)>> {
    let state_path = dir.file(CHECKPOINT_FILE);
    if !state_path.exists() {
        return Ok(None);
    }
    let state: CheckpointState = serde_json::from_str(&std::fs::read_to_string(&state_path)?)
        .with_context(|| format!("{} is not a valid checkpoint", state_path.display()))?;
    let tensors_path = dir.file(CHECKPOINT_TENSORS);
    let mut map = load_tensors(&tensors_path, device)?;
    let parameters = map
        .remove(PARAMETERS)
        .with_context(|| format!("{} has no parameters", tensors_path.display()))?;
    let warm_start = map.remove(WARM_START);
    let mut buffers: Vec<(String, Tensor)> = map
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(BUFFER_PREFIX).map(|k| (k.to_string(), v)))
        .collect();
    buffers.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some((
        state,
        CheckpointTensors {
            parameters,
            buffers,
            warm_start,
        },
    )))
}

fn load_tensors(path: &Path, device: &Device) -> anyhow::Result<HashMap<String, Tensor>> {
    candle_core::safetensors::load(path, device)
        .with_context(|| format!("cannot read checkpoint tensors {}", path.display()))
}
