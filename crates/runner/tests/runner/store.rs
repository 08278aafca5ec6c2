//! The run store at its edges: torn and old checkpoints, locks, non-finite losses, `verify`,
//! and errors that name the path. (Crashes and signals of a real process are in
//! `xtask/tests/xtask/crash.rs`.)

use crate::common;

use std::path::Path;
use std::sync::mpsc;

use serde_json::{Value, json};

use stepsharp_runner::config::RunConfig;
use stepsharp_runner::provenance::Machine;
use stepsharp_runner::status::RunStatus;
use stepsharp_runner::store::RunDir;
use stepsharp_runner::train::{RunOptions, execute};
use stepsharp_runner::trajectory::Row;
use stepsharp_runner::verify::{NO_CONTENT_HASH, verify_runs};

fn without_timing(rows: &[Row]) -> Vec<Row> {
    rows.iter().map(Row::without_timing).collect()
}

/// The tiny MLP with a checkpoint every 2 steps.
fn config() -> RunConfig {
    let mut config = common::tiny_mlp("stepsize = { kind = \"armijo\" }");
    config.training.checkpoint_every = 2;
    config
}

/// The trajectory of an uninterrupted run of `config` (in its own folder).
fn straight(config: &RunConfig) -> Vec<Row> {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let outcome = execute(config, &common::options(dir.path(), &data), &mut |_| {}).unwrap();
    without_timing(&outcome.rows)
}

/// Stops `config` after `steps` steps under `options`; returns the run folder.
fn interrupted(config: &RunConfig, options: &RunOptions, steps: usize) -> RunDir {
    let stopped = RunOptions {
        stop_after: Some(steps),
        ..options.clone()
    };
    let outcome = execute(config, &stopped, &mut |_| {}).unwrap();
    assert_eq!(outcome.status, RunStatus::Running);
    outcome.dir
}

/// The checkpoint manifest of `run`, as JSON.
/// A fresh results folder (kept alive by the returned guard) holding a run of `config`
/// interrupted after 4 steps, with the options that wrote it.
fn after_four_steps(config: &RunConfig) -> (tempfile::TempDir, RunOptions, RunDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    let run = interrupted(config, &options, 4);
    (dir, options, run)
}

fn read_manifest(run: &RunDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.file("checkpoint.json")).unwrap()).unwrap()
}

/// A checkpoint `state` of the current format in the positional layout of formats 1 and 2:
/// `counters = [forward passes, backward passes, HVPs]`, `seconds = [training, tracking]`.
fn positional(state: &Value) -> Value {
    let mut state = state.clone();
    let object = state.as_object_mut().unwrap();
    let counters = object.remove("counters").unwrap();
    let timers = object.remove("timers").unwrap();
    object.insert(
        "counters".into(),
        json!([
            counters["forward_passes"],
            counters["backward_passes"],
            counters["hvps"]
        ]),
    );
    object.insert(
        "seconds".into(),
        json!([timers["train_seconds"], timers["tracking_seconds"]]),
    );
    state
}

fn files_named(dir: &Path, pattern: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(pattern))
        .collect()
}

#[test]
fn a_checkpoint_whose_tensors_do_not_match_its_manifest_is_refused() {
    let config = config();
    let expected = straight(&config);
    let (dir, options, run) = after_four_steps(&config);
    let tensors = files_named(&run.path, ".safetensors");
    assert_eq!(tensors.len(), 1, "{tensors:?}");
    // Another step's weights under the committed name (what a torn write used to leave).
    let other = interrupted(
        &config,
        &RunOptions {
            results: dir.path().join("other"),
            ..options.clone()
        },
        2,
    );
    let other_tensors = files_named(&other.path, ".safetensors");
    std::fs::copy(other.file(&other_tensors[0]), run.file(&tensors[0])).unwrap();
    let resumed = execute(&config, &options, &mut |_| {}).unwrap();
    assert_eq!(without_timing(&resumed.rows), expected);
    assert!(resumed.dir.verify().is_ok());
}

