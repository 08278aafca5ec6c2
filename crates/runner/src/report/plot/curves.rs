//! Curves of runs: a series' runs (one per seed) as the median over seeds at each step with a
//! min–max band, grouped by series and group labels.

use std::collections::BTreeMap;

use super::palette::Palette;
use super::{Curve, Metric};
use crate::stats::median;
use crate::status::RunStatus;
use crate::sweep::{FigureOutput, FigureResult};

/// The distinct values of `key` over the figure's runs, in first-appearance order.
pub(super) fn distinct(output: &FigureOutput, key: fn(&FigureResult) -> &String) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for result in &output.results {
        if !values.contains(key(result)) {
            values.push(key(result).clone());
        }
    }
    values
}

/// The series labels of the figure, in first-appearance order.
pub(super) fn series_labels(output: &FigureOutput) -> Vec<String> {
    distinct(output, |r| &r.run.series)
}

/// The group labels of the figure, in first-appearance order.
pub(super) fn groups(output: &FigureOutput) -> Vec<String> {
    distinct(output, |r| &r.run.group)
}

/// The runs of each series label, in order of first appearance (one run per seed).
pub(super) fn by_series<'a>(
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
pub(super) fn curve(
    label: &str,
    palette: &Palette,
    runs: &[&FigureResult],
    metric: Metric,
    markers: bool,
) -> Curve {
    let mut by_step: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
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
        color: palette.color(label),
        points,
        band,
        markers,
        dashed: false,
        diverged_at,
    }
}

/// The loss a panel draws: the training loss of the full batch, or the loss measured on the
/// evaluation set for mini-batch runs (their per-batch loss is noise).
pub(super) fn loss_metric(full_batch: bool) -> Metric {
    if full_batch {
        |r| Some(r.loss)
    } else {
        |r| r.eval_loss
    }
}
