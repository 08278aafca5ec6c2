//! The choice between the two eigen-solvers, as a value.

use crate::{
    LanczosConfig, LinearOperator, PowerConfig, SharpnessError, Spectrum, lanczos, power_iteration,
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
