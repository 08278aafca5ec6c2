//! Verdicts of the claims on hand-built runs: holds, does not hold, ties, seeds that disagree,
//! runs that did not train or diverged, missing measurements. No test reads report text.

use stepsharp_direction::DirectionConfig;
use stepsharp_models::Loss;
use stepsharp_runner::claims::{
    Claim, ClaimRun, ClaimVerdict, EdgeClass, SeedTally, figure_claims, simple_model_claims,
};
use stepsharp_runner::figure::{FigureKind, Regime};
use stepsharp_runner::stats::{RunStats, Windows};
use stepsharp_runner::status::RunStatus;
use stepsharp_runner::trajectory::Row;
use stepsharp_stepsize::{ConstantConfig, RuleConfig};

/// Statistics of a run that trained and was measured enough.
fn stats(final_loss: f64, growth: f64, eta_trend: f64, eta_lambda: f64) -> RunStats {
    RunStats {
        steps: 3000,
        initial_loss: Some(0.5),
        final_loss: Some(final_loss),
        final_loss_mean: Some(final_loss),
        initial_sharpness: Some(100.0),
        final_sharpness: Some(100.0 * growth),
        sharpness_growth: Some(growth),
        eta_trend: Some(eta_trend),
        median_eta_lambda: Some(eta_lambda),
        fraction_below_edge: Some(if eta_lambda < 2.0 { 0.9 } else { 0.1 }),
        median_eta_directional: Some(eta_lambda * 0.9),
        measurements: 60,
        ..Default::default()
    }
}

fn run(group: &str, rule: &'static str, seed: u64, stats: RunStats) -> ClaimRun {
    let batch_size = group.strip_prefix("batch ").map(|b| b.parse().unwrap());
    ClaimRun {
        group: group.into(),
        series: rule.into(),
        seed: Some(seed),
        regime: match batch_size {
            None => Regime::FullBatch,
            Some(b) if b <= 20 => Regime::Small,
            Some(_) => Regime::Medium,
        },
        batch_size,
        rule: match rule {
            "constant" => RuleConfig::Constant(ConstantConfig { eta: 0.04 }),
            "armijo" => RuleConfig::Armijo(Default::default()),
            "polyak" => RuleConfig::Polyak(Default::default()),
            other => panic!("no rule `{other}` in these tests"),
        },
        direction: DirectionConfig::GradientDescent,
        tuned: rule == "constant",
        loss: Some(Loss::Mse),
        stats,
    }
}

/// Three seeds of `rule` in `group`, one statistics per seed.
fn seeds(group: &str, rule: &'static str, per_seed: [RunStats; 3]) -> Vec<ClaimRun> {
    per_seed
        .into_iter()
        .enumerate()
        .map(|(seed, s)| run(group, rule, seed as u64, s))
        .collect()
}

fn find<'a>(claims: &'a [Claim], rule: &str, words: &str) -> &'a Claim {
    claims
        .iter()
        .find(|c| c.rule == Some(rule) && c.statement.contains(words))
        .unwrap_or_else(|| panic!("no claim about {rule} with `{words}` in {claims:#?}"))
}

/// The paper's full-batch picture: Armijo sharpens below the edge with a falling stepsize and
/// a higher loss than the tuned constant at the edge; Polyak slightly beyond, lowest loss.
fn paper_like_full_batch() -> Vec<ClaimRun> {
    let mut runs = seeds("full batch", "constant", [stats(0.27, 1.3, 1.0, 2.0); 3]);
    runs.extend(seeds(
        "full batch",
        "armijo",
        [stats(0.28, 3.4, 0.29, 1.6); 3],
    ));
    runs.extend(seeds(
        "full batch",
        "polyak",
        [stats(0.19, 0.9, 1.1, 2.5); 3],
    ));
    runs
}

#[test]
fn the_paper_like_full_batch_row_holds_every_claim_in_every_seed() {
    let claims = figure_claims(FigureKind::Interplay, &paper_like_full_batch());
    for claim in &claims {
        assert_eq!(claim.verdict, ClaimVerdict::Holds, "{claim:#?}");
        assert_eq!(claim.seeds.holds, 3, "{claim:#?}");
    }
    for (rule, words) in [
        ("armijo", "keeps increasing the sharpness"),
        ("armijo", "stepsize keeps falling"),
        ("armijo", "below the edge"),
        ("armijo", "higher train loss"),
        ("constant", "at the edge"),
        ("polyak", "at or slightly beyond"),
        ("polyak", "lower train loss"),
    ] {
        find(&claims, rule, words);
    }
}

