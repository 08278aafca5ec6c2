//! Progress bars for runs and figures (hidden automatically when stderr is not a terminal,
//! where one line per finished run is printed instead).

use indicatif::{ProgressBar, ProgressStyle};
use stepsharp_runner::sweep::FigureEvent;
use stepsharp_runner::train::{Progress, RunOutcome};

/// Draws one bar per run.
#[derive(Default)]
pub struct Bars {
    bar: Option<ProgressBar>,
    label: String,
}

impl Bars {
    /// Handles a figure event.
    pub fn event(&mut self, event: FigureEvent) {
        match event {
            FigureEvent::RunStarted {
                index,
                total,
                label,
            } => self.start(format!("[{}/{total}] {label}", index + 1)),
            FigureEvent::Step(progress) => self.step(progress),
            FigureEvent::RunFinished { outcome } => self.finish(outcome),
        }
    }

    /// Starts a bar for a run.
    pub fn start(&mut self, label: String) {
        self.label = label;
        self.bar = None;
    }

    /// Advances the bar.
    pub fn step(&mut self, progress: &Progress) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(progress.max_steps as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{} {}", self.label, progress.run_id));
            bar
        });
        bar.set_position(progress.step as u64);
        let lambda = progress
            .lambda_max
            .map_or("-".into(), |l| format!("{l:.3e}"));
        bar.set_message(format!(
            "loss {:.4e} η {:.3e} λ {lambda}",
            progress.loss, progress.eta
        ));
    }

    /// Ends the bar and prints one summary line.
    pub fn finish(&mut self, outcome: &RunOutcome) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let last = outcome.rows.last();
        eprintln!(
            "{} {} {}{} final loss {}",
            self.label,
            outcome.dir.id(),
            outcome.status.describe(),
            if outcome.reused { " (cached)" } else { "" },
            last.map_or("-".into(), |r| format!("{:.4e}", r.loss)),
        );
    }
}
