//! The training loop: one run of a [`RunConfig`] into `results/<id>/`, reused when complete,
//! resumed from its checkpoint when interrupted.
//!
//! Step `t`: take the batch; compute `f(w_t)` and `g_t` (BatchNorm statistics update here
//! only); stop if the loss is non-finite or above the threshold ("diverged at step t"); on
//! measured steps compute λ_max at `w_t` on the fixed evaluation set and the directional
//! sharpness along `u = −g_t`; let the rule choose `η_t` (line-search trials evaluate
//! `f(w_t + ηu)` on the same or an independent batch); set `w_{t+1} = w_t + η_t·u`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Tensor};
use stepsharp_data::{BatchSize, Batcher, DataSource, Prepared};
use stepsharp_models::{LineLoss, LineOrigin};
use stepsharp_stepsize::{Oracle, StepContext, Stepsize};

use crate::checkpoint::{self, CheckpointState, CheckpointTensors, Loaded};
use crate::density::{DensityLine, density_csv, density_lines, read_density};
use crate::fsio::{self, StoreError, write_atomic};
use crate::interrupt::{Interrupt, Interrupted};
use crate::lock::{LockKind, LockWait, RunLock};
use crate::problem::{Examples, Gradient, NetworkProblem, Problem, RunningStatistics};
use crate::provenance::{Machine, host_name};
use crate::store::{
    CHECKPOINT_FILE, CONFIG_FILE, DENSITY_FILE, Metadata, RunDir, TRAJECTORY_FILE, unix_now,
};
use crate::tracking::{Due, SharpnessReading, Tracking, curvature_along};
use crate::trajectory::{Row, read_trajectory, trajectory_csv};
use crate::{DeviceKind, LineSearchBatch, ModelSpec, RunConfig, RunStatus, faults, run_hash};

/// The candle release every result is computed with (pinned in the workspace manifest).
pub const CANDLE_VERSION: &str = "0.11.1";

/// The revision this crate was built from (`build.rs`): a commit id, `-dirty` when code
/// files differed from it, or `unknown` outside a git checkout.
pub const CODE_REVISION: &str = env!("STEPSHARP_REVISION");

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Folder holding one sub-folder per run. Default: `results`.
    pub results: PathBuf,
    /// CIFAR-10 folder given explicitly (else `STEPSHARP_DATA`, the cache, …).
    pub data_dir: Option<PathBuf>,
    /// Rerun even if a completed run with the same hash exists.
    pub force: bool,
    /// Stop (as if interrupted, after writing a checkpoint) once this many steps were taken
    /// in this invocation. For tests and demonstrations of resume.
    pub stop_after: Option<usize>,
    /// Run every config on this device instead of its own (this changes run hashes).
    pub device: Option<DeviceKind>,
    /// Never compute: fail unless a completed run exists (used to re-plot from cache).
    pub reuse_only: bool,
    /// What to do when another process holds a run's lock. Default: refuse at once.
    pub lock_wait: LockWait,
    /// Checked after every step: when requested, the run writes a checkpoint and stops with
    /// [`Interrupted`]. Default: never requested.
    pub interrupt: Interrupt,
}

impl RunOptions {
    /// `config` with the options' overrides applied.
    pub fn resolve(&self, config: &RunConfig) -> RunConfig {
        let mut config = config.clone();
        if let Some(device) = self.device {
            config.device = device;
        }
        config
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            results: PathBuf::from("results"),
            data_dir: None,
            force: false,
            stop_after: None,
            device: None,
            reuse_only: false,
            lock_wait: LockWait::Refuse,
            interrupt: Interrupt::default(),
        }
    }
}

