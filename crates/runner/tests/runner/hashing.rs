//! Run identity: the hash depends on what determines a run and on nothing else.

use stepsharp_runner::config::RunConfig;
use stepsharp_runner::hash::{canonical_json, run_hash};

fn parse(text: &str) -> RunConfig {
    RunConfig::from_toml(text, "test").expect("valid config")
}

const BASE: &str = r#"
model = { kind = "mlp", hidden = [200, 200], activation = "tanh", bias = true }
training = { max_steps = 100, batch_size = "full" }
stepsize = { kind = "constant", eta = 1 }
"#;

#[test]
fn reordered_keys_and_number_spelling_do_not_change_the_hash() {
    let reordered = r#"
stepsize = { eta = 1.0, kind = "constant" }
training = { batch_size = "full", max_steps = 100 }
model = { bias = true, activation = "tanh", kind = "mlp", hidden = [200, 200] }
"#;
    assert_eq!(
        run_hash(&parse(BASE), "data"),
        run_hash(&parse(reordered), "data")
    );
    let exponent = BASE.replace("eta = 1", "eta = 1e0");
    assert_eq!(
        run_hash(&parse(BASE), "data"),
        run_hash(&parse(&exponent), "data")
    );
}

#[test]
fn defaults_filled_in_equal_explicit_defaults() {
    let explicit = format!("{BASE}\ndtype = \"f32\"\ndevice = \"cpu\"\nseeds = {{ init = 0 }}");
    assert_eq!(
        run_hash(&parse(BASE), "data"),
        run_hash(&parse(&explicit), "data")
    );
}

#[test]
fn every_semantic_change_changes_the_hash() {
    let base = run_hash(&parse(BASE), "data");
    let variants = [
        BASE.replace("eta = 1", "eta = 1.0000001"),
        BASE.replace("max_steps = 100", "max_steps = 101"),
        BASE.replace("[200, 200]", "[200, 100]"),
        BASE.replace("\"tanh\"", "\"relu\""),
        format!("{BASE}\nseeds = {{ init = 1 }}"),
        format!("{BASE}\ndtype = \"f64\""),
        format!("{BASE}\nsharpness = {{ k = 2 }}"),
    ];
    for variant in &variants {
        assert_ne!(base, run_hash(&parse(variant), "data"), "{variant}");
    }
    assert_ne!(base, run_hash(&parse(BASE), "other data"));
}

#[test]
fn canonical_form_sorts_keys_and_is_stable() {
    let text = canonical_json(&parse(BASE));
    assert!(
        text.contains(r#""stepsize":{"eta":1,"kind":"constant"}"#),
        "{text}"
    );
    assert_eq!(text, canonical_json(&parse(BASE)));
}

/// A config whose id was written by the version before `sharpness.trace`,
/// `sharpness.density` and `direction` existed (commit ac10784, `xtask run` of this text):
/// [`PINNED_ID`].
fn pinned() -> RunConfig {
    parse(
        r#"
model = { kind = "quadratic", spectrum = [10.0, 3.0, 1.0, 0.5, 0.1], seed = 3 }
training = { max_steps = 2 }
stepsize = { kind = "constant", eta = 0.1 }
dtype = "f64"
"#,
    )
}

/// The id of [`pinned`], as that version wrote it.
const PINNED_ID: &str = "74a7ce67e97e405d";

#[test]
fn runs_without_trace_or_density_keep_their_ids() {
    let old = pinned();
    assert_eq!(&run_hash(&old, "no data")[..16], PINNED_ID);
    let text = canonical_json(&old);
    assert!(
        !text.contains("trace") && !text.contains("density"),
        "{text}"
    );
    let mut traced = old.clone();
    traced.sharpness.trace = Some(toml::from_str("every = 10").expect("a valid trace table"));
    assert_ne!(run_hash(&traced, "no data"), run_hash(&old, "no data"));
}

#[test]
fn runs_without_a_direction_keep_their_ids() {
    let old = pinned();
    assert!(!canonical_json(&old).contains("direction"));
    assert_eq!(&run_hash(&old, "no data")[..16], PINNED_ID);
    // An explicit table, even gradient descent's, is another run.
    let mut explicit = old.clone();
    explicit.direction = Some(stepsharp_direction::DirectionConfig::GradientDescent);
    assert_ne!(run_hash(&explicit, "no data"), run_hash(&old, "no data"));
    let mut adam = old.clone();
    adam.direction = Some(stepsharp_direction::DirectionConfig::Adam(
        Default::default(),
    ));
    let text = canonical_json(&adam);
    assert!(text.contains(r#""direction":{"beta1":0.9"#), "{text}");
    assert_ne!(run_hash(&adam, "no data"), run_hash(&explicit, "no data"));
}
