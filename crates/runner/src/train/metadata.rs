//! What a run's `metadata.json` records about how it was computed: the code revision, the
//! candle release, the machines it ran on, and, once it has ended, the blake3 of its files.

use stepsharp_data::Prepared;

use crate::config::RunConfig;
use crate::error::Result;
use crate::fsio;
use crate::provenance::{Machine, host_name};
use crate::status::RunStatus;
use crate::store::{CHECKPOINT_FILE, DENSITY_FILE, Metadata, RunDir, TRAJECTORY_FILE, unix_now};

/// The candle release every result is computed with: the version of `candle-core` that
/// `build.rs` reads from the lockfile the crate is built with (the workspace's `Cargo.lock`)
/// or, without one, from the exact `=x.y.z` requirement of the crate's own manifest.
///
/// ```
/// let parts: Vec<&str> = stepsharp_runner::train::CANDLE_VERSION.split('.').collect();
/// assert_eq!(parts.len(), 3);
/// assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()));
/// ```
pub const CANDLE_VERSION: &str = env!("STEPSHARP_CANDLE_VERSION");

/// The revision this crate was built from (`build.rs`): a commit id, `-dirty` when code
/// files differed from it, or `unknown` outside a git checkout.
pub const CODE_REVISION: &str = env!("STEPSHARP_REVISION");

/// The metadata of a run started now in `dir`, on `data` (none for a quadratic).
pub(super) fn new_metadata(config: &RunConfig, dir: &RunDir, data: Option<&Prepared>) -> Metadata {
    Metadata {
        hash: dir.hash.clone(),
        data_fingerprint: data.map_or("no data".into(), |d| d.fingerprint.clone()),
        data_summary: data.map_or("quadratic objective (no data)".into(), |d| {
            d.summary.clone()
        }),
        code_revision: CODE_REVISION.into(),
        stepsharp_version: env!("CARGO_PKG_VERSION").into(),
        candle_version: CANDLE_VERSION.into(),
        host: host_name(),
        threads: candle_core::utils::get_num_threads(),
        dtype: format!("{:?}", config.dtype).to_lowercase(),
        device: format!("{:?}", config.device).to_lowercase(),
        started_unix: unix_now(),
        ended_unix: None,
        resumes: 0,
        status: RunStatus::Running,
        trajectory_blake3: None,
        checkpoint_blake3: None,
        machines: vec![Machine::current()],
        density_blake3: None,
    }
}

/// `metadata` of a run resumed now, on this machine.
pub(super) fn resumed(mut metadata: Metadata) -> Metadata {
    metadata.resumes += 1;
    metadata.machines.push(Machine::current());
    metadata
}

/// Records `status`; when it is final, also the end time and the blake3 of the trajectory,
/// the final checkpoint and (runs with `sharpness.density`) the density file.
pub(super) fn record_status(
    metadata: &mut Metadata,
    status: &RunStatus,
    config: &RunConfig,
    dir: &RunDir,
) -> Result<()> {
    if status.is_final() {
        metadata.ended_unix = Some(unix_now());
        metadata.trajectory_blake3 = Some(fsio::blake3_file(&dir.file(TRAJECTORY_FILE))?);
        metadata.checkpoint_blake3 = Some(fsio::blake3_file(&dir.file(CHECKPOINT_FILE))?);
        if config.sharpness.density.is_some() {
            metadata.density_blake3 = Some(fsio::blake3_file(&dir.file(DENSITY_FILE))?);
        }
    }
    metadata.status = status.clone();
    Ok(())
}
