//! The panels of each figure kind except `spectral_density` ([`super::density`]).

use stepsharp_data::BatchSize;
use stepsharp_direction::DirectionConfig;
use stepsharp_quadratic::ModelPoint;
use stepsharp_stepsize::RuleConfig;

use super::curves::{by_series, curve, groups, loss_metric, series_labels};
use super::palette::Palette;
use super::{Curve, Layout, Metric, Panel};
use crate::stats::median;
use crate::sweep::{FigureOutput, FigureResult};
use crate::trajectory::Row;

/// Figure kind `interplay`: a row per group (regime), columns loss, η, λ_max and η·λ_max
/// with a line at 2 (a log axis, so that the edge stays readable beside runs far beyond it).
/// Figures of momentum or Adam runs draw their relevant sharpness (λ_max(P⁻¹H) for Adam) and
/// the edge ratio (the sharpness over the direction's threshold) with a line at 1.
pub(super) fn interplay_panels(output: &FigureOutput) -> Layout {
    let palette = Palette::of_runs(output.results.iter());
    let groups = groups(output);
    let (sharpness, edge) = edge_columns(output);
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
        let specs: [ColumnSpec; 4] = [
            (
                if full {
                    "train loss"
                } else {
                    "train loss (eval set)"
                },
                true,
                loss_metric(full),
                !full,
                None,
            ),
            ("stepsize η", true, |r| Some(r.eta), false, None),
            (sharpness.name, true, sharpness.metric, true, None),
            (edge.name, true, edge.metric, true, edge.line),
        ];
        for (name, log_y, metric, markers, line) in specs {
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
                    .map(|(label, runs)| curve(label, &palette, runs, metric, markers))
                    .collect(),
                hlines: line
                    .map(|(value, label)| vec![(value, label.to_string())])
                    .unwrap_or_default(),
            });
        }
    }
    (groups.len(), 4, panels)
}

