//! Executing a run ([`execute`]: reuse it when it has ended, else resume or start it under its
//! lock) and looking one up without computing ([`lookup`]); the data and the hash that name
//! its folder.

use stepsharp_data::{DataSource, Prepared};

use super::RunOptions;
use super::metadata::{new_metadata, record_status, resumed};
use super::run::{Progress, Run};
use crate::config::{ModelSpec, Periodic, RunConfig, ValidRunConfig};
use crate::error::{Context, Result, ensure};
use crate::fsio::{self, StoreError, write_atomic};
use crate::hash::run_hash;
use crate::lock::{LockKind, LockWait, RunLock};
use crate::status::RunStatus;
use crate::store::{CONFIG_FILE, Metadata, RunDir, TRAJECTORY_FILE};
use crate::trajectory::{Row, read_trajectory};

/// The result of [`execute`].
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub dir: RunDir,
    /// Final status (or `Running` when stopped by `stop_after`).
    pub status: RunStatus,
    /// The whole trajectory.
    pub rows: Vec<Row>,
    /// Whether a completed run was reused without computing.
    pub reused: bool,
}

/// The data a network run trains on, and its fingerprint; a quadratic has none.
pub fn prepare_data(config: &RunConfig, options: &RunOptions) -> Result<Option<Prepared>> {
    if matches!(config.model, ModelSpec::Quadratic(_)) {
        return Ok(None);
    }
    let source: DataSource = stepsharp_data::locate(options.data_dir.as_deref())?;
    let device = config.device.open()?;
    let with_test = config.training.test != Periodic::Never;
    let prepared = stepsharp_data::load(
        &source,
        &config.data,
        with_test,
        config.dtype.dtype(),
        &device,
    )
    .with_context(|| format!("loading CIFAR-10 from {}", source.dir.display()))?;
    Ok(Some(prepared))
}

/// The run hash of `config` with its data.
pub fn hash_of(config: &RunConfig, data: Option<&Prepared>) -> String {
    run_hash(config, data.map_or("no data", |d| d.fingerprint.as_str()))
}

/// Validates `config` ([`ValidRunConfig::new`]) and runs it with [`execute_valid`].
pub fn execute(
    config: &RunConfig,
    options: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RunOutcome> {
    execute_valid(&ValidRunConfig::new(config.clone())?, options, progress)
}

/// Runs `config` (or reuses / resumes it) and returns its trajectory.
///
/// Everything is checked before the run folder is created (the config by its type, the batch
/// size against the data here). The run's lock is held while it is written (shared while a
/// final run is read), so two processes never write one run.
pub fn execute_valid(
    config: &ValidRunConfig,
    options: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RunOutcome> {
    let config = &options.resolve(config);
    stepsharp_sharpness::ensure_exact_second_derivatives()
        .context("exact Hessian-vector products are unavailable")?;
    let data = prepare_data(config, options)?;
    if let Some(prepared) = &data {
        config.check_batch_fits(prepared.train.len())?;
    }
    let dir = RunDir::new(&options.results, &hash_of(config, data.as_ref()));
    if !options.force
        && let Some(outcome) = ended(&dir, options.lock_wait)?
    {
        return Ok(outcome);
    }
    ensure!(
        !options.reuse_only,
        "run {} has not completed (status: {}); run `cargo xtask reproduce` first",
        dir.id(),
        dir.metadata()?
            .as_ref()
            .map_or("missing".into(), |m| m.status.describe())
    );
    let lock = RunLock::acquire(&dir, LockKind::Exclusive, options.lock_wait)?;
    let existing = dir.metadata()?;
    if !options.force
        && let Some(metadata) = existing.as_ref().filter(|m| m.status.is_final())
    {
        // Completed by the process whose lock this one waited for.
        return reused(dir, metadata.status.clone());
    }
    let mut metadata = open_folder(config, options, &dir, data.as_ref(), existing)?;
    let mut run = Run::new(config, data, &dir)?;
    let status = run.train(options, progress)?;
    record_status(&mut metadata, &status, config, &dir)?;
    dir.write_metadata(&metadata)?;
    drop(lock);
    Ok(RunOutcome {
        rows: run.into_rows(),
        status,
        dir,
        reused: false,
    })
}

/// Makes `dir` ready to write a run that has not ended (its lock held): cleared first with
/// `--force`, partial files removed, the resolved config and the metadata written. Returns
/// the metadata: `existing` resumed, or new.
fn open_folder(
    config: &RunConfig,
    options: &RunOptions,
    dir: &RunDir,
    data: Option<&Prepared>,
    existing: Option<Metadata>,
) -> Result<Metadata> {
    if options.force && dir.path.exists() {
        std::fs::remove_dir_all(&dir.path)
            .map_err(StoreError::io("clear the run folder (--force)", &dir.path))?;
    }
    fsio::create_dir(&dir.path)?;
    fsio::remove_partials(&dir.path)?;
    let text = toml::to_string(config).context("serializing the resolved config")?;
    write_atomic(&dir.file(CONFIG_FILE), text.as_bytes())?;
    let metadata = match existing.filter(|_| !options.force) {
        Some(metadata) => resumed(metadata),
        None => new_metadata(config, dir, data),
    };
    dir.write_metadata(&metadata)?;
    Ok(metadata)
}

/// A run looked up without computing ([`lookup`]).
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The config with the options' overrides applied (what a run of it would compute).
    pub config: RunConfig,
    /// Its folder.
    pub dir: RunDir,
    /// Its outcome, if the run has ended (completed or diverged).
    pub outcome: Option<RunOutcome>,
}

/// Validates `config` ([`ValidRunConfig::new`]) and looks it up with [`lookup_valid`].
pub fn lookup(config: &RunConfig, options: &RunOptions) -> Result<Lookup> {
    lookup_valid(&ValidRunConfig::new(config.clone())?, options)
}

/// Finds the run of `config` under the results folder without computing anything: its folder
/// and, if it has ended, its outcome. A run in progress or never started has no outcome.
pub fn lookup_valid(config: &ValidRunConfig, options: &RunOptions) -> Result<Lookup> {
    let config = options.resolve(config).into_config();
    let data = prepare_data(&config, options)?;
    let dir = RunDir::new(&options.results, &hash_of(&config, data.as_ref()));
    let outcome = ended(&dir, options.lock_wait)?;
    Ok(Lookup {
        config,
        dir,
        outcome,
    })
}

/// The outcome of the run in `dir` if it has ended, read with its shared lock held.
fn ended(dir: &RunDir, wait: LockWait) -> Result<Option<RunOutcome>> {
    if !dir.metadata()?.is_some_and(|m| m.status.is_final()) {
        return Ok(None);
    }
    let _shared = RunLock::acquire(dir, LockKind::Shared, wait)?;
    // Read again under the lock: a `--force` rerun may have cleared it meanwhile.
    match dir.metadata()?.filter(|m| m.status.is_final()) {
        Some(metadata) => reused(dir.clone(), metadata.status).map(Some),
        None => Ok(None),
    }
}

/// The outcome of the run in `dir`, which ended with `status` (read with its lock held).
fn reused(dir: RunDir, status: RunStatus) -> Result<RunOutcome> {
    Ok(RunOutcome {
        rows: read_trajectory(&dir.file(TRAJECTORY_FILE))?,
        status,
        dir,
        reused: true,
    })
}
