//! The tests of each claim, per regime: full batch (claims 1 and 2), large and medium
//! mini-batches (claim 3), small mini-batches and batch-size sensitivity (claim 4), the simple
//! model (claim 5), and two checks beyond the paper (the tuned constant and CDAT σ = 2 at the
//! edge; Cohen et al.'s edge-of-stability baseline).

use stepsharp_quadratic::ModelPoint;
use stepsharp_stepsize::RuleConfig;

use super::{
    Claim, ClaimRun, ClaimVerdict, EDGE_BAND, EOS_RELATIVE_BAND, ETA_FALL_THRESHOLD, EdgeClass,
    FAR_BEYOND, GROWTH_THRESHOLD, SENSITIVITY_RATIO, SOME_SHARPENING, SeedTally, SeriesRuns,
    UNTRAINED_FRACTION, clearly_less, compared_loss, fmt,
};
use crate::figure::{FigureKind, Regime};
use crate::stats::median;

/// The claims a figure of `kind` tests on its runs (claim 5 needs the simple model:
/// [`simple_model_claims`]).
pub fn figure_claims(kind: FigureKind, runs: &[ClaimRun]) -> Vec<Claim> {
    let mut claims = match kind {
        FigureKind::Interplay | FigureKind::LossCurves => interplay_claims(runs),
        FigureKind::BatchSensitivity => sensitivity_claims(runs),
        FigureKind::EdgeOfStability => eos_claims(runs),
        FigureKind::SimpleModel | FigureKind::Spectrum => Vec::new(),
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
fn groups(runs: &[ClaimRun]) -> Vec<(String, Regime, Option<usize>)> {
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
fn series<'a>(runs: &'a [ClaimRun], group: &str, rule: &str) -> Option<SeriesRuns<'a>> {
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

fn claim(
    id: &'static str,
    statement: String,
    (group, regime): (&str, Regime),
    rule: &'static str,
    seeds: SeedTally,
    evidence: String,
    threshold: String,
) -> Claim {
    Claim {
        id,
        statement,
        group: group.to_string(),
        regime: Some(regime),
        rule: Some(rule),
        verdict: seeds.verdict(),
        seeds,
        evidence,
        threshold,
    }
}

fn edge_evidence(runs: &SeriesRuns) -> String {
    let classes: Vec<&str> = runs
        .runs
        .iter()
        .map(|r| r.edge().map_or("n/a", EdgeClass::describe))
        .collect();
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

fn loss_evidence(named: &[(&str, &SeriesRuns)]) -> String {
    named
        .iter()
        .map(|(name, runs)| runs.evidence(&format!("final loss {name}"), |r| r.stats.final_loss))
        .collect::<Vec<_>>()
        .join("; ")
}

const AT_EDGE: &str = "median η·λ_max within 2 ± 10%";

/// Polyak at or slightly beyond the edge: a median η·λ_max in `[2(1 − b), FAR_BEYOND]`.
fn near_edge(id: &'static str, statement: &str, at: (&str, Regime), p: &SeriesRuns) -> Claim {
    claim(
        id,
        statement.into(),
        at,
        "polyak",
        p.tally(|r| {
            r.edge()
                .map(|e| matches!(e, EdgeClass::At | EdgeClass::SlightlyBeyond))
        }),
        edge_evidence(p),
        format!(
            "median η·λ_max in [{:.2}, {FAR_BEYOND}] (above {FAR_BEYOND}: far beyond, unstable)",
            2.0 * (1.0 - EDGE_BAND)
        ),
    )
}

/// The series of one group that the claims compare.
struct GroupRuns<'a> {
    at: (&'a str, Regime),
    armijo: Option<SeriesRuns<'a>>,
    polyak: Option<SeriesRuns<'a>>,
    constant: Option<SeriesRuns<'a>>,
}

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
                full_batch_claims(&mut claims, &g);
                claims.extend(cdat_claim(runs, g.at));
            }
            Regime::Large | Regime::Medium => medium_batch_claims(&mut claims, &g),
            Regime::Small => small_batch_claims(&mut claims, &g),
        }
    }
    let mut sizes: Vec<Option<usize>> = groups(runs).into_iter().map(|(.., s)| s).collect();
    sizes.dedup();
    if sizes.len() >= 3 {
        claims.extend(sensitivity_claims(runs));
    }
    claims
}

