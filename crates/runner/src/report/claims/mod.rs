//! The paper's claims (`docs/paper.md#claims`, judged as `docs/paper.md#how-claims-are-judged`
//! describes) on measured trajectories:
//! a pure function from runs to a list of [`Claim`]s, each with its verdict, the evidence and
//! the threshold it was judged by. The Markdown report is rendered from this list
//! ([`crate::report`], `report.rs` here); nothing here formats a page.
//!
//! Every verdict rests on the robust statistics of [`crate::stats::RunStats`] (window medians, never a
//! single iterate) and is taken per seed: a claim holds when it holds in at least
//! [`SEED_AGREEMENT`] of the seeds, does not hold when it fails in that many, and is
//! inconclusive otherwise or when the compared runs did not train. Thresholds are the named
//! constants below; nothing is tuned to pass.

mod density;
mod margin;
mod regimes;
mod report;
mod run;

use stepsharp_direction::DirectionConfig;

use crate::figure::Regime;

pub use margin::{Bound, Margin, NEAR_THRESHOLD};
pub use regimes::baselines::simple_model_claims;
pub use regimes::figure_claims;
pub(crate) use report::claims_report;
pub use run::{ClaimRun, constant_predictor_loss};

/// Sharpness "keeps increasing": the median λ_max of the last window is at least this multiple
/// of the first window's (claim 1).
pub const GROWTH_THRESHOLD: f64 = 1.5;
/// "Some sharpening" of a mini-batch run: window-median growth of at least this (claim 3).
pub const SOME_SHARPENING: f64 = 1.1;
/// The stepsize "keeps falling": median η of the last window at most this fraction of the
/// first window's (claim 1).
pub const ETA_FALL_THRESHOLD: f64 = 0.67;
/// Half-width of the edge band, relative to 2: a median η·λ_max in `[2(1 − b), 2(1 + b)]` is
/// "at the edge", below it "below the edge".
pub const EDGE_BAND: f64 = 0.1;
/// A median η·λ_max above this is "far beyond the edge" (unstable), not "slightly beyond".
pub const FAR_BEYOND: f64 = 3.0;
/// Losses closer than this relative difference are a tie: neither is lower.
pub const TIE_TOLERANCE: f64 = 0.01;
/// "Very sensitive to batch size": worst / best final loss across batch sizes at least this.
pub const SENSITIVITY_RATIO: f64 = 2.0;
/// A run "did not train" when its final loss is at least this fraction of the loss of the
/// constant predictor 1/K (e.g. a network collapsed to the class mean).
pub const UNTRAINED_FRACTION: f64 = 0.98;
/// Edge-of-stability baseline (Cohen et al.): the final λ_max is within this relative distance
/// of 2/η.
pub const EOS_RELATIVE_BAND: f64 = 0.2;
/// Fraction of the seeds in which a test must agree for a verdict.
pub const SEED_AGREEMENT: f64 = 2.0 / 3.0;

/// Whether the evidence supports a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimVerdict {
    /// The measured numbers meet the stated threshold in enough seeds.
    Holds,
    /// They fail it in enough seeds.
    DoesNotHold,
    /// Seeds disagree, runs are missing or did not train, or measurements are too few.
    Inconclusive,
}

/// Where a median η·λ_max sits relative to the edge of stability 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeClass {
    /// Below `2(1 − EDGE_BAND)`.
    Below,
    /// Within `2(1 ± EDGE_BAND)`.
    At,
    /// Above the band, at most [`FAR_BEYOND`].
    SlightlyBeyond,
    /// Above [`FAR_BEYOND`]: unstable.
    FarBeyond,
}

impl EdgeClass {
    /// The class of a median edge ratio (relevant sharpness over its threshold, 1 at the
    /// edge): the class of `2·ratio` as a median η·λ_max, so that gradient descent, whose edge
    /// ratio is `η·λ_max/2`, gets the same class either way.
    pub fn of_ratio(median_edge_ratio: f64) -> Self {
        Self::of(2.0 * median_edge_ratio)
    }

