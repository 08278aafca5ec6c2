//! Tidy checks over the repository's own text (after rust-analyzer's `xtask/src/tidy.rs`): the
//! project speaks of itself, not of how it was developed. No README, doc page, source file,
//! experiment file, gallery report or script names a development session (a number after the
//! word, or "this", "earlier", "later" and the like before it) or cites an issue tracker number
//! (`#` and digits as a word). A measurement is dated by its date and commit, a design is
//! explained by its reason. And the README's Rust snippets are the code of the crates'
//! examples, line for line, so that what a reader copies is what the tests compile.
//!
//! This file passes its own check: the planted examples in the unit tests below are assembled
//! with `concat!`.

use std::fs;
use std::path::{Path, PathBuf};

/// Words before "session" that give it a sense other than a development session (a SLURM job's
/// or a login shell's session).
const OTHER_SENSES: &[&str] = &[
    "slurm",
    "login",
    "ssh",
    "shell",
    "tmux",
    "screen",
    "interactive",
    "user",
    "browser",
    "http",
    "terminal",
    "remote",
    "desktop",
    "x11",
    "database",
    "tls",
];

/// Words before "session" that make it a development one ("this", "earlier", "next").
const DEVELOPMENT_QUALIFIERS: &[&str] = &[
    "this", "that", "earlier", "later", "previous", "next", "prior", "last", "same",
];

/// One word of a line, lower-cased: its stem without quotes or a possessive `'s`, and whether
/// it had that `'s`. (A plural's possessive ends in a bare apostrophe: caught as a plural.)
struct Word {
    stem: String,
    possessive: bool,
    starts_with_digit: bool,
}

/// The words of `line`: runs of letters, digits and apostrophes.
fn words(line: &str) -> Vec<Word> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            let trimmed = lower.trim_matches(|c| c == '\'' || c == '’');
            let possessive = trimmed
                .strip_suffix("'s")
                .or_else(|| trimmed.strip_suffix("’s"));
            let stem = possessive.unwrap_or(trimmed).to_string();
            Word {
                starts_with_digit: stem.starts_with(|c: char| c.is_ascii_digit()),
                possessive: possessive.is_some(),
                stem,
            }
        })
        .collect()
}

/// Whether `line` speaks of a development session: the word followed by a number, after one of
/// [`DEVELOPMENT_QUALIFIERS`], possessive, or plural — unless the word before it gives it
/// another sense ([`OTHER_SENSES`]: a SLURM session).
fn names_a_session(line: &str) -> bool {
    let words = words(line);
    words.iter().enumerate().any(|(i, word)| {
        let plural = match word.stem.strip_prefix("session") {
            Some("") => false,
            Some("s") => true,
            _ => return false,
        };
        let before = i.checked_sub(1).map(|j| words[j].stem.as_str());
        if before.is_some_and(|b| OTHER_SENSES.contains(&b)) {
            return false;
        }
        let numbered = words.get(i + 1).is_some_and(|next| next.starts_with_digit);
        let qualified = before.is_some_and(|b| DEVELOPMENT_QUALIFIERS.contains(&b));
        numbered || qualified || word.possessive || plural
    })
}

/// Whether `line` cites an issue number: `#` followed by digits as a whole word (an issue
/// tracker's reference). Not a Rust attribute (`#[`), a markdown anchor (`(#cuda)`,
/// `#1-setup`), an HTML entity (`&#39;`), a format spec (`{:#04x}`), or a hex colour
/// (`#1f77b4`, and six or eight digits such as `#000000`).
fn cites_an_issue(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != b'#' {
            return false;
        }
        let before = i.checked_sub(1).map(|j| bytes[j]);
        if before
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'&' | b'#' | b':' | b'_'))
        {
            return false;
        }
        let token: Vec<u8> = bytes[i + 1..]
            .iter()
            .copied()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
            .collect();
        !token.is_empty() && token.iter().all(u8::is_ascii_digit) && !matches!(token.len(), 6 | 8)
    })
}

/// Why `line` is untidy, if it is.
fn offence(line: &str) -> Option<&'static str> {
    if names_a_session(line) {
        Some("names a development session")
    } else if cites_an_issue(line) {
        Some("cites an issue number")
    } else {
        None
    }
}

/// The repository's root (the folder above `xtask/`).
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository root")
        .to_path_buf()
}

/// The files directly in `dir` whose name satisfies `keep` (none if `dir` is absent).
fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    files.sort();
    files
}

/// The files under `dir`, recursively, with extension `extension`; build output (`target`)
/// and hidden folders are skipped.
fn files_under(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files_under(&path, extension, found);
            }
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
}

/// Every file the check reads.
fn checked_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join(".ci/run")];
    files_under(&root.join("docs"), "md", &mut files);
    for krate in folders_in(&root.join("crates")) {
        let readme = krate.join("README.md");
        if readme.is_file() {
            files.push(readme);
        }
    }
    files_under(&root.join("crates"), "rs", &mut files);
    files_under(&root.join("xtask"), "rs", &mut files);
    files.extend(files_in(&root.join("experiments"), |n| {
        n.ends_with(".toml")
    }));
    files.extend(files_in(&root.join("experiments/gallery"), |n| {
        n.ends_with(".md")
    }));
    files.extend(files_in(&root.join("xtask/scripts"), |_| true));
    files.extend(files_in(&root.join("xtask/tests"), |n| n.ends_with(".sh")));
    files
}