fn full_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
    let (at, armijo, polyak, constant) = (g.at, &g.armijo, &g.polyak, &g.constant);
    if let Some(a) = armijo {
        claims.push(claim(
            "1",
            "Armijo keeps increasing the sharpness".into(),
            at,
            "armijo",
            a.tally(|r| r.stats.sharpness_growth.map(|g| g >= GROWTH_THRESHOLD)),
            a.evidence("λ_max growth (last / first window median)", |r| {
                r.stats.sharpness_growth
            }),
            format!("growth ≥ {GROWTH_THRESHOLD}"),
        ));
        claims.push(claim(
            "1",
            "Armijo's stepsize keeps falling".into(),
            at,
            "armijo",
            a.tally(|r| r.stats.eta_trend.map(|t| t <= ETA_FALL_THRESHOLD)),
            a.evidence("η last / first window median", |r| r.stats.eta_trend),
            format!("η ratio ≤ {ETA_FALL_THRESHOLD}"),
        ));
        claims.push(claim(
            "1",
            "Armijo stays below the edge of stability".into(),
            at,
            "armijo",
            a.tally(|r| r.edge().map(|e| e == EdgeClass::Below)),
            edge_evidence(a),
            format!("median η·λ_max < {:.2}", 2.0 * (1.0 - EDGE_BAND)),
        ));
        if let Some(c) = constant {
            claims.push(claim(
                "1",
                format!(
                    "Armijo ends with a higher train loss than the constant stepsize `{}`",
                    c.runs[0].series
                ),
                at,
                "armijo",
                a.tally(|r| {
                    let c = c.seed(r.seed)?;
                    Some(clearly_less(compared_loss(c)?, compared_loss(r)?))
                }),
                loss_evidence(&[("Armijo", a), ("constant", c)]),
                "Armijo's final loss above the constant's by more than 1% (same seed)".into(),
            ));
        }
    }
    if let Some(c) = constant {
        claims.push(claim(
            "baseline",
            format!(
                "the constant stepsize `{}` operates at the edge of stability",
                c.runs[0].series
            ),
            at,
            "constant",
            c.tally(|r| r.edge().map(|e| e == EdgeClass::At)),
            edge_evidence(c),
            AT_EDGE.into(),
        ));
    }
    if let Some(p) = polyak {
        claims.push(near_edge(
            "2",
            "Polyak operates at or slightly beyond the edge of stability",
            at,
            p,
        ));
        let others: Vec<(&str, &SeriesRuns)> = [("Armijo", armijo), ("constant", constant)]
            .into_iter()
            .filter_map(|(n, s)| s.as_ref().map(|s| (n, s)))
            .collect();
        if !others.is_empty() {
            let mut named = vec![("Polyak", p)];
            named.extend(others.iter().copied());
            claims.push(claim(
                "2",
                "Polyak reaches a lower train loss than the constant stepsize and Armijo".into(),
                at,
                "polyak",
                p.tally(|r| {
                    let mine = compared_loss(r)?;
                    let mut lower = true;
                    for (_, other) in &others {
                        lower &= clearly_less(mine, compared_loss(other.seed(r.seed)?)?);
                    }
                    Some(lower)
                }),
                loss_evidence(&named),
                "Polyak's final loss below each other rule's by more than 1% (same seed)".into(),
            ));
        }
    }
}

fn medium_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
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
            a.tally(|r| {
                let c = constant.as_ref()?.seed(r.seed)?;
                let as_good = !clearly_less(compared_loss(c)?, compared_loss(r)?);
                Some(as_good && r.stats.sharpness_growth? >= SOME_SHARPENING)
            }),
            format!(
                "{}; {}",
                loss_evidence(&named),
                a.evidence("λ_max growth", |r| r.stats.sharpness_growth)
            ),
            format!(
                "final loss not above the constant's by more than 1%, growth ≥ {SOME_SHARPENING}"
            ),
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

