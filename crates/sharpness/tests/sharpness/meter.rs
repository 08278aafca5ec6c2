//! The meter on dense operators with a known spectrum: each estimate is the one its own
//! function gives with the measurement's seeds and the carried warm starts, the products add
//! up, and only what is due (and configured) is taken.

use crate::common::{Dense, random_symmetric, relative, with_spectrum};
use nalgebra::{DMatrix, SymmetricEigen};
use stepsharp_sharpness::{
    DensityConfig, DiagonallyScaled, Due, EigenSolver, LanczosConfig, Measurement, SharpnessMeter,
    TraceConfig, TrackerConfig, WarmStart, WarmStartedSolver, directional_curvature,
    hutchinson_trace, spectral_density,
};

const N: usize = 40;

/// `H_t = H + t·10⁻³·E` with `λ_max(H) = 9`: a slowly changing Hessian.
fn hessian(t: usize) -> Dense {
    let mut values = vec![9.0, 7.5];
    values.extend((0..N - 2).map(|i| -2.0 + 6.0 * i as f64 / (N - 2) as f64));
    let drift = random_symmetric(N, 3) * (t as f64 * 1e-3);
    Dense::new(with_spectrum(&values, 2) + drift)
}

fn config() -> TrackerConfig {
    let solver = EigenSolver::Lanczos(LanczosConfig {
        k: 2,
        max_iterations: N,
        tolerance: 1e-8,
        seed: 11,
    });
    TrackerConfig {
        preconditioned: Some(solver.clone().with_seed(12)),
        solver,
        trace: Some(TraceConfig {
            seed: 13,
            ..TraceConfig::default()
        }),
        density: Some(DensityConfig {
            seed: 14,
            ..DensityConfig::default()
        }),
        ..TrackerConfig::default()
    }
}

/// A positive diagonal `D` and an update direction.
fn diagonal_and_direction() -> (Vec<f64>, Vec<f64>) {
    let d = (0..N).map(|i| 0.5 + (i % 7) as f64 / 7.0).collect();
    let u = (0..N).map(|i| ((i * 5 % 11) as f64 - 5.0) / 5.0).collect();
    (d, u)
}

#[test]
fn every_estimate_is_its_own_function_with_the_measurements_seeds_and_warm_starts() {
    let config = config();
    let mut meter = SharpnessMeter::new(&config).unwrap();
    let policy = WarmStart::Previous;
    let mut solver = WarmStartedSolver::new(config.solver.clone(), policy).unwrap();
    let preconditioned = config.preconditioned.clone().unwrap();
    let mut scaled_solver = WarmStartedSolver::new(preconditioned, policy).unwrap();
    let (d, u) = diagonal_and_direction();
    for (t, index) in [(0, 0), (1, 5), (2, 10)] {
        let mut operator = hessian(t);
        let measurement = Measurement {
            index,
            due: Due::ALL,
            direction: Some(&u),
            preconditioner: Some(&d),
        };
        let estimates = meter.measure(&mut operator, &measurement).unwrap();
        assert_eq!(estimates.hvps(), operator.products, "measurement {index}");

        let mut reference = hessian(t);
        let top = solver.solve(&mut reference, index).unwrap();
        let along = directional_curvature(&mut reference, &u).unwrap();
        let scaled = {
            let mut scaled = DiagonallyScaled::new(&mut reference, d.clone()).unwrap();
            scaled_solver.solve(&mut scaled, index).unwrap()
        };
        let trace_config = config.trace.as_ref().unwrap().for_measurement(index);
        let trace = hutchinson_trace(&mut reference, &trace_config).unwrap();
        let density_config = config.density.as_ref().unwrap().for_measurement(index);
        let density = spectral_density(&mut reference, &density_config).unwrap();

        let spectrum = estimates.spectrum.unwrap();
        let values = |pairs: &[stepsharp_sharpness::Eigenpair<Vec<f64>>]| {
            pairs.iter().map(|p| p.value).collect::<Vec<_>>()
        };
        assert_eq!(spectrum.hessian.eigenvalues, values(&top.eigenpairs));
        assert_eq!(spectrum.hessian.hvps, top.hvps);
        assert_eq!(spectrum.directional.unwrap(), along);
        let preconditioned = spectrum.preconditioned.unwrap();
        assert_eq!(preconditioned.eigenvalues, values(&scaled.eigenpairs));
        assert_eq!(estimates.trace.unwrap(), trace);
        assert_eq!(estimates.density.unwrap(), density);
        assert_eq!(meter.warm_start(), solver.warm_start());
        assert_eq!(
            meter.preconditioned_warm_start(),
            scaled_solver.warm_start()
        );

        // Ground truth: λ_max(H) and λ_max(P⁻¹H) = λ_max(DHD) from dense eigenvalues.
        let dense = &hessian(t).matrix;
        let top_exact = SymmetricEigen::new(dense.clone()).eigenvalues.max();
        let scaling = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&d));
        let scaled_exact = SymmetricEigen::new(&scaling * dense * &scaling)
            .eigenvalues
            .max();
        assert!(relative(spectrum.hessian.lambda_max(), top_exact) < 1e-8);
        assert!(relative(preconditioned.lambda_max(), scaled_exact) < 1e-8);
    }
}

