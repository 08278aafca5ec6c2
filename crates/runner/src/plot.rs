//! Figures with plotters, as PNG and SVG: one panel per (group, metric), one color per series
//! label across all panels, log axes for losses and stepsizes, a dashed line at 2 on every
//! η·λ_max panel (the edge of stability), and a cross where a run diverged. Density panels
//! (figure kind `spectrum`) draw the Hessian's spectral density of `density.csv` against λ. A series run with
//! several seeds is drawn as the median over seeds at each step with a shaded min–max band.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use stepsharp_data::BatchSize;
use stepsharp_quadratic::{ModelPoint, simulate};

use crate::figure::{FigureConfig, FigureKind, FigureOutput, FigureResult, Scale};
use crate::stats::median;
use crate::{Row, RunOptions, RunStatus};

/// Curves with more points than this are drawn as dots (see `draw_curves`).
const DENSE_POINTS: usize = 400;

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

/// Simple-model trajectories of a figure (empty unless it has `[[simple_model]]` entries).
pub fn simple_model_trajectories(
    figure: &FigureConfig,
) -> anyhow::Result<Vec<(String, Vec<ModelPoint>)>> {
    figure
        .simple_model
        .iter()
        .map(|series| Ok((series.label.clone(), simulate(&series.model, series.steps)?)))
        .collect()
}

/// Draws `output` as `figure.png` and `figure.svg` in its folder.
pub fn plot_figure(
    figure: &FigureConfig,
    output: &FigureOutput,
    simple_model: &[(String, Vec<ModelPoint>)],
    measured: &[FigureResult],
    scale: Scale,
) -> anyhow::Result<()> {
    let (rows, columns, panels) = match figure.kind {
        FigureKind::Interplay => interplay_panels(output),
        FigureKind::LossCurves => loss_curve_panels(output),
        FigureKind::BatchSensitivity => batch_sensitivity_panels(output),
        FigureKind::EdgeOfStability => eos_panels(output),
        FigureKind::Spectrum => spectrum_panels(output)?,
        FigureKind::SimpleModel => simple_model_panels(simple_model, measured),
    };
    let title = format!("{} ({} scale)", figure.title, scale.name());
    let size = ((360 * columns as u32).max(900), 280 * rows as u32 + 40);
    register_font();
    let png = output.out_dir.join("figure.png");
    render(
        BitMapBackend::new(&png, size).into_drawing_area(),
        &title,
        rows,
        columns,
        &panels,
    )?;
    let svg = output.out_dir.join("figure.svg");
    render(
        SVGBackend::new(&svg, size).into_drawing_area(),
        &title,
        rows,
        columns,
        &panels,
    )?;
    Ok(())
}

/// The runs of the figure named in `measured_from` (figure4 draws figure3's full-batch runs of
/// untuned series), read from the cache: they must have been run.
pub fn measured_runs(
    figure: &FigureConfig,
    options: &RunOptions,
    scale: Scale,
) -> anyhow::Result<Vec<FigureResult>> {
    let Some(name) = &figure.measured_from else {
        return Ok(Vec::new());
    };
    let path = Path::new("experiments").join(format!("{name}.toml"));
    let source = crate::load_figure(&path)?;
    let cached = RunOptions {
        reuse_only: true,
        ..options.clone()
    };
    let mut measured = Vec::new();
    for run in source.runs(scale)? {
        if run.config.training.batch_size != BatchSize::Full
            || source.tune_of(scale, &run.series).is_some()
        {
            continue;
        }
        let outcome = crate::execute(&run.config, &cached, &mut |_| {}).map_err(|error| {
            anyhow::anyhow!(
                "run `{}` of {name} is missing ({error}): run `cargo xtask reproduce {name}` first",
                run.label()
            )
        })?;
        measured.push(FigureResult { run, outcome });
    }
    Ok(measured)
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

/// One color per series label, the same in every panel: the rule names (constant, Armijo,
/// Polyak, CDAT) keep their own color in every figure when they are the first label with that
/// prefix; every other label takes the next unused palette entry, in order of appearance.
fn color_of(label: &str, labels: &[String]) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    const RULES: [&str; 4] = ["constant", "armijo", "polyak", "cdat"];
    let mut used = [false; PALETTE.len()];
    let mut assigned: Vec<usize> = Vec::with_capacity(labels.len());
    for candidate in labels {
        let lower = candidate.to_lowercase();
        let preferred = RULES
            .iter()
            .position(|rule| lower.starts_with(rule))
            .filter(|&i| !used[i]);
        let index = preferred
            .or_else(|| {
                (RULES.len()..PALETTE.len())
                    .chain(0..RULES.len())
                    .find(|&i| !used[i])
            })
            .unwrap_or(assigned.len() % PALETTE.len());
        used[index] = true;
        assigned.push(index);
    }
    let index = labels
        .iter()
        .position(|l| l == label)
        .map_or(0, |i| assigned[i]);
    PALETTE[index]
}

