//! Durable file operations of the run store: every write goes to a uniquely named partial
//! file in the target folder, is flushed to disk, given the one permission mode of result
//! files, and renamed into place (the folder is synced after the rename), and every error
//! names the action and the path.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::faults;

/// Permission mode of every result file (readable by all, like the rest of a results tree).
pub const RESULT_FILE_MODE: u32 = 0o644;

/// Name prefix of the partial files written before a rename; leftovers of a killed process
/// are removed the next time the run folder is opened for writing.
pub const PARTIAL_PREFIX: &str = ".partial-";

/// Name prefix of the partial files left by older versions (`tempfile`'s default).
const LEGACY_PARTIAL_PREFIX: &str = ".tmp";
/// Name suffix of the fixed partial file of older versions (`checkpoint.safetensors.tmp`).
const LEGACY_PARTIAL_SUFFIX: &str = ".tmp";

/// A file operation of the run store that failed, or a run folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done, e.g. `create the run folder`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file exists but its content is not what the store wrote.
    #[error("{} is not a valid {what}: {reason}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What it should hold, e.g. `run metadata`.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Another process holds the run's lock.
    #[error(
        "run {run_id} is being written by another process ({holder}); its lock {} is held. \
         Wait for it to finish, or pass `--wait` to wait for the lock",
        .lock.display()
    )]
    Locked {
        /// The run id.
        run_id: String,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as the holder wrote it into the lock file (pid, host, command).
        holder: String,
    },
}

impl StoreError {
    /// A closure for `map_err` that wraps an I/O error with `action` and `path`.
    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(StoreError::io("create the folder", dir))
}

/// Reads a text file.
pub fn read_text(path: &Path) -> Result<String, StoreError> {
    std::fs::read_to_string(path).map_err(StoreError::io("read", path))
}

/// blake3 of a file's content, as 64 hex digits.
pub fn blake3_file(path: &Path) -> Result<String, StoreError> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(StoreError::io("open", path))?;
    hasher
        .update_reader(file)
        .map_err(StoreError::io("read", path))?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// A partial file in `dir`, to be filled and then [`publish`]ed.
pub fn partial_file(dir: &Path) -> Result<tempfile::NamedTempFile, StoreError> {
    create_dir(dir)?;
    tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(dir)
        .map_err(StoreError::io("create a partial file in", dir))
}

/// Makes a filled partial file durable and renames it to `path` (one write point). The
/// partial file is addressed by its path, since a writer such as safetensors may have
/// replaced the file the handle refers to.
pub fn publish(file: tempfile::NamedTempFile, path: &Path) -> Result<(), StoreError> {
    let partial = file.path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(partial, std::fs::Permissions::from_mode(RESULT_FILE_MODE))
            .map_err(StoreError::io("set the permissions of", partial))?;
    }
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::io("flush", partial))?;
    faults::write_point();
    file.persist(path)
        .map_err(|error| StoreError::io("rename a partial file to", path)(error.error))?;
    sync_parent(path)
}

/// Writes `bytes` to `path` atomically: a partial file in the same folder, flushed, then
/// renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = partial_file(dir)?;
    file.write_all(bytes)
        .map_err(StoreError::io("write", file.path()))?;
    publish(file, path)
}

/// Removes a file if it exists (one write point).
pub fn remove_file(path: &Path) -> Result<(), StoreError> {
    faults::write_point();
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(StoreError::io("remove", path)(error))
        }
        _ => Ok(()),
    }
}

/// Removes the partial files a killed writer left in `dir` (call with the run's lock held).
pub fn remove_partials(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        entries => entries.map_err(StoreError::io("list", dir))?,
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::io("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let partial = name.starts_with(PARTIAL_PREFIX)
            || name.starts_with(LEGACY_PARTIAL_PREFIX)
            || name.ends_with(LEGACY_PARTIAL_SUFFIX);
        if partial {
            remove_file(&entry.path())?;
        }
    }
    Ok(())
}

/// Syncs the folder holding `path`, so that a rename into it survives a power loss.
fn sync_parent(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io("sync the folder", dir))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
