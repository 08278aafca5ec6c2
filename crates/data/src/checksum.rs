//! SHA256SUMS manifests: parse, verify, write.
//!
//! The manifest is the output of `sha256sum`: one line per file, `<64 hex digits>  <name>`
//! (a `*` before the name, binary mode, is accepted).

use crate::DataError;
use crate::format::{TEST_FILE, TRAIN_FILES, write_atomically};
use sha2::{Digest, Sha256};
use std::path::Path;

/// File name of the manifest (`SHA256SUMS`, as shipped with the shared data).
pub const MANIFEST_FILE: &str = "SHA256SUMS";

/// Outcome of [`verify_checksums`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChecksumReport {
    /// The directory has no `SHA256SUMS`: nothing was verified.
    Absent,
    /// Every file listed in `SHA256SUMS` matched.
    Verified {
        /// Files whose checksum matched, in manifest order.
        files: Vec<String>,
        /// Standard CIFAR-10 files present in the directory but not listed (not verified).
        unlisted: Vec<String>,
    },
}

impl std::fmt::Display for ChecksumReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChecksumReport::Absent => write!(f, "no {MANIFEST_FILE}, not verified"),
            ChecksumReport::Verified { files, unlisted } if unlisted.is_empty() => {
                write!(f, "{} file(s) match {MANIFEST_FILE}", files.len())
            }
            ChecksumReport::Verified { files, unlisted } => write!(
                f,
                "{} file(s) match {MANIFEST_FILE}; not listed: {}",
                files.len(),
                unlisted.join(", ")
            ),
        }
    }
}

/// One manifest entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) digest: String,
    pub(crate) name: String,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `dir/SHA256SUMS`; `Ok(None)` if there is none.
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<Vec<Entry>>, DataError> {
    let manifest = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DataError::io(&manifest, e)),
    };
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || DataError::BadManifest {
            manifest: manifest.clone(),
            line: i + 1,
            content: line.to_string(),
        };
        let (digest, rest) = line.split_once(' ').ok_or_else(bad)?;
        let name = rest
            .trim_start_matches(' ')
            .trim_start_matches('*')
            .trim_end();
        let is_hex = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        if !is_hex || name.is_empty() {
            return Err(bad());
        }
        entries.push(Entry {
            digest: digest.to_ascii_lowercase(),
            name: name.to_string(),
        });
    }
    Ok(Some(entries))
}

/// Checks `bytes` (the content of `dir/name`) against the manifest entry for `name`, if any.
/// Returns whether the file was listed.
pub(crate) fn check_listed(
    dir: &Path,
    manifest: &[Entry],
    name: &str,
    bytes: &[u8],
) -> Result<bool, DataError> {
    let Some(entry) = manifest.iter().find(|e| e.name == name) else {
        return Ok(false);
    };
    let found = sha256_hex(bytes);
    if found != entry.digest {
        return Err(DataError::ChecksumMismatch {
            file: dir.join(name),
            expected: entry.digest.clone(),
            found,
        });
    }
    Ok(true)
}

/// Verifies every file listed in `dir/SHA256SUMS`.
///
/// Returns [`ChecksumReport::Absent`] when there is no manifest. A listed file that is missing
/// is [`DataError::MissingFile`]; a wrong digest is [`DataError::ChecksumMismatch`] naming the
/// file and both digests. Standard CIFAR-10 files present but not listed are reported.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// use stepsharp_data::{ChecksumReport, verify_checksums, write_fixture};
/// let dir = tempfile::tempdir().unwrap();
/// write_fixture(dir.path(), 10, 10, 1)?;
/// let report = verify_checksums(dir.path())?;
/// assert!(matches!(report, ChecksumReport::Verified { ref files, .. } if files.len() == 6));
/// # Ok(()) }
/// ```
pub fn verify_checksums(dir: &Path) -> Result<ChecksumReport, DataError> {
    let Some(manifest) = read_manifest(dir)? else {
        return Ok(ChecksumReport::Absent);
    };
    let mut files = Vec::new();
    for entry in &manifest {
        let path = dir.join(&entry.name);
        if !path.is_file() {
            return Err(DataError::MissingFile {
                file: path,
                manifest: dir.join(MANIFEST_FILE),
            });
        }
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        check_listed(dir, &manifest, &entry.name, &bytes)?;
        files.push(entry.name.clone());
    }
    let unlisted = TRAIN_FILES
        .iter()
        .chain(std::iter::once(&TEST_FILE))
        .filter(|name| dir.join(name).is_file() && !files.iter().any(|f| f.as_str() == **name))
        .map(|name| name.to_string())
        .collect();
    Ok(ChecksumReport::Verified { files, unlisted })
}

/// Writes `dir/SHA256SUMS` for the given files of `dir` (in `sha256sum` format).
pub fn write_checksums(dir: &Path, names: &[&str]) -> Result<(), DataError> {
    let mut text = String::new();
    for name in names {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        text.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
    }
    write_atomically(&dir.join(MANIFEST_FILE), text.as_bytes())
}
