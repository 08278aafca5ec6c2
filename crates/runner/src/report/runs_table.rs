//! `runs.md`: the table of a figure's runs and of its constant-stepsize grid searches.

use crate::figure::Scale;
use crate::sweep::FigureOutput;

/// `runs.md`: every plotted run with its id, status and length, and every grid search with its
/// candidates.
pub(super) fn runs_table(name: &str, scale: Scale, output: &FigureOutput) -> String {
    let mut text = format!(
        "# Runs of `{name}` at scale `{}`\n\nReproduce: `cargo xtask reproduce {name} --scale {}`\n\n\
         | group | series | seed | run id | status | steps |\n|---|---|---|---|---|---|\n",
        scale.name(),
        scale.name()
    );
    for result in &output.results {
        text.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {} |\n",
            result.run.group,
            result.run.series,
            result.run.seed.map_or("base".into(), |s| s.to_string()),
            result.outcome.dir.id(),
            result.outcome.status.describe(),
            result.outcome.rows.len()
        ));
    }
    for tuning in &output.tunings {
        text.push_str(&format!(
            "\nTuned `{}` in group `{}`{}: best η = {} ({}), candidates (η, {}, run):\n",
            tuning.series,
            tuning.group,
            tuning.seed.map_or(String::new(), |s| format!(
                " on seed {s} (other seeds use the same η)"
            )),
            tuning.best_eta,
            if tuning.interior {
                "interior"
            } else {
                "at the edge of the widened grid"
            },
            tuning.rank.describe(),
        ));
        for (eta, score, id) in &tuning.candidates {
            text.push_str(&format!("- η = {eta}: {score:.6} (`{id}`)\n"));
        }
    }
    text
}
