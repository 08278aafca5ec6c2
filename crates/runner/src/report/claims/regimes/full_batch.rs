//! Full-batch claims: Armijo keeps sharpening below the edge with a falling stepsize and ends
//! above the constant's loss (claim 1); Polyak operates at or slightly beyond the edge and
//! reaches a lower loss (claim 2); the tuned constant and CDAT σ = 2 sit at the edge (checks
//! beyond the paper).

use stepsharp_stepsize::RuleConfig;

use super::{Finding, GroupRuns, at_edge, claim, edge_evidence, loss_evidence, near_edge};
use crate::figure::Regime;
use crate::report::claims::{
    Bound, Claim, ClaimRun, ETA_FALL_THRESHOLD, EdgeClass, EdgeScale, GROWTH_THRESHOLD, SeriesRuns,
    TIE_TOLERANCE, clearly_less, compared_loss,
};

/// The bound of a "clearly less" loss comparison on the ratio of the two losses.
const CLEARLY_LESS: Bound = Bound::Below(1.0 - TIE_TOLERANCE);

/// The full-batch claims of group `g`, in report order: Armijo's, the constant's, Polyak's.
pub(super) fn full_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
    if let Some(a) = &g.armijo {
        claims.extend(armijo_claims(g.at, a, g.constant.as_ref()));
    }
    if let Some(c) = &g.constant {
        claims.push(claim(
            "baseline",
            format!(
                "the constant stepsize `{}` operates at the edge of stability",
                c.runs[0].series
            ),
            g.at,
            "constant",
            at_the_edge(c),
        ));
    }
    if let Some(p) = &g.polyak {
        claims.extend(polyak_claims(g, p));
    }
}

/// Claim 1: Armijo's sharpness grows, its stepsize falls, it stays below the edge, and it ends
/// above the constant stepsize's loss (when the group has one).
fn armijo_claims(at: (&str, Regime), a: &SeriesRuns, constant: Option<&SeriesRuns>) -> Vec<Claim> {
    let scale = EdgeScale::of(a);
    let mut claims = vec![
        claim(
            "1",
            "Armijo keeps increasing the sharpness".into(),
            at,
            "armijo",
            Finding {
                seeds: a.tally(|r| r.stats.sharpness_growth.map(|g| g >= GROWTH_THRESHOLD)),
                evidence: a.evidence("λ_max growth (last / first window median)", |r| {
                    r.stats.sharpness_growth
                }),
                threshold: format!("growth ≥ {GROWTH_THRESHOLD}"),
                margins: vec![a.margin(
                    "λ_max growth",
                    |r| r.stats.sharpness_growth,
                    Bound::AtLeast(GROWTH_THRESHOLD),
                )],
            },
        ),
        claim(
            "1",
            "Armijo's stepsize keeps falling".into(),
            at,
            "armijo",
            Finding {
                seeds: a.tally(|r| r.stats.eta_trend.map(|t| t <= ETA_FALL_THRESHOLD)),
                evidence: a.evidence("η last / first window median", |r| r.stats.eta_trend),
                threshold: format!("η ratio ≤ {ETA_FALL_THRESHOLD}"),
                margins: vec![a.margin(
                    "η ratio",
                    |r| r.stats.eta_trend,
                    Bound::AtMost(ETA_FALL_THRESHOLD),
                )],
            },
        ),
        claim(
            "1",
            "Armijo stays below the edge of stability".into(),
            at,
            "armijo",
            Finding {
                seeds: a.tally(|r| r.edge().map(|e| e == EdgeClass::Below)),
                evidence: edge_evidence(a),
                threshold: format!("median {} < {:.2}", scale.name, scale.below()),
                margins: vec![scale.margin(a, Bound::Below(scale.below()))],
            },
        ),
    ];
    if let Some(c) = constant {
        claims.push(claim(
            "1",
            format!(
                "Armijo ends with a higher train loss than the constant stepsize `{}`",
                c.runs[0].series
            ),
            at,
            "armijo",
            Finding {
                seeds: a.tally(|r| {
                    let c = c.seed(r.seed)?;
                    Some(clearly_less(compared_loss(c)?, compared_loss(r)?))
                }),
                evidence: loss_evidence(&[("Armijo", a), ("constant", c)]),
                threshold: format!(
                    "Armijo's final loss above the constant's by more than {:.0}% (same seed)",
                    TIE_TOLERANCE * 100.0
                ),
                margins: vec![a.loss_ratio("constant's / Armijo's final loss", c, CLEARLY_LESS)],
            },
        ));
    }
    claims
}

/// Claim 2: Polyak operates at or slightly beyond the edge and reaches a lower loss than each
/// other rule of the group.
fn polyak_claims(g: &GroupRuns, p: &SeriesRuns) -> Vec<Claim> {
    let mut claims = vec![near_edge(
        "2",
        "Polyak operates at or slightly beyond the edge of stability",
        g.at,
        p,
    )];
    let others: Vec<(&str, &SeriesRuns)> = [("Armijo", &g.armijo), ("constant", &g.constant)]
        .into_iter()
        .filter_map(|(n, s)| s.as_ref().map(|s| (n, s)))
        .collect();
    if others.is_empty() {
        return claims;
    }
    let mut named = vec![("Polyak", p)];
    named.extend(others.iter().copied());
    claims.push(claim(
        "2",
        "Polyak reaches a lower train loss than the constant stepsize and Armijo".into(),
        g.at,
        "polyak",
        Finding {
            seeds: p.tally(|r| {
                let mine = compared_loss(r)?;
                let mut lower = true;
                for (_, other) in &others {
                    lower &= clearly_less(mine, compared_loss(other.seed(r.seed)?)?);
                }
                Some(lower)
            }),
            evidence: loss_evidence(&named),
            threshold: format!(
                "Polyak's final loss below each other rule's by more than {:.0}% (same seed)",
                TIE_TOLERANCE * 100.0
            ),
            margins: vec![p.margin(
                "Polyak's / the lowest other final loss",
                |r| {
                    let mut lowest = f64::INFINITY;
                    for (_, other) in &others {
                        lowest = lowest.min(compared_loss(other.seed(r.seed)?)?);
                    }
                    Some(compared_loss(r)? / lowest)
                },
                CLEARLY_LESS,
            )],
        },
    ));
    claims
}

/// A series operates at the edge: its median η·λ_max (edge ratio) within the band.
fn at_the_edge(runs: &SeriesRuns) -> Finding {
    let scale = EdgeScale::of(runs);
    Finding {
        seeds: runs.tally(|r| r.edge().map(|e| e == EdgeClass::At)),
        evidence: edge_evidence(runs),
        threshold: at_edge(runs),
        margins: vec![scale.margin(runs, Bound::Within(scale.below(), scale.above()))],
    }
}

/// CDAT with σ = 2 is "on edge" (the follow-up paper): η·λ_max should sit at the edge.
pub(super) fn cdat_claim(runs: &[ClaimRun], at: (&str, Regime)) -> Option<Claim> {
    let label = runs
        .iter()
        .find(|r| {
            r.group == at.0 && matches!(&r.rule, RuleConfig::Cdat(cdat) if cdat.sigma == 2.0)
        })?
        .series
        .clone();
    let cdat = SeriesRuns {
        runs: runs
            .iter()
            .filter(|r| r.group == at.0 && r.series == label)
            .collect(),
    };
    Some(claim(
        "cdat",
        "CDAT (follow-up paper) with σ = 2 operates at the edge of stability".into(),
        at,
        "cdat",
        at_the_edge(&cdat),
    ))
}