/// The distinct values of `key` over the figure's runs, in first-appearance order.
fn distinct(output: &FigureOutput, key: fn(&crate::FigureResult) -> &String) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for result in &output.results {
        if !values.contains(key(result)) {
            values.push(key(result).clone());
        }
    }
    values
}

fn series_labels(output: &FigureOutput) -> Vec<String> {
    distinct(output, |r| &r.run.series)
}

fn groups(output: &FigureOutput) -> Vec<String> {
    distinct(output, |r| &r.run.group)
}

/// The runs of each series label, in order of first appearance (one run per seed).
fn by_series<'a>(
    results: impl Iterator<Item = &'a FigureResult>,
) -> Vec<(String, Vec<&'a FigureResult>)> {
    let mut series: Vec<(String, Vec<&FigureResult>)> = Vec::new();
    for result in results {
        match series.iter_mut().find(|(l, _)| l == &result.run.series) {
            Some((_, runs)) => runs.push(result),
            None => series.push((result.run.series.clone(), vec![result])),
        }
    }
    series
}

/// The curve of `metric` over the runs (seeds) of one series: the median at each step where
/// any run has a finite value, with the min–max band when there are several runs.
fn curve(
    label: &str,
    labels: &[String],
    runs: &[&FigureResult],
    metric: Metric,
    markers: bool,
) -> Curve {
    let mut by_step: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    let mut diverged_at = Vec::new();
    for run in runs {
        let points: Vec<(usize, f64)> = run
            .outcome
            .rows
            .iter()
            .filter_map(|r| metric(r).filter(|v| v.is_finite()).map(|v| (r.step, v)))
            .collect();
        if matches!(run.outcome.status, RunStatus::Diverged { .. })
            && let Some(&(step, value)) = points.last()
        {
            diverged_at.push((step as f64, value));
        }
        for (step, value) in points {
            by_step.entry(step).or_default().push(value);
        }
    }
    let points = by_step
        .iter()
        .filter_map(|(&step, values)| median(values).map(|m| (step as f64, m)))
        .collect();
    let band = if runs.len() > 1 {
        by_step
            .iter()
            .map(|(&step, values)| {
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (step as f64, lo, hi)
            })
            .collect()
    } else {
        Vec::new()
    };
    Curve {
        label: if runs.len() > 1 {
            format!("{label} (median of {} seeds)", runs.len())
        } else {
            label.to_string()
        },
        color: color_of(label, labels),
        points,
        band,
        markers,
        dashed: false,
        diverged_at,
    }
}

fn loss_metric(full_batch: bool) -> Metric {
    if full_batch {
        |r| Some(r.loss)
    } else {
        |r| r.eval_loss
    }
}

fn interplay_panels(output: &FigureOutput) -> (usize, usize, Vec<Panel>) {
    let labels = series_labels(output);
    let groups = groups(output);
    let mut panels = Vec::new();
    for group in &groups {
        let runs: Vec<_> = output
            .results
            .iter()
            .filter(|r| &r.run.group == group)
            .collect();
        let full = runs
            .first()
            .is_some_and(|r| r.run.config.training.batch_size == BatchSize::Full);
        let specs: [(&str, bool, Metric, bool); 4] = [
            (
                if full {
                    "train loss"
                } else {
                    "train loss (eval set)"
                },
                true,
                loss_metric(full),
                !full,
            ),
            ("stepsize η", true, |r| Some(r.eta), false),
            ("sharpness λ_max", true, |r| r.lambda_max, true),
            ("η·λ_max", false, |r| r.eta_lambda, true),
        ];
        for (i, (name, log_y, metric, markers)) in specs.into_iter().enumerate() {
            panels.push(Panel {
                title: if group.is_empty() {
                    name.to_string()
                } else {
                    format!("{group}: {name}")
                },
                x_label: "step".into(),
                y_label: name.into(),
                log_y,
                curves: by_series(runs.iter().copied())
                    .iter()
                    .map(|(label, runs)| curve(label, &labels, runs, metric, markers))
                    .collect(),
                hlines: if i == 3 {
                    vec![(2.0, "η·λ = 2".into())]
                } else {
                    Vec::new()
                },
            });
        }
    }
    (groups.len(), 4, panels)
}

