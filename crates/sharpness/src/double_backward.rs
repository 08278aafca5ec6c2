//! Turning Candle's double backward on, and proving that it is on.
//!
//! Candle 0.11.1 detaches every intermediate gradient during `backward()` unless the
//! environment variable `CANDLE_GRAD_DO_NOT_DETACH` is non-empty and not `"0"`. A second
//! backward pass through a detached gradient returns `Ok` with a missing or wrong Hessian,
//! never an error (`docs/candle.md#detached-gradients`). How the variable is read decides how
//! to set it:
//!
//! - `candle-core/src/backprop.rs` reads it in a `thread_local!` initializer, i.e. **once per
//!   thread, at that thread's first `backward()`**, and caches the answer for the thread's
//!   life.
//! - So the variable must be set before the first backward pass on every thread that will
//!   compute Hessian-vector products. Setting it later fixes threads that have not run a
//!   backward pass yet, and never the ones that have: those keep detaching, and only a
//!   self-test can tell (see `tests/detach_guard.rs`).
//! - First-order gradients are bitwise unchanged by the variable
//!   (`docs/candle.md#detached-gradients`); gradients
//!   then carry their graph, which costs memory until they are dropped.

use std::cell::Cell;

use candle_core::{DType, Device, Tensor, Var};

use crate::gradient_graph::GradientGraph;
use crate::{SharpnessError, Vector};

/// The environment variable Candle reads to keep the graph of gradients.
pub const DO_NOT_DETACH_VARIABLE: &str = "CANDLE_GRAD_DO_NOT_DETACH";

/// Largest relative error the self-test accepts. Exact double backward matches the
/// analytic Hessian to rounding (about 1e-16 in f64, `docs/candle.md#detached-gradients`); a
/// detached graph is
/// off by order one. Default: 1e-10 (this crate, between the two by six orders of magnitude).
pub const SELF_TEST_TOLERANCE: f64 = 1e-10;

thread_local! {
    static VERIFIED: Cell<bool> = const { Cell::new(false) };
}

/// Sets `CANDLE_GRAD_DO_NOT_DETACH=1` (unless it already holds a value Candle reads as on).
///
/// Call it at the start of `main` (or of a test), before any thread runs a backward pass:
/// Candle reads the variable once per thread, at that thread's first backward pass.
///
/// Soundness: `std::env::set_var` is `unsafe` in edition 2024 because another thread may read
/// the environment at the same time through C's `getenv`, which Rust's environment lock does
/// not cover. Rust readers (`std::env::var`, which Candle uses) take that lock and are safe.
/// Called at program start, before worker threads exist, nothing else can race; called later
/// (e.g. from parallel tests), a race needs foreign code calling `getenv` concurrently, which
/// nothing in Candle's CPU path does. The variable is written only when it is not already on,
/// so repeated calls do not write at all.
pub fn enable_double_backward() {
    if !double_backward_requested() {
        // SAFETY: see the function documentation: the only unsynchronized readers would be
        // foreign `getenv` calls on other threads, which this crate's callers do not make
        // while enabling double backward.
        unsafe { std::env::set_var(DO_NOT_DETACH_VARIABLE, "1") };
    }
}

/// Whether the environment currently asks Candle not to detach gradients (Candle's rule:
/// the variable is set, non-empty and not `"0"`). Threads that already ran a backward pass
/// may still have cached the old value: only [`self_test`] tells.
pub fn double_backward_requested() -> bool {
    std::env::var(DO_NOT_DETACH_VARIABLE).is_ok_and(|value| !value.is_empty() && value != "0")
}

/// What the self-test measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfTestReport {
    /// `max_ij |H_ij − Ĥ_ij| / max_ij |H_ij|`: the computed Hessian `Ĥ` (column by column
    /// from exact HVPs) against the analytic one.
    pub relative_error: f64,
    /// Dimension of the test problem.
    pub dimension: usize,
    /// Hessian-vector products used.
    pub hvps: usize,
}