#[test]
fn a_checkpoint_of_an_older_version_resumes_bit_for_bit_or_is_refused_when_torn() {
    let config = config();
    let expected = straight(&config);
    for torn in [false, true] {
        let (_dir, options, run) = after_four_steps(&config);
        // Rewrite the checkpoint as format 1 wrote it: `checkpoint.safetensors`, then a
        // `checkpoint.json` holding the bare state, its counters positional (so the state is
        // newer than the tensors).
        let manifest = read_manifest(&run);
        let tensors = manifest["tensors"].as_str().unwrap();
        std::fs::rename(run.file(tensors), run.file("checkpoint.safetensors")).unwrap();
        let state = serde_json::to_string_pretty(&positional(&manifest["state"])).unwrap();
        std::fs::write(run.file("checkpoint.json"), state).unwrap();
        if torn {
            // Tensors written after the state, as a kill between the two writes left them.
            let later = std::fs::read(run.file("checkpoint.safetensors")).unwrap();
            std::fs::write(run.file("checkpoint.safetensors"), later).unwrap();
        }
        let resumed = execute(&config, &options, &mut |_| {}).unwrap();
        assert_eq!(without_timing(&resumed.rows), expected, "torn: {torn}");
        assert!(!run.file("checkpoint.safetensors").exists());
        assert!(resumed.dir.verify().is_ok());
    }
}

#[test]
fn a_checkpoint_of_format_2_resumes_bit_for_bit_with_its_positional_counters_named() {
    let config = config();
    let expected = straight(&config);
    let (_dir, options, run) = after_four_steps(&config);
    let mut manifest = read_manifest(&run);
    assert_eq!(manifest["format"], 3);
    let mut state = positional(&manifest["state"]);
    let counters = state["counters"].as_array().unwrap().clone();
    assert!(
        counters[0] != counters[1] && counters[1] != counters[2],
        "the counters must differ to show where each one lands: {counters:?}"
    );
    // Wall times far from the real ones, to show where each one lands.
    state["seconds"] = json!([1000.0, 2000.0]);
    manifest["state"] = state;
    manifest["format"] = json!(2);
    let text = serde_json::to_string_pretty(&manifest).unwrap();
    std::fs::write(run.file("checkpoint.json"), text).unwrap();
    let resumed = execute(&config, &options, &mut |_| {}).unwrap();
    assert_eq!(without_timing(&resumed.rows), expected);
    for row in &resumed.rows[4..] {
        assert!((1000.0..2000.0).contains(&row.train_seconds), "{row:?}");
        assert!(row.tracking_seconds >= 2000.0, "{row:?}");
    }
    assert_eq!(
        read_manifest(&run)["format"],
        3,
        "rewritten in the current format"
    );
    assert_eq!(resumed.dir.verify().unwrap().notes, Vec::<String>::new());
}

#[test]
fn a_checkpoint_of_a_later_format_is_refused_naming_the_file_and_the_formats() {
    let config = config();
    let (_dir, options, run) = after_four_steps(&config);
    let mut manifest = read_manifest(&run);
    manifest["format"] = json!(4);
    let text = serde_json::to_string_pretty(&manifest).unwrap();
    std::fs::write(run.file("checkpoint.json"), &text).unwrap();
    let message = format!("{:#}", execute(&config, &options, &mut |_| {}).unwrap_err());
    let path = run.file("checkpoint.json").display().to_string();
    for part in [path.as_str(), "format 4", "formats 1 to 3"] {
        assert!(message.contains(part), "{part} not in {message}");
    }
    let message = format!("{:#}", run.verify().unwrap_err());
    assert!(message.contains("format 4"), "{message}");
    assert_eq!(
        std::fs::read_to_string(run.file("checkpoint.json")).unwrap(),
        text,
        "left as it was"
    );
}

#[test]
fn a_second_writer_is_refused_with_the_run_id_the_lock_and_the_holder() {
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    let (at_step, stepped) = mpsc::channel();
    let (resume, resumed) = mpsc::channel::<()>();
    let (config, options) = (&config, &options);
    let first = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            execute(config, options, &mut |progress| {
                if progress.step == 1 {
                    at_step.send(progress.run_id.to_string()).unwrap();
                    resumed.recv().unwrap();
                }
            })
        });
        let run_id = stepped.recv().unwrap();
        let message = format!("{:#}", execute(config, options, &mut |_| {}).unwrap_err());
        for part in [run_id.as_str(), &format!("{run_id}.lock"), "pid "] {
            assert!(message.contains(part), "{part} not in {message}");
        }
        resume.send(()).unwrap();
        writer.join().unwrap().unwrap()
    });
    assert_eq!(without_timing(&first.rows), straight(config));
}

