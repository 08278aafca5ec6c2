//! Build-time provenance for run metadata:
//!
//! - `STEPSHARP_REVISION`: the git revision the crate is built from, the commit id with
//!   `-dirty` when a code file (`*.rs`, `Cargo.toml`, `Cargo.lock`) differs from it, or
//!   `unknown` outside a git checkout (e.g. a crates.io package);
//! - `STEPSHARP_CANDLE_VERSION`: the version of `candle-core` the crate is built with, read
//!   from the `Cargo.lock` in or above the crate (a workspace's, or the one `cargo package`
//!   puts into the package) or, with none, from the exact `=x.y.z` requirement of the crate's
//!   own (packaged, normalized) manifest, which resolution must obey. The build fails when
//!   neither says, or when the lockfile lists several versions.

#[path = "build/dependency_version.rs"]
mod dependency_version;

use std::path::Path;
use std::process::Command;

use dependency_version::{locked_versions, lockfile_above, pinned_version};

/// The files whose changes make a build "dirty" (and rerun this script).
const CODE_FILES: [&str; 3] = ["*.rs", "*Cargo.toml", "Cargo.lock"];

/// The dependency whose version `STEPSHARP_CANDLE_VERSION` records.
const CANDLE: &str = "candle-core";

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let crate_dir = Path::new(&manifest_dir);
    println!("cargo:rustc-env=STEPSHARP_REVISION={}", revision(crate_dir));
    println!(
        "cargo:rustc-env=STEPSHARP_CANDLE_VERSION={}",
        candle_version(crate_dir)
    );
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The commit id, `-dirty` appended when a code file differs from it, or `unknown`.
fn revision(crate_dir: &Path) -> String {
    let Some(top) = git(crate_dir, &["rev-parse", "--show-toplevel"]) else {
        return "unknown".to_string();
    };
    let top = Path::new(&top);
    let commit = git(top, &["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    let mut status_args = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status_args.extend(CODE_FILES);
    let dirty = git(top, &status_args).is_some_and(|s| !s.is_empty());
    let mut files_args = vec!["ls-files", "--"];
    files_args.extend(CODE_FILES);
    for file in git(top, &files_args).unwrap_or_default().lines() {
        println!("cargo:rerun-if-changed={}", top.join(file).display());
    }
    for name in ["HEAD", "index"] {
        if let Some(path) = git(top, &["rev-parse", "--git-path", name]) {
            println!("cargo:rerun-if-changed={}", top.join(path).display());
        }
    }
    format!("{commit}{}", if dirty { "-dirty" } else { "" })
}

/// The version of [`CANDLE`] the crate is built with (see the module doc).
fn candle_version(crate_dir: &Path) -> String {
    if let Some(lock) = lockfile_above(crate_dir) {
        println!("cargo:rerun-if-changed={}", lock.display());
        let text = std::fs::read_to_string(&lock)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", lock.display()));
        match locked_versions(&text, CANDLE).as_slice() {
            [version] => return version.clone(),
            [] => {}
            several => panic!(
                "{} lists {CANDLE} {several:?}: cannot tell which one run metadata should name",
                lock.display()
            ),
        }
    }
    let manifest = crate_dir.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    pinned_version(&text, CANDLE).unwrap_or_else(|| {
        panic!(
            "the version of {CANDLE} is unknown: no Cargo.lock in or above {} lists it, and {} \
             does not require an exact `=x.y.z` of it",
            crate_dir.display(),
            manifest.display()
        )
    })
}
