//! The version of a dependency, read from the files cargo writes: a `Cargo.lock`, or the
//! normalized manifest of a packaged crate. Shared by `build.rs` (which sets
//! `STEPSHARP_CANDLE_VERSION`) and its test (`tests/runner/candle_version.rs`), so plain `std`
//! only.

use std::path::{Path, PathBuf};

/// The lockfile cargo resolves a build of the crate in `crate_dir` with: the first
/// `Cargo.lock` in it or above it (a workspace's sits at its root; `cargo package` puts one
/// into the package).
pub fn lockfile_above(crate_dir: &Path) -> Option<PathBuf> {
    crate_dir
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|path| path.is_file())
}

/// The versions of package `name` that the lockfile text `lock` lists (its `[[package]]`
/// tables, one `name = "…"` and one `version = "…"` line each).
pub fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    for table in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            table
                .lines()
                .find_map(|line| string_value(line, key))
                .unwrap_or_default()
        };
        if field("name") == name {
            versions.push(field("version").to_string());
        }
    }
    versions
}

/// `x.y.z` when the manifest text `manifest` requires exactly `=x.y.z` of dependency `name`,
/// in the form `cargo package` writes (`[dependencies.<name>]` with a `version = "=x.y.z"`
/// line).
pub fn pinned_version(manifest: &str, name: &str) -> Option<String> {
    let header = format!("[dependencies.{name}]");
    let table = manifest.split(header.as_str()).nth(1)?;
    table
        .lines()
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| string_value(line, "version"))
        .and_then(|requirement| requirement.strip_prefix('='))
        .map(|version| version.trim().to_string())
}

/// The string of a `key = "value"` line.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (found, value) = line.split_once('=')?;
    let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
    (found.trim() == key).then_some(value)
}
