//! Claim 4's second half: a tuner's performance is very sensitive to batch size — per seed, the
//! worst over the best final loss across batch sizes, with the constant stepsize as reference.

use std::collections::BTreeMap;

use super::{groups, series};
use crate::report::claims::{Bound, Claim, ClaimRun, SENSITIVITY_RATIO, SeedTally, fmt};
use crate::stats::median;

/// For each rule, per seed, the worst over the best final loss across batch sizes of the runs
/// that completed (diverged runs are listed apart); rules with fewer than two groups are
/// skipped. Each seed is one test, so the verdict never rests on one run per batch size.
pub(super) fn sensitivity_claims(runs: &[ClaimRun]) -> Vec<Claim> {
    ["armijo", "polyak", "constant"]
        .into_iter()
        .filter_map(|rule| {
            let finals = FinalLosses::of(runs, rule);
            (finals.groups.len() >= 2).then(|| finals.claim(rule))
        })
        .collect()
}

/// One rule's final losses across the groups (batch sizes).
struct FinalLosses {
    /// The groups with a run of the rule, in the order of [`groups`].
    groups: Vec<String>,
    /// Per seed, (group, final loss) of its completed runs.
    by_seed: BTreeMap<Option<u64>, Vec<(String, f64)>>,
    /// `group seed s` of every diverged run.
    diverged: Vec<String>,
}

impl FinalLosses {
    fn of(runs: &[ClaimRun], rule: &str) -> Self {
        let mut finals = Self {
            groups: Vec::new(),
            by_seed: BTreeMap::new(),
            diverged: Vec::new(),
        };
        for (group, ..) in &groups(runs) {
            let Some(s) = series(runs, group, rule) else {
                continue;
            };
            finals.groups.push(group.clone());
            for r in &s.runs {
                if r.stats.diverged_at.is_some() {
                    finals.diverged.push(format!(
                        "{group}{}",
                        r.seed.map_or(String::new(), |s| format!(" seed {s}"))
                    ));
                } else if let Some(loss) = r.stats.final_loss {
                    finals
                        .by_seed
                        .entry(r.seed)
                        .or_default()
                        .push((group.clone(), loss));
                }
            }
        }
        finals
    }

    /// Per seed with completed runs in at least two groups: the worst over the best final
    /// loss, with the groups of both.
    fn spreads(&self) -> Vec<(Option<u64>, f64, &str, &str)> {
        self.by_seed
            .iter()
            .filter(|(_, losses)| losses.len() >= 2)
            .map(|(seed, losses)| {
                let by_loss = |a: &&(String, f64), b: &&(String, f64)| a.1.total_cmp(&b.1);
                let worst = losses.iter().max_by(by_loss).expect("two losses");
                let best = losses.iter().min_by(by_loss).expect("two losses");
                (*seed, worst.1 / best.1, worst.0.as_str(), best.0.as_str())
            })
            .collect()
    }

    /// The median final loss over seeds of each group.
    fn medians(&self) -> Vec<(String, Option<f64>)> {
        self.groups
            .iter()
            .map(|group| {
                let losses: Vec<f64> = self
                    .by_seed
                    .values()
                    .flatten()
                    .filter(|(g, _)| g == group)
                    .map(|(_, loss)| *loss)
                    .collect();
                (group.clone(), median(&losses))
            })
            .collect()
    }

    fn claim(&self, rule: &'static str) -> Claim {
        let spreads = self.spreads();
        let seeds = SeedTally::of(spreads.iter().map(|s| Some(s.1 >= SENSITIVITY_RATIO)));
        let per_seed: Vec<String> = spreads
            .iter()
            .map(|(seed, ratio, worst, best)| {
                format!(
                    "{}{} ({worst} / {best})",
                    seed.map_or(String::new(), |s| format!("seed {s}: ")),
                    fmt(Some(*ratio))
                )
            })
            .collect();
        let medians: Vec<String> = self
            .medians()
            .iter()
            .map(|(g, v)| format!("{g}: {}", fmt(*v)))
            .collect();
        let statement = if rule == "constant" {
            "Reference: the constant stepsize's sensitivity to batch size".to_string()
        } else {
            format!("{rule}'s performance is very sensitive to batch size")
        };
        Claim {
            id: if rule == "constant" { "reference" } else { "4" },
            statement,
            group: String::new(),
            regime: None,
            rule: Some(rule),
            verdict: if spreads.is_empty() {
                crate::report::claims::ClaimVerdict::Inconclusive
            } else {
                seeds.verdict()
            },
            seeds,
            evidence: format!(
                "worst/best final loss across batch sizes per seed: {}; median final loss over \
                 seeds of completed runs: {}{}",
                if per_seed.is_empty() {
                    "n/a".into()
                } else {
                    per_seed.join(", ")
                },
                medians.join(", "),
                if self.diverged.is_empty() {
                    String::new()
                } else {
                    format!("; diverged (left out): {}", self.diverged.join(", "))
                }
            ),
            threshold: format!("worst/best ≥ {SENSITIVITY_RATIO} (per seed)"),
            margins: vec![crate::report::claims::Margin {
                quantity: "worst/best final loss".into(),
                values: spreads.iter().map(|s| Some(s.1)).collect(),
                bound: Bound::AtLeast(SENSITIVITY_RATIO),
            }],
        }
    }
}