#[test]
fn an_armijo_that_does_not_sharpen_at_the_edge_fails_claim_1() {
    let mut runs = seeds("full batch", "constant", [stats(0.27, 1.3, 1.0, 2.0); 3]);
    runs.extend(seeds(
        "full batch",
        "armijo",
        [stats(0.25, 1.1, 0.9, 2.0); 3],
    ));
    let claims = figure_claims(FigureKind::Interplay, &runs);
    for words in [
        "keeps increasing",
        "keeps falling",
        "below the edge",
        "higher train loss",
    ] {
        assert_eq!(
            find(&claims, "armijo", words).verdict,
            ClaimVerdict::DoesNotHold,
            "{words}"
        );
    }
}

#[test]
fn losses_within_one_percent_are_a_tie_not_a_higher_loss() {
    let mut runs = seeds("full batch", "constant", [stats(0.2990, 2.0, 0.5, 1.5); 3]);
    runs.extend(seeds(
        "full batch",
        "armijo",
        [stats(0.3000, 2.0, 0.5, 1.5); 3],
    ));
    let claims = figure_claims(FigureKind::Interplay, &runs);
    assert_eq!(
        find(&claims, "armijo", "higher train loss").verdict,
        ClaimVerdict::DoesNotHold
    );
}

#[test]
fn seeds_that_disagree_make_a_claim_inconclusive() {
    let runs = seeds(
        "full batch",
        "armijo",
        [
            stats(0.28, 2.0, 0.3, 1.5),
            stats(0.28, 1.1, 0.3, 1.5),
            RunStats {
                measurements: 1,
                sharpness_growth: None,
                ..stats(0.28, 1.0, 0.3, 1.5)
            },
        ],
    );
    let claims = figure_claims(FigureKind::Interplay, &runs);
    let growth = find(&claims, "armijo", "keeps increasing");
    assert_eq!(
        growth.seeds,
        SeedTally {
            holds: 1,
            fails: 1,
            undecided: 1
        }
    );
    assert_eq!(growth.verdict, ClaimVerdict::Inconclusive);
    // A test that every seed can decide still gets its verdict.
    assert_eq!(
        find(&claims, "armijo", "keeps falling").verdict,
        ClaimVerdict::Holds
    );
}

#[test]
fn runs_stuck_at_the_class_mean_loss_are_inconclusive_not_failures() {
    // MSE of predicting 1/10 for every class: 0.45. Every rule ends there.
    let stuck = stats(0.4476, 1.0, 1.0, 0.5);
    let mut runs = seeds("VGG-11", "constant", [stuck; 3]);
    runs.extend(seeds("VGG-11", "armijo", [stuck; 3]));
    runs.extend(seeds("VGG-11", "polyak", [stuck; 3]));
    let claims = figure_claims(FigureKind::LossCurves, &runs);
    assert!(!claims.is_empty());
    for claim in &claims {
        assert_eq!(claim.verdict, ClaimVerdict::Inconclusive, "{claim:#?}");
    }
    assert!(!runs[0].trained());
}

#[test]
fn missing_measurements_leave_edge_claims_undecided() {
    let unmeasured = RunStats {
        measurements: 0,
        median_eta_lambda: None,
        sharpness_growth: None,
        ..stats(0.2, 1.0, 1.0, 2.0)
    };
    let runs = seeds("full batch", "polyak", [unmeasured; 3]);
    let claims = figure_claims(FigureKind::Interplay, &runs);
    let edge = find(&claims, "polyak", "slightly beyond");
    assert_eq!(edge.seeds.undecided, 3);
    assert_eq!(edge.verdict, ClaimVerdict::Inconclusive);
}

#[test]
fn polyak_far_beyond_the_edge_is_not_slightly_beyond() {
    assert_eq!(EdgeClass::of(1.79), EdgeClass::Below);
    assert_eq!(EdgeClass::of(2.2), EdgeClass::At);
    assert_eq!(EdgeClass::of(2.9), EdgeClass::SlightlyBeyond);
    assert_eq!(EdgeClass::of(5.0), EdgeClass::FarBeyond);
    let runs = seeds("full batch", "polyak", [stats(0.19, 0.2, 1.0, 5.0); 3]);
    let claims = figure_claims(FigureKind::Interplay, &runs);
    assert_eq!(
        find(&claims, "polyak", "slightly beyond").verdict,
        ClaimVerdict::DoesNotHold
    );
}

