//! What a reader sees of a figure, written into its folder: the plot ([`FIGURE_PNG`],
//! [`FIGURE_SVG`]), the claims report ([`CLAIMS_FILE`]: the paper's claims judged on the runs'
//! robust statistics, see [`claims`]) and the table of runs ([`RUNS_FILE`]). Everything here
//! is a function of the runs' outcomes and the figure file: nothing is read from a path of its
//! own, and nothing is computed that a run would compute.

pub(crate) mod claims;
mod plot;
mod runs_table;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::figure::{FigureConfig, Scale};
use crate::sweep::{FigureOutput, SimpleModelInputs};
use crate::{FIGURES_DIR, write_atomic};

/// The figure as a PNG image.
pub const FIGURE_PNG: &str = "figure.png";
/// The figure as an SVG image.
pub const FIGURE_SVG: &str = "figure.svg";
/// The claims report (Markdown).
pub const CLAIMS_FILE: &str = "claims.md";
/// The table of runs and grid searches (Markdown).
pub const RUNS_FILE: &str = "runs.md";

/// The files of a figure's folder, in the order a reader looks at them.
pub const REPORT_FILES: [&str; 4] = [FIGURE_PNG, FIGURE_SVG, CLAIMS_FILE, RUNS_FILE];

/// The folder of the figure `name` at `scale`: `<results>/figures/<name>-<scale>/`.
pub fn figure_dir(results: &Path, name: &str, scale: Scale) -> PathBuf {
    results
        .join(FIGURES_DIR)
        .join(format!("{name}-{}", scale.name()))
}

/// The (name, scale) of every figure folder under `<results>/figures/`, sorted (none when the
/// folder does not exist; other entries are skipped).
pub fn figure_dirs(results: &Path) -> Vec<(String, Scale)> {
    let Ok(entries) = std::fs::read_dir(results.join(FIGURES_DIR)) else {
        return Vec::new();
    };
    let mut figures: Vec<(String, Scale)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let folder = e.file_name().to_string_lossy().into_owned();
            [Scale::Quick, Scale::Paper].into_iter().find_map(|scale| {
                let name = folder.strip_suffix(&format!("-{}", scale.name()))?;
                Some((name.to_string(), scale))
            })
        })
        .collect();
    figures.sort_by(|a, b| (&a.0, a.1.name()).cmp(&(&b.0, b.1.name())));
    figures
}

/// Plots the figure `name` at `scale` and writes its claims report and its table of runs into
/// `output.out_dir` (created if missing); `simple_model` holds what a `simple_model` figure
/// draws besides its runs.
pub fn write_report(
    figure: &FigureConfig,
    name: &str,
    scale: Scale,
    output: &FigureOutput,
    simple_model: &SimpleModelInputs,
) -> anyhow::Result<()> {
    let out_dir = &output.out_dir;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the figure folder {}", out_dir.display()))?;
    plot::plot_figure(figure, output, simple_model, scale)?;
    let report = claims::claims_report(figure, name, scale, output, simple_model)?;
    write_atomic(&out_dir.join(CLAIMS_FILE), report.as_bytes())?;
    write_atomic(
        &out_dir.join(RUNS_FILE),
        runs_table::runs_table(name, scale, output).as_bytes(),
    )?;
    Ok(())
}