fn small_batch_claims(claims: &mut Vec<Claim>, g: &GroupRuns) {
    let (at, armijo, polyak, constant) = (g.at, &g.armijo, &g.polyak, &g.constant);
    for (name, rule, tuner) in [("Armijo", "armijo", armijo), ("Polyak", "polyak", polyak)] {
        let Some(t) = tuner else { continue };
        let mut named = vec![(name, t)];
        named.extend(constant.iter().map(|c| ("constant", c)));
        claims.push(claim(
            "4",
            format!("{name} takes too-large steps, becomes unstable and performs poorly"),
            at,
            rule,
            t.tally(|r| {
                if r.stats.diverged_at.is_some() {
                    return Some(true);
                }
                let c = constant.as_ref()?.seed(r.seed)?;
                let beyond = matches!(r.edge()?, EdgeClass::SlightlyBeyond | EdgeClass::FarBeyond);
                let poor = !r.trained() || clearly_less(compared_loss(c)?, compared_loss(r)?);
                Some(beyond && poor)
            }),
            format!("{}; {}", loss_evidence(&named), edge_evidence(t)),
            format!(
                "diverged, or median η·λ_max above {:.2} and a final loss above the constant's by more than 1%",
                2.0 * (1.0 + EDGE_BAND)
            ),
        ));
    }
}

/// CDAT with σ = 2 is "on edge" (the follow-up paper): η·λ_max should sit at the edge.
fn cdat_claim(runs: &[ClaimRun], at: (&str, Regime)) -> Option<Claim> {
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
        cdat.tally(|r| r.edge().map(|e| e == EdgeClass::At)),
        edge_evidence(&cdat),
        AT_EDGE.into(),
    ))
}

/// Claim 4's second half: for each rule, the worst over the best pooled final loss across
/// batch sizes, over runs that completed (diverged runs are listed apart).
fn sensitivity_claims(runs: &[ClaimRun]) -> Vec<Claim> {
    let groups = groups(runs);
    let mut claims = Vec::new();
    for rule in ["armijo", "polyak", "constant"] {
        let mut finals: Vec<(String, f64)> = Vec::new();
        let mut diverged: Vec<String> = Vec::new();
        for (group, ..) in &groups {
            let Some(s) = series(runs, group, rule) else {
                continue;
            };
            let losses: Vec<f64> = s.runs.iter().filter_map(|r| r.stats.final_loss).collect();
            diverged.extend(
                s.runs
                    .iter()
                    .filter(|r| r.stats.diverged_at.is_some())
                    .map(|r| {
                        format!(
                            "{group}{}",
                            r.seed.map_or(String::new(), |s| format!(" seed {s}"))
                        )
                    }),
            );
            if let Some(m) = median(&losses) {
                finals.push((group.clone(), m));
            }
        }
        if finals.len() + diverged.len() < 2 {
            continue;
        }
        let values: Vec<f64> = finals.iter().map(|(_, v)| *v).collect();
        let spread = (values.len() >= 2).then(|| {
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                / values.iter().copied().fold(f64::INFINITY, f64::min)
        });
        let seeds = SeedTally::of([spread.map(|s| s >= SENSITIVITY_RATIO)]);
        let listed: Vec<String> = finals.iter().map(|(g, v)| format!("{g}: {v:.4}")).collect();
        let statement = if rule == "constant" {
            "Reference: the constant stepsize's sensitivity to batch size".to_string()
        } else {
            format!("{rule}'s performance is very sensitive to batch size")
        };
        claims.push(Claim {
            id: if rule == "constant" { "reference" } else { "4" },
            statement,
            group: String::new(),
            regime: None,
            rule: Some(rule),
            verdict: seeds.verdict(),
            seeds,
            evidence: format!(
                "median final loss over seeds of completed runs: {}; worst/best {}{}",
                listed.join(", "),
                fmt(spread),
                if diverged.is_empty() {
                    String::new()
                } else {
                    format!("; diverged (left out): {}", diverged.join(", "))
                }
            ),
            threshold: format!("worst/best ≥ {SENSITIVITY_RATIO}"),
        });
    }
    claims
}

