//! One measurement after another of a changing operator: the measuring part of a tracker,
//! for callers that build the operator themselves.

use crate::{
    DensityConfig, DiagonallyScaled, DirectionalCurvature, EigenSolver, LinearOperator, Schedule,
    SharpnessError, SpectralDensity, Spectrum, TraceConfig, TraceEstimate, Vector, WarmStart,
    WarmStartedSolver, directional_curvature, hutchinson_trace, spectral_density,
};

/// Settings of a tracker ([`SharpnessMeter`], and `SharpnessTracker` with feature `candle`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackerConfig {
    /// When `SharpnessTracker::step` measures (a [`SharpnessMeter`] measures when it is
    /// called). Default: every 10 steps ([`Schedule::default`]).
    pub schedule: Schedule,
    /// The eigen-solver; measurement `i` uses its seed plus `i`. Default: Lanczos, `k = 1`,
    /// tolerance 1e-3 ([`EigenSolver::default`]).
    pub solver: EigenSolver,
    /// Where each solve starts. Default: the previous top eigenvector.
    pub warm_start: WarmStart,
    /// Also estimate the trace when due (its seed plus `i` as for the solver). Default: none.
    pub trace: Option<TraceConfig>,
    /// Also estimate the spectral density when due (its seed plus `i`). Default: none.
    pub density: Option<DensityConfig>,
    /// The eigen-solver of the preconditioned sharpness `λ_max(P⁻¹H)`, run on `D·H·D` with
    /// `D = P^{−1/2}` ([`DiagonallyScaled`]) when a measurement is given `D`, with its own
    /// warm start (under the same policy) and its own seed plus `i`. Default: none.
    pub preconditioned: Option<EigenSolver>,
}

impl TrackerConfig {
    /// Checks the schedule and every configured estimator.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        self.schedule.validate()?;
        self.validate_estimators()
    }

    /// Checks every configured estimator (all but the schedule).
    fn validate_estimators(&self) -> Result<(), SharpnessError> {
        self.solver.validate()?;
        if let Some(trace) = &self.trace {
            trace.validate()?;
        }
        if let Some(density) = &self.density {
            density.validate()?;
        }
        if let Some(solver) = &self.preconditioned {
            solver.validate()?;
        }
        Ok(())
    }
}

/// Which estimates a measurement takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// The top eigenvalues (and, when asked, the directional and the preconditioned
    /// sharpness).
    pub spectrum: bool,
    /// The trace (when configured).
    pub trace: bool,
    /// The spectral density (when configured).
    pub density: bool,
}

impl Due {
    /// Every estimate that is configured.
    pub const ALL: Self = Self {
        spectrum: true,
        trace: true,
        density: true,
    };

    /// Whether anything is due.
    pub fn any(self) -> bool {
        self.spectrum || self.trace || self.density
    }
}

/// One measurement: its index (which decides the seeds), the estimates due, and what the
/// spectrum is also measured along.
#[derive(Clone, Copy, Debug)]
pub struct Measurement<'a, V> {
    /// Seeds the solvers, the trace and the density with their own seeds plus `index`, so
    /// that a cold start draws its own vector at every measurement and a resumed loop draws
    /// the same one.
    pub index: u64,
    /// The estimates to take.
    pub due: Due,
    /// An update direction `u`: with the spectrum, also `uᵀHu/‖u‖²` (one product).
    pub direction: Option<&'a V>,
    /// The diagonal `D = P^{−1/2}` of a preconditioner: with the spectrum, also
    /// `λ_max(P⁻¹H)` when [`TrackerConfig::preconditioned`] is set.
    pub preconditioner: Option<&'a V>,
}

impl<V> Measurement<'_, V> {
    /// Measurement `index` of every configured estimate, with no direction or preconditioner.
    pub fn all(index: u64) -> Self {
        Self {
            index,
            due: Due::ALL,
            direction: None,
            preconditioner: None,
        }
    }
}

/// What an eigen-solver found, without its vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct SolverEstimate {
    /// The top eigenvalues, largest first (one for power iteration).
    pub eigenvalues: Vec<f64>,
    /// The residual `‖Hv − λv‖` of each eigenpair: an eigenvalue lies within it.
    pub residuals: Vec<f64>,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// Products it used.
    pub hvps: usize,
}

impl SolverEstimate {
    /// The eigenvalues, residuals, convergence and products of `spectrum`.
    fn of<V>(spectrum: &Spectrum<V>) -> Self {
        Self {
            eigenvalues: spectrum.eigenpairs.iter().map(|p| p.value).collect(),
            residuals: spectrum.eigenpairs.iter().map(|p| p.residual).collect(),
            converged: spectrum.converged,
            hvps: spectrum.hvps,
        }
    }

    /// The top eigenvalue (NaN when there is none).
    pub fn lambda_max(&self) -> f64 {
        self.eigenvalues.first().copied().unwrap_or(f64::NAN)
    }
}

/// The spectrum part of a measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumEstimate {
    /// The top eigenvalues of the operator.
    pub hessian: SolverEstimate,
    /// The curvature `uᵀHu` and `uᵀHu/‖u‖²` along the measurement's direction, when given
    /// one.
    pub directional: Option<DirectionalCurvature>,
    /// The top eigenvalue of `D·H·D`, when given `D` and a preconditioned solver.
    pub preconditioned: Option<SolverEstimate>,
}

impl SpectrumEstimate {
    /// Products of the three solves.
    pub fn hvps(&self) -> usize {
        self.hessian.hvps
            + self.directional.as_ref().map_or(0, |d| d.hvps)
            + self.preconditioned.as_ref().map_or(0, |p| p.hvps)
    }
}

