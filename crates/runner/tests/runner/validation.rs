//! Config errors name the field path (or the unknown key) and the allowed range.

use stepsharp_runner::config::RunConfig;

/// The error of `text` as printed: its whole chain, as anyhow's `{:#}` writes it.
#[track_caller]
fn error_of(text: &str) -> String {
    match RunConfig::from_toml(text, "experiments/bad.toml") {
        Ok(_) => panic!("config unexpectedly valid:\n{text}"),
        Err(error) => format!("{:#}", anyhow::Error::from(error)),
    }
}

#[test]
fn unknown_keys_are_rejected_with_their_name_and_file() {
    let message = error_of("training = { max_step = 10 }");
    assert!(
        message.contains("max_step") && message.contains("experiments/bad.toml"),
        "{message}"
    );
    let message = error_of("stepsize = { kind = \"armijo\", shrinkk = 0.5 }");
    assert!(message.contains("shrinkk"), "{message}");
    let message = error_of("sharpness = { density = { every = 5, stepz = 3 } }");
    assert!(message.contains("stepz"), "{message}");
}

#[test]
fn out_of_range_values_name_the_field_path_and_range() {
    let cases = [
        (
            "sharpness = { tolerance = 2.0 }",
            "sharpness.tolerance",
            "(0, 1)",
        ),
        ("training = { max_steps = 0 }", "training.max_steps", "≥ 1"),
        (
            "training = { batch_size = 0 }",
            "batch_size",
            "positive integer",
        ),
        (
            "sharpness = { method = \"power\", k = 3 }",
            "sharpness.k",
            "lanczos",
        ),
        (
            "training = { divergence_threshold = -1.0 }",
            "training.divergence_threshold",
            "positive",
        ),
        (
            "sharpness = { trace = {} }",
            "sharpness.trace",
            "`every = n`",
        ),
        (
            "sharpness = { trace = { every = 0 } }",
            "sharpness.trace.every",
            "≥ 1",
        ),
        (
            "sharpness = { trace = { every = 5, min_probes = 1 } }",
            "sharpness.trace.min_probes",
            "at least 2",
        ),
        (
            "sharpness = { density = { steps = [0, 100] } }",
            "sharpness.density.steps",
            "below training.max_steps = 100",
        ),
        (
            "sharpness = { density = { every = 5, lanczos_steps = 0 } }",
            "sharpness.density.lanczos_steps",
            "at least 1",
        ),
        (
            "sharpness = { density = { every = 5, kernel_variance = 0.0 } }",
            "sharpness.density.kernel_variance",
            "above 0",
        ),
    ];
    for (text, field, range) in cases {
        let message = error_of(text);
        assert!(
            message.contains(field) && message.contains(range),
            "{text} -> {message}"
        );
    }
}

#[test]
fn nested_rule_errors_name_the_rule_field() {
    let message = error_of("stepsize = { kind = \"armijo\", shrink = 1.5 }");
    assert!(
        message.contains("stepsize") && message.contains("shrink"),
        "{message}"
    );
}

#[test]
fn a_quadratic_cannot_use_mini_batches() {
    let message = error_of(
        "model = { kind = \"quadratic\", spectrum = [1.0] }\ntraining = { batch_size = 4 }",
    );
    assert!(message.contains("training.batch_size"), "{message}");
}

/// Without the `cuda` feature, `device = "cuda"` fails when the device is opened (before any
/// run folder exists), naming the field, the feature to build with and the CPU alternative.
/// A CUDA build opens GPU 0 instead: `xtask/scripts/gpu-check.sh` covers that side.
#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_in_a_build_without_the_feature_names_the_field_and_the_fix() {
    let config = RunConfig::from_toml("device = \"cuda\"", "experiments/gpu.toml").unwrap();
    let message = config.device.open().unwrap_err().to_string();
    for part in ["`device` = cuda", "--features cuda", "device = \"cpu\""] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}