/// The folders directly in `dir`, sorted.
fn folders_in(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// `path:line: text (why)` for every untidy line of `text`.
fn offences_in(path: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            offence(line).map(|why| format!("{path}:{}: {} ({why})", i + 1, line.trim()))
        })
        .collect()
}

#[test]
fn the_project_speaks_of_itself_only() {
    let root = repository_root();
    let files = checked_files(&root);
    let rust_files = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .count();
    assert!(
        rust_files > 50 && files.iter().any(|f| f.ends_with("README.md")),
        "the walk found too few files ({} in all, {rust_files} Rust): is the root {}?",
        files.len(),
        root.display()
    );
    let mut offences = Vec::new();
    for file in &files {
        let Ok(bytes) = fs::read(file) else {
            continue;
        };
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        offences.extend(offences_in(&relative, &String::from_utf8_lossy(&bytes)));
    }
    assert!(
        offences.is_empty(),
        "{} lines name a development session or an issue number; state the fact instead (a \
         measurement dated by its date and commit):\n{}",
        offences.len(),
        offences.join("\n")
    );
}

#[test]
fn planted_wording_is_caught() {
    let planted = [
        concat!("measured in sess", "ion 7"),
        concat!("see issue #", "14"),
        concat!("Sess", "ion 8, two runs"),
        concat!("took 53.7 min in this sess", "ion"),
        concat!("Earlier sess", "ions' changes that still hold"),
        concat!("sess", "ion 3's binary gave 97.6 min"),
        concat!("that a later sess", "ion could borrow"),
        concat!("on this sess", "ion's shared cores"),
        concat!("The targets (#", "14), on these runs"),
        concat!("checks the 10 cases of #", "13."),
    ];
    for text in planted {
        assert!(offence(text).is_some(), "not caught: {text:?}");
    }
    let report = offences_in("README.md", &format!("fine\n{}\n", planted[0]));
    assert_eq!(report.len(), 1);
    assert!(report[0].starts_with("README.md:2: "), "{report:?}");
}

#[test]
fn legitimate_text_passes() {
    let legitimate = [
        "a SLURM session",
        "the SLURM sessions of a job array",
        "one login session per user",
        "#[derive(Debug)]",
        "#![warn(missing_docs)]",
        "let colour = \"#1f77b4\";",
        "background #000000 and #FFFFFF",
        "see [CUDA](#cuda) and [rules](docs/paper.md#stepsize-rules)",
        "format!(\"{:#04x}\", 7)",
        "r#\"raw\"#",
        "&#39;quoted&#39;",
        "the session table of the density",
        "measured on 2026-11-30 (commit 5ba6188)",
    ];
    for text in legitimate {
        assert_eq!(offence(text), None, "flagged: {text:?}");
    }
}

/// The ```` ```rust ```` blocks of a Markdown text, each as its lines.
fn rust_blocks(markdown: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```rust") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.push(line),
            (None, _) => {}
        }
    }
    blocks
}

/// The lines of `block` (trimmed, non-empty) that no file in `sources` contains as a line.
fn lines_missing_from<'a>(block: &[&'a str], sources: &[String]) -> Vec<&'a str> {
    block
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .filter(|line| {
            !sources
                .iter()
                .any(|source| source.lines().any(|l| l.trim() == *line))
        })
        .collect()
}

#[test]
fn readme_snippets_are_the_examples_code() {
    let root = repository_root();
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut examples = Vec::new();
    for krate in folders_in(&root.join("crates")) {
        examples.extend(files_in(&krate.join("examples"), |name| {
            name.ends_with(".rs")
        }));
    }
    let sources: Vec<String> = examples
        .iter()
        .map(|path| fs::read_to_string(path).expect("an example"))
        .collect();
    let blocks = rust_blocks(&readme);
    assert!(
        blocks.len() >= 3 && sources.len() >= 3,
        "expected the README's three snippets and the crates' examples ({} blocks, {} examples)",
        blocks.len(),
        sources.len()
    );
    for block in &blocks {
        let missing = lines_missing_from(block, &sources);
        assert!(
            missing.is_empty(),
            "README.md shows code that no crate example runs (copy it from the example, which \
             the tests compile): {missing:?}"
        );
    }
}

#[test]
fn a_snippet_line_not_in_an_example_is_caught() {
    let readme = "text\n```rust\nlet a = 1;\nlet b = 2;\n```\n```toml\nx = 1\n```\n";
    let blocks = rust_blocks(readme);
    assert_eq!(blocks, vec![vec!["let a = 1;", "let b = 2;"]]);
    let sources = vec!["fn main() {\n    let a = 1;\n}\n".to_string()];
    assert_eq!(lines_missing_from(&blocks[0], &sources), vec!["let b = 2;"]);
}
