//! With Candle's default detaching left on, the self-test must fail (the guard works).
//!
//! This file is its own test binary, not a module of `tests/sharpness/` (whose Candle tests
//! enable double backward), and the only test in it, so nothing else enables
//! `CANDLE_GRAD_DO_NOT_DETACH` in its process.

use stepsharp_sharpness::{
    DO_NOT_DETACH_VARIABLE, SharpnessError, double_backward_requested,
    ensure_exact_second_derivatives, self_test,
};

#[test]
fn self_test_fails_while_candle_detaches_and_passes_on_a_fresh_thread_once_enabled() {
    // SAFETY: the only test in this process; no other thread reads the environment.
    unsafe { std::env::remove_var(DO_NOT_DETACH_VARIABLE) };
    assert!(!double_backward_requested());

    // 1. Detaching on: the self-test reports an error, with an order-one error.
    match self_test() {
        Err(SharpnessError::SecondDerivativesNotExact { relative_error }) => {
            assert!(
                relative_error.is_nan() || relative_error >= 1e-3,
                "relative error {relative_error}"
            );
        }
        other => panic!("expected SecondDerivativesNotExact, got {other:?}"),
    }

    // 2. Enabling now is too late for this thread: Candle cached "detach" at its first
    //    backward pass, and the guard still refuses.
    let late = ensure_exact_second_derivatives();
    assert!(double_backward_requested());
    assert!(matches!(
        late,
        Err(SharpnessError::SecondDerivativesNotExact { .. })
    ));

    // 3. A thread whose first backward pass comes after enabling gets exact derivatives.
    let fresh = std::thread::spawn(|| {
        ensure_exact_second_derivatives()?;
        self_test()
    })
    .join()
    .unwrap()
    .unwrap();
    assert!(fresh.relative_error < 1e-12, "{fresh:?}");
}
