//! Where the CIFAR-10 files come from, resolved in a fixed, documented order.

use crate::DataError;
use crate::format::{CACHE_SUBDIR, TEST_FILE, TRAIN_FILES};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable naming the data directory (CI sets it to the shared copy).
pub const ENV_VAR: &str = "STEPSHARP_DATA";
/// Environment variable overriding the cache root (default `$XDG_CACHE_HOME/stepsharp`, else
/// `~/.cache/stepsharp`).
pub const CACHE_ENV_VAR: &str = "STEPSHARP_CACHE";

/// How a data directory was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Given explicitly (a flag or a config field).
    Explicit,
    /// Named by `$STEPSHARP_DATA`.
    Environment,
    /// Found in the local cache folder.
    Cache,
    /// Downloaded just now from the Hugging Face hub into the cache folder (feature `hub`).
    Hub,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Explicit => "explicit path",
            Origin::Environment => "$STEPSHARP_DATA",
            Origin::Cache => "local cache",
            Origin::Hub => "downloaded from the Hugging Face hub into the cache",
        })
    }
}

/// A directory holding CIFAR-10 in the binary format, and how it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSource {
    /// The directory with `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`.
    pub dir: PathBuf,
    /// How it was found.
    pub origin: Origin,
}

impl DataSource {
    /// A source for a known directory (checked only when files are read).
    pub fn new(dir: impl Into<PathBuf>, origin: Origin) -> Self {
        Self {
            dir: dir.into(),
            origin,
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.dir.display(), self.origin)
    }
}

/// Finds the CIFAR-10 directory.
///
/// Order (first match wins):
/// 1. `explicit` (a flag or config field);
/// 2. `$STEPSHARP_DATA`;
/// 3. the cache folder [`cache_dir`]: `$STEPSHARP_CACHE/cifar-10-batches-bin`, else
///    `$XDG_CACHE_HOME/stepsharp/cifar-10-batches-bin`, else
///    `~/.cache/stepsharp/cifar-10-batches-bin`;
/// 4. with feature `hub` only: download through `candle_datasets::vision::cifar::load()` and
///    write the official binary files into the cache folder once.
///
/// A directory counts when it holds all six files (`data_batch_1.bin` … `data_batch_5.bin`,
/// `test_batch.bin`). An explicit path or `$STEPSHARP_DATA` that lacks files is an error
/// ([`DataError::IncompleteSource`]), never silently skipped. With nothing found the error
/// ([`DataError::NotFound`]) lists every place tried and what to set or download.
pub fn locate(explicit: Option<&Path>) -> Result<DataSource, DataError> {
    locate_with(explicit, &|key| std::env::var_os(key))
}

/// The cache folder for the binary files, from the environment (see [`locate`]); `None` when
/// neither `$STEPSHARP_CACHE`, `$XDG_CACHE_HOME` nor a home directory is known.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_with(&|key| std::env::var_os(key))
}

type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn non_empty(env: EnvLookup<'_>, key: &str) -> Option<PathBuf> {
    env(key).filter(|v| !v.is_empty()).map(PathBuf::from)
}

pub(crate) fn cache_dir_with(env: EnvLookup<'_>) -> Option<PathBuf> {
    let root = non_empty(env, CACHE_ENV_VAR)
        .or_else(|| non_empty(env, "XDG_CACHE_HOME").map(|d| d.join("stepsharp")))
        .or_else(|| {
            non_empty(env, "HOME")
                .or_else(|| non_empty(env, "USERPROFILE"))
                .map(|h| h.join(".cache").join("stepsharp"))
        })?;
    Some(root.join(CACHE_SUBDIR))
}

