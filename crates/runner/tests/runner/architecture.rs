//! The runner's modules import one way (see the crate README's "Architecture"): the run layer
//! (configs, the store, training) knows nothing of figures; figure files (`figure`) know runs;
//! running a figure (`sweep`) knows both; the report (`report`: plots, claims, the runs table)
//! knows all three; `reproduce` ties the sweep to the report. This test reads the sources and
//! fails on an import against that order, so an import loop cannot come back unnoticed.
//!
//! In every crate of the workspace (`crates/*`, `xtask`), no two modules import each other
//! (`use crate::…`, `use super::…`, `crate::x::…` paths, names re-exported by a parent
//! followed to the module that defines them); a module and its own submodules are one unit.

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

/// Which top-level module each facade module of `lib.rs` (`pub mod name { pub use
/// crate::module::…; }`) comes from.
fn facades(lib: &str) -> BTreeMap<String, String> {
    let mut origin = BTreeMap::new();
    for (at, _) in lib.match_indices("pub mod ") {
        let rest = &lib[at + "pub mod ".len()..];
        let name_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if !rest[name_end..].trim_start().starts_with('{') {
            continue;
        }
        let open = at
            + "pub mod ".len()
            + rest[..name_end].len()
            + rest[name_end..].find('{').expect("a body");
        let body = braced(lib, open);
        let modules: Vec<String> = crate_imports(body);
        let module = modules
            .first()
            .expect("a facade re-exports from a module")
            .clone();
        assert!(
            modules.iter().all(|m| *m == module),
            "facade from several modules: {modules:?}"
        );
        origin.insert(rest[..name_end].to_string(), module);
    }
    origin
}

#[test]
fn modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let origin = facades(&lib);
    assert_eq!(
        origin.get("claims").map(String::as_str),
        Some("report"),
        "lib.rs facades not understood: {origin:?}"
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
    let lib = "pub mod config;\npub mod claims {\n    //! Claims.\n    pub use crate::report::claims::{Claim, figure_claims};\n}\n";
    let origin = facades(lib);
    assert_eq!(origin.len(), 1, "{origin:?}");
    assert_eq!(origin["claims"], "report");
    let imports =
        crate_imports("use crate::{claims::Claim, figure::Scale};\nlet x = crate::report::x();");
    assert_eq!(imports, ["claims", "figure", "report"]);
    assert!(layer_of(&origin["claims"]) > layer_of("store"));
    assert!(layer_of("figure") > layer_of("store"));
}

/// A module path inside its crate (`[]` is the crate root).
type ModulePath = Vec<String>;

/// One crate's modules: each module's file and code, and the names each module re-exports
/// (`pub use`), with the path each comes from.
struct Modules {
    files: BTreeMap<ModulePath, PathBuf>,
    code: BTreeMap<ModulePath, String>,
    reexports: BTreeMap<ModulePath, BTreeMap<String, ModulePath>>,
}

/// Code only: a doc link or a comment is not an import.
fn code_of(source: &str) -> String {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| line.find(" //").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module a file under `src` is: `lib.rs`/`main.rs` the root, `a/mod.rs` and `a.rs` the
/// module `a`, `a/b.rs` the module `a::b`.
fn module_of(relative: &Path) -> ModulePath {
    let mut path: ModulePath = relative
        .components()
        .map(|c| c.as_os_str().to_str().expect("UTF-8 file name").to_string())
        .collect();
    let last = path.pop().expect("a file");
    let stem = last.trim_end_matches(".rs");
    if !(path.is_empty() && (stem == "lib" || stem == "main")) && stem != "mod" {
        path.push(stem.to_string());
    }
    path
}

/// The items of a list, split at top-level commas.
fn list_items(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0, 0, Vec::new());
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
}

/// The paths of the use tree (or path expression) at the start of `text`, `a::{b, c::d}`
/// giving `a::b` and `a::c::d`, and how many bytes of `text` it spans.
fn use_tree(text: &str) -> (Vec<ModulePath>, usize) {
    let trimmed = text.trim_start();
    let skipped = text.len() - trimmed.len();
    if trimmed.starts_with('{') {
        let inner = braced(trimmed, 0);
        let paths = list_items(inner)
            .into_iter()
            .flat_map(|item| use_tree(item).0)
            .collect();
        return (paths, skipped + inner.len() + 2);
    }
    let end = trimmed
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    let segment = &trimmed[..end];
    if !segment.is_empty() && trimmed[end..].starts_with("::") {
        let (rest, used) = use_tree(&trimmed[end + 2..]);
        let paths = rest
            .into_iter()
            .map(|path| std::iter::once(segment.to_string()).chain(path).collect())
            .collect();
        return (paths, skipped + end + 2 + used);
    }
    let path = if segment.is_empty() || segment == "self" {
        Vec::new()
    } else {
        vec![segment.to_string()]
    };
    (vec![path], skipped + end)
}

