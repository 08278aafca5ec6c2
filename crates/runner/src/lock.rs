//! One writer per run folder: an OS file lock (`flock`/`LockFileEx` through
//! [`std::fs::File::try_lock`]) on `results/<run id>.lock`, held while a run is written (or
//! shared while a completed run is read). The lock file lives beside the run folder, never
//! inside it, so that `--force` can clear the folder while holding the lock, and it is never
//! deleted (deleting a lock file lets two processes lock two different files). The OS
//! releases the lock when its holder exits, however it exits.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use crate::fsio::StoreError;
use crate::store::{RunDir, unix_now};

/// Extension of lock files: `results/<run id>.lock`.
pub(crate) const LOCK_EXTENSION: &str = "lock";

/// What to do when another process holds a run's lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LockWait {
    /// Fail at once with [`StoreError::Locked`], naming the holder.
    #[default]
    Refuse,
    /// Block until the holder releases it.
    Wait,
}

/// Whether the lock excludes every other process or only writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockKind {
    /// One writer, no reader.
    Exclusive,
    /// Any number of readers, no writer.
    Shared,
}

/// A held lock on one run; released when dropped.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

impl RunLock {
    /// The lock file of `dir`: `results/<run id>.lock`.
    pub fn path(dir: &RunDir) -> PathBuf {
        dir.path.with_extension(LOCK_EXTENSION)
    }

    /// Takes the lock of the run in `dir`.
    pub fn acquire(dir: &RunDir, kind: LockKind, wait: LockWait) -> Result<Self, StoreError> {
        let path = Self::path(dir);
        if let Some(results) = path.parent() {
            crate::fsio::create_dir(results)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(StoreError::io("open the lock file", &path))?;
        let attempt = match kind {
            LockKind::Exclusive => file.try_lock(),
            LockKind::Shared => file.try_lock_shared(),
        };
        match (attempt, wait) {
            (Ok(()), _) => {}
            (Err(TryLockError::WouldBlock), LockWait::Wait) => match kind {
                LockKind::Exclusive => file.lock(),
                LockKind::Shared => file.lock_shared(),
            }
            .map_err(StoreError::io("wait for the lock", &path))?,
            (Err(TryLockError::WouldBlock), LockWait::Refuse) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StoreError::Locked {
                    run_id: dir.id().to_string(),
                    lock: path,
                    holder: match holder.trim() {
                        "" => "holder unknown".to_string(),
                        text => text.to_string(),
                    },
                });
            }
            (Err(TryLockError::Error(error)), _) => {
                return Err(StoreError::io("lock", &path)(error));
            }
        }
        if kind == LockKind::Exclusive {
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(holder_line().as_bytes()))
                .map_err(StoreError::io("record the holder in", &path))?;
        }
        Ok(Self { _file: file })
    }
}

/// Who holds a lock: process id, host, start time and command line.
fn holder_line() -> String {
    let command: Vec<String> = std::env::args().collect();
    format!(
        "pid {} on {} since unix time {}: {}",
        std::process::id(),
        crate::provenance::host_name(),
        unix_now(),
        command.join(" ")
    )
}
