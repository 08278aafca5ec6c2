//! Figures with plotters, as PNG and SVG: one panel per (group, metric), one color per series
//! across all panels (a stepsize rule keeps its color in every figure), log axes for losses and
//! stepsizes, a dashed line at 2 on every η·λ_max panel (the edge of stability), and a cross
//! where a run diverged. Density panels (figure kind `spectral_density`) draw the Hessian's
//! spectral density of `density.csv` against λ. A series run with several seeds is drawn as
//! the median over seeds at each step with a shaded min–max band.

mod axes;
mod curves;
mod density;
mod draw;
mod palette;
mod panels;

use std::sync::Once;

use plotters::prelude::*;

use super::{FIGURE_PNG, FIGURE_SVG};
use crate::error::Result;
use crate::figure::{FigureConfig, FigureKind, Scale};
use crate::sweep::{FigureOutput, SimpleModelInputs};
use crate::trajectory::Row;

/// Reads one metric of a trajectory row (None where not measured).
type Metric = fn(&Row) -> Option<f64>;

/// A curve on a panel.
struct Curve {
    label: String,
    color: RGBColor,
    /// The median over seeds at each x (the run itself for one seed).
    points: Vec<(f64, f64)>,
    /// (x, min, max) over seeds at each x; empty for one seed.
    band: Vec<(f64, f64, f64)>,
    /// Draw points only (sparse measurements).
    markers: bool,
    dashed: bool,
    /// Where runs diverged (their last finite point).
    diverged_at: Vec<(f64, f64)>,
}

impl Curve {
    /// A plain line through `points`: no band, no divergence mark.
    fn line(label: String, color: RGBColor, points: Vec<(f64, f64)>, dashed: bool) -> Self {
        Self {
            label,
            color,
            points,
            band: Vec::new(),
            markers: false,
            dashed,
            diverged_at: Vec::new(),
        }
    }
}

/// One panel of a figure.
struct Panel {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    curves: Vec<Curve>,
    /// Horizontal reference lines (value, label).
    hlines: Vec<(f64, String)>,
}

/// Panels in a grid: (rows, columns, panels row by row).
type Layout = (usize, usize, Vec<Panel>);

/// Draws `output` as `figure.png` and `figure.svg` in its folder.
pub(super) fn plot_figure(
    figure: &FigureConfig,
    output: &FigureOutput,
    simple_model: &SimpleModelInputs,
    scale: Scale,
) -> Result<()> {
    let (rows, columns, panels) = match figure.kind {
        FigureKind::Interplay => panels::interplay_panels(output),
        FigureKind::LossCurves => panels::loss_curve_panels(output),
        FigureKind::BatchSensitivity => panels::batch_sensitivity_panels(output),
        FigureKind::EdgeOfStability => panels::eos_panels(output),
        FigureKind::SpectralDensity => density::density_panels(output)?,
        FigureKind::SimpleModel => {
            panels::simple_model_panels(&simple_model.simulated, &simple_model.measured)
        }
    };
    let title = format!("{} ({} scale)", figure.title, scale.name());
    let size = ((360 * columns as u32).max(900), 280 * rows as u32 + 40);
    register_font();
    let png = output.out_dir.join(FIGURE_PNG);
    draw::render(
        BitMapBackend::new(&png, size).into_drawing_area(),
        &title,
        rows,
        columns,
        &panels,
    )?;
    let svg = output.out_dir.join(FIGURE_SVG);
    draw::render(
        SVGBackend::new(&svg, size).into_drawing_area(),
        &title,
        rows,
        columns,
        &panels,
    )?;
    Ok(())
}

fn register_font() {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        // DejaVu Sans ships inside the `dejavu` crate, so text renders without system fonts.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}