/// What the loop reports after each step.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// Run id.
    pub run_id: &'a str,
    /// Steps done.
    pub step: usize,
    /// Total steps.
    pub max_steps: usize,
    /// Latest loss.
    pub loss: f64,
    /// Latest stepsize.
    pub eta: f64,
    /// Latest λ_max, if measured yet.
    pub lambda_max: Option<f64>,
}

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
pub fn prepare_data(config: &RunConfig, options: &RunOptions) -> anyhow::Result<Option<Prepared>> {
    if matches!(config.model, ModelSpec::Quadratic(_)) {
        return Ok(None);
    }
    let source: DataSource = stepsharp_data::locate(options.data_dir.as_deref())?;
    let device = config.device.open()?;
    let with_test = config.training.test != crate::Schedule::Never;
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

/// Runs `config` (or reuses / resumes it) and returns its trajectory.
///
/// Everything is validated before the run folder is created. The run's lock is held while it
/// is written (shared while a final run is read), so two processes never write one run.
pub fn execute(
    config: &RunConfig,
    options: &RunOptions,
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<RunOutcome> {
    let config = &options.resolve(config);
    config.validate()?;
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
    anyhow::ensure!(
        !options.reuse_only,
        "run {} has not completed (status: {}); run `cargo xtask reproduce` first",
        dir.id(),
        dir.metadata()?
            .as_ref()
            .map_or("missing".into(), |m| m.status.describe())
    );
    let lock = RunLock::acquire(&dir, LockKind::Exclusive, options.lock_wait)?;
    let existing = dir.metadata()?;
    if options.force {
        if dir.path.exists() {
            std::fs::remove_dir_all(&dir.path)
                .map_err(StoreError::io("clear the run folder (--force)", &dir.path))?;
        }
    } else if let Some(metadata) = existing.as_ref().filter(|m| m.status.is_final()) {
        // Completed by the process whose lock this one waited for.
        return reused(dir, metadata.status.clone());
    }
    fsio::create_dir(&dir.path)?;
    fsio::remove_partials(&dir.path)?;
    let text = toml::to_string(config).context("serializing the resolved config")?;
    write_atomic(&dir.file(CONFIG_FILE), text.as_bytes())?;
    let mut metadata = match existing.filter(|_| !options.force) {
        Some(mut m) => {
            m.resumes += 1;
            m.machines.push(Machine::current());
            m
        }
        None => new_metadata(config, &dir, data.as_ref()),
    };
    dir.write_metadata(&metadata)?;
    let mut run = Run::new(config, data, &dir)?;
    let status = run.train(options, progress)?;
    if status.is_final() {
        metadata.ended_unix = Some(unix_now());
        metadata.trajectory_blake3 = Some(fsio::blake3_file(&dir.file(TRAJECTORY_FILE))?);
        metadata.checkpoint_blake3 = Some(fsio::blake3_file(&dir.file(CHECKPOINT_FILE))?);
        if config.sharpness.density.is_some() {
            metadata.density_blake3 = Some(fsio::blake3_file(&dir.file(DENSITY_FILE))?);
        }
    }
    metadata.status = status.clone();
    dir.write_metadata(&metadata)?;
    drop(lock);
    Ok(RunOutcome {
        rows: run.rows,
        status,
        dir,
        reused: false,
    })
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

/// Finds the run of `config` under the results folder without computing anything: its folder
/// and, if it has ended, its outcome. A run in progress or never started has no outcome.
pub fn lookup(config: &RunConfig, options: &RunOptions) -> anyhow::Result<Lookup> {
    let config = options.resolve(config);
    config.validate()?;
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
fn ended(dir: &RunDir, wait: LockWait) -> anyhow::Result<Option<RunOutcome>> {
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
fn reused(dir: RunDir, status: RunStatus) -> anyhow::Result<RunOutcome> {
    Ok(RunOutcome {
        rows: read_trajectory(&dir.file(TRAJECTORY_FILE))?,
        status,
        dir,
        reused: true,
    })
}

fn new_metadata(config: &RunConfig, dir: &RunDir, data: Option<&Prepared>) -> Metadata {
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

/// The state of a run in progress.
struct Run<'a> {
    config: &'a RunConfig,
    dir: &'a RunDir,
    problem: Problem,
    data: Option<Prepared>,
    eval: Examples,
    rule: Stepsize,
    batcher: Option<Batcher>,
    line_search_batcher: Option<Batcher>,
    tracking: Tracking,
    rows: Vec<Row>,
    /// The lines of `density.csv` so far (runs with `sharpness.density`).
    densities: Vec<DensityLine>,
    next_step: usize,
    counters: [u64; 3],
    seconds: [f64; 2],
    /// The final status recorded by the checkpoint resumed from, if the run had ended.
    ended: Option<RunStatus>,
}

impl<'a> Run<'a> {
    fn new(config: &'a RunConfig, data: Option<Prepared>, dir: &'a RunDir) -> anyhow::Result<Self> {
        let device = config.device.open()?;
        let problem = Problem::new(config, &device)?;
        let (eval, batcher, line_search_batcher) = match &data {
            Some(prepared) => {
                let train = &prepared.train;
                let eval_n = config.sharpness.eval_examples.min(train.len());
                let eval = Examples::all(&train.head(eval_n)?);
                let training = &config.training;
                let mini_batch = training.batch_size != BatchSize::Full;
                let independent = training.line_search_batch == LineSearchBatch::Independent;
                let n = train.len();
                (
                    eval,
                    if mini_batch {
                        Some(make_batcher(config, n, TRAIN_STREAM, None)?)
                    } else {
                        None
                    },
                    if mini_batch && independent {
                        Some(make_batcher(config, n, LINE_SEARCH_STREAM, None)?)
                    } else {
                        None
                    },
                )
            }
            None => (Examples::none(&device)?, None, None),
        };
        let mut run = Self {
            rule: Stepsize::new(config.stepsize.clone())?,
            tracking: Tracking::new(config)?,
            config,
            dir,
            problem,
            data,
            eval,
            batcher,
            line_search_batcher,
            rows: Vec::new(),
            densities: Vec::new(),
            next_step: 0,
            counters: [0; 3],
            seconds: [0.0; 2],
            ended: None,
        };
        run.resume(&device)?;
        Ok(run)
    }

    /// Restores the last checkpoint, if any, and the trajectory rows it covers.
    fn resume(&mut self, device: &candle_core::Device) -> anyhow::Result<()> {
        let checkpoint = match checkpoint::load(self.dir, device)? {
            Loaded::Nothing => return Ok(()),
            Loaded::Refused { reason } => {
                eprintln!(
                    "warning: run {}: not resuming from its checkpoint ({reason}); starting \
                     again from step 0",
                    self.dir.id()
                );
                return Ok(());
            }
            Loaded::Resumed(checkpoint) => *checkpoint,
        };
        let (state, tensors) = (checkpoint.state, checkpoint.tensors);
        self.ended = Some(checkpoint.status).filter(RunStatus::is_final);
        self.problem.set_flat_parameters(&tensors.parameters)?;
        self.problem.set_buffers(&tensors.buffers)?;
        self.tracking.set_warm_start(tensors.warm_start);
        self.rule.restore(state.rule)?;
        if let Some(data) = &self.data {
            let n = data.train.len();
            if let Some(saved) = state.batcher {
                self.batcher = Some(make_batcher(self.config, n, TRAIN_STREAM, Some(saved))?);
            }
            if let Some(saved) = state.line_search_batcher {
                self.line_search_batcher = Some(make_batcher(
                    self.config,
                    n,
                    LINE_SEARCH_STREAM,
                    Some(saved),
                )?);
            }
        }
        let mut rows = read_trajectory(&self.dir.file(TRAJECTORY_FILE))?;
        anyhow::ensure!(
            rows.len() >= state.rows,
            "{} has {} rows but its checkpoint needs {}",
            self.dir.file(TRAJECTORY_FILE).display(),
            rows.len(),
            state.rows
        );
        rows.truncate(state.rows);
        self.rows = rows;
        if self.config.sharpness.density.is_some() && self.dir.file(DENSITY_FILE).exists() {
            let mut densities = read_density(&self.dir.file(DENSITY_FILE))?;
            densities.retain(|line| line.step < state.next_step);
            self.densities = densities;
        }
        self.next_step = state.next_step;
        self.counters = state.counters;
        self.seconds = state.seconds;
        Ok(())
    }

    /// Writes the trajectory, then commits a checkpoint recording `status`.
    fn save(&self, status: &RunStatus) -> anyhow::Result<()> {
        write_atomic(
            &self.dir.file(TRAJECTORY_FILE),
            &trajectory_csv(&self.rows)?,
        )?;
        if self.config.sharpness.density.is_some() {
            write_atomic(&self.dir.file(DENSITY_FILE), &density_csv(&self.densities)?)?;
        }
        let state = CheckpointState {
            next_step: self.next_step,
            rows: self.rows.len(),
            rule: self.rule.state(),
            batcher: self.batcher.as_ref().map(Batcher::state),
            line_search_batcher: self.line_search_batcher.as_ref().map(Batcher::state),
            counters: self.counters,
            seconds: self.seconds,
        };
        let tensors = CheckpointTensors {
            parameters: self.problem.flat_parameters()?,
            buffers: self.problem.buffers()?,
            warm_start: self.tracking.warm_start().cloned(),
        };
        checkpoint::save(self.dir, &state, &tensors, status)
    }

    fn train(
        &mut self,
        options: &RunOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> anyhow::Result<RunStatus> {
        if let Some(status) = self.ended.take() {
            return Ok(status);
        }
        let max_steps = self.config.training.max_steps;
        let mut taken = 0;
        let mut status = RunStatus::Completed { steps: max_steps };
        while self.next_step < max_steps {
            if options.stop_after.is_some_and(|limit| taken >= limit) {
                self.save(&RunStatus::Running)?;
                return Ok(RunStatus::Running);
            }
            if options.interrupt.is_requested() {
                self.save(&RunStatus::Running)?;
                return Err(Interrupted {
                    run_id: self.dir.id().to_string(),
                    steps_done: self.next_step,
                }
                .into());
            }
            let row = self.step()?;
            let (loss, step) = (row.loss, row.step);
            let diverged = !loss.is_finite() || loss > self.config.training.divergence_threshold;
            let reached_goal = self
                .config
                .training
                .loss_goal
                .is_some_and(|goal| loss <= goal);
            progress(&Progress {
                run_id: self.dir.id(),
                step: step + 1,
                max_steps,
                loss,
                eta: row.eta,
                lambda_max: row
                    .lambda_max
                    .or_else(|| self.rows.iter().rev().find_map(|r| r.lambda_max)),
            });
            self.rows.push(row);
            self.next_step += 1;
            taken += 1;
            faults::step_recorded(step);
            if diverged {
                status = RunStatus::Diverged { step, loss };
                break;
            }
            if reached_goal {
                status = RunStatus::Completed { steps: step + 1 };
                break;
            }
            if self
                .next_step
                .is_multiple_of(self.config.training.checkpoint_every)
            {
                self.save(&RunStatus::Running)?;
            }
        }
        self.save(&status)?;
        Ok(status)
    }

    /// One step; returns its row (with `eta` NaN when the loss already diverged).
    fn step(&mut self) -> anyhow::Result<Row> {
        let t = self.next_step;
        let started = Instant::now();
        let (batch, epoch) = self.next_batch(false)?;
        let w0 = self.problem.flat_parameters()?;
        let measured =
            self.problem
                .measure(&batch, Gradient::Compute, RunningStatistics::Update)?;
        self.counters[0] += measured.forward_passes;
        self.counters[1] += measured.forward_passes;
        let line_origin = measured.line_origin;
        let gradient = measured.gradient.context("gradient missing")?;
        let grad_norm_sq = to_f64(&gradient.sqr()?.sum_all()?)?;
        let mut row = Row {
            step: t,
            epoch,
            loss: measured.loss,
            accuracy: measured.accuracy,
            eta: f64::NAN,
            trials: 0,
            grad_norm: grad_norm_sq.sqrt(),
            ..Row::default()
        };
        let diverged =
            !measured.loss.is_finite() || measured.loss > self.config.training.divergence_threshold;
        if diverged {
            self.finish_row(&mut row);
            return Ok(row);
        }
        let direction = gradient.neg()?;
        self.seconds[0] += started.elapsed().as_secs_f64();

        let tracking = Instant::now();
        let max_steps = self.config.training.max_steps;
        let due = Due::at(&self.config.sharpness, t, max_steps);
        let reading = if due.any() {
            let reading =
                self.tracking
                    .measure(&self.problem, &self.eval, &direction, t as u64, due)?;
            self.counters[0] += reading.forward_passes;
            self.counters[1] += reading.backward_passes;
            self.counters[2] += reading.hvps;
            Some(reading)
        } else {
            None
        };
        if self.config.training.test.fires(t, max_steps)
            && let Some(test) = self.data.as_ref().and_then(|d| d.test.as_ref())
        {
            let (loss, accuracy) = self.problem.test(&Examples::all(test))?;
            self.counters[0] += test.len().div_ceil(self.config.training.chunk_size) as u64;
            row.test_loss = Some(loss);
            row.test_accuracy = Some(accuracy);
        }
        self.seconds[1] += tracking.elapsed().as_secs_f64();

        let stepping = Instant::now();
        let trial_batch = match self.line_search_batcher {
            Some(_) => Some(self.next_batch(true)?.0),
            None => None,
        };
        let context = StepContext {
            loss: measured.loss,
            slope: -grad_norm_sq,
            grad_norm_sq,
        };
        // Trials on the step's own batch reuse its gradient evaluation (an MLP's first layer).
        let trials = match (&trial_batch, &line_origin, &self.problem) {
            (None, Some(origin), Problem::Network(network)) => Trials::Line {
                network,
                origin,
                line: None,
            },
            _ => Trials::Forward(trial_batch.as_ref().unwrap_or(&batch)),
        };
        let mut oracle = ParameterOracle {
            problem: &self.problem,
            w0: &w0,
            direction: &direction,
            trials,
            curvature_batch: &batch,
            moved: false,
            forward_passes: 0,
            hvps: 0,
            error: None,
        };
        let record = self.rule.step(&context, &mut oracle);
        let (forward_passes, hvps, oracle_error) =
            (oracle.forward_passes, oracle.hvps, oracle.error.take());
        if let Some(error) = oracle_error {
            return Err(error.context(format!("evaluating the stepsize oracle at step {t}")));
        }
        let record = record.with_context(|| format!("stepsize rule failed at step {t}"))?;
        self.counters[0] += forward_passes;
        self.counters[1] += hvps;
        self.counters[2] += hvps;
        let w_next = (&w0 + (&direction * record.eta)?)?;
        self.problem.set_flat_parameters(&w_next)?;
        self.seconds[0] += stepping.elapsed().as_secs_f64();

        row.eta = record.eta;
        row.trials = record.trials;
        row.failed = record.failed;
        row.diagnostics = serde_json::to_string(&record.diagnostics)?;
        if let Some(reading) = reading {
            self.record_reading(&mut row, reading);
        }
        self.finish_row(&mut row);
        Ok(row)
    }

    /// Writes the estimates of step `row.step` into its row (and the density's lines).
    fn record_reading(&mut self, row: &mut Row, reading: SharpnessReading) {
        row.eval_loss = Some(reading.eval_loss);
        if let Some(spectrum) = reading.spectrum {
            let lambda = spectrum.top_k[0];
            row.lambda_max = Some(lambda);
            row.top_k = Some(
                spectrum
                    .top_k
                    .iter()
                    .map(|v| format!("{v:e}"))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            row.residual = Some(spectrum.residual);
            row.converged = Some(spectrum.converged);
            row.eta_lambda = Some(row.eta * lambda);
            row.directional = Some(spectrum.directional);
            row.lambda_hvps = Some(spectrum.hvps);
        }
        if let Some(trace) = reading.trace {
            row.trace = Some(trace.value);
            row.trace_standard_error = Some(trace.standard_error);
            row.trace_hvps = Some(trace.hvps as u64);
        }
        if let Some(density) = reading.density {
            row.density_hvps = Some(density.hvps as u64);
            self.densities.extend(density_lines(row.step, &density));
        }
    }

    fn finish_row(&self, row: &mut Row) {
        [row.forward_passes, row.backward_passes, row.hvps] = self.counters;
        [row.train_seconds, row.tracking_seconds] = self.seconds;
    }

    /// The next training batch (or line-search batch with `line_search`) and its epoch.
    fn next_batch(&mut self, line_search: bool) -> anyhow::Result<(Examples, u64)> {
        let batcher = if line_search {
            &mut self.line_search_batcher
        } else {
            &mut self.batcher
        };
        match (&self.data, batcher.as_mut()) {
            (Some(data), Some(batcher)) => {
                let batch = batcher.next_batch();
                Ok((Examples::select(&data.train, &batch.indices)?, batch.epoch))
            }
            (Some(data), None) => Ok((Examples::all(&data.train), 0)),
            (None, _) => Ok((self.eval.clone(), 0)),
        }
    }
}

const TRAIN_STREAM: &str = "train";
const LINE_SEARCH_STREAM: &str = "line-search";

/// The mini-batch stream `stream` over `n` examples, seeded from the run's data-order seed,
/// continued from `saved` when resuming.
fn make_batcher(
    config: &RunConfig,
    n: usize,
    stream: &str,
    saved: Option<stepsharp_data::BatcherState>,
) -> anyhow::Result<Batcher> {
    let training = &config.training;
    let seed = stepsharp_data::derive_seed(config.seeds.data_order, stream);
    Ok(match saved {
        Some(state) => {
            Batcher::from_state(n, training.batch_size, training.drop_last, seed, state)?
        }
        None => Batcher::new(n, training.batch_size, training.drop_last, seed)?,
    })
}

fn to_f64(scalar: &Tensor) -> anyhow::Result<f64> {
    Ok(scalar.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// How [`ParameterOracle`] evaluates `φ(η)`.
enum Trials<'a> {
    /// On the step's batch, along the [`LineLoss`] built (on the first trial) from the gradient
    /// evaluation's origin: the parameters do not move.
    Line {
        network: &'a NetworkProblem,
        origin: &'a LineOrigin,
        line: Option<LineLoss>,
    },
    /// Moving the parameters to `w_t + ηu` and running a forward pass on these examples.
    Forward(&'a Examples),
}

/// The stepsize oracles over the model's parameters: `φ(η) = f(w_t + ηu)` on the trial batch
/// (BatchNorm without statistics update) and `uᵀHu` by one exact HVP on the step's batch.
/// Errors are kept and reported after the rule returns (the rule sees NaN). Every trial
/// counts as one forward pass per chunk, also along a [`LineLoss`], where it costs a fraction
/// of one.
struct ParameterOracle<'a> {
    problem: &'a Problem,
    w0: &'a Tensor,
    direction: &'a Tensor,
    trials: Trials<'a>,
    curvature_batch: &'a Examples,
    moved: bool,
    forward_passes: u64,
    hvps: u64,
    error: Option<anyhow::Error>,
}

impl ParameterOracle<'_> {
    fn try_loss_at(&mut self, eta: f64) -> anyhow::Result<f64> {
        match &mut self.trials {
            Trials::Line {
                network,
                origin,
                line,
            } => {
                if line.is_none() {
                    *line = Some(network.line_loss(origin, self.direction)?);
                }
                let line = line.as_ref().expect("built above");
                self.forward_passes += self.problem.chunk_count(self.curvature_batch) as u64;
                Ok(line.loss_at(eta)?)
            }
            Trials::Forward(batch) => {
                let trial = (self.w0 + (self.direction * eta)?)?;
                self.problem.set_flat_parameters(&trial)?;
                self.moved = true;
                let measured =
                    self.problem
                        .measure(batch, Gradient::Skip, RunningStatistics::Keep)?;
                self.forward_passes += measured.forward_passes;
                Ok(measured.loss)
            }
        }
    }

    fn try_curvature(&mut self) -> anyhow::Result<f64> {
        if self.moved {
            self.problem.set_flat_parameters(self.w0)?;
            self.moved = false;
        }
        self.hvps += 1;
        curvature_along(self.problem, self.curvature_batch, self.direction)
    }
}

impl Oracle for ParameterOracle<'_> {
    fn loss_at(&mut self, eta: f64) -> f64 {
        self.try_loss_at(eta).unwrap_or_else(|error| {
            self.error.get_or_insert(error);
            f64::NAN
        })
    }

    fn curvature(&mut self) -> f64 {
        self.try_curvature().unwrap_or_else(|error| {
            self.error.get_or_insert(error);
            f64::NAN
        })
    }
}