#[test]
fn a_loss_diverging_to_inf_is_stored_reused_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    // H = 10·I: every term of the loss ½·dᵀHd is positive, so its overflow is +inf whatever
    // the order in which the matrix kernel sums the terms (terms of both signs that overflow to
    // ±inf sum to NaN in some kernels, e.g. gemm's AVX-512 ones, and to inf in others).
    let config = RunConfig::from_toml(
        r#"
model = { kind = "quadratic", spectrum = [10.0, 10.0, 10.0], seed = 3 }
training = { max_steps = 20 }
sharpness = { measure = { every = 5 }, max_iterations = 3, tolerance = 1e-8 }
stepsize = { kind = "constant", eta = 1e200 }
dtype = "f64"
"#,
        "isotropic quadratic",
    )
    .unwrap();
    let outcome = execute(&config, &options, &mut |_| {}).unwrap();
    let RunStatus::Diverged { step, loss } = outcome.status else {
        panic!("expected divergence, got {:?}", outcome.status);
    };
    assert_eq!(loss, f64::INFINITY, "step {step}");
    let again = execute(&config, &options, &mut |_| {}).unwrap();
    assert!(again.reused);
    assert_eq!(again.status, outcome.status);
    let verified = outcome.dir.verify().unwrap();
    assert!(verified.notes.is_empty(), "{verified:?}");
}

#[test]
fn verify_reports_an_edited_trajectory_a_missing_checkpoint_and_a_missing_folder() {
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    let run = execute(&config, &options, &mut |_| {}).unwrap().dir;
    assert_eq!(run.verify().unwrap().notes, Vec::<String>::new());
    let trajectory = run.file("trajectory.csv");
    let original = std::fs::read_to_string(&trajectory).unwrap();
    let edited = original.replacen(",0.", ",1.", 1);
    assert_ne!(edited, original);
    std::fs::write(&trajectory, &edited).unwrap();
    let message = format!("{:#}", run.verify().unwrap_err());
    assert!(message.contains("trajectory.csv was changed"), "{message}");
    std::fs::write(&trajectory, &original).unwrap();
    for tensors in files_named(&run.path, ".safetensors") {
        std::fs::remove_file(run.file(&tensors)).unwrap();
    }
    let message = format!("{:#}", run.verify().unwrap_err());
    assert!(message.contains("missing"), "{message}");
    let missing = dir.path().join("nonexistent");
    let message = verify_runs(&missing).unwrap_err().to_string();
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
}

#[test]
fn runs_written_by_an_older_version_are_read_and_verified_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    let config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 0.1 }");
    let run = execute(&config, &options, &mut |_| {}).unwrap().dir;
    let path = run.file("metadata.json");
    let mut metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let object = metadata.as_object_mut().unwrap();
    object.remove("trajectory_blake3");
    object.remove("checkpoint_blake3");
    object.remove("machines");
    std::fs::write(&path, serde_json::to_string_pretty(&metadata).unwrap()).unwrap();
    let again = execute(&config, &options, &mut |_| {}).unwrap();
    assert!(again.reused);
    assert!(run.metadata().unwrap().unwrap().machines.is_empty());
    assert_eq!(
        run.verify().unwrap().notes,
        vec![NO_CONTENT_HASH.to_string()]
    );
}

#[test]
fn metadata_records_the_machine_of_every_attempt_outside_the_run_id() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        results: dir.path().join("results"),
        ..Default::default()
    };
    let config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 0.1 }");
    let run = interrupted(&config, &options, 2);
    let first = run.metadata().unwrap().unwrap();
    assert_eq!(first.machines, vec![Machine::current()]);
    let resumed = execute(&config, &options, &mut |_| {}).unwrap();
    assert_eq!(
        resumed.dir.hash, run.hash,
        "the machine is not part of the run id"
    );
    let metadata = run.metadata().unwrap().unwrap();
    assert_eq!(metadata.resumes, 1);
    assert_eq!(
        metadata.machines,
        vec![Machine::current(), Machine::current()]
    );
}

#[test]
fn errors_name_the_unusable_results_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let options = RunOptions {
        results: file.clone(),
        ..Default::default()
    };
    let config = common::tiny_quadratic("stepsize = { kind = \"constant\", eta = 0.1 }");
    let message = format!("{:#}", execute(&config, &options, &mut |_| {}).unwrap_err());
    assert!(message.contains(&file.display().to_string()), "{message}");
}

#[test]
fn a_batch_larger_than_the_data_is_rejected_before_a_run_folder_exists() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let options = common::options(dir.path(), &data);
    let mut config = config();
    config.data.train_subset = stepsharp_data::Subset::All;
    config.training.batch_size = stepsharp_data::BatchSize::Size(1000);
    let message = execute(&config, &options, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(message.contains("training.batch_size"), "{message}");
    assert!(!options.results.exists());
}

#[cfg(unix)]
#[test]
fn every_result_file_has_the_same_permission_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = common::fixture(dir.path());
    let run = execute(&config(), &common::options(dir.path(), &data), &mut |_| {})
        .unwrap()
        .dir;
    for entry in std::fs::read_dir(&run.path).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            stepsharp_runner::store::RESULT_FILE_MODE,
            "{:?}",
            entry.file_name()
        );
    }
}
