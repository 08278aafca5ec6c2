//! Ctrl-C: the first SIGINT or SIGTERM asks the training loop to finish its current step,
//! write a checkpoint and stop; a second one exits at once (status 130, the previous
//! checkpoint stays valid).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a process stopped by a second signal (128 + SIGINT, as shells report it).
pub const SECOND_SIGNAL_EXIT: i32 = 130;

/// A request to stop that the training loop checks after each step.
#[derive(Clone, Debug, Default)]
pub struct Interrupt {
    requested: Arc<AtomicBool>,
}

impl Interrupt {
    /// An interrupt set by SIGINT and SIGTERM (the second one exits the process at once).
    pub fn on_signals() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let interrupt = Self::default();
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it.
            signal_hook::flag::register_conditional_shutdown(
                signal,
                SECOND_SIGNAL_EXIT,
                interrupt.requested.clone(),
            )?;
            signal_hook::flag::register(signal, interrupt.requested.clone())?;
        }
        Ok(interrupt)
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// The run stopped because of an [`Interrupt`], after writing a checkpoint.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted: run {run_id} stopped after step {steps_done} with a checkpoint; run the same \
     command again to resume it"
)]
pub struct Interrupted {
    /// The run id.
    pub run_id: String,
    /// Steps recorded in the checkpoint.
    pub steps_done: usize,
}
