//! A scratch folder with CIFAR-10 fixture data, shared by the harness's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary folder holding fixture data under `cifar/` and the test's files.
pub struct Scratch {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Scratch {
    /// Fixture data (5 × 20 training records, 10 test records) and `files` as (path relative
    /// to the folder, contents).
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        stepsharp_data::write_fixture(&root.join("cifar"), 20, 10, 7).unwrap();
        for (path, contents) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        Self { _dir: dir, root }
    }

    /// The built `xtask` run in the folder on the fixture data, writing runs to `results`.
    pub fn command(&self, results: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .current_dir(&self.root)
            .arg("--results")
            .arg(results)
            .arg("--data")
            .arg(self.root.join("cifar"))
            .env_remove("STEPSHARP_DATA");
        command
    }
}

/// Asserts that `text` contains every one of `parts`, naming the first one missing.
pub fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "no `{part}` in\n{text}");
    }
}
