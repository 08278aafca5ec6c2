//! Tuning a constant stepsize by grid search on a log2 grid `η0·2^i`
//! (`docs/paper.md#constant`): every candidate of a round is run, ranked by
//! [`TuneRank::score`], and the grid is widened by one exponent beyond an edge that holds the
//! best candidate, until the best is interior or `max_widenings` is spent.

use serde::Serialize;
use stepsharp_stepsize::{ConstantConfig, RuleConfig};

use super::{FigureResult, RunOne};
use crate::error::{Context, Result};
use crate::figure::{FigureRun, TuneRank, TuneSpec};
use crate::stats;
use crate::status::RunStatus;
use crate::train::RunOutcome;

/// Grid-search record of a tuned series in one group.
#[derive(Clone, Debug, Serialize)]
pub struct Tuning {
    /// Group label.
    pub group: String,
    /// Series label.
    pub series: String,
    /// The seed the grid was searched on.
    pub seed: Option<u64>,
    /// How candidates were ranked.
    pub rank: TuneRank,
    /// Every candidate tried: (η, score, run id).
    pub candidates: Vec<(f64, f64, String)>,
    /// The chosen η.
    pub best_eta: f64,
    /// Whether the best η is interior to the grid (false: the widening budget ran out).
    pub interior: bool,
}

impl TuneRank {
    /// The score of `outcome`: +∞ for a run that did not complete or whose score is not finite.
    pub fn score(self, outcome: &RunOutcome) -> f64 {
        if !matches!(outcome.status, RunStatus::Completed { .. }) {
            return f64::INFINITY;
        }
        let losses: Vec<f64> = outcome.rows.iter().map(|r| r.loss).collect();
        let score = match self {
            TuneRank::LastMean(n) => stats::mean(&losses[losses.len().saturating_sub(n)..]),
            TuneRank::TailMedian(fraction) => stats::median(stats::tail(&losses, fraction)),
        };
        score.filter(|s| s.is_finite()).unwrap_or(f64::INFINITY)
    }
}

/// The constant stepsize rule `η`.
pub(super) fn constant_rule(eta: f64) -> RuleConfig {
    RuleConfig::Constant(ConstantConfig { eta })
}

/// A candidate that ran: its exponent `i` (η = η0·2^i), its score and its result.
#[derive(Clone)]
struct Candidate {
    exponent: i32,
    score: f64,
    result: FigureResult,
}

/// The grid search of `tune` from `template`: the best run and the search's record, or `None`
/// when a round has a run that `run_one` cannot give (every run of that round is asked for).
pub(super) fn tune_constant(
    template: &FigureRun,
    tune: &TuneSpec,
    run_one: &mut RunOne,
) -> Result<Option<(FigureResult, Tuning)>> {
    let mut exponents = tune.exponents.clone();
    exponents.sort_unstable();
    exponents.dedup();
    let mut tried: Vec<Candidate> = Vec::new();
    let mut widenings = 0;
    loop {
        if !run_round(template, tune, &exponents, &mut tried, run_one)? {
            return Ok(None);
        }
        let best = tried
            .iter()
            .min_by(|a, b| a.score.total_cmp(&b.score))
            .map(|c| c.exponent)
            .context("empty tuning grid")?;
        let (lo, hi) = (exponents[0], exponents[exponents.len() - 1]);
        let interior = best != lo && best != hi;
        if interior || widenings >= tune.max_widenings {
            return Ok(Some(chosen(template, tune, &tried, best, interior)));
        }
        exponents.push(if best == lo { lo - 1 } else { hi + 1 });
        exponents.sort_unstable();
        widenings += 1;
    }
}

/// Runs the candidates of `exponents` not tried yet, in order; false when `run_one` could not
/// give one of them (the round is incomplete).
fn run_round(
    template: &FigureRun,
    tune: &TuneSpec,
    exponents: &[i32],
    tried: &mut Vec<Candidate>,
    run_one: &mut RunOne,
) -> Result<bool> {
    let mut complete = true;
    for &exponent in exponents {
        if tried.iter().any(|c| c.exponent == exponent) {
            continue;
        }
        let eta = tune.eta0 * 2f64.powi(exponent);
        let mut run = template.clone();
        run.config = run.config.with_stepsize(constant_rule(eta))?;
        run.series = format!("{} (η = {eta:.4})", template.series);
        match run_one(run)? {
            Some(result) => tried.push(Candidate {
                exponent,
                score: tune.rank.score(&result.outcome),
                result,
            }),
            None => complete = false,
        }
    }
    Ok(complete)
}

/// The best candidate, relabelled as the series itself, and the record of the search.
fn chosen(
    template: &FigureRun,
    tune: &TuneSpec,
    tried: &[Candidate],
    best: i32,
    interior: bool,
) -> (FigureResult, Tuning) {
    let eta = |exponent: i32| tune.eta0 * 2f64.powi(exponent);
    let tuning = Tuning {
        group: template.group.clone(),
        series: template.series.clone(),
        seed: template.seed,
        rank: tune.rank,
        candidates: tried
            .iter()
            .map(|c| {
                (
                    eta(c.exponent),
                    c.score,
                    c.result.outcome.dir.id().to_string(),
                )
            })
            .collect(),
        best_eta: eta(best),
        interior,
    };
    let mut best_result = tried
        .iter()
        .find(|c| c.exponent == best)
        .map(|c| c.result.clone())
        .expect("the best exponent was tried");
    best_result.run.series = template.series.clone();
    (best_result, tuning)
}
