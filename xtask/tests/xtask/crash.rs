//! The built `xtask` binary under kills, Ctrl-C, concurrent writers, divergence and tampering:
//! every case ends with a trajectory bit-identical to an uninterrupted run, or with an error
//! that names what is wrong. Faults are injected at chosen points (`STEPSHARP_FAULT`, see
//! `crates/runner/src/faults.rs`), never by timing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::common;
use stepsharp_runner::faults::FAULT_VAR;
use stepsharp_runner::trajectory::{Row, read_trajectory};

/// A tiny mini-batch MLP run: 6 steps, a checkpoint every 2, a sharpness reading every 3.
const CONFIG: &str = r#"
model = { kind = "mlp", hidden = [8], activation = "tanh", bias = true }
data = { train_subset = { kind = "first", count = 48 } }
training = { max_steps = 6, batch_size = 16, chunk_size = 48, checkpoint_every = 2 }
sharpness = { measure = { every = 3 }, eval_examples = 16, max_iterations = 8 }
stepsize = { kind = "armijo" }
dtype = "f64"
"#;

/// Most write points a run of [`CONFIG`] can have (the loop over them stops at the first
/// fault that is never reached).
const MAX_WRITE_POINTS: usize = 60;

/// The shared scratch folder ([`common::Scratch`]) with this file's helpers: every test file is a
/// module of one binary, so each keeps its helpers on a type of its own.
struct Scratch(common::Scratch);

impl std::ops::Deref for Scratch {
    type Target = common::Scratch;
    fn deref(&self) -> &common::Scratch {
        &self.0
    }
}

impl Scratch {
    /// Fixture data and the config as `run.toml`.
    fn new() -> Self {
        Self(common::Scratch::with_files(&[("run.toml", CONFIG)]))
    }

    fn results(&self) -> PathBuf {
        self.root.join("results")
    }

    /// `xtask <args> --results <results> --data <fixture>` in the scratch folder.
    fn xtask(&self, args: &[&str], fault: Option<&str>) -> Command {
        let mut command = self.command(&self.results());
        command
            .args(args)
            .env("RAYON_NUM_THREADS", "1")
            .env_remove(FAULT_VAR);
        if let Some(fault) = fault {
            command.env(FAULT_VAR, fault);
        }
        command
    }