/// A panel of the training loss (log axis) of `results`, one curve per series.
fn loss_panel<'a>(
    title: String,
    results: impl Iterator<Item = &'a FigureResult>,
    labels: &[String],
) -> Panel {
    Panel {
        title,
        x_label: "step".into(),
        y_label: "train loss".into(),
        log_y: true,
        curves: by_series(results)
            .iter()
            .map(|(label, runs)| curve(label, labels, runs, |r| Some(r.loss), false))
            .collect(),
        hlines: Vec::new(),
    }
}

fn loss_curve_panels(output: &FigureOutput) -> (usize, usize, Vec<Panel>) {
    let labels = series_labels(output);
    let panels: Vec<Panel> = groups(output)
        .iter()
        .map(|group| {
            let runs = output.results.iter().filter(|r| &r.run.group == group);
            loss_panel(format!("{group}: train loss"), runs, &labels)
        })
        .collect();
    (1, panels.len(), panels)
}

fn batch_sensitivity_panels(output: &FigureOutput) -> (usize, usize, Vec<Panel>) {
    let labels = series_labels(output);
    let groups = groups(output);
    let final_of = |rows: &[Row], metric: Metric| rows.iter().rev().find_map(metric);
    let mut panels = Vec::new();
    let metrics: [(&str, bool, Metric); 2] = [
        ("final train loss (eval set)", true, |r| r.eval_loss),
        ("final test accuracy", false, |r| r.test_accuracy),
    ];
    for (name, log_y, metric) in metrics {
        let curves = labels
            .iter()
            .map(|label| {
                let points = groups
                    .iter()
                    .enumerate()
                    .filter_map(|(x, g)| {
                        let finals: Vec<f64> = output
                            .results
                            .iter()
                            .filter(|r| &r.run.group == g && &r.run.series == label)
                            .filter_map(|r| final_of(&r.outcome.rows, metric))
                            .filter(|v| v.is_finite())
                            .collect();
                        median(&finals).map(|v| (x as f64, v))
                    })
                    .collect();
                Curve::line(label.clone(), color_of(label, &labels), points, false)
            })
            .collect();
        panels.push(Panel {
            title: name.into(),
            x_label: format!("batch size: {}", groups.join(", ")),
            y_label: name.into(),
            log_y,
            curves,
            hlines: Vec::new(),
        });
    }
    (1, 2, panels)
}

fn eos_panels(output: &FigureOutput) -> (usize, usize, Vec<Panel>) {
    let labels = series_labels(output);
    let loss = loss_panel("train loss".into(), output.results.iter(), &labels);
    let mut sharpness = Panel {
        title: "sharpness λ_max (dashed: 2/η)".into(),
        x_label: "step".into(),
        y_label: "λ_max".into(),
        log_y: false,
        curves: Vec::new(),
        hlines: Vec::new(),
    };
    for (label, runs) in by_series(output.results.iter()) {
        sharpness
            .curves
            .push(curve(&label, &labels, &runs, |r| r.lambda_max, true));
        if let stepsharp_stepsize::RuleConfig::Constant(c) = &runs[0].run.config.stepsize {
            let last = runs[0].outcome.rows.len().max(1) as f64;
            sharpness.curves.push(Curve::line(
                format!("2/η ({label})"),
                color_of(&label, &labels),
                vec![(0.0, 2.0 / c.eta), (last, 2.0 / c.eta)],
                true,
            ));
        }
    }
    (1, 2, vec![loss, sharpness])
}

/// The bottom of a log-scale density panel: smaller densities (the empty gaps between the
/// bulk and the outliers, where the Gaussian kernels underflow) are not drawn. PyHessian plots
/// `φ̂ + 1e-7` for the same reason.
const DENSITY_FLOOR: f64 = 1e-7;

