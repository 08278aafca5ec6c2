//! The numbers of a `spectral_density` figure: per run and density step, the top of the spectrum
//! against the edge of stability `2/η_t`, the trace, and what each estimate cost in HVPs.
//! No claim of the paper is judged on them; they are what the figure shows, as a table.

use std::fmt::Write;

use super::fmt;
use crate::density::{DensityLine, DensityLineKind, read_density};
use crate::error::Result;
use crate::store::DENSITY_FILE;
use crate::sweep::FigureResult;
use crate::trajectory::Row;

/// How many of the largest Ritz nodes the table lists.
const TOP_NODES: usize = 3;

/// The density section (headed `## Spectrum`): one line per run and step of `density.csv`.
pub fn density_section(results: &[FigureResult]) -> Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "## Spectrum\n\nPer run and density step: the stepsize η_t and the edge 2/η_t; λ_max by \
         Lanczos; the {TOP_NODES} largest Ritz nodes of the density's probes; how many of the nodes \
         (all probes) lie above 2/η_t, and their share of the spectrum (quadrature weight, mean over probes: about \
         (number of eigenvalues above 2/η_t) / (number of parameters)); tr(H) ± its standard \
         error (Hutchinson); the HVPs of λ_max (Lanczos), the trace and the density.\n"
    )?;
    writeln!(
        out,
        "| series | step | η_t | 2/η_t | λ_max | top Ritz nodes | nodes > 2/η_t | share > 2/η_t \
         | tr(H) ± SE | HVPs λ / trace / density |\n|---|---|---|---|---|---|---|---|---|---|"
    )?;
    for result in results {
        let lines = read_density(&result.outcome.dir.file(DENSITY_FILE))?;
        let mut steps: Vec<usize> = lines.iter().map(|l| l.step).collect();
        steps.dedup();
        for step in steps {
            if let Some(row) = result.outcome.rows.get(step) {
                write_step(&mut out, &result.run.series, step, row, &lines)?;
            }
        }
    }
    Ok(out)
}

/// The table line of density step `step` of a run (`row`: its trajectory row).
fn write_step(
    out: &mut String,
    series: &str,
    step: usize,
    row: &Row,
    lines: &[DensityLine],
) -> std::fmt::Result {
    let edge = 2.0 / row.eta;
    let ritz: Vec<(usize, f64, f64)> = lines
        .iter()
        .filter(|l| l.step == step && l.kind == DensityLineKind::Ritz)
        .map(|l| (l.probe.unwrap_or(0), l.lambda, l.value))
        .collect();
    let probes = ritz.iter().map(|r| r.0 + 1).max().unwrap_or(1);
    let mut nodes: Vec<f64> = ritz.iter().map(|r| r.1).collect();
    nodes.sort_by(|a, b| b.total_cmp(a));
    let top: Vec<String> = nodes
        .iter()
        .take(TOP_NODES)
        .map(|v| format!("{v:.2}"))
        .collect();
    let above = nodes.iter().filter(|&&v| v > edge).count();
    let share = ritz
        .iter()
        .filter(|r| r.1 > edge)
        .fold(0.0, |total, r| total + r.2)
        / probes as f64;
    let trace = match (row.trace, row.trace_standard_error) {
        (Some(t), Some(se)) => format!("{t:.1} ± {se:.1}"),
        _ => "-".into(),
    };
    let count = |v: Option<u64>| v.map_or("-".into(), |n| n.to_string());
    writeln!(
        out,
        "| {series} | {step} | {:.4} | {edge:.1} | {} | {} | {above} of {} | {share:.1e} \
         | {trace} | {} / {} / {} |",
        row.eta,
        fmt(row.lambda_max),
        top.join(", "),
        nodes.len(),
        count(row.lambda_hvps),
        count(row.trace_hvps),
        count(row.density_hvps),
    )
}