/// The byte ranges of inline modules (`mod name { … }`) in `code`.
fn inline_modules(code: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    for (at, _) in code.match_indices("mod ") {
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + 4..];
        let name = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name > 0 && rest[name..].trim_start().starts_with('{') {
            let open = at + 4 + name + (rest[name..].len() - rest[name..].trim_start().len());
            ranges.push(open..open + braced(code, open).len() + 2);
        }
    }
    ranges
}

impl Modules {
    /// The crate whose sources are under `src`.
    fn read(src: &Path) -> Self {
        let mut found = Vec::new();
        sources(src, &mut found);
        let mut code = BTreeMap::new();
        let mut files = BTreeMap::new();
        for file in found {
            let module = module_of(file.strip_prefix(src).expect("inside src"));
            let source = std::fs::read_to_string(&file).expect("source readable");
            code.insert(module.clone(), code_of(&source));
            files.insert(module, file);
        }
        Self::new(files, code)
    }

    /// Modules from their files and code (the code of each as `code_of` leaves it).
    fn new(files: BTreeMap<ModulePath, PathBuf>, code: BTreeMap<ModulePath, String>) -> Self {
        let mut modules = Self {
            files,
            code,
            reexports: BTreeMap::new(),
        };
        let mut reexports = BTreeMap::new();
        for (module, code) in &modules.code {
            let mut names = BTreeMap::new();
            for visibility in ["pub use ", "pub(crate) use ", "pub(super) use "] {
                for (at, _) in code.match_indices(visibility) {
                    for path in use_tree(&code[at + visibility.len()..]).0 {
                        if let (Some(name), Some(absolute)) =
                            (path.last(), modules.absolute(module, &path, 0))
                        {
                            names.insert(name.clone(), absolute);
                        }
                    }
                }
            }
            reexports.insert(module.clone(), names);
        }
        modules.reexports = reexports;
        modules
    }

    /// The modules declared directly inside `module`.
    fn children(&self, module: &ModulePath) -> Vec<String> {
        self.files
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect()
    }

