//! The public tracker on a tiny MLP trained by gradient descent: its records against the
//! dense Hessian at each measured point, against direct solver calls (seeds, warm starts),
//! its schedule and its errors.

use crate::common::mlp::{Activation, Loss, Problem, dense_hessian};
use crate::common::relative;
use candle_core::{DType, Tensor, Var};
use stepsharp_sharpness::{
    DensityConfig, EigenSolver, HessianOperator, LanczosConfig, PowerConfig, Schedule,
    SharpnessError, SharpnessTracker, TraceConfig, TrackerConfig, WarmStart,
};

/// One gradient-descent step with stepsize `eta` on the problem's loss.
fn descend(problem: &Problem, vars: &[Var], eta: f64) {
    let grads = problem.loss(vars).backward().unwrap();
    for var in vars {
        let g = grads.get(var.as_tensor()).unwrap();
        var.set(&(var.as_tensor() - (g * eta).unwrap()).unwrap())
            .unwrap();
    }
}

#[test]
fn records_match_the_dense_hessian_on_the_schedule() {
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 30);
    let vars = problem.vars(&problem.point, DType::F64);
    let loss = || Ok(problem.loss(&vars));
    let config = TrackerConfig {
        schedule: Schedule::Steps(vec![0, 3]),
        solver: EigenSolver::Lanczos(LanczosConfig {
            k: 2,
            max_iterations: 39,
            tolerance: 1e-10,
            seed: 0,
        }),
        trace: Some(TraceConfig {
            relative_standard_error: 0.05,
            max_probes: 1000,
            ..TraceConfig::default()
        }),
        density: Some(DensityConfig {
            steps: 10,
            grid_points: 100,
            ..DensityConfig::default()
        }),
        ..TrackerConfig::default()
    };
    let mut tracker = SharpnessTracker::new(&vars, &loss, config).unwrap();
    let mut measured = Vec::new();
    for step in 0..5 {
        if let Some(record) = tracker.step(step).unwrap() {
            let (dense, exact) = dense_hessian(&vars, problem.loss(&vars));
            assert!(record.converged);
            for (value, e) in record.eigenvalues.iter().zip(&exact) {
                assert!(relative(*value, *e) < 1e-8, "step {step}: {value} vs {e}");
            }
            assert!(record.residuals.iter().all(|r| *r <= 1e-9 * exact[0].abs()));
            let trace = record.trace.as_ref().unwrap();
            assert!((trace.value - dense.trace()).abs() <= 3.0 * trace.standard_error);
            let density = record.density.as_ref().unwrap();
            assert_eq!(density.hvps, 10);
            let solver_hvps = record.hvps - trace.hvps - density.hvps;
            assert!((2..=39).contains(&solver_hvps), "{solver_hvps}");
            let loss = problem.loss(&vars).to_scalar::<f64>().unwrap();
            assert_eq!(record.loss.to_bits(), loss.to_bits());
            eprintln!(
                "step {step}: λ = {:?} (exact {:?}), trace {} ± {} (exact {}), {} HVPs",
                record.eigenvalues,
                &exact[..2],
                trace.value,
                trace.standard_error,
                dense.trace(),
                record.hvps
            );
            measured.push(record.step);
        }
        descend(&problem, &vars, 0.3);
    }
    assert_eq!(measured, [0, 3]);
}

#[test]
fn measurements_are_the_configured_solver_with_seed_plus_index_and_the_warm_start() {
    for (solver, warm_start) in [
        (
            EigenSolver::Lanczos(LanczosConfig {
                k: 2,
                seed: 5,
                ..LanczosConfig::default()
            }),
            WarmStart::Previous,
        ),
        (
            EigenSolver::Lanczos(LanczosConfig {
                seed: 5,
                ..LanczosConfig::default()
            }),
            WarmStart::Cold,
        ),
        (
            EigenSolver::Power(PowerConfig {
                seed: 5,
                ..PowerConfig::default()
            }),
            WarmStart::Previous,
        ),
    ] {
        let problem = Problem::new(Activation::Tanh, Loss::CrossEntropy, 31);
        let vars = problem.vars(&problem.point, DType::F64);
        let loss = || Ok(problem.loss(&vars));
        let config = TrackerConfig {
            schedule: Schedule::Every(2),
            solver: solver.clone(),
            warm_start,
            ..TrackerConfig::default()
        };
        let mut tracker = SharpnessTracker::new(&vars, &loss, config).unwrap();
        let mut previous: Option<Tensor> = None;
        for (index, step) in [0u64, 2, 4].into_iter().enumerate() {
            let mut hessian = HessianOperator::new(&vars, &[problem.loss(&vars)]).unwrap();
            let warm = match warm_start {
                WarmStart::Previous => previous.as_ref(),
                WarmStart::Cold => None,
            };
            let direct = solver
                .clone()
                .with_seed(5 + index as u64)
                .solve(&mut hessian, warm)
                .unwrap();
            let record = tracker.measure(step as usize).unwrap();
            let values: Vec<u64> = direct
                .eigenpairs
                .iter()
                .map(|p| p.value.to_bits())
                .collect();
            let recorded: Vec<u64> = record.eigenvalues.iter().map(|v| v.to_bits()).collect();
            assert_eq!(values, recorded, "{solver:?}, {warm_start:?}, step {step}");
            assert_eq!(record.hvps, direct.hvps);
            let top = &direct.eigenpairs[0].vector;
            let kept = tracker.warm_start().unwrap();
            assert_eq!(
                top.to_vec1::<f64>().unwrap(),
                kept.to_vec1::<f64>().unwrap()
            );
            previous = Some(top.clone());
            descend(&problem, &vars, 0.5);
        }
    }
}

#[test]
fn invalid_settings_are_typed_errors() {
    let problem = Problem::new(Activation::Tanh, Loss::Mse, 32);
    let vars = problem.vars(&problem.point, DType::F64);
    let loss = || Ok(problem.loss(&vars));
    let every_zero = TrackerConfig {
        schedule: Schedule::Every(0),
        ..TrackerConfig::default()
    };
    assert!(matches!(
        SharpnessTracker::new(&vars, &loss, every_zero),
        Err(SharpnessError::InvalidConfig {
            field: "schedule.every",
            ..
        })
    ));
    let no_probes = TrackerConfig {
        trace: Some(TraceConfig {
            min_probes: 1,
            ..TraceConfig::default()
        }),
        ..TrackerConfig::default()
    };
    assert!(matches!(
        SharpnessTracker::new(&vars, &loss, no_probes),
        Err(SharpnessError::InvalidConfig {
            field: "min_probes",
            ..
        })
    ));
    assert!(matches!(
        SharpnessTracker::new(&[], &loss, TrackerConfig::default()),
        Err(SharpnessError::NoParameters)
    ));
    let defaults = TrackerConfig::default();
    assert_eq!(defaults.schedule, Schedule::Every(10));
    assert_eq!(
        defaults.solver,
        EigenSolver::Lanczos(LanczosConfig::default())
    );
    assert_eq!(defaults.warm_start, WarmStart::Previous);
    assert!(defaults.trace.is_none() && defaults.density.is_none());
}
