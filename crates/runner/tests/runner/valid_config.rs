//! `ValidRunConfig`: the validated form of a run config reads, hashes and deserializes like
//! the plain one, and its readers agree with each other.

use stepsharp_runner::config::{RunConfig, ValidRunConfig};
use stepsharp_runner::figure::{Scale, load_figure};
use stepsharp_runner::hash::{canonical_json, run_hash};

fn experiments_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

#[test]
fn a_valid_config_has_the_canonical_form_and_run_id_of_its_config() {
    let text =
        "model = { kind = \"quadratic\", spectrum = [4.0, 1.0] }\nstepsize = { kind = \"polyak\" }";
    let valid = ValidRunConfig::from_toml(text, "test").unwrap();
    let plain = RunConfig::from_toml(text, "test").unwrap();
    assert_eq!(*valid, plain);
    assert_eq!(canonical_json(&valid), canonical_json(&plain));
    assert_eq!(run_hash(&valid, "data"), run_hash(&plain, "data"));
    assert_eq!(valid.into_config(), plain);
}

/// Every partial run config of every experiment file (each scale's `base`, and each group's
/// and series' `set`) deserializes from its table exactly as from its TOML text: the figure
/// loader's reader (`from_table`) and the text reader it replaced agree, so run ids are kept.
#[test]
fn reading_a_table_agrees_with_reading_its_text() {
    let mut compared = 0;
    for entry in std::fs::read_dir(experiments_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let figure = load_figure(&path).unwrap();
        for scale in [Scale::Quick, Scale::Paper] {
            let spec = figure.scale(scale);
            let tables = std::iter::once(&spec.base)
                .chain(spec.groups.iter().map(|g| &g.set))
                .chain(spec.series.iter().map(|s| &s.set));
            for table in tables {
                let text = toml::to_string(table).unwrap();
                let from_table = ValidRunConfig::from_table(table.clone(), "table").ok();
                let from_text = ValidRunConfig::from_toml(&text, "text").ok();
                assert_eq!(from_table, from_text, "{}: {text}", path.display());
                compared += usize::from(from_table.is_some());
            }
        }
    }
    assert!(compared > 50, "only {compared} valid tables compared");
}
