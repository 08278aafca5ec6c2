//! Shared fixtures of the runner's integration tests: synthetic CIFAR-shaped data (no real
//! files needed) and tiny run configs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use stepsharp_runner::config::RunConfig;
use stepsharp_runner::train::RunOptions;

/// Writes a synthetic CIFAR-10 folder (5 × 20 training records, 10 test records) into `dir`.
pub fn fixture(dir: &Path) -> PathBuf {
    let data = dir.join("cifar");
    stepsharp_data::write_fixture(&data, 20, 10, 7).expect("fixture written");
    data
}

/// Options that read `data` and write results under `dir`.
pub fn options(dir: &Path, data: &Path) -> RunOptions {
    RunOptions {
        results: dir.join("results"),
        data_dir: Some(data.to_path_buf()),
        ..Default::default()
    }
}

/// A tiny full-batch MLP run on the fixture, in f64, measuring sharpness every 3 steps.
pub fn tiny_mlp(extra: &str) -> RunConfig {
    let text = format!(
        r#"
model = {{ kind = "mlp", hidden = [8], activation = "tanh", bias = true }}
loss = "mse"
data = {{ train_subset = {{ kind = "first", count = 64 }} }}
training = {{ max_steps = 8, chunk_size = 32, checkpoint_every = 3 }}
sharpness = {{ measure = {{ every = 3 }}, eval_examples = 32, max_iterations = 20, tolerance = 1e-6 }}
dtype = "f64"
{extra}
"#
    );
    RunConfig::from_toml(&text, "tiny_mlp").expect("tiny config is valid")
}

/// A quadratic run (no data).
pub fn tiny_quadratic(extra: &str) -> RunConfig {
    let text = format!(
        r#"
model = {{ kind = "quadratic", spectrum = [10.0, 3.0, 1.0, 0.5, 0.1], seed = 3 }}
training = {{ max_steps = 20 }}
sharpness = {{ measure = {{ every = 5 }}, max_iterations = 5, tolerance = 1e-8 }}
dtype = "f64"
{extra}
"#
    );
    RunConfig::from_toml(&text, "tiny_quadratic").expect("quadratic config is valid")
}