/// Cohen et al.'s baseline: with a constant η, λ_max settles near 2/η.
fn eos_claims(runs: &[ClaimRun]) -> Vec<Claim> {
    runs.iter()
        .filter_map(|r| {
            let RuleConfig::Constant(constant) = &r.rule else {
                return None;
            };
            let eta = constant.eta;
            let edge = 2.0 / eta;
            let test = r
                .stats
                .final_sharpness
                .filter(|_| r.stats.measurements >= 4 && r.stats.diverged_at.is_none())
                .map(|t| ((t - edge) / edge).abs() <= EOS_RELATIVE_BAND);
            let seeds = SeedTally::of([test]);
            Some(Claim {
                id: "baseline",
                statement: format!(
                    "(Cohen et al.) with η = {eta}, λ_max settles near 2/η = {edge:.3}"
                ),
                group: r.group.clone(),
                regime: Some(r.regime),
                rule: Some("constant"),
                verdict: seeds.verdict(),
                seeds,
                evidence: format!(
                    "λ_max first-window median {}, last-window median {}, growth {}{}",
                    fmt(r.stats.initial_sharpness),
                    fmt(r.stats.final_sharpness),
                    fmt(r.stats.sharpness_growth),
                    if r.stats.diverged_at.is_some() {
                        "; the run diverged"
                    } else {
                        ""
                    }
                ),
                threshold: format!(
                    "last-window median λ_max within ±{:.0}% of 2/η",
                    EOS_RELATIVE_BAND * 100.0
                ),
            })
        })
        .collect()
}

/// Claim 5: a model built on the edge of stability alone predicts η·λ → 2 with a stable λ.
/// The claim holds for a measured tuner run whose trajectory contradicts that prediction
/// (η·λ_max not at the edge, or λ_max growing or shrinking by [`GROWTH_THRESHOLD`]). The
/// simple-model simulations are reported as context, not judged.
pub fn simple_model_claims(
    model: &[(String, Vec<ModelPoint>)],
    measured: &[ClaimRun],
) -> Vec<Claim> {
    let tuners = SeriesRuns {
        runs: measured
            .iter()
            .filter(|r| !matches!(r.rule, RuleConfig::Constant(_)))
            .collect(),
    };
    let seeds = tuners.tally(|r| {
        let growth = r.stats.sharpness_growth?;
        let stable = growth < GROWTH_THRESHOLD && growth > 1.0 / GROWTH_THRESHOLD;
        Some(!(r.edge()? == EdgeClass::At && stable))
    });
    let per_run: Vec<String> = tuners
        .runs
        .iter()
        .map(|r| {
            format!(
                "{}{}: growth {}, median η·λ_max {} ({})",
                r.series,
                r.seed.map_or(String::new(), |s| format!(" seed {s}")),
                fmt(r.stats.sharpness_growth),
                fmt(r.stats.median_eta_lambda),
                r.edge().map_or("n/a", EdgeClass::describe)
            )
        })
        .collect();
    let quarter_median = |values: Vec<f64>| median(&values[values.len() - values.len() / 4..]);
    let context: Vec<String> = model
        .iter()
        .map(|(label, points)| {
            let growth = points
                .first()
                .zip(points.last())
                .map(|(f, l)| l.lambda / f.lambda);
            format!(
                "{label}: η·λ over the last quarter {}, λ last/first {}",
                fmt(quarter_median(
                    points.iter().map(|p| p.eta_lambda).collect()
                )),
                fmt(growth)
            )
        })
        .collect();
    vec![Claim {
        id: "5",
        statement: "a model of the edge of stability alone (η·λ → 2, λ stable) cannot explain the tuners' dynamics".into(),
        group: String::new(),
        regime: Some(Regime::FullBatch),
        rule: None,
        verdict: if tuners.runs.is_empty() { ClaimVerdict::Inconclusive } else { seeds.verdict() },
        seeds,
        evidence: format!(
            "measured full-batch tuners: {}. Simple model (context, not judged): {}",
            if per_run.is_empty() { "none".into() } else { per_run.join("; ") },
            context.join("; ")
        ),
        threshold: format!(
            "a tuner run contradicts the edge-only model when its median η·λ_max is outside 2 ± {:.0}% or its λ_max changes by a factor ≥ {GROWTH_THRESHOLD}",
            EDGE_BAND * 100.0
        ),
    }]
}