/// A column of the interplay figure: its name, log axis, metric, markers and reference line.
type ColumnSpec<'a> = (&'a str, bool, Metric, bool, Option<(f64, &'a str)>);

/// A column of the interplay figure that depends on the runs' direction.
struct Column {
    name: &'static str,
    metric: Metric,
    /// The reference line and its label (edge columns).
    line: Option<(f64, &'static str)>,
}

/// The sharpness and edge columns: λ_max and η·λ_max with a line at 2 for gradient descent;
/// the relevant sharpness (λ_max(P⁻¹H) for Adam) and the edge ratio with a line at 1 when any
/// run follows another direction.
fn edge_columns(output: &FigureOutput) -> (Column, Column) {
    let directions: Vec<DirectionConfig> = output
        .results
        .iter()
        .map(|r| r.run.config.direction())
        .collect();
    if directions
        .iter()
        .all(|d| *d == DirectionConfig::GradientDescent)
    {
        return (
            Column {
                name: "sharpness λ_max",
                metric: |r| r.lambda_max,
                line: None,
            },
            Column {
                name: "η·λ_max",
                metric: |r| r.eta_lambda,
                line: Some((2.0, "η·λ = 2")),
            },
        );
    }
    let preconditioned = directions.iter().any(|d| d.is_preconditioned());
    (
        Column {
            name: if preconditioned {
                "sharpness λ_max(P⁻¹H)"
            } else {
                "sharpness λ_max"
            },
            metric: |r| r.preconditioned_lambda_max.or(r.lambda_max),
            line: None,
        },
        Column {
            name: "edge ratio (sharpness / threshold)",
            metric: |r| r.edge_ratio,
            line: Some((1.0, "edge (ratio 1)")),
        },
    )
}

/// A panel of the training loss (log axis) of `results`, one curve per series.
fn loss_panel<'a>(
    title: String,
    results: impl Iterator<Item = &'a FigureResult>,
    palette: &Palette,
) -> Panel {
    Panel {
        title,
        x_label: "step".into(),
        y_label: "train loss".into(),
        log_y: true,
        curves: by_series(results)
            .iter()
            .map(|(label, runs)| curve(label, palette, runs, |r| Some(r.loss), false))
            .collect(),
        hlines: Vec::new(),
    }
}

/// Figure kind `loss_curves`: one training-loss panel per group (architecture).
pub(super) fn loss_curve_panels(output: &FigureOutput) -> Layout {
    let palette = Palette::of_runs(output.results.iter());
    let panels: Vec<Panel> = groups(output)
        .iter()
        .map(|group| {
            let runs = output.results.iter().filter(|r| &r.run.group == group);
            loss_panel(format!("{group}: train loss"), runs, &palette)
        })
        .collect();
    (1, panels.len(), panels)
}

/// Figure kind `batch_sensitivity`: the final evaluation loss and test accuracy of each
/// series against the group (batch size).
pub(super) fn batch_sensitivity_panels(output: &FigureOutput) -> Layout {
    let palette = Palette::of_runs(output.results.iter());
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
                Curve::line(label.clone(), palette.color(label), points, false)
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

/// Figure kind `edge_of_stability`: the training loss, and λ_max with a dashed line at 2/η for
/// every constant-stepsize series. With momentum or Adam series: one panel per direction with
/// its relevant sharpness (λ_max(P⁻¹H) for Adam) and each series' threshold dashed (log axis:
/// the first updates' thresholds are far below the later ones), and the edge ratio of every
/// series with a line at 1.
pub(super) fn eos_panels(output: &FigureOutput) -> Layout {
    let palette = Palette::of_runs(output.results.iter());
    let loss = loss_panel("train loss".into(), output.results.iter(), &palette);
    let gradient_descent = output
        .results
        .iter()
        .all(|r| r.run.config.direction() == DirectionConfig::GradientDescent);
    if !gradient_descent {
        return direction_eos_panels(output, &palette, loss);
    }
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
            .push(curve(&label, &palette, &runs, |r| r.lambda_max, true));
        if let RuleConfig::Constant(c) = &runs[0].run.config.stepsize {
            let last = runs[0].outcome.rows.len().max(1) as f64;
            sharpness.curves.push(Curve::line(
                format!("2/η ({label})"),
                palette.color(&label),
                vec![(0.0, 2.0 / c.eta), (last, 2.0 / c.eta)],
                true,
            ));
        }
    }
    (1, 2, vec![loss, sharpness])
}

/// [`eos_panels`] of a figure with momentum or Adam series: the loss, one sharpness panel per
/// direction (its series with their thresholds dashed), and the edge ratios; two per row.
fn direction_eos_panels(output: &FigureOutput, palette: &Palette, loss: Panel) -> Layout {
    let series = by_series(output.results.iter());
    let mut directions: Vec<DirectionConfig> = Vec::new();
    for (_, runs) in &series {
        let direction = runs[0].run.config.direction();
        if !directions.iter().any(|d| d.name() == direction.name()) {
            directions.push(direction);
        }
    }
    let mut panels = vec![loss];
    for direction in &directions {
        let (name, metric): (&str, Metric) = if direction.is_preconditioned() {
            ("λ_max(P⁻¹H)", |r| r.preconditioned_lambda_max)
        } else {
            ("λ_max", |r| r.lambda_max)
        };
        let mut panel = Panel {
            title: format!("{}: {name} (dashed: threshold)", direction.name()),
            x_label: "step".into(),
            y_label: name.into(),
            log_y: true,
            curves: Vec::new(),
            hlines: Vec::new(),
        };
        for (label, runs) in series
            .iter()
            .filter(|(_, runs)| runs[0].run.config.direction().name() == direction.name())
        {
            panel.curves.push(curve(label, palette, runs, metric, true));
            let mut threshold = curve(label, palette, runs, |r| r.stability_threshold, false);
            threshold.label = format!("threshold ({label})");
            threshold.band.clear();
            threshold.dashed = true;
            panel.curves.push(threshold);
        }
        panels.push(panel);
    }
    panels.push(Panel {
        title: "edge ratio (sharpness / threshold)".into(),
        x_label: "step".into(),
        y_label: "edge ratio".into(),
        log_y: true,
        curves: series
            .iter()
            .map(|(label, runs)| curve(label, palette, runs, |r| r.edge_ratio, true))
            .collect(),
        hlines: vec![(1.0, "edge (ratio 1)".into())],
    });
    let rows = panels.len().div_ceil(2);
    (rows, 2, panels)
}

/// Figure kind `simple_model`: the simulated λ_t and η_t·λ_t beside the measured λ_max and
/// η·λ_max of full-batch runs.
pub(super) fn simple_model_panels(
    model: &[(String, Vec<ModelPoint>)],
    measured: &[FigureResult],
) -> Layout {
    let model_labels: Vec<String> = model.iter().map(|(l, _)| l.clone()).collect();
    let model_palette = Palette::plain(&model_labels);
    let measured_palette = Palette::of_runs(measured.iter());
    let measured = by_series(measured.iter());
    let model_curve = |metric: fn(&ModelPoint) -> f64| -> Vec<Curve> {
        model
            .iter()
            .map(|(label, points)| {
                let points = points
                    .iter()
                    .map(|p| (p.step as f64, metric(p)))
                    .filter(|p| p.1.is_finite() && p.1 > 0.0)
                    .collect();
                Curve::line(label.clone(), model_palette.color(label), points, false)
            })
            .collect()
    };
    let measured_curve = |metric: Metric| -> Vec<Curve> {
        measured
            .iter()
            .map(|(label, runs)| curve(label, &measured_palette, runs, metric, true))
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
