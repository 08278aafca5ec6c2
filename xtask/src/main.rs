//! `cargo xtask`: the stepsharp harness.
//!
//! ```text
//! cargo xtask reproduce figure3            # run what is missing, plot, write claims.md
//! cargo xtask reproduce figure3 --executor local --jobs 2  # two runs at once
//! cargo xtask reproduce figure3 --executor slurm           # a job array, then a plot job
//! cargo xtask run experiments/figure3.toml # run every run of a figure (or one run config)
//! cargo xtask plot figure3                 # re-plot from cached runs only
//! cargo xtask list                         # experiments and cached runs with status
//! cargo xtask verify                       # re-hash every cached run and check its files
//! cargo xtask bench --jax .venv/bin/python  # step, HVP and Lanczos costs, side by side with JAX
//! cargo xtask gpu-check --out DIR          # CPU against CUDA, and timings (--features cuda)
//! ```

mod bench;
mod fixture;
mod flags;
mod gpu_check;
mod list;
mod local;
mod progress;
mod reproduce;
mod run;
mod slurm;
mod verify;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use flags::{DeviceArg, PrecisionArg, ScaleArg};
use stepsharp_runner::config::Precision;
use stepsharp_runner::error::Error;
use stepsharp_runner::figure::Scale;
use stepsharp_runner::interrupt::{Interrupt, Interrupted, SECOND_SIGNAL_EXIT};
use stepsharp_runner::lock::LockWait;

/// Training allocates and frees tensor buffers of megabytes at every operation; glibc's malloc
/// maps and unmaps each one, so a step spent about 30% of its time in page faults (profiled
/// with `perf`, see crates/models/README.md). mimalloc keeps freed memory for reuse once
/// [`keep_freed_memory`] has turned off its purging.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3): milliseconds before freed memory goes back to
/// the OS (default 1000 in its options.c; -1: never). Not named by `libmimalloc-sys` 0.1.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process: with mimalloc's default 1 s purge delay a step still
/// page-faulted 16 thousand times per second (huge pages zeroed anew); with no purging, 100.
fn keep_freed_memory() {
    // SAFETY: sets a process-wide option; mimalloc reads options at every purge decision.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// The stepsharp harness: reproduce "On the Interplay Between Stepsize Tuning and Progressive
/// Sharpening" (Roulet, Agarwala, Pedregosa, 2023) from TOML configs under `experiments/`.
///
/// Runs are identified by a blake3 hash of their resolved config and data, stored in
/// `results/<id>/`, reused when complete and resumed from their checkpoint when interrupted.
/// CIFAR-10 is read from `--data`, else `$STEPSHARP_DATA`, else the cache folder.
#[derive(Parser)]
#[command(name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Options shared by every command.
#[derive(Args, Clone)]
struct Global {
    /// Run size: `quick` (CPU, minutes) or `paper` (GPU-sized).
    #[arg(long, global = true, value_enum, default_value = "quick")]
    scale: ScaleArg,
    /// Override the device of every run (changes run hashes). `cuda` needs `--features cuda`.
    #[arg(long, global = true, value_enum)]
    device: Option<DeviceArg>,
    /// Override the precision of every run (changes run hashes; a figure so reproduced has its
    /// own folder, `figures/<name>-<scale>-<dtype>`): e.g. `--dtype f64` to cross-check the
    /// verdicts of an f32 figure.
    #[arg(long, global = true, value_enum)]
    dtype: Option<PrecisionArg>,
    /// CPU worker threads for candle (sets RAYON_NUM_THREADS). Default: all cores.
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Folder of cached runs and figures.
    #[arg(long, global = true, default_value = "results")]
    results: PathBuf,
    /// CIFAR-10 folder (binary format). Default: $STEPSHARP_DATA, then the cache folder.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// When another process is writing a run, wait for it instead of refusing.
    #[arg(long, global = true)]
    wait: bool,
    /// Set by Ctrl-C (SIGINT/SIGTERM): a run stops after its current step.
    #[arg(skip)]
    interrupt: Interrupt,
}

#[derive(Subcommand)]
enum Command {
    /// Run every run of a figure file, or one run config, without plotting.
    Run(run::RunCommand),
    /// Run what is missing for a figure, then plot it and write its claims report.
    Reproduce(reproduce::ReproduceCommand),
    /// Plot a figure from cached runs only (fails if a run is missing).
    Plot(reproduce::PlotCommand),
    /// List experiments and cached runs with their status.
    List(list::ListCommand),
    /// Re-hash every cached run and check that its files are complete and consistent.
    Verify(verify::VerifyCommand),
    /// Time the MLP's training step, line-search trial, HVP and Lanczos (optionally beside JAX).
    Bench(bench::BenchCommand),
    /// Compare the CPU with `--device` (default cuda) on seeded problems and time a step, an
    /// HVP and Lanczos at paper scale; writes gpu-check.json and gpu-check.md.
    GpuCheck(gpu_check::GpuCheckCommand),
}

impl Global {
    fn scale(&self) -> Scale {
        self.scale.into()
    }

    fn dtype(&self) -> Option<Precision> {
        self.dtype.map(Precision::from)
    }

    fn options(&self) -> stepsharp_runner::train::RunOptions {
        stepsharp_runner::train::RunOptions {
            results: self.results.clone(),
            data_dir: self.data.clone(),
            device: self.device.map(Into::into),
            dtype: self.dtype(),
            lock_wait: if self.wait {
                LockWait::Wait
            } else {
                LockWait::Refuse
            },
            interrupt: self.interrupt.clone(),
            ..Default::default()
        }
    }
}

fn main() -> anyhow::Result<()> {
    keep_freed_memory();
    let mut cli = Cli::parse();
    cli.global.interrupt = Interrupt::on_signals().context("cannot install the Ctrl-C handler")?;
    if let Some(threads) = cli.global.threads {
        // SAFETY: set before any other thread exists; candle reads it when it sizes its pool.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
    stepsharp_sharpness::enable_double_backward();
    let result = match cli.command {
        Command::Run(command) => command.run(&cli.global),
        Command::Reproduce(command) => command.run(&cli.global),
        Command::Plot(command) => command.run(&cli.global),
        Command::List(command) => command.run(&cli.global),
        Command::Verify(command) => command.run(&cli.global),
        Command::Bench(command) => command.run(&cli.global),
        Command::GpuCheck(command) => command.run(&cli.global),
    };
    if let Some(interrupted) = result.as_ref().err().and_then(interrupted) {
        eprintln!("{interrupted}");
        std::process::exit(SECOND_SIGNAL_EXIT);
    }
    result
}

/// The [`Interrupted`] that stopped a run, wherever it is in `error`'s chain (the runner's
/// [`Error`] holds it as its typed cause).
fn interrupted(error: &anyhow::Error) -> Option<&Interrupted> {
    error.chain().find_map(|cause| {
        cause
            .downcast_ref::<Interrupted>()
            .or_else(|| cause.downcast_ref::<Error>().and_then(Error::find))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hard-coded option index is mimalloc's purge delay, whose default is 1000 (ms) in
    /// mimalloc v3's options.c; [`keep_freed_memory`] sets it to -1.
    #[test]
    fn the_purge_option_index_names_the_purge_delay() {
        // SAFETY: reads and sets process-wide options of the linked mimalloc.
        let before = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(before, 1000, "mimalloc's default purge delay");
        keep_freed_memory();
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            -1
        );
    }
}
