//! Fault injection for the crash tests: the environment variable `STEPSHARP_FAULT` makes a
//! process fail at one chosen point, so that every write point of the store can be tested
//! without timing.
//!
//! - `abort-before-write:K` aborts the process (no destructor, no flush: what a kill -9 or a
//!   power loss leaves) just before its K-th write point (1-based; a write point is a rename
//!   into place or a removal in a run folder);
//! - `signal-after-step:K` sends the process one SIGINT once step K is recorded (a Ctrl-C);
//! - `signal-twice-after-step:K` sends two (a second Ctrl-C aborts at once);
//! - `sigterm-after-step:K` sends one SIGTERM instead (a scheduler's time limit or
//!   preemption).
//!
//! Unset (always, outside tests) every hook is a no-op.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The environment variable that selects a fault.
pub const FAULT_VAR: &str = "STEPSHARP_FAULT";

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    AbortBeforeWrite(usize),
    SignalsAfterStep {
        step: usize,
        signals: usize,
        signal: i32,
    },
}

/// The fault chosen by [`FAULT_VAR`], parsed once.
fn fault() -> Option<Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    *FAULT.get_or_init(|| {
        let value = std::env::var(FAULT_VAR).ok()?;
        let (kind, k) = value.split_once(':')?;
        let k: usize = k.parse().ok()?;
        match kind {
            "abort-before-write" => Some(Fault::AbortBeforeWrite(k)),
            "signal-after-step" => Some(Fault::SignalsAfterStep {
                step: k,
                signals: 1,
                signal: SIGINT,
            }),
            "signal-twice-after-step" => Some(Fault::SignalsAfterStep {
                step: k,
                signals: 2,
                signal: SIGINT,
            }),
            "sigterm-after-step" => Some(Fault::SignalsAfterStep {
                step: k,
                signals: 1,
                signal: SIGTERM,
            }),
            _ => None,
        }
    })
}

/// Marks a write point: aborts here if this is the one chosen by `abort-before-write`.
pub(crate) fn write_point() {
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let index = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    if fault() == Some(Fault::AbortBeforeWrite(index)) {
        std::process::abort();
    }
}

/// Marks the end of step `step`: sends the chosen signals after that step.
pub(crate) fn step_recorded(step: usize) {
    if let Some(Fault::SignalsAfterStep {
        step: at,
        signals,
        signal,
    }) = fault()
        && at == step
    {
        for _ in 0..signals {
            // The handler only sets a flag (or exits); raising cannot fail for these signals.
            let _ = signal_hook::low_level::raise(signal);
        }
    }
}
