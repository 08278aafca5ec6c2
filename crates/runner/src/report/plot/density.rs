//! Figure kind `spectral_density`: per run, the Hessian's spectral density at the steps of
//! `sharpness.density` and λ_max against steps, each with 2/η.

use plotters::style::{BLACK, RGBColor};

use super::curves::curve;
use super::palette::Palette;
use super::{Curve, Layout, Panel};
use crate::density::{DensityLineKind, read_density};
use crate::error::Result;
use crate::store::DENSITY_FILE;
use crate::sweep::{FigureOutput, FigureResult};

/// The bottom of a log-scale density panel: smaller densities (the empty gaps between the
/// bulk and the outliers, where the Gaussian kernels underflow) are not drawn. PyHessian plots
/// `φ̂ + 1e-7` for the same reason.
const DENSITY_FLOOR: f64 = 1e-7;

/// The `density` panel of one run: the spectral density at each step of `sharpness.density`
/// (log scale, down to [`DENSITY_FLOOR`]; its grid points are drawn as dots, which keeps the
/// narrow peaks of outliers visible) with a dashed vertical line at `2/η_t` at those steps
/// (one line for a constant η).
fn density_panel(result: &FigureResult) -> Result<Panel> {
    let path = result.outcome.dir.file(DENSITY_FILE);
    let lines = read_density(&path)?;
    let steps: Vec<usize> = lines.iter().fold(Vec::new(), |mut steps, line| {
        if !steps.contains(&line.step) {
            steps.push(line.step);
        }
        steps
    });
    let labels: Vec<String> = steps.iter().map(|s| format!("step {s}")).collect();
    let palette = Palette::plain(&labels);
    let mut curves = Vec::new();
    let mut edges: Vec<(f64, String, RGBColor)> = Vec::new();
    let mut top = DENSITY_FLOOR;
    for (step, label) in steps.iter().zip(&labels) {
        let points: Vec<(f64, f64)> = lines
            .iter()
            .filter(|l| l.step == *step && l.kind == DensityLineKind::Density)
            .filter(|l| l.value >= DENSITY_FLOOR)
            .map(|l| (l.lambda, l.value))
            .collect();
        top = points.iter().map(|p| p.1).fold(top, f64::max);
        let color = palette.color(label);
        curves.push(Curve::line(label.clone(), color, points, false));
        if let Some(eta) = result.outcome.rows.get(*step).map(|r| r.eta) {
            edges.push((
                2.0 / eta,
                format!("2/η = {:.1} ({label})", 2.0 / eta),
                color,
            ));
        }
    }
    let constant = edges.windows(2).all(|w| w[0].0 == w[1].0);
    for (i, (x, label, color)) in edges.into_iter().enumerate() {
        if constant && i > 0 {
            break;
        }
        let (label, color) = if constant {
            (format!("2/η = {x:.1}"), BLACK)
        } else {
            (label, color)
        };
        curves.push(Curve::line(
            label,
            color,
            vec![(x, DENSITY_FLOOR), (x, top)],
            true,
        ));
    }
    Ok(Panel {
        title: format!("{}: spectral density of H", result.run.series),
        x_label: "eigenvalue λ".into(),
        y_label: "density".into(),
        log_y: true,
        curves,
        hlines: Vec::new(),
    })
}

/// Per run (a row): its [`density_panel`], and λ_max against steps with `2/η_t` dashed.
pub(super) fn density_panels(output: &FigureOutput) -> Result<Layout> {
    let palette = Palette::of_runs(output.results.iter());
    let mut panels = Vec::new();
    for result in &output.results {
        panels.push(density_panel(result)?);
        let label = &result.run.series;
        let edge: Vec<(f64, f64)> = result
            .outcome
            .rows
            .iter()
            .filter(|r| r.lambda_max.is_some() && r.eta > 0.0)
            .map(|r| (r.step as f64, 2.0 / r.eta))
            .collect();
        panels.push(Panel {
            title: format!("{label}: sharpness λ_max (dashed: 2/η)"),
            x_label: "step".into(),
            y_label: "λ_max".into(),
            log_y: false,
            curves: vec![
                curve(label, &palette, &[result], |r| r.lambda_max, true),
                Curve::line("2/η".into(), palette.color(label), edge, true),
            ],
            hlines: Vec::new(),
        });
    }
    Ok((output.results.len(), 2, panels))
}