/// Checks on this thread that double backward gives exact second derivatives.
///
/// The problem: `w = (a, b)` with `a ∈ ℝ³`, `b ∈ ℝ`, split into two chunk losses
/// `L₁ = Σ_i tanh((A a)_i)` and `L₂ = ¼ (aᵀa + b²)² + b·Σ_i a_i²`, in f64 on the CPU.
/// The analytic Hessian is `Aᵀ diag(tanh''(A a)) A ⊕ 0 + (|w|²) I + 2 w wᵀ + ∂²(b Σ a²)`,
/// with `tanh'' = −2 tanh (1 − tanh²)`. All four columns are computed by the products of
/// [`crate::HessianOperator`] (the same code path as real runs, without its guard) and
/// compared.
///
/// Returns [`SharpnessError::SecondDerivativesNotExact`] when the relative error exceeds
/// [`SELF_TEST_TOLERANCE`]. It does not set the environment variable: see
/// [`ensure_exact_second_derivatives`] for that.
///
/// ```
/// stepsharp_sharpness::enable_double_backward();
/// let report = stepsharp_sharpness::self_test().unwrap();
/// assert!(report.relative_error < 1e-12);
/// ```
pub fn self_test() -> Result<SelfTestReport, SharpnessError> {
    let device = Device::Cpu;
    let a_value = [0.3, -0.7, 0.5];
    let b_value = 0.8;
    let matrix = [[0.9, -0.4, 0.2], [0.1, 0.6, -0.8], [-0.5, 0.3, 0.7]];
    let a = Var::from_tensor(&Tensor::new(&a_value, &device)?)?;
    let b = Var::from_tensor(&Tensor::new(&[b_value], &device)?)?;
    let m = Tensor::new(&matrix, &device)?;
    // Chunk 1: Σ tanh(A a).
    let z = m.matmul(&a.as_tensor().unsqueeze(1)?)?.squeeze(1)?;
    let chunk1 = z.tanh()?.sum_all()?;
    // Chunk 2: ¼ (|a|² + b²)² + b·|a|².
    let a_sq = a.as_tensor().sqr()?.sum_all()?;
    let b_scalar = b.as_tensor().sum_all()?;
    let radius = (&a_sq + b_scalar.sqr()?)?;
    let chunk2 = ((radius.sqr()? * 0.25)? + b_scalar.mul(&a_sq)?)?;
    let mut graph = GradientGraph::new(&[a, b], &[chunk1, chunk2])?;

    let expected = analytic_hessian(&a_value, b_value, &matrix);
    let n = expected.len();
    let template = Tensor::zeros(n, DType::F64, &device)?;
    let mut worst: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for (j, expected_column) in expected.iter().enumerate() {
        let mut unit = vec![0.0; n];
        unit[j] = 1.0;
        let column = graph.product(&template.like(&unit)?)?.to_vec()?;
        for (computed, exact) in column.iter().zip(expected_column) {
            let error = (computed - exact).abs();
            // A NaN error must fail the test, so propagate it instead of `max` ignoring it.
            worst = if error.is_nan() {
                f64::NAN
            } else {
                worst.max(error)
            };
            scale = scale.max(exact.abs());
        }
    }
    let relative_error = worst / scale;
    if relative_error.is_nan() || relative_error > SELF_TEST_TOLERANCE {
        return Err(SharpnessError::SecondDerivativesNotExact { relative_error });
    }
    Ok(SelfTestReport {
        relative_error,
        dimension: n,
        hvps: graph.hvps(),
    })
}

/// Makes sure double backward is exact on this thread: [`enable_double_backward`], then
/// [`self_test`]. A success is cached per thread (Candle's own setting is per thread), so
/// later calls cost nothing; a failure is not cached and is re-checked on the next call.
pub fn ensure_exact_second_derivatives() -> Result<(), SharpnessError> {
    if VERIFIED.with(Cell::get) {
        return Ok(());
    }
    enable_double_backward();
    self_test()?;
    VERIFIED.with(|verified| verified.set(true));
    Ok(())
}

/// The Hessian of the self-test loss, as columns (it is symmetric).
fn analytic_hessian(a: &[f64; 3], b: f64, matrix: &[[f64; 3]; 3]) -> Vec<Vec<f64>> {
    let w = [a[0], a[1], a[2], b];
    let radius: f64 = w.iter().map(|x| x * x).sum();
    let mut hessian = vec![vec![0.0; 4]; 4];
    // ¼ |w|⁴: |w|² I + 2 w wᵀ.
    for i in 0..4 {
        for j in 0..4 {
            hessian[i][j] = 2.0 * w[i] * w[j] + if i == j { radius } else { 0.0 };
        }
    }
    // b |a|²: ∂²/∂a_i² = 2b, ∂²/∂a_i∂b = 2 a_i.
    for i in 0..3 {
        hessian[i][i] += 2.0 * b;
        hessian[i][3] += 2.0 * a[i];
        hessian[3][i] += 2.0 * a[i];
    }
    // Σ_k tanh(z_k), z = A a: Σ_k tanh''(z_k) A_ki A_kj.
    for row in matrix {
        let z: f64 = row.iter().zip(a).map(|(m, x)| m * x).sum();
        let t = z.tanh();
        let second = -2.0 * t * (1.0 - t * t);
        for i in 0..3 {
            for j in 0..3 {
                hessian[i][j] += second * row[i] * row[j];
            }
        }
    }
    hessian
}