    /// The class of a median η·λ_max.
    pub fn of(median_eta_lambda: f64) -> Self {
        if median_eta_lambda < 2.0 * (1.0 - EDGE_BAND) {
            EdgeClass::Below
        } else if median_eta_lambda <= 2.0 * (1.0 + EDGE_BAND) {
            EdgeClass::At
        } else if median_eta_lambda <= FAR_BEYOND {
            EdgeClass::SlightlyBeyond
        } else {
            EdgeClass::FarBeyond
        }
    }

    /// Words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            EdgeClass::Below => "below the edge",
            EdgeClass::At => "at the edge",
            EdgeClass::SlightlyBeyond => "slightly beyond the edge",
            EdgeClass::FarBeyond => "far beyond the edge (unstable)",
        }
    }
}

/// How many seeds a test held, failed or could not decide in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedTally {
    /// Seeds where the test held.
    pub holds: usize,
    /// Seeds where it failed.
    pub fails: usize,
    /// Seeds where it could not be decided.
    pub undecided: usize,
}

impl SeedTally {
    /// Counts the outcomes of a test over seeds.
    pub fn of(outcomes: impl IntoIterator<Item = Option<bool>>) -> Self {
        let mut tally = Self::default();
        for outcome in outcomes {
            match outcome {
                Some(true) => tally.holds += 1,
                Some(false) => tally.fails += 1,
                None => tally.undecided += 1,
            }
        }
        tally
    }

    /// Seeds tested.
    pub fn total(&self) -> usize {
        self.holds + self.fails + self.undecided
    }

    /// The verdict: [`SEED_AGREEMENT`] of the seeds must agree.
    pub fn verdict(&self) -> ClaimVerdict {
        let needed = (SEED_AGREEMENT * self.total() as f64).ceil().max(1.0) as usize;
        if self.holds >= needed {
            ClaimVerdict::Holds
        } else if self.fails >= needed {
            ClaimVerdict::DoesNotHold
        } else {
            ClaimVerdict::Inconclusive
        }
    }
}

/// A claim judged on a figure's runs.
#[derive(Clone, Debug)]
pub struct Claim {
    /// Which claim of the paper (`"1"` … `"5"`), or `"baseline"` / `"cdat"` for checks beyond it.
    pub id: &'static str,
    /// What is claimed, in words.
    pub statement: String,
    /// The group it is judged in (empty for figure-wide claims).
    pub group: String,
    /// The group's regime.
    pub regime: Option<Regime>,
    /// The rule it is about (`RuleConfig::name()`).
    pub rule: Option<&'static str>,
    /// The verdict over seeds.
    pub verdict: ClaimVerdict,
    /// Per-seed outcomes.
    pub seeds: SeedTally,
    /// The measured numbers (per seed, and pooled medians).
    pub evidence: String,
    /// The threshold the test used.
    pub threshold: String,
    /// The statistics the test compared with their bounds, per seed: how far the verdict
    /// sits from its threshold.
    pub margins: Vec<Margin>,
}

/// The runs of one series in one group, one per seed.
pub(crate) struct SeriesRuns<'a> {
    pub runs: Vec<&'a ClaimRun>,
}

/// How the claims measure and write a series' distance to the edge of stability: η·λ_max
/// against 2 for gradient descent (the paper's setting), the edge ratio (relevant sharpness
/// over the direction's threshold) against 1 for momentum and Adam.
pub(crate) struct EdgeScale {
    /// The statistic's name in reports.
    pub name: &'static str,
    /// Its value at the edge.
    pub edge: f64,
}

impl EdgeScale {
    /// The scale of a series: gradient descent's when its first run uses gradient descent.
    pub fn of(runs: &SeriesRuns) -> Self {
        match runs.runs.first().map(|r| r.direction) {
            None | Some(DirectionConfig::GradientDescent) => Self {
                name: "η·λ_max",
                edge: 2.0,
            },
            Some(_) => Self {
                name: "edge ratio",
                edge: 1.0,
            },
        }
    }

