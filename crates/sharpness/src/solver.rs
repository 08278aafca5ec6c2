//! The choice between the two eigen-solvers, as a value, and its run over a sequence of
//! measurements with warm starts.

use serde::{Deserialize, Serialize};

use crate::{
    LanczosConfig, LinearOperator, PowerConfig, SharpnessError, Spectrum, Vector, lanczos,
    power_iteration,
};

/// Which solver estimates the top of the spectrum, with its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum EigenSolver {
    /// [`lanczos`]: top-`k`, certified residuals; the better default.
    Lanczos(LanczosConfig),
    /// [`power_iteration`]: `λ_max` only, CDAT's choice.
    Power(PowerConfig),
}

impl Default for EigenSolver {
    /// Lanczos with [`LanczosConfig::default`] (`k = 1`, tolerance 1e-3, 100 steps).
    fn default() -> Self {
        Self::Lanczos(LanczosConfig::default())
    }
}

impl EigenSolver {
    /// The seed of the start vector.
    pub fn seed(&self) -> u64 {
        match self {
            Self::Lanczos(config) => config.seed,
            Self::Power(config) => config.seed,
        }
    }

    /// The same solver with the start vector's seed replaced.
    pub fn with_seed(mut self, seed: u64) -> Self {
        match &mut self {
            Self::Lanczos(config) => config.seed = seed,
            Self::Power(config) => config.seed = seed,
        }
        self
    }

    /// Checks the settings of the chosen solver.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        match self {
            Self::Lanczos(config) => config.validate(),
            Self::Power(config) => config.validate(),
        }
    }

    /// Runs the chosen solver on `op` from `warm_start` (see [`lanczos`] and
    /// [`power_iteration`]).
    ///
    /// ```
    /// use stepsharp_sharpness::{EigenSolver, LinearOperator, PowerConfig, SharpnessError};
    /// struct Diagonal(Vec<f64>);
    /// impl LinearOperator for Diagonal {
    ///     type Vector = Vec<f64>;
    ///     fn dim(&self) -> usize { self.0.len() }
    ///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
    ///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
    ///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
    ///     }
    /// }
    /// let mut op = Diagonal(vec![-10.0, 1.0, 3.0]);
    /// let lanczos = EigenSolver::default().solve(&mut op, None).unwrap();
    /// let power = EigenSolver::Power(PowerConfig::default()).solve(&mut op, None).unwrap();
    /// assert!((lanczos.lambda_max() - 3.0).abs() < 1e-2 && (power.lambda_max() - 3.0).abs() < 1e-2);
    /// ```
    pub fn solve<O: LinearOperator>(
        &self,
        op: &mut O,
        warm_start: Option<&O::Vector>,
    ) -> Result<Spectrum<O::Vector>, SharpnessError> {
        match self {
            Self::Lanczos(config) => lanczos(op, config, warm_start),
            Self::Power(config) => power_iteration(op, config, warm_start),
        }
    }
}

/// Where each measurement's solver starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmStart {
    /// From the previous measurement's top eigenvector: the Hessian changes little between
    /// measurements, so this saves products (`tests/sharpness/warm_start.rs`).
    #[default]
    Previous,
    /// From a fresh seeded random vector every time.
    Cold,
}

/// An [`EigenSolver`] run once per measurement of a changing operator, carrying its warm
/// start from one measurement to the next: the one implementation behind `SharpnessTracker`
/// (feature `candle`) and the `stepsharp-runner` training loop.
///
/// Measurement `i` runs the solver with seed `seed + i` (so that every cold start draws its
/// own vector and a resumed run draws the same one), from the top eigenvector of the
/// previous measurement under [`WarmStart::Previous`], and keeps its own top eigenvector.
///
/// ```
/// use stepsharp_sharpness::{EigenSolver, LinearOperator, SharpnessError, WarmStart, WarmStartedSolver};
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let mut solver = WarmStartedSolver::new(EigenSolver::default(), WarmStart::Previous).unwrap();
/// let cold = solver.solve(&mut Diagonal(vec![1.0, 2.0, 3.0]), 0).unwrap();
/// // The next operator has the same top eigenvector: the warm start is already converged.
/// let warm = solver.solve(&mut Diagonal(vec![1.0, 2.0, 3.5]), 1).unwrap();
/// assert!((warm.lambda_max() - 3.5).abs() < 1e-2 && warm.hvps < cold.hvps);
/// assert_eq!(solver.warm_start().unwrap().len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct WarmStartedSolver<V> {
    solver: EigenSolver,
    policy: WarmStart,
    warm_start: Option<V>,
}

impl<V: Vector> WarmStartedSolver<V> {
    /// A solver with no previous measurement; its settings are validated here.
    pub fn new(solver: EigenSolver, policy: WarmStart) -> Result<Self, SharpnessError> {
        solver.validate()?;
        Ok(Self {
            solver,
            policy,
            warm_start: None,
        })
    }

    /// Measurement `index` (from 0) on `op`: see the type's documentation.
    pub fn solve<O: LinearOperator<Vector = V>>(
        &mut self,
        op: &mut O,
        index: u64,
    ) -> Result<Spectrum<V>, SharpnessError> {
        let solver = self
            .solver
            .clone()
            .with_seed(self.solver.seed().wrapping_add(index));
        let warm = match self.policy {
            WarmStart::Previous => self.warm_start.as_ref(),
            WarmStart::Cold => None,
        };
        let spectrum = solver.solve(op, warm)?;
        self.warm_start = spectrum.eigenpairs.first().map(|pair| pair.vector.clone());
        Ok(spectrum)
    }

    /// The top eigenvector of the last measurement (the next warm start); save it with a
    /// checkpoint to resume bit for bit.
    pub fn warm_start(&self) -> Option<&V> {
        self.warm_start.as_ref()
    }

    /// Restores a saved warm start.
    pub fn set_warm_start(&mut self, warm_start: Option<V>) {
        self.warm_start = warm_start;
    }
}
