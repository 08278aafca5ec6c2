//! What a `simple_model` figure (figure4) draws besides its own runs: the simple model's
//! simulated η–λ trajectories and the measured full-batch runs of the figure named in
//! `measured_from`, read from the results folder.

use stepsharp_data::BatchSize;
use stepsharp_quadratic::{ModelPoint, simulate};

use super::FigureResult;
use crate::error::{Context, Error, Result};
use crate::figure::{FigureConfig, Scale, figure_file, load_figure};
use crate::train::{RunOptions, execute_valid};

/// The simulated and the measured trajectories a figure draws beside its runs (both empty
/// unless the figure has `[[simple_model]]` entries or `measured_from`).
#[derive(Clone, Debug, Default)]
pub struct SimpleModelInputs {
    /// (label, trajectory) per `[[simple_model]]` entry.
    pub simulated: Vec<(String, Vec<ModelPoint>)>,
    /// The full-batch runs of untuned series of the `measured_from` figure.
    pub measured: Vec<FigureResult>,
}

/// Simulates the figure's simple-model series and looks up its measured runs (they must have
/// been run: nothing is computed).
pub fn simple_model_inputs(
    figure: &FigureConfig,
    options: &RunOptions,
    scale: Scale,
) -> Result<SimpleModelInputs> {
    let simulated = figure
        .simple_model
        .iter()
        .map(|series| Ok((series.label.clone(), simulate(&series.model, series.steps)?)))
        .collect::<Result<_>>()?;
    Ok(SimpleModelInputs {
        simulated,
        measured: measured_runs(figure, options, scale)?,
    })
}

/// The runs of the figure named in `measured_from` (figure4 draws figure3's full-batch runs of
/// untuned series), looked up in the same folder as the figure file and read from the cache.
fn measured_runs(
    figure: &FigureConfig,
    options: &RunOptions,
    scale: Scale,
) -> Result<Vec<FigureResult>> {
    let Some(name) = &figure.measured_from else {
        return Ok(Vec::new());
    };
    let source = load_figure(&figure_file(&figure.folder, name))
        .with_context(|| format!("the figure `{name}` named in measured_from"))?;
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
        let outcome = execute_valid(&run.config, &cached, &mut |_| {}).map_err(|error| {
            Error::Invalid(format!(
                "run `{}` of {name} is missing ({error}): run `cargo xtask reproduce {name}` first",
                run.label()
            ))
        })?;
        measured.push(FigureResult { run, outcome });
    }
    Ok(measured)
}
