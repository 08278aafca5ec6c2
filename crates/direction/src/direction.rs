//! A validated direction with its state: the one type a training loop drives.

use serde::{Deserialize, Serialize};

use crate::vector::AdamStepConstants;
use crate::{DirectionConfig, DirectionError, DirectionVector, NonDescentAction};

/// What a direction carries from one update to the next; saving it and calling
/// [`Direction::restore`] resumes a run exactly.
///
/// The scalar part serializes (`{"updates": 12}`); the moments are vectors that a training
/// loop saves with its parameters (skipped by serde).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionState<V> {
    /// Updates proposed so far, `t` (Adam's bias corrections use it).
    pub updates: u64,
    /// The momentum buffer (heavy ball, Nesterov: `b`; Adam: the first moment `m`); `None`
    /// before the first update and for gradient descent.
    #[serde(skip)]
    pub momentum: Option<V>,
    /// Adam's second moment `v`; `None` before the first update and for the others.
    #[serde(skip)]
    pub second_moment: Option<V>,
}

/// One update proposed by [`Direction::step`].
#[derive(Clone, Debug, PartialEq)]
pub struct Update<V> {
    /// The update `u_t`; the step is `w_{t+1} = w_t + η_t·u_t`.
    pub update: V,
    /// The slope `∇f(w_t)ᵀu_t` of the loss along the update (after a restart, along the
    /// restarted update); negative for a descent direction.
    pub slope: f64,
    /// `Some(action)` when the update first proposed was not a descent direction
    /// (`∇fᵀu ≥ 0` with `g ≠ 0`), with what was done about it.
    pub non_descent: Option<NonDescentAction>,
}

/// An update direction with its state.
///
/// ```
/// use stepsharp_direction::{Direction, DirectionConfig, MomentumConfig, NonDescentAction};
/// let mut heavy_ball = Direction::new(DirectionConfig::HeavyBall(MomentumConfig::default())).unwrap();
/// let proceed = NonDescentAction::Proceed;
/// // b = g₀ = [1, 0], then b = 0.9·b + g₁ = [0.4, 0]: u = −b, ⟨g₁, u⟩ = 0.2 ≥ 0.
/// let first = heavy_ball.step(&vec![1.0, 0.0], proceed).unwrap();
/// assert_eq!((first.update, first.slope), (vec![-1.0, 0.0], -1.0));
/// let second = heavy_ball.step(&vec![-0.5, 0.0], proceed).unwrap();
/// assert!((second.update[0] + 0.4).abs() < 1e-15 && second.slope > 0.0);
/// assert_eq!(second.non_descent, Some(NonDescentAction::Proceed));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Direction<V> {
    config: DirectionConfig,
    state: DirectionState<V>,
}

impl<V: DirectionVector> Direction<V> {
    /// Validates `config` and starts from the initial state (no update yet, zero moments).
    pub fn new(config: DirectionConfig) -> Result<Self, DirectionError> {
        config.validate()?;
        Ok(Self {
            config,
            state: DirectionState {
                updates: 0,
                momentum: None,
                second_moment: None,
            },
        })
    }

    /// The direction's configuration.
    pub fn config(&self) -> &DirectionConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> &DirectionState<V> {
        &self.state
    }

    /// Replaces the state with a saved one. Errors, leaving the state unchanged, when the
    /// moments do not match the direction: a moment it does not keep, or a missing one after
    /// the first update.
    pub fn restore(&mut self, state: DirectionState<V>) -> Result<(), DirectionError> {
        let started = state.updates > 0;
        let needs_momentum = started && self.config.has_momentum();
        let needs_second = started && self.config.is_preconditioned();
        let mismatch = |problem| DirectionError::StateMismatch {
            direction: self.config.name(),
            problem,
        };
        if state.momentum.is_some() != needs_momentum {
            return Err(mismatch(if needs_momentum {
                "needs a momentum buffer after its first update"
            } else {
                "keeps no momentum buffer here"
            }));
        }
        if state.second_moment.is_some() != needs_second {
            return Err(mismatch(if needs_second {
                "needs a second moment after its first update"
            } else {
                "keeps no second moment here"
            }));
        }
        self.state = state;
        Ok(())
    }

