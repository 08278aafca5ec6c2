//! The executors of `reproduce` on a tiny 2×2 figure (`tiny.toml`) with fixture data: the
//! default (parallel) executor's and `--executor local`'s trajectories and claims equal the
//! sequential executor's, and `--executor slurm
//! --dry-run` writes one config per missing run, an array over exactly those, the figure's
//! resources and the plotting job's dependency. (A real SLURM cluster: `xtask/tests/slurm.sh`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, assert_contains_all};
use stepsharp_runner::config::RunConfig;
use stepsharp_runner::hash::run_hash;
use stepsharp_runner::store::list_runs;
use stepsharp_runner::trajectory::read_trajectory;

/// The figure file, shared with `slurm.sh`.
const TINY: &str = include_str!("../tiny.toml");

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
    /// Fixture data and `experiments/tiny.toml`.
    fn new() -> Self {
        Self(common::Scratch::with_files(&[(
            "experiments/tiny.toml",
            TINY,
        )]))
    }

    /// `xtask --results <root>/<results> --data <fixture> <args>`, run in the scratch folder.
    fn xtask(&self, results: &str, args: &[&str]) -> Output {
        let output = self
            .command(&self.root.join(results))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "xtask {args:?}: {:?}\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Run id → trajectory without its wall-time columns, for every run under `results`.
    fn trajectories(&self, results: &str) -> Vec<(String, Vec<stepsharp_runner::trajectory::Row>)> {
        let mut runs: Vec<(String, Vec<stepsharp_runner::trajectory::Row>)> =
            std::fs::read_dir(self.root.join(results))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("trajectory.csv").exists())
                .map(|p| {
                    let rows = read_trajectory(&p.join("trajectory.csv")).unwrap();
                    let id = p.file_name().unwrap().to_string_lossy().into_owned();
                    (id, rows.iter().map(|r| r.without_timing()).collect())
                })
                .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        runs
    }
}

#[test]
fn the_default_executor_gives_the_trajectories_of_the_explicit_flags() {
    let scratch = Scratch::new();
    scratch.xtask(
        "sequential",
        &[
            "--threads",
            "1",
            "reproduce",
            "tiny",
            "--executor",
            "sequential",
        ],
    );
    let explicit = scratch.xtask(
        "local",
        &[
            "--threads",
            "2",
            "reproduce",
            "tiny",
            "--executor",
            "local",
            "--jobs",
            "2",
        ],
    );
    // No executor flag: runs in parallel, one per core (`--threads 2` stands for 2 cores).
    let default = scratch.xtask("default", &["--threads", "2", "reproduce", "tiny"]);
    for output in [&explicit, &default] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("4 runs, 2 at a time, 1 threads each"),
            "{stderr}"
        );
    }
    let sequential = scratch.trajectories("sequential");
    assert_eq!(sequential.len(), 4);
    assert_eq!(scratch.trajectories("local"), sequential);
    assert_eq!(scratch.trajectories("default"), sequential);
    let claims = |results: &str| {
        std::fs::read_to_string(
            scratch
                .root
                .join(results)
                .join("figures/tiny-quick/claims.md"),
        )
        .unwrap()
    };
    assert_eq!(claims("default"), claims("sequential"));
    assert_eq!(claims("local"), claims("sequential"));
}

/// A tuned constant stepsize on two seeds beside an untuned rule: the grid's first round, a
/// widening, then the second seed at the chosen stepsize, which the default executor starts as
/// soon as the grid is decided.
const TUNED: &str = r#"
title = "Executors test (a tuned constant)"
kind = "interplay"
[quick]
seeds = [0, 1]
[quick.base]
model = { kind = "mlp", hidden = [8], activation = "tanh", bias = true }
data = { train_subset = { kind = "first", count = 48 } }
training = { max_steps = 6, chunk_size = 48, checkpoint_every = 2, batch_size = "full" }
sharpness = { measure = { every = 3 }, eval_examples = 16, max_iterations = 8 }
dtype = "f64"
[[quick.series]]
label = "constant (tuned)"
tune = { eta0 = 0.5, exponents = [1, 2, 3], max_widenings = 2 }
[[quick.series]]
label = "armijo"
set = { stepsize = { kind = "armijo" } }
[paper]
"#;

