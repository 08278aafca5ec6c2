//! The edge of stability of each direction: the largest sharpness at which its iteration with
//! a constant stepsize is stable on a quadratic.

use crate::DirectionConfig;

/// Which curvature decides a direction's stability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelevantSharpness {
    /// `λ_max(H)`, the top eigenvalue of the loss Hessian (gradient descent, momentum).
    Hessian,
    /// `λ_max(P⁻¹H)`, the top eigenvalue of the preconditioned Hessian, with Adam's
    /// `P = diag(√v̂ + ε)` (Cohen et al. 2022, "Adaptive Gradient Methods at the Edge of
    /// Stability", arXiv 2207.14484). Computed as the top eigenvalue of the symmetric
    /// `P^{-1/2}·H·P^{-1/2}`, which has the same eigenvalues.
    Preconditioned,
}

impl DirectionConfig {
    /// The curvature whose top eigenvalue is compared with [`stability_threshold`](Self::stability_threshold).
    pub fn relevant_sharpness(&self) -> RelevantSharpness {
        if self.is_preconditioned() {
            RelevantSharpness::Preconditioned
        } else {
            RelevantSharpness::Hessian
        }
    }

    /// The largest relevant sharpness at which the direction's iteration with stepsize `eta`
    /// is stable on a quadratic, at update `t ≥ 1` (Adam's first-moment correction depends on
    /// it; the others do not). Infinite for `eta = 0`.
    ///
    /// On `f(w) = ½λw²` (one eigen-direction), with `a = ηλ`:
    /// - **gradient descent**: `w ← (1 − a)w`, stable iff `a < 2`: threshold `2/η`.
    /// - **heavy ball** (`b ← βb + λw`, `w ← w − ηb`): `w_{t+1} = (1 + β − a)w_t − βw_{t−1}`,
    ///   characteristic polynomial `z² − (1 + β − a)z + β`; both roots inside the unit circle
    ///   iff `0 < a < 2 + 2β` (Jury's conditions): threshold `(2 + 2β)/η`, 3.8/η at β = 0.9.
    /// - **Nesterov** (`b ← βb + λw`, `w ← w − η(λw + βb)`): on the state `(w_t, b_{t−1})` the
    ///   iteration matrix is `[[1 − a(1 + β), −ηβ²], [λ, β]]`, characteristic polynomial
    ///   `z² − (1 + β)(1 − a)z + β(1 − a)`. Jury: `p(1) = a > 0`,
    ///   `p(−1) = 1 + (1 + 2β)(1 − a) > 0`, `|β(1 − a)| < 1`; the second binds: threshold
    ///   `(2 + 2β)/((1 + 2β)·η)`, about 1.357/η at β = 0.9.
    /// - **Adam with `P` frozen**: on an eigen-direction of `P⁻¹H` with eigenvalue λ,
    ///   `m ← β₁m + (1 − β₁)λw`, `w ← w − (η/c₁)m` with `c₁ = 1 − β₁ᵗ` is heavy ball with
    ///   momentum β₁ and stepsize `η(1 − β₁)/c₁`: threshold `(2 + 2β₁)·c₁/((1 − β₁)·η)`, which
    ///   tends to Cohen et al. 2022's `(2 + 2β₁)/((1 − β₁)η)` (38/η at β₁ = 0.9). `P` itself,
    ///   `diag(√v̂ + ε)` with `v̂ = v/(1 − β₂ᵗ)`, carries the second moment's correction, as in
    ///   init2winit's `hessian/precondition.py`; the first moment's correction `1/c₁` is a
    ///   factor on the stepsize, so it enters the threshold. It matters only early: at β₁ = 0.9,
    ///   `c₁ > 0.995` from `t = 51` on. Without bias correction `c₁ = 1`.
    ///
    /// ```
    /// use stepsharp_direction::{AdamConfig, DirectionConfig, MomentumConfig};
    /// let eta = 0.01;
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b;
    /// assert!(close(DirectionConfig::GradientDescent.stability_threshold(eta, 1), 200.0));
    /// let heavy_ball = DirectionConfig::HeavyBall(MomentumConfig::default());
    /// assert!(close(heavy_ball.stability_threshold(eta, 1), 380.0));
    /// let nesterov = DirectionConfig::Nesterov(MomentumConfig::default());
    /// assert!(close(nesterov.stability_threshold(eta, 1), 3.8 / 2.8 / eta));
    /// let adam = DirectionConfig::Adam(AdamConfig::default());
    /// assert!(close(adam.stability_threshold(eta, 1), 3800.0 * 0.1)); // c₁ = 1 − 0.9 at t = 1
    /// assert!((adam.stability_threshold(eta, 1000) - 3800.0).abs() < 1e-6);
    /// ```
    pub fn stability_threshold(&self, eta: f64, t: u64) -> f64 {
        self.stability_limit(t) / eta
    }

    /// The same bound on the product `η·λ` (dimensionless): 2 for gradient descent, `2 + 2β`
    /// for heavy ball, `(2 + 2β)/(1 + 2β)` for Nesterov, `(2 + 2β₁)·c₁/(1 − β₁)` for Adam (see
    /// [`stability_threshold`](Self::stability_threshold)). A run's *edge ratio* is
    /// `η·λ/limit`: 1 at the edge of stability, below 1 stable.
    ///
    /// ```
    /// use stepsharp_direction::{DirectionConfig, MomentumConfig};
    /// assert_eq!(DirectionConfig::GradientDescent.stability_limit(1), 2.0);
    /// assert_eq!(DirectionConfig::HeavyBall(MomentumConfig { beta: 0.5, ..Default::default() }).stability_limit(1), 3.0);
    /// ```
    pub fn stability_limit(&self, t: u64) -> f64 {
        match self {
            DirectionConfig::GradientDescent => 2.0,
            DirectionConfig::HeavyBall(config) => 2.0 + 2.0 * config.beta,
            DirectionConfig::Nesterov(config) => {
                (2.0 + 2.0 * config.beta) / (1.0 + 2.0 * config.beta)
            }
            DirectionConfig::Adam(config) => {
                (2.0 + 2.0 * config.beta1) * config.first_moment_correction(t)
                    / (1.0 - config.beta1)
            }
        }
    }
}
