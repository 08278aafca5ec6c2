//! Reproducing a figure: its runs ([`crate::sweep`]), then its report ([`crate::report`]).

use std::path::Path;

use crate::RunOptions;
use crate::figure::{FigureConfig, Scale};
use crate::report::write_report;
use crate::sweep::{FigureEvent, FigureOutput, run_figure, simple_model_inputs};

/// Runs every missing run of a figure at `scale` (reusing completed ones), tunes constant
/// stepsizes, then plots the figure and writes its claims report and table of runs into
/// `out_dir`.
pub fn reproduce(
    figure: &FigureConfig,
    name: &str,
    scale: Scale,
    options: &RunOptions,
    out_dir: &Path,
    events: &mut dyn FnMut(FigureEvent),
) -> anyhow::Result<FigureOutput> {
    let output = run_figure(figure, scale, options, out_dir, events)?;
    let simple_model = simple_model_inputs(figure, options, scale)?;
    write_report(figure, name, scale, &output, &simple_model)?;
    Ok(output)
}