    /// Whether this is gradient descent's η·λ_max.
    pub fn is_eta_lambda(&self) -> bool {
        self.edge == 2.0
    }

    /// The run's median of the statistic: η·λ_max, or the edge ratio.
    pub fn statistic(&self, run: &ClaimRun) -> Option<f64> {
        match self.is_eta_lambda() {
            true => run.stats.median_eta_lambda,
            false => run.stats.median_edge_ratio,
        }
    }

    /// The per-seed margin of `runs` against `bound` on this statistic.
    pub fn margin(&self, runs: &SeriesRuns, bound: Bound) -> Margin {
        runs.margin(
            &format!("median {}", self.name),
            |r| self.statistic(r),
            bound,
        )
    }

    /// The lower end of the "at the edge" band.
    pub fn below(&self) -> f64 {
        self.edge * (1.0 - EDGE_BAND)
    }

    /// The upper end of the "at the edge" band.
    pub fn above(&self) -> f64 {
        self.edge * (1.0 + EDGE_BAND)
    }

    /// Where "far beyond the edge" starts ([`FAR_BEYOND`] for η·λ_max).
    pub fn far_beyond(&self) -> f64 {
        FAR_BEYOND * self.edge / 2.0
    }
}

impl<'a> SeriesRuns<'a> {
    /// The series' run with `seed`.
    pub fn seed(&self, seed: Option<u64>) -> Option<&'a ClaimRun> {
        self.runs.iter().copied().find(|r| r.seed == seed)
    }

    /// `label: v1, v2, v3 (median m)` of a statistic over the seeds.
    pub fn evidence(&self, name: &str, value: impl Fn(&ClaimRun) -> Option<f64>) -> String {
        let values: Vec<Option<f64>> = self.runs.iter().map(|r| value(r)).collect();
        let listed: Vec<String> = values.iter().map(|v| fmt(*v)).collect();
        let finite: Vec<f64> = values.iter().flatten().copied().collect();
        if values.len() == 1 {
            format!("{name} {}", listed[0])
        } else {
            format!(
                "{name} {} (median over seeds {})",
                listed.join(", "),
                fmt(crate::stats::median(&finite))
            )
        }
    }

    /// A test per seed, tallied.
    pub fn tally(&self, test: impl Fn(&ClaimRun) -> Option<bool>) -> SeedTally {
        SeedTally::of(self.runs.iter().map(|r| test(r)))
    }

    /// A statistic per seed with the bound a test compares it with.
    pub fn margin(
        &self,
        quantity: &str,
        value: impl Fn(&ClaimRun) -> Option<f64>,
        bound: Bound,
    ) -> Margin {
        Margin {
            quantity: quantity.to_string(),
            values: self.runs.iter().map(|r| value(r)).collect(),
            bound,
        }
    }

    /// Per seed, the ratio of `numerator`'s compared loss (same seed) to this series' (see
    /// [`compared_loss`]): e.g. the constant's final loss over Armijo's.
    pub fn loss_ratio(&self, quantity: &str, numerator: &SeriesRuns, bound: Bound) -> Margin {
        self.margin(
            quantity,
            |r| Some(compared_loss(numerator.seed(r.seed)?)? / compared_loss(r)?),
            bound,
        )
    }
}

/// Four significant decimals, or `n/a`.
pub fn fmt(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// `a` is lower than `b` by more than [`TIE_TOLERANCE`] (relative).
pub fn clearly_less(a: f64, b: f64) -> bool {
    a < b * (1.0 - TIE_TOLERANCE)
}

/// The final loss a comparison uses: +∞ for a diverged run (it lost), None when unmeasured.
pub(crate) fn compared_loss(run: &ClaimRun) -> Option<f64> {
    if run.stats.diverged_at.is_some() {
        Some(f64::INFINITY)
    } else {
        run.stats.final_loss
    }
}
