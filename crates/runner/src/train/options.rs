//! [`RunOptions`]: where and how [`execute`](crate::train::execute) runs a config (none of these
//! enter the run id, except a device or precision override, which changes the config).

use std::path::PathBuf;

use crate::config::{DeviceKind, Precision, ValidRunConfig};
use crate::interrupt::Interrupt;
use crate::lock::LockWait;

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
    /// Run every config in this precision instead of its own (this changes run hashes; a
    /// figure reproduced so writes into its own folder, `<name>-<scale>-<dtype>`).
    pub dtype: Option<Precision>,
    /// Never compute: fail unless a completed run exists (used to re-plot from cache).
    pub reuse_only: bool,
    /// What to do when another process holds a run's lock. Default: refuse at once.
    pub lock_wait: LockWait,
    /// Checked after every step: when requested, the run writes a checkpoint and stops with
    /// [`Interrupted`](crate::interrupt::Interrupted). Default: never requested.
    pub interrupt: Interrupt,
}

impl RunOptions {
    /// `config` with the options' overrides applied.
    pub fn resolve(&self, config: &ValidRunConfig) -> ValidRunConfig {
        let config = match self.device {
            Some(device) => config.clone().with_device(device),
            None => config.clone(),
        };
        match self.dtype {
            Some(dtype) => config.with_dtype(dtype),
            None => config,
        }
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
            dtype: None,
            reuse_only: false,
            lock_wait: LockWait::Refuse,
            interrupt: Interrupt::default(),
        }
    }
}