#[test]
fn small_batches_judge_claim_4_and_medium_batches_claim_3() {
    let mut runs = paper_like_full_batch();
    runs.extend(seeds(
        "batch 100",
        "constant",
        [stats(0.30, 1.0, 1.0, 1.0); 3],
    ));
    runs.extend(seeds(
        "batch 100",
        "armijo",
        [stats(0.29, 1.2, 1.0, 1.5); 3],
    ));
    runs.extend(seeds(
        "batch 20",
        "constant",
        [stats(0.35, 1.0, 1.0, 0.5); 3],
    ));
    let diverged = RunStats {
        diverged_at: Some(12),
        final_loss: None,
        final_loss_mean: None,
        ..stats(9.0, 1.0, 1.0, 8.0)
    };
    runs.extend(seeds(
        "batch 20",
        "armijo",
        [
            diverged,
            stats(0.6, 1.0, 1.0, 4.0),
            stats(0.3, 1.0, 1.0, 1.0),
        ],
    ));
    let claims = figure_claims(FigureKind::Interplay, &runs);
    let medium: Vec<&Claim> = claims.iter().filter(|c| c.group == "batch 100").collect();
    assert!(medium.iter().all(|c| c.id == "3"), "{medium:#?}");
    assert_eq!(medium[0].verdict, ClaimVerdict::Holds);
    let small: Vec<&Claim> = claims.iter().filter(|c| c.group == "batch 20").collect();
    assert!(small.iter().all(|c| c.id == "4"), "{small:#?}");
    // Diverged, then unstable and worse, then fine: two of three seeds.
    assert_eq!(small[0].seeds.holds, 2);
    assert_eq!(small[0].verdict, ClaimVerdict::Holds);
    // Three batch sizes: sensitivity over completed runs only, the diverged seed listed apart.
    let sensitivity = claims
        .iter()
        .find(|c| c.id == "4" && c.group.is_empty() && c.rule == Some("armijo"))
        .expect("sensitivity claim");
    assert!(
        sensitivity.evidence.contains("batch 20 seed 0"),
        "{sensitivity:#?}"
    );
    // Per seed over completed runs: seed 0 (batch 20 diverged) 0.29/0.28, seed 1 0.6/0.28 = 2.1,
    // seed 2 0.3/0.28: one seed of three.
    assert_eq!(sensitivity.seeds.holds, 1, "{sensitivity:#?}");
    assert_eq!(
        sensitivity.verdict,
        ClaimVerdict::DoesNotHold,
        "{sensitivity:#?}"
    );
}

/// The batch-size sensitivity is judged per seed: here the medians over seeds of each batch size
/// differ by ×2.05, but only one seed of three is that sensitive.
#[test]
fn batch_size_sensitivity_is_judged_per_seed_not_on_pooled_medians() {
    let mut runs = Vec::new();
    for (group, losses) in [
        ("full batch", [0.10, 0.20, 0.45]),
        ("batch 100", [0.15, 0.25, 0.46]),
        ("batch 20", [0.41, 0.39, 0.50]),
    ] {
        let per_seed = losses.map(|l| stats(l, 1.0, 1.0, 2.0));
        runs.extend(seeds(group, "polyak", per_seed));
    }
    let claims = figure_claims(FigureKind::Interplay, &runs);
    let sensitivity = claims
        .iter()
        .find(|c| c.id == "4" && c.group.is_empty() && c.rule == Some("polyak"))
        .expect("sensitivity claim");
    assert_eq!(sensitivity.seeds.total(), 3);
    assert_eq!(sensitivity.seeds.holds, 1, "{sensitivity:#?}");
    assert_eq!(sensitivity.verdict, ClaimVerdict::DoesNotHold);
    assert!(
        sensitivity
            .evidence
            .contains("seed 0: 4.1000 (batch 20 / full batch)"),
        "{}",
        sensitivity.evidence
    );
    assert!(sensitivity.evidence.contains("full batch: 0.2000"));
    // The margin names the seed nearest the threshold: seed 1, 0.39/0.20 = 1.95 against ≥ 2.
    let (nearest, distance) = sensitivity.margins[0].nearest().unwrap();
    assert!((nearest - 1.95).abs() < 1e-12 && distance < 0.0);
    assert!(sensitivity.margins[0].sits_on_threshold());
}

