//! Drawing panels with plotters: axes sized to the curves, reference lines, min–max bands,
//! lines (dots for dense or sparse curves), crosses where runs diverged, and a legend.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::axes::{log_ticks, log_ticks_every_digit, tick_label};
use super::{Curve, Panel};

use crate::error::{Error, Result};

/// Curves with more points than this are drawn as dots (see [`draw_line`]).
const DENSE_POINTS: usize = 400;

/// A chart whose x axis is linear and whose y axis is `Y` (linear or logarithmic).
type Chart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// Draws `panels` row by row on `root` under `title`.
pub(super) fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    rows: usize,
    columns: usize,
    panels: &[Panel],
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let body = root.titled(title, ("sans-serif", 22)).map_err(plot_error)?;
    for (area, panel) in body
        .split_evenly((rows.max(1), columns.max(1)))
        .iter()
        .zip(panels)
    {
        draw_panel(area, panel)?;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

/// A plotters error as an [`Error::Plot`].
fn plot_error(error: impl std::fmt::Debug) -> Error {
    Error::Plot {
        message: format!("{error:?}"),
    }
}

/// The x range and the y range of a panel's curves and reference lines (points ≤ 0 left out on
/// a log axis; `[0.1, 1]` when nothing is left).
fn bounds(panel: &Panel) -> (Range<f64>, Range<f64>) {
    let points = panel.curves.iter().flat_map(|c| c.points.iter());
    let (mut x_min, mut x_max) = (0.0f64, 1.0f64);
    let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points.filter(|p| !panel.log_y || p.1 > 0.0) {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    for (v, _) in &panel.hlines {
        y_min = y_min.min(*v);
        y_max = y_max.max(*v);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (0.1, 1.0);
    }
    (x_min..x_max, y_min..y_max)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()> {
    let (x, y) = bounds(panel);
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(&panel.title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60);
    if panel.log_y {
        let (lo, hi) = (y.start * 0.8, (y.end * 1.25).max(y.start * 1.01));
        let chart = chart
            .build_cartesian_2d(
                x.clone(),
                (lo..hi)
                    .log_scale()
                    .with_key_points(log_ticks(lo, hi))
                    .with_light_points(log_ticks_every_digit(lo, hi)),
            )
            .map_err(plot_error)?;
        draw_contents(chart, panel, x)
    } else {
        let pad = ((y.end - y.start) * 0.08).max(1e-9);
        let chart = chart
            .build_cartesian_2d(x.clone(), (y.start - pad)..(y.end + pad))
            .map_err(plot_error)?;
        draw_contents(chart, panel, x)
    }
}

/// The mesh, the reference lines, every curve and the legend of a panel.
fn draw_contents<'a, DB, Y>(
    mut chart: Chart<'a, DB, Y>,
    panel: &Panel,
    x_range: Range<f64>,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Range<f64>: AsRangedCoord,
{
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| tick_label(*y))
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(plot_error)?;
    for (value, label) in &panel.hlines {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x_range.start, *value), (x_range.end, *value)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(plot_error)?
            .label(label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLACK));
    }
    for curve in &panel.curves {
        draw_band(&mut chart, curve, panel.log_y)?;
        draw_line(&mut chart, curve, panel.log_y)?;
        chart
            .draw_series(
                curve
                    .diverged_at
                    .iter()
                    .map(|&point| Cross::new(point, 6, curve.color.stroke_width(2))),
            )
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 10))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// The shaded min–max band of a curve over seeds (nothing for one seed).
fn draw_band<'a, DB, Y>(chart: &mut Chart<'a, DB, Y>, curve: &Curve, log_y: bool) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let band: Vec<(f64, f64, f64)> = curve
        .band
        .iter()
        .copied()
        .filter(|b| !log_y || b.1 > 0.0)
        .collect();
    if band.len() > 1 {
        let outline: Vec<(f64, f64)> = band
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(band.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                curve.color.mix(0.18).filled(),
            )))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// A curve's points, with its legend entry: dashed, as markers on a faint line (sparse
/// measurements), as dots (more than [`DENSE_POINTS`]) or as a line.
fn draw_line<'a, DB, Y>(chart: &mut Chart<'a, DB, Y>, curve: &Curve, log_y: bool) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let color = curve.color;
    // A log axis cannot show η = 0 (e.g. a Polyak step at a zero gradient): leave it out.
    let points: Vec<(f64, f64)> = curve
        .points
        .iter()
        .copied()
        .filter(|p| !log_y || p.1 > 0.0)
        .collect();
    let drawn = if curve.dashed {
        chart.draw_series(DashedLineSeries::new(
            points.clone(),
            5,
            4,
            color.stroke_width(1),
        ))
    } else if curve.markers {
        chart
            .draw_series(LineSeries::new(
                points.clone(),
                color.mix(0.5).stroke_width(1),
            ))
            .map_err(plot_error)?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, color.filled())))
    } else if points.len() > DENSE_POINTS {
        // plotters' bitmap backend draws a polyline that turns sharply at every pixel (a
        // stepsize oscillating each step) with spikes far outside the panel: a dense curve
        // is drawn as a cloud of dots instead.
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 1, color.mix(0.6).filled())),
        )
    } else {
        chart.draw_series(LineSeries::new(points, color.stroke_width(2)))
    }
    .map_err(plot_error)?;
    drawn
        .label(curve.label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2)));
    Ok(())
}
