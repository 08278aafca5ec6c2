//! The tests of each claim, per regime: full batch (claims 1 and 2, [`full_batch`]), large and
//! medium mini-batches (claim 3) and small ones (claim 4, [`mini_batch`]), batch-size
//! sensitivity (claim 4, [`sensitivity`]), the simple model (claim 5) and two checks beyond the
//! paper (the tuned constant and CDAT σ = 2 at the edge; Cohen et al.'s edge-of-stability
//! baseline, [`baselines`]). This module picks each group's series and dispatches by regime.

pub(super) mod baselines;
mod full_batch;
mod mini_batch;
mod sensitivity;

use super::{
    Bound, Claim, ClaimRun, ClaimVerdict, EDGE_BAND, EdgeClass, EdgeScale, Margin, SeedTally,
    SeriesRuns, UNTRAINED_FRACTION,
};
use crate::figure::{FigureKind, Regime};

/// The claims a figure of `kind` tests on its runs (claim 5 needs the simple model:
/// [`super::simple_model_claims`]).
pub fn figure_claims(kind: FigureKind, runs: &[ClaimRun]) -> Vec<Claim> {
    let mut claims = match kind {
        FigureKind::Interplay | FigureKind::LossCurves => interplay_claims(runs),
        FigureKind::BatchSensitivity => sensitivity::sensitivity_claims(runs),
        FigureKind::EdgeOfStability => baselines::eos_claims(runs),
        FigureKind::SimpleModel | FigureKind::SpectralDensity => Vec::new(),
    };
    for claim in claims.iter_mut().filter(|c| !c.group.is_empty()) {
        if !runs.iter().any(|r| r.group == claim.group && r.trained()) {
            claim.seeds = SeedTally::of(std::iter::repeat_n(None, claim.seeds.total()));
            claim.verdict = ClaimVerdict::Inconclusive;
            claim.evidence = format!(
                "no run of this group trained (every final loss ≥ {:.0}% of the constant \
                 predictor's); {}",
                UNTRAINED_FRACTION * 100.0,
                claim.evidence
            );
        }
    }
    claims
}

/// Group labels with their regime: full batch first, then mini-batches from large to small.
pub(super) fn groups(runs: &[ClaimRun]) -> Vec<(String, Regime, Option<usize>)> {
    let mut groups: Vec<(String, Regime, Option<usize>)> = Vec::new();
    for run in runs {
        if groups.iter().all(|(g, ..)| g != &run.group) {
            groups.push((run.group.clone(), run.regime, run.batch_size));
        }
    }
    groups.sort_by_key(|(_, _, size)| std::cmp::Reverse(size.unwrap_or(usize::MAX)));
    groups
}

/// The runs of the series judged for `rule` in `group`: the first series of that rule, except
/// for the constant stepsize, where a tuned series comes first.
pub(super) fn series<'a>(runs: &'a [ClaimRun], group: &str, rule: &str) -> Option<SeriesRuns<'a>> {
    let in_group = || {
        runs.iter()
            .filter(|r| r.group == group && r.rule.name() == rule)
    };
    let label = in_group()
        .find(|r| r.tuned)
        .or_else(|| in_group().next())?
        .series
        .clone();
    Some(SeriesRuns {
        runs: in_group().filter(|r| r.series == label).collect(),
    })
}

/// What a claim's test found: the tally over seeds, the evidence, the threshold in words and
/// the margins of its statistics.
pub(super) struct Finding {
    pub seeds: SeedTally,
    pub evidence: String,
    pub threshold: String,
    pub margins: Vec<Margin>,
}

/// A claim judged in one group for one rule (its verdict from the finding's seeds).
pub(super) fn claim(
    id: &'static str,
    statement: String,
    (group, regime): (&str, Regime),
    rule: &'static str,
    finding: Finding,
) -> Claim {
    Claim {
        id,
        statement,
        group: group.to_string(),
        regime: Some(regime),
        rule: Some(rule),
        verdict: finding.seeds.verdict(),
        seeds: finding.seeds,
        evidence: finding.evidence,
        threshold: finding.threshold,
        margins: finding.margins,
    }
}

