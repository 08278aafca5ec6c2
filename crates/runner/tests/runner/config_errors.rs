//! A value that a lower crate rejects keeps that crate's typed error as the source of the
//! runner's `ConfigError`, whose message names the full field path and where the config came
//! from (the file; for a figure also the scale, group and series).

use std::error::Error;
use std::path::PathBuf;

use stepsharp_data::DataError;
use stepsharp_models::ModelError;
use stepsharp_runner::config::{ConfigError, RunConfig};
use stepsharp_runner::figure::load_figure;
use stepsharp_sharpness::SharpnessError;
use stepsharp_stepsize::StepsizeError;

/// `error` and its sources, outermost first.
fn chain<'a>(error: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut chain = vec![error];
    let mut next = error.source();
    while let Some(source) = next {
        chain.push(source);
        next = source.source();
    }
    chain
}

/// The first error of type `E` in the source chain of `error` (itself included).
fn find_in_chain<'a, E: Error + 'static>(error: &'a (dyn Error + 'static)) -> Option<&'a E> {
    chain(error).into_iter().find_map(|e| e.downcast_ref::<E>())
}

/// `error` as printed with its sources, like anyhow's `{:#}`: messages joined by `": "`.
fn printed(error: &(dyn Error + 'static)) -> String {
    let messages: Vec<String> = chain(error).iter().map(ToString::to_string).collect();
    messages.join(": ")
}

/// A run config file holding `text` in a temporary folder (kept alive by the returned guard).
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Reads `text` from a file and checks what every lower-crate error shares: the error is
/// [`ConfigError::In`] the file, `field()` is `field`, and the printed chain names the file, the
/// field with its value, then the lower crate's own message. Returns the error.
#[track_caller]
fn rejected(text: &str, field: &str, value: &str) -> ConfigError {
    let (_dir, path) = config_file(text);
    let error = RunConfig::from_file(&path).unwrap_err();
    let ConfigError::In { origin, .. } = &error else {
        panic!("expected ConfigError::In, got {error:?}");
    };
    assert_eq!(origin, &path.display().to_string());
    assert_eq!(error.field().as_deref(), Some(field));
    let printed = printed(&error);
    let expected = format!(
        "{}: invalid value for `{field}` = {value}: ",
        path.display()
    );
    assert!(printed.starts_with(&expected), "{printed}");
    error
}

#[test]
fn stepsize_errors_name_the_field_path_and_keep_the_stepsize_error() {
    let error = rejected(
        "stepsize = { kind = \"armijo\", c = 1.5 }",
        "stepsize.c",
        "1.5",
    );
    let ConfigError::In { error: inner, .. } = &error else {
        unreachable!()
    };
    assert!(matches!(**inner, ConfigError::Stepsize(_)), "{inner:?}");
    let source = find_in_chain::<StepsizeError>(&error).expect("a StepsizeError in the chain");
    assert_eq!(
        source,
        &StepsizeError::InvalidConfig {
            field: "armijo.c",
            value: 1.5,
            expected: "0 < c < 1",
        }
    );
}

#[test]
fn model_errors_name_the_field_path_and_keep_the_model_error() {
    let error = rejected(
        "model = { kind = \"mlp\", hidden = [8, 0] }",
        "model.hidden",
        "[8, 0]",
    );
    let source = find_in_chain::<ModelError>(&error).expect("a ModelError in the chain");
    assert!(
        matches!(
            source,
            ModelError::InvalidConfig {
                field: "mlp.hidden",
                ..
            }
        ),
        "{source:?}"
    );
}

#[test]
fn data_errors_name_the_field_path_and_keep_the_data_error() {
    let error = rejected(
        "data = { train_subset = { kind = \"class_balanced_first\", count = 15 } }",
        "data.train_subset.count",
        "15",
    );
    let source = find_in_chain::<DataError>(&error).expect("a DataError in the chain");
    assert!(
        matches!(source, DataError::InvalidConfig { field, .. } if field == "train_subset.count"),
        "{source:?}"
    );
}

#[test]
fn sharpness_estimator_errors_name_the_runner_field_and_keep_the_sharpness_error() {
    let error = rejected(
        "sharpness = { trace = { every = 5, min_probes = 1 } }",
        "sharpness.trace.min_probes",
        "1",
    );
    let source = find_in_chain::<SharpnessError>(&error).expect("a SharpnessError in the chain");
    assert!(
        matches!(
            source,
            SharpnessError::InvalidConfig {
                field: "min_probes",
                ..
            }
        ),
        "{source:?}"
    );
    // The estimator's `steps` is the table's `lanczos_steps`.
    let error = rejected(
        "sharpness = { density = { every = 5, lanczos_steps = 0 } }",
        "sharpness.density.lanczos_steps",
        "0",
    );
    let source = find_in_chain::<SharpnessError>(&error).expect("a SharpnessError in the chain");
    assert!(
        matches!(source, SharpnessError::InvalidConfig { field: "steps", .. }),
        "{source:?}"
    );
}

/// A figure's error names the file and the scale (the figure loader) and the group and series
/// (the run config's origin), and still reaches the stepsize crate's error.
#[test]
fn a_figure_error_names_file_scale_group_series_and_field() {
    let figure = r#"
title = "bad"
kind = "interplay"
[quick.base]
model = { kind = "quadratic", spectrum = [1.0] }
[[quick.group]]
label = "full batch"
[[quick.series]]
label = "armijo"
set = { stepsize = { kind = "armijo", c = 1.5 } }
[paper]
"#;
    let (_dir, path) = config_file(figure);
    let error = load_figure(&path).unwrap_err();
    let printed = format!("{error:#}");
    let expected = format!(
        "{}: scale `quick`: group `full batch`, series `armijo`: \
         invalid value for `stepsize.c` = 1.5: expected 0 < c < 1: ",
        path.display()
    );
    assert!(printed.starts_with(&expected), "{printed}");
    assert_eq!(printed, self::printed(&error));
    let config_error = error.find::<ConfigError>().expect("a ConfigError");
    assert_eq!(config_error.field().as_deref(), Some("stepsize.c"));
    assert!(error.find::<StepsizeError>().is_some(), "{error:?}");
    assert!(
        find_in_chain::<StepsizeError>(&error).is_some(),
        "{error:?}"
    );
}