/// The estimates of one measurement, each with the products it used.
#[derive(Clone, Debug)]
pub struct Estimates {
    /// The spectrum, when due.
    pub spectrum: Option<SpectrumEstimate>,
    /// The trace, when due and configured.
    pub trace: Option<TraceEstimate>,
    /// The spectral density, when due and configured.
    pub density: Option<SpectralDensity>,
}

impl Estimates {
    /// Products of the whole measurement (solvers, direction, trace and density).
    pub fn hvps(&self) -> usize {
        self.spectrum.as_ref().map_or(0, SpectrumEstimate::hvps)
            + self.trace.as_ref().map_or(0, |t| t.hvps)
            + self.density.as_ref().map_or(0, |d| d.hvps)
    }
}

/// Measures a changing operator (a loss Hessian along training) one measurement after
/// another: the configured eigen-solver with its warm start carried across measurements
/// ([`WarmStartedSolver`]), and on request the directional sharpness, the preconditioned
/// sharpness, the trace and the spectral density. It is the tracker's measuring part, for
/// loops that build their own operator (an R-operator, a recomputing Hessian) and decide
/// themselves when to measure; `SharpnessTracker` (feature `candle`) is this with a loss
/// closure and a schedule.
///
/// ```
/// use stepsharp_sharpness::{LinearOperator, Measurement, SharpnessError, SharpnessMeter, TrackerConfig};
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// let mut meter = SharpnessMeter::new(&TrackerConfig::default()).unwrap();
/// let update = vec![1.0, 1.0, 0.0];
/// let measurement = Measurement { direction: Some(&update), ..Measurement::all(0) };
/// let estimates = meter.measure(&mut Diagonal(vec![1.0, 3.0, 4.0]), &measurement).unwrap();
/// let spectrum = estimates.spectrum.unwrap();
/// assert!((spectrum.hessian.lambda_max() - 4.0).abs() < 1e-6);
/// assert_eq!(spectrum.directional.unwrap().normalized, 2.0);
/// ```
#[derive(Clone, Debug)]
pub struct SharpnessMeter<V> {
    solver: WarmStartedSolver<V>,
    preconditioned: Option<WarmStartedSolver<V>>,
    trace: Option<TraceConfig>,
    density: Option<DensityConfig>,
}

impl<V: Vector> SharpnessMeter<V> {
    /// A meter with no previous measurement; every estimator of `config` is validated here
    /// (its schedule is not used).
    pub fn new(config: &TrackerConfig) -> Result<Self, SharpnessError> {
        config.validate_estimators()?;
        let warm_started =
            |solver: &EigenSolver| WarmStartedSolver::new(solver.clone(), config.warm_start);
        Ok(Self {
            solver: warm_started(&config.solver)?,
            preconditioned: config
                .preconditioned
                .as_ref()
                .map(warm_started)
                .transpose()?,
            trace: config.trace.clone(),
            density: config.density.clone(),
        })
    }

    /// Takes the due estimates of `measurement` on `operator`, in this order: the top
    /// eigenvalues, the directional sharpness, the preconditioned sharpness, the trace, the
    /// density.
    pub fn measure<O>(
        &mut self,
        operator: &mut O,
        measurement: &Measurement<'_, V>,
    ) -> Result<Estimates, SharpnessError>
    where
        O: LinearOperator<Vector = V>,
    {
        let Measurement {
            index,
            due,
            direction,
            preconditioner,
        } = *measurement;
        let spectrum = match due.spectrum {
            true => Some(self.spectrum(operator, index, direction, preconditioner)?),
            false => None,
        };
        let trace = match self.trace.as_ref().filter(|_| due.trace) {
            Some(config) => Some(hutchinson_trace(operator, &config.for_measurement(index))?),
            None => None,
        };
        let density = match self.density.as_ref().filter(|_| due.density) {
            Some(config) => Some(spectral_density(operator, &config.for_measurement(index))?),
            None => None,
        };
        Ok(Estimates {
            spectrum,
            trace,
            density,
        })
    }

    /// The spectrum part of a measurement.
    fn spectrum<O>(
        &mut self,
        operator: &mut O,
        index: u64,
        direction: Option<&V>,
        preconditioner: Option<&V>,
    ) -> Result<SpectrumEstimate, SharpnessError>
    where
        O: LinearOperator<Vector = V>,
    {
        let hessian = SolverEstimate::of(&self.solver.solve(operator, index)?);
        let directional = direction
            .map(|u| directional_curvature(operator, u))
            .transpose()?;
        let preconditioned = match (preconditioner, &mut self.preconditioned) {
            (Some(diagonal), Some(solver)) => {
                let mut scaled = DiagonallyScaled::new(operator, diagonal.clone())?;
                Some(SolverEstimate::of(&solver.solve(&mut scaled, index)?))
            }
            _ => None,
        };
        Ok(SpectrumEstimate {
            hessian,
            directional,
            preconditioned,
        })
    }

    /// The top eigenvector of the last measurement (the next warm start); save it with a
    /// checkpoint to resume bit for bit.
    pub fn warm_start(&self) -> Option<&V> {
        self.solver.warm_start()
    }

    /// Restores a saved warm start.
    pub fn set_warm_start(&mut self, warm_start: Option<V>) {
        self.solver.set_warm_start(warm_start);
    }

    /// The top eigenvector of the last preconditioned measurement.
    pub fn preconditioned_warm_start(&self) -> Option<&V> {
        self.preconditioned.as_ref()?.warm_start()
    }

    /// Restores a saved preconditioned warm start (ignored without a preconditioned solver).
    pub fn set_preconditioned_warm_start(&mut self, warm_start: Option<V>) {
        if let Some(solver) = &mut self.preconditioned {
            solver.set_warm_start(warm_start);
        }
    }
}
