//! `CANDLE_VERSION` (run metadata) is the candle-core the workspace builds with, and the
//! build script's fallback for a packaged crate reads the exact requirement cargo writes.

#[path = "../../build/dependency_version.rs"]
mod dependency_version;

use std::path::{Path, PathBuf};

use dependency_version::{locked_versions, lockfile_above, pinned_version};
use stepsharp_runner::train::CANDLE_VERSION;

/// The workspace root: the folder of the lockfile the build script reads.
fn workspace_root() -> PathBuf {
    let lock = lockfile_above(Path::new(env!("CARGO_MANIFEST_DIR")));
    lock.expect("the workspace has a Cargo.lock")
        .parent()
        .unwrap()
        .to_path_buf()
}

fn parse(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn candle_version_is_the_candle_core_of_the_workspace_lockfile() {
    // Read with a TOML parser, independently of the build script's line reader.
    let lock = parse(&workspace_root().join("Cargo.lock"));
    let locked: Vec<&str> = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| package["name"].as_str() == Some("candle-core"))
        .map(|package| package["version"].as_str().unwrap())
        .collect();
    assert_eq!(locked, [CANDLE_VERSION]);
}

#[test]
fn the_workspace_pins_exactly_that_candle_core() {
    // What a packaged crate without a lockfile falls back on (and docs/candle.md#version-pin
    // asks for).
    let manifest = parse(&workspace_root().join("Cargo.toml"));
    let requirement = &manifest["workspace"]["dependencies"]["candle-core"];
    assert_eq!(
        requirement.as_str(),
        Some(format!("={CANDLE_VERSION}").as_str())
    );
}

#[test]
fn the_fallback_reads_the_exact_requirement_of_a_packaged_manifest() {
    // Excerpt of the manifest `cargo package -p stepsharp-runner` writes.
    let packaged = r#"
[features]
cuda = [
    "candle-core/cuda",
    "stepsharp-models/cuda",
]

[dependencies.blake3]
version = "1"

[dependencies.candle-core]
version = "=0.11.1"

[dependencies.csv]
version = "1"
"#;
    assert_eq!(
        pinned_version(packaged, "candle-core").as_deref(),
        Some("0.11.1")
    );
    assert_eq!(
        pinned_version(packaged, "blake3"),
        None,
        "not an exact requirement"
    );
    assert_eq!(
        pinned_version("candle-core.workspace = true", "candle-core"),
        None
    );
}

#[test]
fn the_lockfile_reader_finds_every_version_of_a_package_and_only_those() {
    let lock = r#"
version = 4

[[package]]
name = "candle-core"
version = "0.11.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "candle-kernels",
]

[[package]]
name = "candle-core-extra"
version = "9.9.9"

[[package]]
name = "candle-nn"
version = "0.11.1"
dependencies = [
 "candle-core",
]
"#;
    assert_eq!(locked_versions(lock, "candle-core"), ["0.11.1"]);
    assert_eq!(
        locked_versions(lock, "candle-kernels"),
        Vec::<String>::new()
    );
    let two = format!("{lock}\n[[package]]\nname = \"candle-core\"\nversion = \"0.12.0\"\n");
    assert_eq!(locked_versions(&two, "candle-core"), ["0.11.1", "0.12.0"]);
}