#[test]
fn the_default_executor_resolves_tuning_grids_as_the_sequential_one_does() {
    let scratch = Scratch(common::Scratch::with_files(&[(
        "experiments/tuned.toml",
        TUNED,
    )]));
    scratch.xtask(
        "sequential",
        &[
            "--threads",
            "1",
            "reproduce",
            "tuned",
            "--executor",
            "sequential",
        ],
    );
    let output = scratch.xtask("default", &["--threads", "2", "reproduce", "tuned"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a tuning round ended"), "{stderr}");
    let sequential = scratch.trajectories("sequential");
    assert!(
        sequential.len() >= 5,
        "grid, widening, seed 1, armijo: {}",
        sequential.len()
    );
    let default = scratch.trajectories("default");
    let ids = |runs: &[(String, Vec<stepsharp_runner::trajectory::Row>)]| {
        runs.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&default), ids(&sequential));
    // Compared as text: a diverged run's last row holds NaN, which equals nothing.
    for ((id, rows), (_, expected)) in default.iter().zip(&sequential) {
        assert_eq!(
            format!("{rows:?}"),
            format!("{expected:?}"),
            "run {id} differs"
        );
    }
    let file = |results: &str, name: &str| {
        std::fs::read_to_string(
            scratch
                .root
                .join(results)
                .join("figures/tuned-quick")
                .join(name),
        )
        .unwrap()
    };
    assert_eq!(
        file("default", "claims.md"),
        file("sequential", "claims.md")
    );
    assert_eq!(file("default", "runs.md"), file("sequential", "runs.md"));
}

/// The submission folders under `<results>/slurm`, oldest first (named
/// `<figure>-<scale>-<unix time>[-<k>]`).
fn submissions(results: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(results.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    folders
}

/// The run hashes of the configs a submission folder holds, in task order.
fn submitted_hashes(folder: &Path) -> Vec<String> {
    let configs = folder.join("configs");
    let count = std::fs::read_dir(&configs).unwrap().count();
    (0..count)
        .map(|i| {
            let path = configs.join(format!("{i}.toml"));
            let config = RunConfig::from_file(&path).unwrap();
            run_hash(&config, "")
        })
        .collect()
}

#[test]
fn a_slurm_dry_run_writes_an_array_over_the_missing_runs_only() {
    let scratch = Scratch::new();
    let output = scratch.xtask(
        "results",
        &["reproduce", "tiny", "--executor", "slurm", "--dry-run"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results = scratch.root.join("results");
    let first = submissions(&results);
    assert_eq!(first.len(), 1);
    let array = std::fs::read_to_string(first[0].join("array.sh")).unwrap();
    assert_contains_all(
        &array,
        &[
            "#SBATCH --array=0-3",
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --time=00:10:00",
            "#SBATCH --mem=256M",
            "--threads 1",
            "--wait run",
        ],
    );
    assert!(!array.contains("--gres"), "{array}");
    let plot = std::fs::read_to_string(first[0].join("plot.sh")).unwrap();
    assert!(plot.contains("plot 'tiny'"), "{plot}");
    assert!(stdout.contains("--dependency=afterany:"), "{stdout}");
    assert!(stdout.contains("dry run: nothing submitted"), "{stdout}");
    let hashes = submitted_hashes(&first[0]);
    assert_eq!(hashes.len(), 4);
    let mut distinct = hashes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "one config per run");

    // Once task 0's run has ended, submitting again leaves it out; overrides replace the
    // figure's resources.
    let config = first[0].join("configs/0.toml");
    scratch.xtask("results", &["run", config.to_str().unwrap()]);
    scratch.xtask(
        "results",
        &[
            "reproduce",
            "tiny",
            "--executor",
            "slurm",
            "--dry-run",
            "--time",
            "5",
            "--gres",
            "gpu:1",
        ],
    );
    let second = submissions(&results);
    assert_eq!(second.len(), 2);
    let array = std::fs::read_to_string(second[1].join("array.sh")).unwrap();
    assert_contains_all(
        &array,
        &[
            "#SBATCH --array=0-2",
            "#SBATCH --time=5",
            "#SBATCH --gres=gpu:1",
        ],
    );
    assert_eq!(submitted_hashes(&second[1]), hashes[1..]);
}

#[test]
fn an_invalid_resource_override_names_the_field() {
    let scratch = Scratch::new();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&scratch.root)
        .args([
            "--data",
            "cifar",
            "reproduce",
            "tiny",
            "--executor",
            "slurm",
            "--dry-run",
        ])
        .args(["--mem", "4GB"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("quick.slurm.mem"), "{stderr}");
}

#[test]
fn verify_warns_about_a_figure_computed_on_mixed_cpu_features() {
    let scratch = Scratch::new();
    scratch.xtask("results", &["--threads", "1", "reproduce", "tiny"]);
    let output = scratch.xtask("results", &["verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("warning"), "{stdout}");
    // One run as if computed on another CPU (metadata is not part of what `verify` hashes).
    let (dir, metadata) = list_runs(&scratch.root.join("results")).unwrap().remove(0);
    let mut metadata = metadata.unwrap();
    metadata.machines[0].cpu_features = vec!["some-other-feature".into()];
    dir.write_metadata(&metadata).unwrap();
    let output = scratch.xtask("results", &["verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "warning  tiny (quick scale): runs computed on CPUs with different kernel features"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("[some-other-feature] (1 attempts)"),
        "{stdout}"
    );
}