    /// Advances the state with the gradient `g_t` and returns the update `u_t` with its slope.
    /// When `u_t` is not a descent direction (`gᵀu ≥ 0`, `g ≠ 0`), `on_non_descent` says what
    /// happens: keep it, or restart the momentum (see [`NonDescentAction`]) and return the
    /// restarted update. Gradient descent's update `−g` is always a descent direction.
    pub fn step(
        &mut self,
        gradient: &V,
        on_non_descent: NonDescentAction,
    ) -> Result<Update<V>, DirectionError> {
        self.state.updates += 1;
        let update = self.advance(gradient)?;
        let slope = gradient.dot(&update)?;
        let non_descent = (slope >= 0.0 && gradient.dot(gradient)? > 0.0).then_some(on_non_descent);
        if non_descent == Some(NonDescentAction::Restart) {
            let update = self.restart(gradient)?;
            let slope = gradient.dot(&update)?;
            return Ok(Update {
                update,
                slope,
                non_descent,
            });
        }
        Ok(Update {
            update,
            slope,
            non_descent,
        })
    }

    /// The diagonal of `P^{−1/2}` for Adam's preconditioner `P = diag(√v̂ + ε)` after the last
    /// update (what the preconditioned sharpness `λ_max(P^{−1/2}HP^{−1/2})` scales by);
    /// `None` for the other directions and before the first update.
    pub fn inverse_root_preconditioner(&self) -> Result<Option<V>, DirectionError> {
        match (&self.config, &self.state.second_moment) {
            (DirectionConfig::Adam(adam), Some(v)) => Ok(Some(v.inverse_root_preconditioner(
                adam.second_moment_correction(self.state.updates),
                adam.eps,
            )?)),
            _ => Ok(None),
        }
    }

    /// The stability threshold of the relevant sharpness at stepsize `eta` for the last
    /// update ([`DirectionConfig::stability_threshold`]).
    pub fn stability_threshold(&self, eta: f64) -> f64 {
        self.config
            .stability_threshold(eta, self.state.updates.max(1))
    }

    /// The bound on `η·λ` for the last update ([`DirectionConfig::stability_limit`]).
    pub fn stability_limit(&self) -> f64 {
        self.config.stability_limit(self.state.updates.max(1))
    }

    /// The moments after `g` and the update they give.
    fn advance(&mut self, g: &V) -> Result<V, DirectionError> {
        let config = self.config;
        match config {
            DirectionConfig::GradientDescent => g.negated(),
            DirectionConfig::HeavyBall(momentum) => {
                let buffer = self.momentum_or_zeros(g)?.combined(momentum.beta, g, 1.0)?;
                let update = buffer.negated()?;
                self.state.momentum = Some(buffer);
                Ok(update)
            }
            DirectionConfig::Nesterov(momentum) => {
                let buffer = self.momentum_or_zeros(g)?.combined(momentum.beta, g, 1.0)?;
                let update = g.combined(-1.0, &buffer, -momentum.beta)?;
                self.state.momentum = Some(buffer);
                Ok(update)
            }
            DirectionConfig::Adam(adam) => {
                let t = self.state.updates;
                let m = self.momentum_or_zeros(g)?;
                let v = match &self.state.second_moment {
                    Some(v) => v.clone(),
                    None => g.zeros_like()?,
                };
                let (m, v, update) = g.adam_step(
                    &m,
                    &v,
                    AdamStepConstants {
                        beta1: adam.beta1,
                        beta2: adam.beta2,
                        c1: adam.first_moment_correction(t),
                        c2: adam.second_moment_correction(t),
                        eps: adam.eps,
                    },
                )?;
                self.state.momentum = Some(m);
                self.state.second_moment = Some(v);
                Ok(update)
            }
        }
    }

    /// Restarts the momentum with `g` (see [`NonDescentAction::Restart`]) and returns the
    /// update it gives.
    fn restart(&mut self, g: &V) -> Result<V, DirectionError> {
        let config = self.config;
        match config {
            DirectionConfig::GradientDescent => g.negated(),
            DirectionConfig::HeavyBall(_) => {
                self.state.momentum = Some(g.clone());
                g.negated()
            }
            DirectionConfig::Nesterov(momentum) => {
                self.state.momentum = Some(g.clone());
                g.combined(-1.0, g, -momentum.beta)
            }
            DirectionConfig::Adam(adam) => {
                let t = self.state.updates;
                let c1 = adam.first_moment_correction(t);
                let m = g.combined(c1, g, 0.0)?;
                let v = self
                    .state
                    .second_moment
                    .as_ref()
                    .expect("Adam's second moment is set by its first update");
                let update = m.adam_update(v, c1, adam.second_moment_correction(t), adam.eps)?;
                self.state.momentum = Some(m);
                Ok(update)
            }
        }
    }

    fn momentum_or_zeros(&self, like: &V) -> Result<V, DirectionError> {
        match &self.state.momentum {
            Some(buffer) => Ok(buffer.clone()),
            None => like.zeros_like(),
        }
    }
}
