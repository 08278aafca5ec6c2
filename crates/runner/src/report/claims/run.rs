//! One run as the claims see it ([`ClaimRun`]): its labels, rule, direction and the robust
//! statistics of its trajectory, built from a reproduced figure's runs.

use stepsharp_data::BatchSize;
use stepsharp_direction::DirectionConfig;
use stepsharp_models::Loss;
use stepsharp_stepsize::RuleConfig;

use super::{EdgeClass, UNTRAINED_FRACTION};
use crate::config::ModelSpec;
use crate::figure::Regime;
use crate::stats::{RunStats, Windows};
use crate::sweep::{FigureOutput, FigureResult};

/// One run as the claims see it.
#[derive(Clone, Debug)]
pub struct ClaimRun {
    /// Group label.
    pub group: String,
    /// Series label.
    pub series: String,
    /// Seed (None: the base's seeds).
    pub seed: Option<u64>,
    /// The regime the group is judged as.
    pub regime: Regime,
    /// Mini-batch size (None: full batch).
    pub batch_size: Option<usize>,
    /// The run's stepsize rule with its constants.
    pub rule: RuleConfig,
    /// The update direction the rule scales (gradient descent without a `direction` table).
    pub direction: DirectionConfig,
    /// Whether the series is a tuned constant.
    pub tuned: bool,
    /// The training loss of a network (None for a quadratic).
    pub loss: Option<Loss>,
    /// Robust statistics of the trajectory.
    pub stats: RunStats,
}

impl ClaimRun {
    /// The claims' view of a figure run, its statistics taken with `windows`.
    pub fn of(result: &FigureResult, tuned: bool, windows: Windows) -> Self {
        let config = &result.run.config;
        let batch_size = match config.training.batch_size {
            BatchSize::Full => None,
            BatchSize::Size(b) => Some(b),
        };
        Self {
            group: result.run.group.clone(),
            series: result.run.series.clone(),
            seed: result.run.seed,
            regime: result.run.regime,
            batch_size,
            rule: config.stepsize.clone(),
            direction: config.direction(),
            tuned,
            loss: matches!(config.model, ModelSpec::Network(_)).then_some(config.loss),
            stats: RunStats::of(
                &result.outcome.rows,
                &result.outcome.status,
                batch_size.is_none(),
                windows,
            ),
        }
    }

    /// Whether the run trained: its final loss is clearly below the constant predictor's.
    /// A diverged or unmeasured run has no final loss and counts as not trained. When no run
    /// of a group trained (e.g. a network stuck at the class mean under every rule), the
    /// group's claims are inconclusive.
    pub fn trained(&self) -> bool {
        let Some(final_loss) = self.stats.final_loss else {
            return false;
        };
        self.loss
            .is_none_or(|loss| final_loss < UNTRAINED_FRACTION * constant_predictor_loss(loss))
    }

    /// Whether the run follows gradient descent (the paper's setting).
    pub fn is_gradient_descent(&self) -> bool {
        self.direction == DirectionConfig::GradientDescent
    }

    /// Where the run sits relative to the edge (None with fewer than two measurements): by
    /// its median η·λ_max for gradient descent, by its median edge ratio for other directions.
    pub fn edge(&self) -> Option<EdgeClass> {
        if self.stats.measurements < 2 {
            return None;
        }
        match self.direction {
            DirectionConfig::GradientDescent => self.stats.median_eta_lambda.map(EdgeClass::of),
            _ => self.stats.median_edge_ratio.map(EdgeClass::of_ratio),
        }
    }
}

/// The claims' view of every run of a reproduced figure.
pub(crate) fn claim_runs(output: &FigureOutput, windows: Windows) -> Vec<ClaimRun> {
    output
        .results
        .iter()
        .map(|r| {
            let tuned = output
                .tunings
                .iter()
                .any(|t| t.group == r.run.group && t.series == r.run.series);
            ClaimRun::of(r, tuned, windows)
        })
        .collect()
}

/// The loss of predicting 1/K for every class (K = 10 CIFAR-10 classes): MSE ½(K − 1)/K,
/// cross-entropy ln K.
pub fn constant_predictor_loss(loss: Loss) -> f64 {
    let k = stepsharp_data::NUM_CLASSES as f64;
    match loss {
        Loss::Mse => 0.5 * (k - 1.0) / k,
        Loss::CrossEntropy => k.ln(),
    }
}