#[test]
fn claim_5_holds_when_tuners_contradict_the_edge_only_model() {
    let sharpening = seeds("full batch", "armijo", [stats(0.28, 3.0, 0.3, 1.9); 3]);
    let claims = simple_model_claims(&[], &sharpening);
    assert_eq!(claims[0].verdict, ClaimVerdict::Holds, "{claims:#?}");
    let at_edge_and_stable = seeds("full batch", "armijo", [stats(0.28, 1.05, 1.0, 2.0); 3]);
    let claims = simple_model_claims(&[], &at_edge_and_stable);
    assert_eq!(claims[0].verdict, ClaimVerdict::DoesNotHold, "{claims:#?}");
    let claims = simple_model_claims(&[], &[]);
    assert_eq!(claims[0].verdict, ClaimVerdict::Inconclusive);
}

fn row(step: usize, loss: f64, eta: f64, lambda: Option<f64>) -> Row {
    Row {
        step,
        epoch: 0,
        loss,
        accuracy: 0.5,
        eta,
        trials: 0,
        failed: false,
        diagnostics: String::new(),
        grad_norm: 1.0,
        eval_loss: lambda.map(|_| loss),
        lambda_max: lambda,
        top_k: None,
        residual: None,
        converged: lambda.map(|_| true),
        eta_lambda: lambda.map(|l| l * eta),
        directional: lambda.map(|l| l / 2.0),
        test_loss: None,
        test_accuracy: None,
        forward_passes: 0,
        backward_passes: 0,
        hvps: 0,
        train_seconds: 0.0,
        tracking_seconds: 0.0,
        ..Row::default()
    }
}

#[test]
fn run_statistics_use_window_medians_not_the_last_iterate() {
    // A loss alternating between 0.45 and 3 on consecutive steps (full-batch Polyak), ending on
    // a high step; λ measured every 10 steps, doubling after a warm-up drop.
    let rows: Vec<Row> = (0..100)
        .map(|t: usize| {
            let loss = if t.is_multiple_of(2) { 0.45 } else { 3.0 };
            let level = if t < 20 {
                50.0
            } else if t < 50 {
                100.0
            } else {
                200.0
            };
            let lambda = t.is_multiple_of(10).then_some(level);
            row(t, loss, 0.01, lambda)
        })
        .collect();
    let status = RunStatus::Completed { steps: 100 };
    let s = RunStats::of(&rows, &status, true, Windows::default());
    assert_eq!(s.final_loss, Some((0.45 + 3.0) / 2.0));
    assert_eq!(s.final_loss_mean, Some((0.45 + 3.0) / 2.0));
    assert_eq!(s.sharpness_growth, Some(4.0));
    let warm = Windows {
        warmup_steps: 20,
        ..Windows::default()
    };
    let s = RunStats::of(&rows, &status, true, warm);
    assert_eq!(s.sharpness_growth, Some(2.0));
    assert_eq!(s.measurements, 8);
    assert_eq!(s.median_eta_lambda, Some(2.0));
    assert_eq!(s.fraction_below_edge, Some(3.0 / 8.0));
    let diverged = RunStatus::Diverged {
        step: 99,
        loss: f64::INFINITY,
    };
    assert_eq!(RunStats::of(&rows, &diverged, true, warm).final_loss, None);
}

#[test]
fn a_diverged_tuner_loses_every_loss_comparison_instead_of_being_skipped() {
    let mut runs = seeds("full batch", "constant", [stats(0.27, 1.3, 1.0, 2.0); 3]);
    let diverged = RunStats {
        diverged_at: Some(40),
        final_loss: None,
        final_loss_mean: None,
        ..stats(1.0, 1.0, 1.0, 6.0)
    };
    runs.extend(seeds("full batch", "polyak", [diverged; 3]));
    let claims = figure_claims(FigureKind::Interplay, &runs);
    let lower = find(&claims, "polyak", "lower train loss");
    assert_eq!(lower.seeds.fails, 3, "{lower:#?}");
    assert_eq!(lower.verdict, ClaimVerdict::DoesNotHold);
}
