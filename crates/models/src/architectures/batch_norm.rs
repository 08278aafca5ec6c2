//! The BatchNorm policy: which calls see which statistics, and which may update them.

/// How BatchNorm layers normalize during a forward pass (ignored by networks without
/// BatchNorm).
///
/// Policy (this crate's rule, to be followed by every caller):
/// - **Only the training step updates running statistics**: the one forward pass whose gradient
///   is used for the parameter update runs in [`BatchNormMode::TrainUpdate`].
/// - **Everything else that evaluates the training objective uses batch statistics without
///   touching the running statistics** ([`BatchNormMode::Train`]): line-search trials
///   f(w + ηu), the loss and gradient of stepsize rules, and every Hessian-vector product. The
///   objective is therefore the same function of w no matter how many trials or HVPs were
///   computed.
/// - **Loss used for sharpness** (and the full-batch loss it is the Hessian of): train-mode batch
///   statistics on fixed, contiguous chunks of the (fixed, recorded) evaluation set, in order,
///   like Cohen et al. 2021's "ghost batches". The chunk size is the
///   [`crate::Objective::chunk_size`] of the evaluations and is the same for the loss, the
///   gradient and the HVPs of one measurement; with BatchNorm the objective depends on it
///   (without BatchNorm it does not, beyond rounding).
/// - **Test metrics** use [`BatchNormMode::Eval`] (running statistics), as in PyTorch's
///   `model.eval()`.
///
/// Default: `Train` (the side-effect-free choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BatchNormMode {
    /// Batch statistics, running statistics updated (μ_r ← 0.9·μ_r + 0.1·μ_batch,
    /// σ²_r ← 0.9·σ²_r + 0.1·unbiased σ²_batch; PyTorch momentum 0.1): training step only.
    TrainUpdate,
    /// Batch statistics, running statistics untouched: line-search trials, Hessian products,
    /// the sharpness loss (ghost batches).
    #[default]
    Train,
    /// Running statistics: test-set evaluation.
    Eval,
}