    /// Starts `xtask <args>` with its output captured.
    fn spawn(&self, args: &[&str]) -> Child {
        self.xtask(args, None)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run(&self, fault: Option<&str>) -> Output {
        self.xtask(&["run", "run.toml"], fault).output().unwrap()
    }

    /// The one run folder.
    fn run_dir(&self) -> PathBuf {
        let dirs: Vec<PathBuf> = std::fs::read_dir(self.results())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        dirs[0].clone()
    }

    fn trajectory(&self) -> Vec<Row> {
        let rows = read_trajectory(&self.run_dir().join("trajectory.csv")).unwrap();
        rows.iter().map(Row::without_timing).collect()
    }

    fn verify(&self) -> Output {
        self.xtask(&["verify"], None).output().unwrap()
    }
}

#[track_caller]
fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The trajectory of an uninterrupted run.
fn reference() -> Vec<Row> {
    let scratch = Scratch::new();
    assert_success(&scratch.run(None));
    scratch.trajectory()
}

fn partial_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_kill_at_every_write_point_then_a_rerun_gives_the_uninterrupted_trajectory() {
    let expected = reference();
    let mut killed = 0;
    for k in 1..=MAX_WRITE_POINTS {
        let scratch = Scratch::new();
        let output = scratch.run(Some(&format!("abort-before-write:{k}")));
        if output.status.success() {
            break;
        }
        assert_eq!(
            output.status.code(),
            None,
            "killed by a signal at {k}: {}",
            stderr(&output)
        );
        killed += 1;
        let rerun = scratch.run(None);
        assert_success(&rerun);
        assert_eq!(
            scratch.trajectory(),
            expected,
            "killed before write point {k}"
        );
        assert_eq!(
            partial_files(&scratch.run_dir()),
            Vec::<String>::new(),
            "at {k}"
        );
        assert_success(&scratch.verify());
    }
    assert!(
        killed > 10 && killed < MAX_WRITE_POINTS,
        "{killed} write points"
    );
}

#[test]
fn ctrl_c_or_sigterm_writes_a_checkpoint_and_the_rerun_resumes_bit_for_bit() {
    let expected = reference();
    // SIGTERM: what SLURM sends a task at its time limit or on preemption.
    for fault in [
        "signal-after-step:2",
        "sigterm-after-step:2",
        "signal-twice-after-step:2",
    ] {
        let scratch = Scratch::new();
        let output = scratch.run(Some(fault));
        assert_eq!(
            output.status.code(),
            Some(130),
            "{fault}: {}",
            stderr(&output)
        );
        if !fault.starts_with("signal-twice") {
            let message = stderr(&output);
            assert!(message.contains("run the same command again"), "{message}");
            let checkpoint = std::fs::read_to_string(scratch.run_dir().join("checkpoint.json"));
            assert!(checkpoint.unwrap().contains("\"step\": 3"));
        }
        assert_success(&scratch.run(None));
        assert_eq!(scratch.trajectory(), expected, "{fault}");
    }
}

#[test]
fn a_second_process_refuses_or_waits_and_the_trajectory_is_unchanged() {
    let expected = reference();
    let scratch = Scratch::new();
    assert_success(
        &scratch
            .xtask(&["run", "run.toml", "--stop-after", "1"], None)
            .output()
            .unwrap(),
    );
    let run_dir = scratch.run_dir();
    let run_id = run_dir.file_name().unwrap().to_string_lossy().into_owned();
    let lock_path = run_dir.with_extension("lock");
    // Another writer holds the lock (as `xtask run` does for a whole run).
    let lock = std::fs::File::options()
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    let refused = scratch.run(None);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains(&run_id) && message.contains(&lock_path.display().to_string()),
        "{message}"
    );
    let waiting = scratch
        .xtask(&["run", "run.toml", "--wait"], None)
        .spawn()
        .unwrap();
    drop(lock);
    assert_success(&waiting.wait_with_output().unwrap());
    assert_eq!(scratch.trajectory(), expected);
    // Two real processes at once: each one runs, reuses or refuses; none mixes the run.
    let twin = Scratch::new();
    let children: Vec<_> = (0..2).map(|_| twin.spawn(&["run", "run.toml"])).collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success() || stderr(&output).contains("another process"),
            "{}",
            stderr(&output)
        );
    }
    assert_success(&twin.run(None));
    assert_eq!(twin.trajectory(), expected);
    assert_success(&twin.verify());
}

#[test]
fn an_edited_trajectory_fails_verify_and_an_unusable_results_path_is_named() {
    let scratch = Scratch::new();
    assert_success(&scratch.run(None));
    assert_success(&scratch.verify());
    let trajectory = scratch.run_dir().join("trajectory.csv");
    let text = std::fs::read_to_string(&trajectory).unwrap();
    std::fs::write(&trajectory, text.replacen(",0.", ",0.9", 1)).unwrap();
    let output = scratch.verify();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("PROBLEM"));

    let missing = scratch.root.join("nowhere");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["verify", "--results"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&missing.display().to_string()),
        "{}",
        stderr(&output)
    );
    let file = scratch.root.join("run.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&scratch.root)
        .args(["run", "run.toml", "--results"])
        .arg(&file)
        .arg("--data")
        .arg(scratch.root.join("cifar"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&file.display().to_string()),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_errors_name_the_field_path_and_an_empty_file_is_refused() {
    let scratch = Scratch::new();
    for (text, expected) in [
        (
            "stepsize = { kind = \"constant\", eta = -0.1 }",
            "`stepsize.eta` = -0.1",
        ),
        (
            "data = { train_subset = { kind = \"class_balanced_first\", count = 15 } }",
            "`data.train_subset.count` = 15",
        ),
        ("# nothing\n", "empty"),
    ] {
        std::fs::write(scratch.root.join("bad.toml"), text).unwrap();
        let output = scratch.xtask(&["run", "bad.toml"], None).output().unwrap();
        assert!(!output.status.success());
        assert!(
            stderr(&output).contains(expected),
            "{text}: {}",
            stderr(&output)
        );
        assert!(
            !scratch.results().exists(),
            "{text} created a results folder"
        );
    }
}
