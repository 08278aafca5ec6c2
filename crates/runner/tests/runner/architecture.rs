//! The runner's modules import one way (see the README's "Architecture"): the run layer
//! (configs, the store, training) knows nothing of figures; figure files (`figure`) know runs;
//! running a figure (`sweep`) knows both; the report (`report`: plots, claims, the runs table)
//! knows all three; `reproduce` ties the sweep to the report. This test reads the sources and
//! fails on an import against that order, so an import loop cannot come back unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may import its own layer and the ones below.
const LAYERS: [&str; 5] = ["runs", "figure", "sweep", "report", "reproduce"];

/// The layer of a top-level module (every module not named here is part of the run layer).
fn layer_of(module: &str) -> usize {
    LAYERS.iter().position(|l| *l == module).unwrap_or(0)
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The text between `open` (at `start`) and its matching `}`.
fn braced(text: &str, start: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start + 1..start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in a use list");
}

/// The first path segment of every item of a `use` list, split at top-level commas.
fn first_segments(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in list.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            let end = item
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(item.len());
            item[..end].to_string()
        })
        .filter(|segment| !segment.is_empty() && segment != "self")
        .collect()
}

/// The first segment after every `crate::` in `text` (expanding `crate::{a, b}` lists).
fn crate_imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = at + "crate::".len();
        if text[rest..].starts_with('{') {
            found.extend(first_segments(braced(text, rest)));
        } else {
            found.extend(
                first_segments(&text[rest..text.len().min(rest + 80)])
                    .into_iter()
                    .take(1),
            );
        }
    }
    found
}

/// Which top-level module each name re-exported by `lib.rs` (`pub use module::{…}`) comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut origin = BTreeMap::new();
    for (at, _) in lib.match_indices("pub use ") {
        let rest = &lib[at + "pub use ".len()..];
        let module = rest.split("::").next().expect("a path").trim().to_string();
        let after = at + "pub use ".len() + module.len() + 2;
        let names = if lib[after..].starts_with('{') {
            first_segments(braced(lib, after))
        } else {
            first_segments(&lib[after..lib[after..].find(';').map_or(lib.len(), |e| after + e)])
        };
        for name in names {
            origin.insert(name, module.clone());
        }
    }
    origin
}

#[test]
fn modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let origin = reexports(&lib);
    assert!(
        origin.contains_key("reproduce") && origin.contains_key("RunConfig"),
        "lib.rs re-exports not understood: {origin:?}"
    );
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a module")
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(file).expect("source readable");
        // Code only: a doc link is not an import.
        let code: String = source
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for segment in crate_imports(&code) {
            let target = origin.get(&segment).cloned().unwrap_or(segment.clone());
            if layer_of(&target) > layer_of(&module) {
                violations.push(format!(
                    "{} ({} layer) imports `{segment}` from `{target}` ({} layer)",
                    relative.display(),
                    LAYERS[layer_of(&module)],
                    LAYERS[layer_of(&target)]
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layers:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_against_the_layers() {
    let lib = "pub use figure::{FigureConfig, Scale};\npub use report::write_report;\n";
    let origin = reexports(lib);
    assert_eq!(origin["Scale"], "figure");
    assert_eq!(origin["write_report"], "report");
    let imports = crate_imports("use crate::{ConfigError, Scale};\nlet x = crate::report::x();");
    assert_eq!(imports, ["ConfigError", "Scale", "report"]);
    assert!(layer_of(&origin["Scale"]) > layer_of("store"));
}
