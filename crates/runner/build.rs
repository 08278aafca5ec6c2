//! Records the git revision the crate is built from as `STEPSHARP_REVISION` (run metadata):
//! the commit id, with `-dirty` when a code file (`*.rs`, `Cargo.toml`, `Cargo.lock`) differs
//! from it, or `unknown` outside a git checkout (e.g. a crates.io package).

use std::path::Path;
use std::process::Command;

/// The files whose changes make a build "dirty" (and rerun this script).
const CODE_FILES: [&str; 3] = ["*.rs", "*Cargo.toml", "Cargo.lock"];

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let crate_dir = Path::new(&manifest_dir);
    let revision = match git(crate_dir, &["rev-parse", "--show-toplevel"]) {
        None => "unknown".to_string(),
        Some(top) => {
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
    };
    println!("cargo:rustc-env=STEPSHARP_REVISION={revision}");
}
