//! A diagonal quadratic `f(w) = ½Σλ_i w_i²` driven by a direction with a constant stepsize.

use stepsharp_direction::{Direction, NonDescentAction};

/// `‖w_T‖ / ‖w_0‖` after at most `steps` constant-η steps of `direction` on the diagonal
/// quadratic with eigenvalues `lambdas` from `w_0 = 1`, stopping early once the ratio passes
/// 1e3 (diverged).
pub fn growth(direction: &mut Direction<Vec<f64>>, lambdas: &[f64], eta: f64, steps: usize) -> f64 {
    let mut w = vec![1.0; lambdas.len()];
    let start = norm(&w);
    for _ in 0..steps {
        let g: Vec<f64> = lambdas.iter().zip(&w).map(|(l, w)| l * w).collect();
        let update = direction
            .step(&g, NonDescentAction::Proceed)
            .unwrap()
            .update;
        w.iter_mut().zip(&update).for_each(|(w, u)| *w += eta * u);
        if norm(&w) / start > 1e3 {
            break;
        }
    }
    norm(&w) / start
}

pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[track_caller]
pub fn assert_close(actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tolerance * e.abs().max(1.0),
            "entry {i}: {a} vs {e} (tolerance {tolerance})"
        );
    }
}
