//! Claim 4's second half: a tuner's performance is very sensitive to batch size — the worst
//! over the best median final loss across batch sizes, with the constant stepsize as reference.

use super::{groups, series};
use crate::report::claims::{Claim, ClaimRun, SENSITIVITY_RATIO, SeedTally, fmt};
use crate::stats::median;

/// For each rule, the worst over the best median final loss across batch sizes, over runs that
/// completed (diverged runs are listed apart); rules with fewer than two groups are skipped.
pub(super) fn sensitivity_claims(runs: &[ClaimRun]) -> Vec<Claim> {
    ["armijo", "polyak", "constant"]
        .into_iter()
        .filter_map(|rule| {
            let finals = FinalLosses::of(runs, rule);
            (finals.medians.len() + finals.diverged.len() >= 2).then(|| finals.claim(rule))
        })
        .collect()
}

/// One rule's final losses across the groups (batch sizes).
struct FinalLosses {
    /// (group, median final loss over the seeds that completed).
    medians: Vec<(String, f64)>,
    /// `group seed s` of every diverged run.
    diverged: Vec<String>,
}

impl FinalLosses {
    fn of(runs: &[ClaimRun], rule: &str) -> Self {
        let mut finals = Self {
            medians: Vec::new(),
            diverged: Vec::new(),
        };
        for (group, ..) in &groups(runs) {
            let Some(s) = series(runs, group, rule) else {
                continue;
            };
            let losses: Vec<f64> = s.runs.iter().filter_map(|r| r.stats.final_loss).collect();
            finals
                .diverged
                .extend(
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
                finals.medians.push((group.clone(), m));
            }
        }
        finals
    }

    /// Worst over best median final loss (None with fewer than two completed groups).
    fn spread(&self) -> Option<f64> {
        let values = self.medians.iter().map(|(_, v)| *v);
        (self.medians.len() >= 2).then(|| {
            values.clone().fold(f64::NEG_INFINITY, f64::max) / values.fold(f64::INFINITY, f64::min)
        })
    }

    fn claim(&self, rule: &'static str) -> Claim {
        let spread = self.spread();
        let seeds = SeedTally::of([spread.map(|s| s >= SENSITIVITY_RATIO)]);
        let listed: Vec<String> = self
            .medians
            .iter()
            .map(|(g, v)| format!("{g}: {v:.4}"))
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
            verdict: seeds.verdict(),
            seeds,
            evidence: format!(
                "median final loss over seeds of completed runs: {}; worst/best {}{}",
                listed.join(", "),
                fmt(spread),
                if self.diverged.is_empty() {
                    String::new()
                } else {
                    format!("; diverged (left out): {}", self.diverged.join(", "))
                }
            ),
            threshold: format!("worst/best ≥ {SENSITIVITY_RATIO}"),
        }
    }
}
