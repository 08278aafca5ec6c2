//! Reproducing a figure: its runs ([`crate::sweep`]), then its report ([`crate::report`]),
//! with the same figure in the other floating-point precision as a cross-check when all of its
//! runs have ended.

use std::path::Path;

use crate::config::Precision;
use crate::error::Result;
use crate::figure::{FigureConfig, FigureKind, Scale};
use crate::report::{PrecisionCounterpart, write_report};
use crate::sweep::{FigureEvent, FigureOutput, plan_figure, run_figure, simple_model_inputs};
use crate::train::RunOptions;

/// Runs every missing run of a figure at `scale` (reusing completed ones), tunes constant
/// stepsizes, then plots the figure and writes its claims report and table of runs into
/// `out_dir`. When every run of the figure in the other precision (f64 for f32 runs, and the
/// other way) has ended in the results folder, its verdicts are set beside these, claim by
/// claim (`precision.md`, and fragile verdicts marked in `claims.md`); nothing of it is
/// computed here.
pub fn reproduce(
    figure: &FigureConfig,
    name: &str,
    scale: Scale,
    options: &RunOptions,
    out_dir: &Path,
    events: &mut dyn FnMut(FigureEvent),
) -> Result<FigureOutput> {
    let output = run_figure(figure, scale, options, out_dir, events)?;
    let simple_model = simple_model_inputs(figure, options, scale)?;
    let counterpart = precision_counterpart(figure, scale, options, &output)?;
    write_report(
        figure,
        name,
        scale,
        &output,
        &simple_model,
        counterpart.as_ref(),
    )?;
    Ok(output)
}

/// The figure's runs in the other precision, read from the results folder, when every one of
/// them has ended; `None` otherwise, for figures with runs of both precisions, and for the
/// kinds whose claims are not figure claims (the simple model, the spectral density).
fn precision_counterpart(
    figure: &FigureConfig,
    scale: Scale,
    options: &RunOptions,
    output: &FigureOutput,
) -> Result<Option<PrecisionCounterpart>> {
    if matches!(
        figure.kind,
        FigureKind::SimpleModel | FigureKind::SpectralDensity
    ) {
        return Ok(None);
    }
    let precisions: Vec<Precision> = output
        .results
        .iter()
        .map(|r| options.dtype.unwrap_or(r.run.config.dtype))
        .collect();
    let Some(&precision) = precisions.first() else {
        return Ok(None);
    };
    if precisions.iter().any(|p| *p != precision) {
        return Ok(None);
    }
    let other = RunOptions {
        dtype: Some(precision.other()),
        reuse_only: true,
        ..options.clone()
    };
    if !plan_figure(figure, scale, &other)?.is_complete() {
        return Ok(None);
    }
    let runs = run_figure(figure, scale, &other, &output.out_dir, &mut |_| {})?;
    Ok(Some(PrecisionCounterpart {
        precision: precision.other(),
        output: runs,
    }))
}