/// The `density` panel of one run: the spectral density at each step of `sharpness.density`
/// (log scale, down to [`DENSITY_FLOOR`]; its grid points are drawn as dots, which keeps the
/// narrow peaks of outliers visible) with a dashed vertical line at `2/η_t` at those steps
/// (one line for a constant η).
fn density_panel(result: &FigureResult) -> anyhow::Result<Panel> {
    let path = result.outcome.dir.file(crate::store::DENSITY_FILE);
    let lines = crate::read_density(&path)?;
    let steps: Vec<usize> = lines.iter().fold(Vec::new(), |mut steps, line| {
        if !steps.contains(&line.step) {
            steps.push(line.step);
        }
        steps
    });
    let labels: Vec<String> = steps.iter().map(|s| format!("step {s}")).collect();
    let mut curves = Vec::new();
    let mut edges: Vec<(f64, String, RGBColor)> = Vec::new();
    let mut top = DENSITY_FLOOR;
    for (step, label) in steps.iter().zip(&labels) {
        let points: Vec<(f64, f64)> = lines
            .iter()
            .filter(|l| l.step == *step && l.kind == crate::DensityLineKind::Density)
            .filter(|l| l.value >= DENSITY_FLOOR)
            .map(|l| (l.lambda, l.value))
            .collect();
        top = points.iter().map(|p| p.1).fold(top, f64::max);
        let color = color_of(label, &labels);
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
fn spectrum_panels(output: &FigureOutput) -> anyhow::Result<(usize, usize, Vec<Panel>)> {
    let labels = series_labels(output);
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
                curve(label, &labels, &[result], |r| r.lambda_max, true),
                Curve::line("2/η".into(), color_of(label, &labels), edge, true),
            ],
            hlines: Vec::new(),
        });
    }
    Ok((output.results.len(), 2, panels))
}

fn simple_model_panels(
    model: &[(String, Vec<ModelPoint>)],
    measured: &[FigureResult],
) -> (usize, usize, Vec<Panel>) {
    let model_labels: Vec<String> = model.iter().map(|(l, _)| l.clone()).collect();
    let measured = by_series(measured.iter());
    let measured_labels: Vec<String> = measured.iter().map(|(l, _)| l.clone()).collect();
    let model_curve = |metric: fn(&ModelPoint) -> f64| -> Vec<Curve> {
        model
            .iter()
            .map(|(label, points)| {
                let points = points
                    .iter()
                    .map(|p| (p.step as f64, metric(p)))
                    .filter(|p| p.1.is_finite() && p.1 > 0.0)
                    .collect();
                Curve::line(label.clone(), color_of(label, &model_labels), points, false)
            })
            .collect()
    };
    let measured_curve = |metric: Metric| -> Vec<Curve> {
        measured
            .iter()
            .map(|(label, runs)| curve(label, &measured_labels, runs, metric, true))
            .collect()
    };
    let panel = |title: &str, log_y: bool, curves: Vec<Curve>, edge: bool| Panel {
        title: title.into(),
        x_label: "step".into(),
        y_label: title.into(),
        log_y,
        curves,
        hlines: if edge {
            vec![(2.0, "η·λ = 2".into())]
        } else {
            Vec::new()
        },
    };
    let panels = vec![
        panel("model: λ_t", true, model_curve(|p| p.lambda), false),
        panel("model: η_t·λ_t", false, model_curve(|p| p.eta_lambda), true),
        panel(
            "measured (full batch): λ_max",
            true,
            measured_curve(|r| r.lambda_max),
            false,
        ),
        panel(
            "measured (full batch): η·λ_max",
            false,
            measured_curve(|r| r.eta_lambda),
            true,
        ),
    ];
    (2, 2, panels)
}

fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    rows: usize,
    columns: usize,
    panels: &[Panel],
) -> anyhow::Result<()> {
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

fn plot_error(error: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {error:?}")
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> anyhow::Result<()> {
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
    let mut chart = ChartBuilder::on(area);
    chart
        .caption(&panel.title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60);
    if panel.log_y {
        let (lo, hi) = (y_min * 0.8, (y_max * 1.25).max(y_min * 1.01));
        let chart = chart
            .build_cartesian_2d(
                x_min..x_max,
                (lo..hi)
                    .log_scale()
                    .with_key_points(log_ticks(lo, hi))
                    .with_light_points(log_ticks_every_digit(lo, hi)),
            )
            .map_err(plot_error)?;
        draw_curves(chart, panel, x_min..x_max)
    } else {
        let pad = ((y_max - y_min) * 0.08).max(1e-9);
        let chart = chart
            .build_cartesian_2d(x_min..x_max, (y_min - pad)..(y_max + pad))
            .map_err(plot_error)?;
        draw_curves(chart, panel, x_min..x_max)
    }
}

fn draw_curves<'a, DB, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    panel: &Panel,
    x_range: std::ops::Range<f64>,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    std::ops::Range<f64>: AsRangedCoord,
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
        let color = curve.color;
        let band: Vec<(f64, f64, f64)> = curve
            .band
            .iter()
            .copied()
            .filter(|b| !panel.log_y || b.1 > 0.0)
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
                    color.mix(0.18).filled(),
                )))
                .map_err(plot_error)?;
        }
        // A log axis cannot show η = 0 (e.g. a Polyak step at a zero gradient): leave it out.
        let points: Vec<(f64, f64)> = curve
            .points
            .iter()
            .copied()
            .filter(|p| !panel.log_y || p.1 > 0.0)
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
        drawn.label(curve.label.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2))
        });
        chart
            .draw_series(
                curve
                    .diverged_at
                    .iter()
                    .map(|&point| Cross::new(point, 6, color.stroke_width(2))),
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

/// Tick labels of smaller magnitude are written as powers of ten.
const SCIENTIFIC_BELOW: f64 = 1e-3;

/// Labelled ticks of a log axis on `[lo, hi]`: `m·10^k` for every digit `m` when the range
/// spans less than a decade, for `m ∈ {1, 2, 5}` up to three decades, `m = 1` beyond.
/// (plotters' own log key points leave ranges below 1 without any label.)
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let multiples: &[f64] = match hi / lo {
        r if r < 10.0 => &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        r if r < 1000.0 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    decade_multiples(lo, hi, multiples)
}

/// Light mesh lines of a log axis: every digit of every decade in `[lo, hi]`.
fn log_ticks_every_digit(lo: f64, hi: f64) -> Vec<f64> {
    decade_multiples(lo, hi, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

/// `m·10^k` inside `[lo, hi]` for the given multiples `m`, ascending (empty unless
/// `0 < lo ≤ hi`, both finite).
fn decade_multiples(lo: f64, hi: f64, multiples: &[f64]) -> Vec<f64> {
    if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
        return Vec::new();
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (first..=last)
        .flat_map(|k| multiples.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A tick value with three significant digits and no trailing zeros: 0.26, 0.01, 2.5, 100;
/// below [`SCIENTIFIC_BELOW`] in magnitude as a power of ten, 1e-7 (log density axes).
fn tick_label(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    if value.abs() < SCIENTIFIC_BELOW {
        return format!("{value:.0e}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_colors_are_stable_and_every_label_gets_its_own() {
        let labels: Vec<String> = [
            "polyak",
            "cdat σ=1",
            "cdat σ=2",
            "constant",
            "armijo",
            "other",
        ]
        .map(String::from)
        .to_vec();
        let colors: Vec<RGBColor> = labels.iter().map(|l| color_of(l, &labels)).collect();
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b, "{colors:?}");
            }
        }
        let alone = ["armijo".to_string()];
        assert_eq!(color_of("armijo", &labels), color_of("armijo", &alone));
        assert_eq!(color_of("polyak", &labels), RGBColor(44, 160, 44));
    }

    #[test]
    fn log_axes_below_one_get_labelled_ticks() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12 * y)
        };
        // A loss between 0.26 and 0.66: less than a decade, every digit.
        let ticks = log_ticks(0.26, 0.66);
        assert!(close(&ticks, &[0.3, 0.4, 0.5, 0.6]), "{ticks:?}");
        // Two decades: 1, 2, 5.
        let ticks = log_ticks(0.008, 0.9);
        assert!(
            close(&ticks, &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5]),
            "{ticks:?}"
        );
        // Many decades: powers of ten only.
        assert!(close(
            &log_ticks(1e-3, 1e3),
            &[1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3]
        ));
        assert!(log_ticks(0.0, 1.0).is_empty() && log_ticks(2.0, 1.0).is_empty());
        assert_eq!(log_ticks_every_digit(0.26, 0.66).len(), 4);
    }

    #[test]
    fn tick_labels_have_three_significant_digits_and_no_trailing_zeros() {
        let labels: Vec<String> = [
            0.26,
            0.01,
            0.30000000000000004,
            2.5,
            100.0,
            1234.0,
            0.0,
            -0.5,
            1e-7,
            2e-5,
        ]
        .map(tick_label)
        .to_vec();
        assert_eq!(
            labels,
            [
                "0.26", "0.01", "0.3", "2.5", "100", "1234", "0", "-0.5", "1e-7", "2e-5"
            ]
        );
    }
}