    /// `path` as written in `module` (inside `inline` inline modules), from the crate root; `None`
    /// for another crate's path.
    fn absolute(&self, module: &ModulePath, path: &[String], inline: usize) -> Option<ModulePath> {
        let first = path.first()?;
        let mut base = module.clone();
        let rest = match first.as_str() {
            "crate" => {
                base.clear();
                &path[1..]
            }
            "self" => &path[1..],
            "super" => {
                let supers = path.iter().take_while(|s| *s == "super").count();
                let up = supers.saturating_sub(inline);
                base.truncate(
                    base.len()
                        .checked_sub(up)
                        .expect("super above the crate root"),
                );
                &path[supers..]
            }
            child if self.children(module).iter().any(|c| c == child) => path,
            _ => return None,
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The module that defines what the crate-absolute `path` names, through re-exports.
    fn resolve(&self, path: &[String], hops: usize) -> ModulePath {
        let mut module = Vec::new();
        for (i, segment) in path.iter().enumerate() {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.files.contains_key(&child) {
                module = child;
                continue;
            }
            if let Some(origin) = self.reexports.get(&module).and_then(|r| r.get(segment))
                && hops < 16
                && origin.as_slice() != path
            {
                let mut through: ModulePath = origin.clone();
                through.extend(path[i + 1..].iter().cloned());
                return self.resolve(&through, hops + 1);
            }
            break;
        }
        module
    }

    /// The modules `module` imports from, each with the first path that imports it. A
    /// module's `pub use` of its own submodules is structure (like `mod`), not an import.
    fn imports(&self, module: &ModulePath) -> BTreeMap<ModulePath, String> {
        let code = &self.code[module];
        let inline = inline_modules(code);
        let mut starts: Vec<usize> = ["crate::", "super::", "self::"]
            .into_iter()
            .map(String::from)
            .chain(self.children(module).into_iter().map(|c| c + "::"))
            .flat_map(|prefix| {
                code.match_indices(&prefix)
                    .map(|(at, _)| at)
                    .collect::<Vec<_>>()
            })
            .filter(|&at| {
                !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            })
            .collect();
        starts.sort_unstable();
        let mut found = BTreeMap::new();
        let mut covered = 0;
        for at in starts {
            if at < covered {
                continue; // inside a use tree already read
            }
            let (paths, used) = use_tree(&code[at..]);
            covered = at + used;
            let statement = &code[code[..at].rfind([';', '}']).map_or(0, |s| s + 1)..at];
            let reexport = statement.contains("pub use ")
                || statement.contains("pub(crate) use ")
                || statement.contains("pub(super) use ");
            let depth = inline.iter().filter(|r| r.contains(&at)).count();
            for path in paths {
                let Some(absolute) = self.absolute(module, &path, depth) else {
                    continue;
                };
                let target = self.resolve(&absolute, 0);
                let own_submodule = target.len() > module.len() && target.starts_with(module);
                if target != *module && !(reexport && own_submodule) {
                    found.entry(target).or_insert_with(|| path.join("::"));
                }
            }
        }
        found
    }

    /// Every pair of modules that import each other, as their files with the import each way.
    /// A module and its own submodules are not such a pair: a submodule is part of its parent
    /// (its parent declares it, may re-export and call it, and it may use its parent's items).
    fn two_module_cycles(&self) -> Vec<(PathBuf, PathBuf, String, String)> {
        let imports: BTreeMap<&ModulePath, BTreeMap<ModulePath, String>> =
            self.code.keys().map(|m| (m, self.imports(m))).collect();
        let mut cycles = Vec::new();
        for (a, from_a) in &imports {
            for (b, a_to_b) in from_a {
                if *a < b
                    && !b.starts_with(a)
                    && let Some(b_to_a) = imports.get(b).and_then(|from_b| from_b.get(*a))
                {
                    cycles.push((
                        self.files[*a].clone(),
                        self.files[b].clone(),
                        a_to_b.clone(),
                        b_to_a.clone(),
                    ));
                }
            }
        }
        cycles
    }
}

/// The repository's root (two folders above this crate).
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// The source folders of every crate in the workspace: `crates/*/src` and `xtask/src`.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ readable")
        .map(|entry| entry.expect("entry").path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    folders.sort();
    folders.push(root.join("xtask/src"));
    folders
}

#[test]
fn no_two_modules_of_a_crate_import_each_other() {
    let root = repository_root();
    let mut described = Vec::new();
    for src in crate_sources(&root) {
        for (a, b, a_to_b, b_to_a) in Modules::read(&src).two_module_cycles() {
            let a = a.strip_prefix(&root).expect("in the repository");
            let b = b.strip_prefix(&root).expect("in the repository");
            described.push(format!(
                "{} ↔ {} ({a_to_b} one way, {b_to_a} the other)",
                a.display(),
                b.display()
            ));
        }
    }
    assert!(
        described.is_empty(),
        "modules that import each other (break the cycle):\n{}",
        described.join("\n")
    );
}

#[test]
fn the_check_sees_two_modules_that_import_each_other() {
    let module = |path: &str| -> ModulePath {
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let crate_of = |sources: &[(&str, &str)]| {
        let files = sources
            .iter()
            .map(|(m, _)| (module(m), PathBuf::from(format!("{m}.rs"))))
            .collect();
        let code = sources
            .iter()
            .map(|(m, c)| (module(m), code_of(c)))
            .collect();
        Modules::new(files, code)
    };
    let lib = "mod a;\nmod b;\nmod error;\nmod outer;\npub use error::Error;\n";
    // `a` names `b` through the crate root's re-export of `b`'s item, `b` names `a` directly.
    let cycle = crate_of(&[
        ("", &format!("{lib}pub use b::Thing;\n")),
        ("a", "use crate::{Error, Thing};\n"),
        ("b", "pub struct Thing;\nfn f() { crate::a::g() }\n"),
        ("error", "pub struct Error;\n"),
        ("outer", ""),
    ]);
    let cycles = cycle.two_module_cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert_eq!(
        (cycles[0].0.to_str(), cycles[0].1.to_str()),
        (Some("a.rs"), Some("b.rs"))
    );
    assert_eq!(
        (cycles[0].2.as_str(), cycles[0].3.as_str()),
        ("crate::Thing", "crate::a::g")
    );

    // Siblings through `super::` (one of them named through the parent's re-export) import
    // each other. A parent and its submodule that use each other's items, a comment and a
    // test module's `use super::*` are no cycle.
    let nested = crate_of(&[
        ("", lib),
        ("a", "// crate::b::x\n"),
        ("b", ""),
        (
            "error",
            "mod tests { use super::*; use crate::outer::y; }\n",
        ),
        (
            "outer",
            "mod inner;\nmod left;\nmod right;\npub use inner::Inner;\nfn f() { inner::g() }\n",
        ),
        ("outer::inner", "use super::f;\n"),
        (
            "outer::left",
            "use super::{right::R, Inner};\npub struct L;\n",
        ),
        ("outer::right", "use super::left::L;\npub struct R;\n"),
    ]);
    let pairs: Vec<String> = nested
        .two_module_cycles()
        .iter()
        .map(|(a, b, _, _)| format!("{} ↔ {}", a.display(), b.display()))
        .collect();
    assert_eq!(pairs, ["outer::left.rs ↔ outer::right.rs"]);
}