/// Where a series sits relative to the edge, per seed and pooled. Gradient descent: median
/// η·λ_max, the fraction of measurements below 2, the directional sharpness along the update
/// and the edge class. Other directions: median edge ratio, the fraction below 1, and the class.
pub(super) fn edge_evidence(runs: &SeriesRuns) -> String {
    let classes: Vec<&str> = runs
        .runs
        .iter()
        .map(|r| r.edge().map_or("n/a", EdgeClass::describe))
        .collect();
    if !EdgeScale::of(runs).is_eta_lambda() {
        return format!(
            "{}; {} ({})",
            runs.evidence("median edge ratio", |r| r.stats.median_edge_ratio),
            runs.evidence("fraction of measurements with edge ratio < 1", |r| r
                .stats
                .fraction_below_threshold),
            classes.join(", ")
        );
    }
    format!(
        "{}; {}; {} ({})",
        runs.evidence("median η·λ_max", |r| r.stats.median_eta_lambda),
        runs.evidence("fraction of measurements with η·λ_max < 2", |r| r
            .stats
            .fraction_below_edge),
        runs.evidence("median η·uᵀHu/‖u‖² along the update", |r| r
            .stats
            .median_eta_directional),
        classes.join(", ")
    )
}

/// The final losses of named series, per seed.
pub(super) fn loss_evidence(named: &[(&str, &SeriesRuns)]) -> String {
    named
        .iter()
        .map(|(name, runs)| runs.evidence(&format!("final loss {name}"), |r| r.stats.final_loss))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The threshold of an "at the edge" test of `runs`, in words.
pub(super) fn at_edge(runs: &SeriesRuns) -> String {
    let scale = EdgeScale::of(runs);
    format!(
        "median {} within {} ± {:.0}%",
        scale.name,
        scale.edge,
        EDGE_BAND * 100.0
    )
}

/// Polyak at or slightly beyond the edge: a median η·λ_max in `[2(1 − b), FAR_BEYOND]` (an
/// edge ratio in `[1 − b, FAR_BEYOND/2]`).
pub(super) fn near_edge(
    id: &'static str,
    statement: &str,
    at: (&str, Regime),
    p: &SeriesRuns,
) -> Claim {
    let scale = EdgeScale::of(p);
    claim(
        id,
        statement.into(),
        at,
        "polyak",
        Finding {
            seeds: p.tally(|r| {
                r.edge()
                    .map(|e| matches!(e, EdgeClass::At | EdgeClass::SlightlyBeyond))
            }),
            evidence: edge_evidence(p),
            threshold: format!(
                "median {} in [{:.2}, {far}] (above {far}: far beyond, unstable)",
                scale.name,
                scale.below(),
                far = scale.far_beyond(),
            ),
            margins: vec![scale.margin(p, Bound::Within(scale.below(), scale.far_beyond()))],
        },
    )
}

/// The series of one group that the claims compare.
pub(super) struct GroupRuns<'a> {
    /// The group's label and regime.
    pub at: (&'a str, Regime),
    /// Its Armijo series.
    pub armijo: Option<SeriesRuns<'a>>,
    /// Its Polyak series.
    pub polyak: Option<SeriesRuns<'a>>,
    /// Its constant-stepsize series (a tuned one first).
    pub constant: Option<SeriesRuns<'a>>,
}

/// Claims 1–4 of figure 3's layout: per group, the tests of its regime; across groups (three
/// batch sizes or more), the sensitivity to batch size.
fn interplay_claims(runs: &[ClaimRun]) -> Vec<Claim> {
    let mut claims = Vec::new();
    for (group, regime, _) in groups(runs) {
        let g = GroupRuns {
            at: (group.as_str(), regime),
            armijo: series(runs, &group, "armijo"),
            polyak: series(runs, &group, "polyak"),
            constant: series(runs, &group, "constant"),
        };
        match regime {
            Regime::FullBatch => {
                full_batch::full_batch_claims(&mut claims, &g);
                claims.extend(full_batch::cdat_claim(runs, g.at));
            }
            Regime::Large | Regime::Medium => mini_batch::medium_batch_claims(&mut claims, &g),
            Regime::Small => mini_batch::small_batch_claims(&mut claims, &g),
        }
    }
    let mut sizes: Vec<Option<usize>> = groups(runs).into_iter().map(|(.., s)| s).collect();
    sizes.dedup();
    if sizes.len() >= 3 {
        claims.extend(sensitivity::sensitivity_claims(runs));
    }
    claims
}