#[test]
fn only_due_and_configured_estimates_are_taken() {
    let (d, u) = diagonal_and_direction();
    let mut meter = SharpnessMeter::new(&config()).unwrap();
    let mut operator = hessian(0);
    let trace_only = Measurement {
        index: 0,
        due: Due {
            trace: true,
            ..Due::default()
        },
        direction: Some(&u),
        preconditioner: Some(&d),
    };
    let estimates = meter.measure(&mut operator, &trace_only).unwrap();
    assert!(estimates.spectrum.is_none() && estimates.density.is_none());
    let hvps = estimates.hvps();
    assert_eq!(hvps, estimates.trace.unwrap().hvps);
    assert_eq!(hvps, operator.products);
    assert!(meter.warm_start().is_none(), "no solve, no warm start");

    // Without a preconditioned solver, trace or density in the config, a measurement of
    // everything takes the spectrum and the direction only.
    let bare = TrackerConfig {
        solver: config().solver,
        ..TrackerConfig::default()
    };
    let mut meter = SharpnessMeter::new(&bare).unwrap();
    let measurement = Measurement {
        direction: Some(&u),
        preconditioner: Some(&d),
        ..Measurement::all(0)
    };
    let estimates = meter.measure(&mut hessian(0), &measurement).unwrap();
    let hvps = estimates.hvps();
    let spectrum = estimates.spectrum.unwrap();
    assert!(spectrum.preconditioned.is_none() && estimates.trace.is_none());
    assert_eq!(hvps, spectrum.hessian.hvps + 1);
    assert!(meter.preconditioned_warm_start().is_none());
}

#[test]
fn warm_starts_are_carried_and_restored() {
    let top_only = EigenSolver::Lanczos(LanczosConfig {
        k: 1,
        max_iterations: N,
        tolerance: 1e-8,
        seed: 11,
    });
    let config = TrackerConfig {
        preconditioned: Some(top_only.clone().with_seed(12)),
        solver: top_only,
        ..TrackerConfig::default()
    };
    let (d, _) = diagonal_and_direction();
    let spectrum_only = |index| Measurement {
        index,
        due: Due {
            spectrum: true,
            ..Due::default()
        },
        direction: None,
        preconditioner: Some(&d),
    };
    let mut meter = SharpnessMeter::new(&config).unwrap();
    let cold = meter.measure(&mut hessian(0), &spectrum_only(0)).unwrap();
    let warm = meter.measure(&mut hessian(1), &spectrum_only(1)).unwrap();
    let (cold, warm) = (cold.spectrum.unwrap(), warm.spectrum.unwrap());
    assert!(warm.hessian.hvps < cold.hessian.hvps);

    // A fresh meter given the saved warm starts measures the next step bit for bit.
    let mut resumed = SharpnessMeter::new(&config).unwrap();
    resumed.set_warm_start(meter.warm_start().cloned());
    resumed.set_preconditioned_warm_start(meter.preconditioned_warm_start().cloned());
    let next = meter.measure(&mut hessian(2), &spectrum_only(2)).unwrap();
    let again = resumed.measure(&mut hessian(2), &spectrum_only(2)).unwrap();
    assert_eq!(next.spectrum, again.spectrum);
}

#[test]
fn invalid_estimators_are_errors_and_the_schedule_is_not_the_meters() {
    let invalid = TrackerConfig {
        preconditioned: Some(EigenSolver::Lanczos(LanczosConfig {
            k: 0,
            ..LanczosConfig::default()
        })),
        ..TrackerConfig::default()
    };
    assert!(SharpnessMeter::<Vec<f64>>::new(&invalid).is_err());
    let unused_schedule = TrackerConfig {
        schedule: stepsharp_sharpness::Schedule::Every(0),
        ..TrackerConfig::default()
    };
    assert!(SharpnessMeter::<Vec<f64>>::new(&unused_schedule).is_ok());
    assert!(unused_schedule.validate().is_err());
}
