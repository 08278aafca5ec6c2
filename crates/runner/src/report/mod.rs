//! What a reader sees of a figure, written into its folder: the plot ([`FIGURE_PNG`],
//! [`FIGURE_SVG`]), the claims report ([`CLAIMS_FILE`]: the paper's claims judged on the runs'
//! robust statistics, see [`crate::claims`]) and the table of runs ([`RUNS_FILE`]). Everything here
//! is a function of the runs' outcomes and the figure file: nothing is read from a path of its
//! own, and nothing is computed that a run would compute.

pub(crate) mod claims;
mod plot;
mod runs_table;

use std::path::{Path, PathBuf};

use crate::config::Precision;
use crate::error::{Context, Result};
use crate::figure::{FigureConfig, Scale};
use crate::store::{FIGURES_DIR, write_atomic};
use crate::sweep::{FigureOutput, SimpleModelInputs};

/// The same figure's runs in the other floating-point precision: a cross-check of its verdicts.
pub struct PrecisionCounterpart {
    /// The counterpart's precision.
    pub precision: Precision,
    /// Its runs.
    pub output: FigureOutput,
}

/// The figure as a PNG image.
pub const FIGURE_PNG: &str = "figure.png";
/// The figure as an SVG image.
pub const FIGURE_SVG: &str = "figure.svg";
/// The claims report (Markdown).
pub const CLAIMS_FILE: &str = "claims.md";
/// The table of runs and grid searches (Markdown).
pub const RUNS_FILE: &str = "runs.md";
/// The claims of the figure in both precisions side by side (Markdown), when the other
/// precision's runs exist.
pub const PRECISION_FILE: &str = "precision.md";

/// The files of a figure's folder, in the order a reader looks at them.
pub const REPORT_FILES: [&str; 4] = [FIGURE_PNG, FIGURE_SVG, CLAIMS_FILE, RUNS_FILE];

/// The folder of the figure `name` at `scale`: `<results>/figures/<name>-<scale>/`, or with
/// a precision override `dtype`, `<results>/figures/<name>-<scale>-<dtype>/` (its runs are
/// other runs).
pub fn figure_dir(results: &Path, name: &str, scale: Scale, dtype: Option<Precision>) -> PathBuf {
    let suffix = dtype.map_or(String::new(), |d| format!("-{}", d.name()));
    results
        .join(FIGURES_DIR)
        .join(format!("{name}-{}{suffix}", scale.name()))
}

/// The (name, scale, precision override) of every figure folder under `<results>/figures/`,
/// sorted (none when the folder does not exist; other entries are skipped).
pub fn figure_dirs(results: &Path) -> Vec<(String, Scale, Option<Precision>)> {
    let Ok(entries) = std::fs::read_dir(results.join(FIGURES_DIR)) else {
        return Vec::new();
    };
    let variants = [Scale::Quick, Scale::Paper].into_iter().flat_map(|scale| {
        [None, Some(Precision::F32), Some(Precision::F64)]
            .into_iter()
            .map(move |dtype| (scale, dtype))
    });
    let mut figures: Vec<(String, Scale, Option<Precision>)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let folder = e.file_name().to_string_lossy().into_owned();
            variants.clone().find_map(|(scale, dtype)| {
                let suffix = format!(
                    "-{}{}",
                    scale.name(),
                    dtype.map_or(String::new(), |d| format!("-{}", d.name()))
                );
                let name = folder.strip_suffix(&suffix)?;
                Some((name.to_string(), scale, dtype))
            })
        })
        .collect();
    figures.sort_by(|a, b| {
        let key = |f: &(String, Scale, Option<Precision>)| {
            (f.0.clone(), f.1.name(), f.2.map_or("", Precision::name))
        };
        key(a).cmp(&key(b))
    });
    figures
}

/// Plots the figure `name` at `scale` and writes its claims report and its table of runs into
/// `output.out_dir` (created if missing); `simple_model` holds what a `simple_model` figure
/// draws besides its runs. With `counterpart`, the claims are also judged on the figure's runs
/// in the other precision: fragile verdicts are marked and [`PRECISION_FILE`] is written.
pub fn write_report(
    figure: &FigureConfig,
    name: &str,
    scale: Scale,
    output: &FigureOutput,
    simple_model: &SimpleModelInputs,
    counterpart: Option<&PrecisionCounterpart>,
) -> Result<()> {
    let out_dir = &output.out_dir;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the figure folder {}", out_dir.display()))?;
    plot::plot_figure(figure, output, simple_model, scale)?;
    let report = claims::claims_report(figure, name, scale, output, simple_model, counterpart)?;
    write_atomic(&out_dir.join(CLAIMS_FILE), report.claims.as_bytes())?;
    if let Some(precision) = &report.precision {
        write_atomic(&out_dir.join(PRECISION_FILE), precision.as_bytes())?;
    }
    write_atomic(
        &out_dir.join(RUNS_FILE),
        runs_table::runs_table(name, scale, output).as_bytes(),
    )?;
    Ok(())
}
