//! Warm starts on a slowly changing operator H_t = H + t·δ·E need fewer products than cold
//! starts.

use crate::common::{Dense, random_symmetric, relative, with_spectrum};
use nalgebra::SymmetricEigen;
use stepsharp_sharpness::{LanczosConfig, PowerConfig, lanczos, power_iteration};

const STEPS: usize = 8;
const DELTA: f64 = 1e-3;

fn operators() -> Vec<Dense> {
    let n = 120;
    let mut values = vec![5.0, 4.8, -6.0];
    values.extend((0..n - 3).map(|i| -4.0 + 8.5 * i as f64 / (n - 3) as f64));
    let base = with_spectrum(&values, 21);
    let direction = random_symmetric(n, 22);
    (0..STEPS)
        .map(|t| Dense::new(&base + &direction * (t as f64 * DELTA)))
        .collect()
}

fn exact_top(op: &Dense) -> f64 {
    SymmetricEigen::new(op.matrix.clone()).eigenvalues.max()
}

#[test]
fn lanczos_warm_start_saves_products() {
    let config = LanczosConfig {
        k: 1,
        max_iterations: 120,
        tolerance: 1e-8,
        seed: 5,
    };
    let (mut cold, mut warm) = (0, 0);
    let mut previous: Option<Vec<f64>> = None;
    for (t, mut op) in operators().into_iter().enumerate() {
        let exact = exact_top(&op);
        let from_cold = lanczos(
            &mut op,
            &LanczosConfig {
                seed: t as u64,
                ..config.clone()
            },
            None,
        )
        .unwrap();
        let from_warm = lanczos(&mut op, &config, previous.as_ref()).unwrap();
        assert!(from_cold.converged && from_warm.converged);
        assert!(relative(from_cold.lambda_max(), exact) < 1e-8);
        assert!(relative(from_warm.lambda_max(), exact) < 1e-8);
        cold += from_cold.hvps;
        warm += from_warm.hvps;
        previous = Some(from_warm.eigenpairs[0].vector.clone());
    }
    eprintln!("lanczos: cold {cold} products, warm {warm}");
    assert!(warm < cold, "warm {warm} vs cold {cold}");
}

#[test]
fn power_warm_start_saves_products() {
    let config = PowerConfig {
        max_iterations: 20_000,
        relative_tolerance: 1e-10,
        seed: 5,
    };
    let (mut cold, mut warm) = (0, 0);
    let mut previous: Option<Vec<f64>> = None;
    for (t, mut op) in operators().into_iter().enumerate() {
        let exact = exact_top(&op);
        let from_cold = power_iteration(
            &mut op,
            &PowerConfig {
                seed: t as u64,
                ..config.clone()
            },
            None,
        )
        .unwrap();
        let from_warm = power_iteration(&mut op, &config, previous.as_ref()).unwrap();
        assert!(from_cold.converged && from_warm.converged);
        assert!(
            relative(from_cold.lambda_max(), exact) < 1e-6,
            "{} vs {exact}",
            from_cold.lambda_max()
        );
        assert!(relative(from_warm.lambda_max(), exact) < 1e-6);
        cold += from_cold.hvps;
        warm += from_warm.hvps;
        previous = Some(from_warm.eigenpairs[0].vector.clone());
    }
    eprintln!("power: cold {cold} products, warm {warm}");
    assert!(warm < cold, "warm {warm} vs cold {cold}");
}
