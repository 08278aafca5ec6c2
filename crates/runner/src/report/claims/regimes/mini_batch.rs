//! Mini-batch claims: Armijo performs well with some sharpening and Polyak stays near the edge
//! for large and medium batches (claim 3); both become unstable and perform poorly for small
//! ones (claim 4).

use super::{Finding, GroupRuns, claim, edge_evidence, loss_evidence, near_edge};
use crate::report::claims::{
    Bound, Claim, EdgeClass, EdgeScale, SOME_SHARPENING, TIE_TOLERANCE, clearly_less, compared_loss,
};

/// Claim 3 (large and medium mini-batches): Armijo performs well with some sharpening, Polyak
/// stays near the edge.
pub(super) fn medium_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
    let (at, armijo, polyak, constant) = (g.at, &g.armijo, &g.polyak, &g.constant);
    if let Some(a) = armijo {
        let mut named = vec![("Armijo", a)];
        named.extend(constant.iter().map(|c| ("constant", c)));
        claims.push(claim(
            "3",
            "Armijo performs well (no worse than the constant stepsize) with some sharpening"
                .into(),
            at,
            "armijo",
            Finding {
                seeds: a.tally(|r| {
                    let c = constant.as_ref()?.seed(r.seed)?;
                    let as_good = !clearly_less(compared_loss(c)?, compared_loss(r)?);
                    Some(as_good && r.stats.sharpness_growth? >= SOME_SHARPENING)
                }),
                evidence: format!(
                    "{}; {}",
                    loss_evidence(&named),
                    a.evidence("λ_max growth", |r| r.stats.sharpness_growth)
                ),
                threshold: format!(
                    "final loss not above the constant's by more than {:.0}%, growth ≥ {SOME_SHARPENING}",
                    TIE_TOLERANCE * 100.0
                ),
                margins: constant
                    .iter()
                    .map(|c| {
                        a.loss_ratio(
                            "constant's / Armijo's final loss",
                            c,
                            Bound::AtLeast(1.0 - TIE_TOLERANCE),
                        )
                    })
                    .chain([a.margin(
                        "λ_max growth",
                        |r| r.stats.sharpness_growth,
                        Bound::AtLeast(SOME_SHARPENING),
                    )])
                    .collect(),
            },
        ));
    }
    if let Some(p) = polyak {
        claims.push(near_edge(
            "3",
            "Polyak stays near the edge of stability",
            at,
            p,
        ));
    }
}

/// Claim 4 (small mini-batches): both tuners take too-large steps, become unstable and
/// perform poorly.
pub(super) fn small_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
    let (at, armijo, polyak, constant) = (g.at, &g.armijo, &g.polyak, &g.constant);
    for (name, rule, tuner) in [("Armijo", "armijo", armijo), ("Polyak", "polyak", polyak)] {
        let Some(t) = tuner else { continue };
        let mut named = vec![(name, t)];
        named.extend(constant.iter().map(|c| ("constant", c)));
        let scale = EdgeScale::of(t);
        claims.push(claim(
            "4",
            format!("{name} takes too-large steps, becomes unstable and performs poorly"),
            at,
            rule,
            Finding {
                seeds: t.tally(|r| {
                    if r.stats.diverged_at.is_some() {
                        return Some(true);
                    }
                    let c = constant.as_ref()?.seed(r.seed)?;
                    let beyond =
                        matches!(r.edge()?, EdgeClass::SlightlyBeyond | EdgeClass::FarBeyond);
                    let poor = !r.trained() || clearly_less(compared_loss(c)?, compared_loss(r)?);
                    Some(beyond && poor)
                }),
                evidence: format!("{}; {}", loss_evidence(&named), edge_evidence(t)),
                threshold: format!(
                    "diverged, or median {} above {:.2} and a final loss above the constant's by \
                     more than {:.0}%",
                    scale.name,
                    scale.above(),
                    TIE_TOLERANCE * 100.0
                ),
                margins: std::iter::once(scale.margin(t, Bound::Above(scale.above())))
                    .chain(constant.iter().map(|c| {
                        t.loss_ratio(
                            &format!("constant's / {name}'s final loss"),
                            c,
                            Bound::Below(1.0 - TIE_TOLERANCE),
                        )
                    }))
                    .collect(),
            },
        ));
    }
}
