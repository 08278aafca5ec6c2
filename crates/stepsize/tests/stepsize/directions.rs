//! Every rule along an update other than `−g` (a momentum or Adam step): the hand-computed
//! η of each formula with the slope `∇fᵀu` along `u`, and what each does when `u` points
//! uphill.

use crate::common::{NoOracle, Quadratic, QuadraticOracle, assert_close, dot};
use stepsharp_stepsize::{
    ArmijoConfig, CdatConfig, PolyakConfig, RuleConfig, StepContext, Stepsize,
};

/// f(w) = ½wᵀHw, H = diag(4, 1), at w = (1, 2): g = (4, 2), f = 4. The update u = (−3, −9)
/// (not −g): slope gᵀu = −30, uᵀHu = 36 + 81 = 117.
fn setting() -> (Quadratic, Vec<f64>, Vec<f64>, StepContext) {
    let q = Quadratic::diagonal(&[4.0, 1.0]);
    let w = vec![1.0, 2.0];
    let u = vec![-3.0, -9.0];
    let g = q.grad(&w);
    let ctx = StepContext {
        loss: q.loss(&w),
        slope: dot(&g, &u),
    };
    assert_eq!((ctx.loss, ctx.slope, q.curvature(&u)), (4.0, -30.0, 117.0));
    (q, w, u, ctx)
}

#[test]
fn polyak_divides_by_the_slope_along_the_update() {
    let (_, _, _, ctx) = setting();
    let config = PolyakConfig {
        c: 1.0,
        gamma_max: 10.0,
        ..PolyakConfig::default()
    };
    let record = Stepsize::new(RuleConfig::Polyak(config))
        .unwrap()
        .step(&ctx, &mut NoOracle)
        .unwrap();
    // (f − f*)/(c·(−gᵀu)) = 4/30.
    assert_close(record.eta, 4.0 / 30.0, 1e-15);
}

#[test]
fn polyak_takes_no_step_along_an_uphill_update() {
    for slope in [0.0, 2.5] {
        let ctx = StepContext { loss: 4.0, slope };
        let record = Stepsize::new(RuleConfig::Polyak(PolyakConfig::default()))
            .unwrap()
            .step(&ctx, &mut NoOracle)
            .unwrap();
        assert_eq!(record.eta, 0.0, "slope {slope}");
        assert!(!record.failed);
    }
}

#[test]
fn cdat_is_sigma_times_the_line_minimizer_along_the_update() {
    let (q, w, u, ctx) = setting();
    let mut rule = Stepsize::new(RuleConfig::Cdat(CdatConfig {
        sigma: 2.0,
        eps: 0.0,
        ..CdatConfig::default()
    }))
    .unwrap();
    let record = rule
        .step(&ctx, &mut QuadraticOracle::new(&q, &w, &u))
        .unwrap();
    // σ·(−gᵀu)/(uᵀHu) = 2·30/117.
    assert_close(record.eta, 60.0 / 117.0, 1e-15);
}

#[test]
fn cdat_takes_no_step_along_an_uphill_update() {
    let (q, w, _, _) = setting();
    let uphill = vec![1.0, 0.5];
    let ctx = StepContext {
        loss: q.loss(&w),
        slope: dot(&q.grad(&w), &uphill),
    };
    assert!(ctx.slope > 0.0);
    let record = Stepsize::new(RuleConfig::Cdat(CdatConfig::default()))
        .unwrap()
        .step(&ctx, &mut QuadraticOracle::new(&q, &w, &uphill))
        .unwrap();
    assert_eq!(record.eta, 0.0);
}

#[test]
fn armijo_accepts_the_first_trial_below_its_bound_along_the_update() {
    let (q, w, u, ctx) = setting();
    let config = ArmijoConfig::optax();
    let mut oracle = QuadraticOracle::new(&q, &w, &u);
    let record = Stepsize::new(RuleConfig::Armijo(config.clone()))
        .unwrap()
        .step(&ctx, &mut oracle)
        .unwrap();
    // φ(η) = f + η·gᵀu + ½η²uᵀHu ≤ f + c·η·gᵀu  ⟺  η ≤ 2(1 − c)(−gᵀu)/(uᵀHu).
    // Here 2·0.9999·30/117 = 0.5128: 1, 0.8 and 0.64 fail, 0.8³ = 0.512 passes.
    let bound = 2.0 * (1.0 - config.c) * 30.0 / 117.0;
    assert!((0.512..0.64).contains(&bound));
    assert_close(record.eta, 0.512, 1e-15);
    assert_eq!(record.trials, 4);
    assert!(!record.failed);
}