/// Names of the standard files missing from `dir`.
pub(crate) fn missing_files(dir: &Path) -> Vec<String> {
    TRAIN_FILES
        .iter()
        .chain(std::iter::once(&TEST_FILE))
        .filter(|name| !dir.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}

fn checked(dir: PathBuf, origin: Origin, given_by: &str) -> Result<DataSource, DataError> {
    let missing = missing_files(&dir);
    if missing.is_empty() {
        Ok(DataSource { dir, origin })
    } else {
        Err(DataError::IncompleteSource {
            dir,
            given_by: given_by.to_string(),
            missing,
        })
    }
}

pub(crate) fn locate_with(
    explicit: Option<&Path>,
    env: EnvLookup<'_>,
) -> Result<DataSource, DataError> {
    if let Some(dir) = explicit {
        return checked(dir.to_path_buf(), Origin::Explicit, "the explicit path");
    }
    if let Some(dir) = non_empty(env, ENV_VAR) {
        return checked(dir, Origin::Environment, "$STEPSHARP_DATA");
    }
    let mut tried = format!("  - explicit path: none given\n  - ${ENV_VAR}: not set\n");
    let cache = cache_dir_with(env);
    match &cache {
        Some(dir) => {
            let missing = missing_files(dir);
            if missing.is_empty() {
                return Ok(DataSource {
                    dir: dir.clone(),
                    origin: Origin::Cache,
                });
            }
            tried.push_str(&format!(
                "  - cache {}: lacks {}\n",
                dir.display(),
                missing.join(", ")
            ));
        }
        None => tried.push_str(&format!(
            "  - cache: no ${CACHE_ENV_VAR}, $XDG_CACHE_HOME or home directory\n"
        )),
    }
    from_hub(cache, tried)
}

#[cfg(feature = "hub")]
fn from_hub(cache: Option<PathBuf>, tried: String) -> Result<DataSource, DataError> {
    let Some(dir) = cache else {
        return Err(not_found(tried, PathBuf::from("<no cache folder>")));
    };
    crate::hub::download_to(&dir).map_err(|e| match e {
        DataError::Hub(msg) => DataError::Hub(format!(
            "{msg}\nAlso looked in:\n{tried}\nWithout internet, set {ENV_VAR}=/path/to/cifar-10-batches-bin \
             or copy the six binary files into {}",
            dir.display()
        )),
        other => other,
    })?;
    Ok(DataSource {
        dir,
        origin: Origin::Hub,
    })
}

#[cfg(not(feature = "hub"))]
fn from_hub(cache: Option<PathBuf>, mut tried: String) -> Result<DataSource, DataError> {
    tried.push_str("  - Hugging Face hub download: not compiled in (feature `hub`)");
    let cache_dir = cache.unwrap_or_else(|| PathBuf::from(format!("${CACHE_ENV_VAR}")));
    Err(not_found(tried, cache_dir))
}

fn not_found(tried: String, cache_dir: PathBuf) -> DataError {
    DataError::NotFound {
        tried,
        env_var: ENV_VAR,
        cache_dir,
        hub_hint: if cfg!(feature = "hub") {
            "connect to the internet: the `hub` feature downloads CIFAR-10 into the cache"
        } else {
            "rebuild with the `hub` cargo feature (`--features hub` on stepsharp-data, or on the \
             runner / xtask, which forward it) to download CIFAR-10 from the Hugging Face hub \
             into the cache on first use"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &Path)]) -> HashMap<String, OsString> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
            .collect()
    }

    fn locate_in(
        explicit: Option<&Path>,
        vars: &HashMap<String, OsString>,
    ) -> Result<DataSource, DataError> {
        locate_with(explicit, &|key| vars.get(key).cloned())
    }

    #[test]
    fn order_is_explicit_then_environment_then_cache() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let cache_root = tempfile::tempdir().unwrap();
        crate::write_fixture(a.path(), 2, 2, 0).unwrap();
        crate::write_fixture(b.path(), 2, 2, 0).unwrap();
        crate::write_fixture(&cache_root.path().join(CACHE_SUBDIR), 2, 2, 0).unwrap();
        let vars = env(&[(ENV_VAR, b.path()), (CACHE_ENV_VAR, cache_root.path())]);
        let s = locate_in(Some(a.path()), &vars).unwrap();
        assert_eq!((s.dir.as_path(), s.origin), (a.path(), Origin::Explicit));
        let s = locate_in(None, &vars).unwrap();
        assert_eq!((s.dir.as_path(), s.origin), (b.path(), Origin::Environment));
        let vars = env(&[(CACHE_ENV_VAR, cache_root.path())]);
        let s = locate_in(None, &vars).unwrap();
        assert_eq!(s.dir, cache_root.path().join(CACHE_SUBDIR));
        assert_eq!(s.origin, Origin::Cache);
    }

    #[test]
    fn named_directory_lacking_files_is_an_error_not_skipped() {
        let empty = tempfile::tempdir().unwrap();
        let good = tempfile::tempdir().unwrap();
        crate::write_fixture(good.path(), 2, 2, 0).unwrap();
        std::fs::remove_file(good.path().join("test_batch.bin")).unwrap();
        let vars = env(&[(ENV_VAR, good.path())]);
        let err = locate_in(None, &vars).unwrap_err();
        assert!(
            matches!(err, DataError::IncompleteSource { ref missing, .. } if missing == &["test_batch.bin"]),
            "{err:?}"
        );
        assert!(err.to_string().contains("$STEPSHARP_DATA"), "{err}");
        let err = locate_in(Some(empty.path()), &HashMap::new()).unwrap_err();
        assert!(
            matches!(err, DataError::IncompleteSource { ref missing, .. } if missing.len() == 6)
        );
    }

    #[test]
    fn cache_dir_falls_back_to_xdg_then_home() {
        let p = Path::new;
        let vars = env(&[("XDG_CACHE_HOME", p("/x")), ("HOME", p("/h"))]);
        assert_eq!(
            cache_dir_with(&|k| vars.get(k).cloned()),
            Some(PathBuf::from("/x/stepsharp/cifar-10-batches-bin"))
        );
        let vars = env(&[("HOME", p("/h"))]);
        assert_eq!(
            cache_dir_with(&|k| vars.get(k).cloned()),
            Some(PathBuf::from("/h/.cache/stepsharp/cifar-10-batches-bin"))
        );
        let vars = env(&[(CACHE_ENV_VAR, p("/c")), ("HOME", p("/h"))]);
        assert_eq!(
            cache_dir_with(&|k| vars.get(k).cloned()),
            Some(PathBuf::from("/c/cifar-10-batches-bin"))
        );
        assert_eq!(cache_dir_with(&|_| None), None);
    }

    #[cfg(not(feature = "hub"))]
    #[test]
    fn nothing_found_says_what_to_set_or_download() {
        let cache_root = tempfile::tempdir().unwrap();
        let vars = env(&[(CACHE_ENV_VAR, cache_root.path())]);
        let err = locate_in(None, &vars).unwrap_err();
        assert!(matches!(err, DataError::NotFound { .. }), "{err:?}");
        let msg = err.to_string();
        for part in [
            "STEPSHARP_DATA=",
            "--features hub",
            "cifar-10-binary.tar.gz",
            "not set",
            "lacks data_batch_1.bin",
        ] {
            assert!(msg.contains(part), "missing {part:?} in:\n{msg}");
        }
        assert!(
            msg.contains(&cache_root.path().join(CACHE_SUBDIR).display().to_string()),
            "{msg}"
        );
    }
}
