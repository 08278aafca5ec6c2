//! A sharpness tracker for anyone's Candle training loop.

use candle_core::{DType, Tensor, Var};

use crate::parameter_space::ParameterSpace;
use crate::{
    HessianOperator, Measurement, Schedule, SharpnessError, SharpnessMeter, SpectralDensity,
    TraceEstimate, TrackerConfig,
};

/// One measurement of a [`SharpnessTracker`].
#[derive(Clone, Debug)]
pub struct SharpnessRecord {
    /// The training step it was taken at (before that step's update).
    pub step: usize,
    /// The loss at the measured point.
    pub loss: f64,
    /// The top eigenvalues `λ_max ≥ λ_2 ≥ …` (one for power iteration).
    pub eigenvalues: Vec<f64>,
    /// The residual `‖Hv − λv‖` of each eigenpair.
    pub residuals: Vec<f64>,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// The trace estimate, when configured.
    pub trace: Option<TraceEstimate>,
    /// The spectral density, when configured.
    pub density: Option<SpectralDensity>,
    /// Hessian-vector products of the whole measurement (solver, trace and density).
    pub hvps: usize,
}

impl SharpnessRecord {
    /// The sharpness `λ_max` (NaN for a diverged model).
    pub fn lambda_max(&self) -> f64 {
        self.eigenvalues.first().copied().unwrap_or(f64::NAN)
    }
}

/// Measures the sharpness of a training loss on a schedule, from exact Hessian-vector
/// products ([`HessianOperator`]), carrying the warm start between measurements: a
/// [`SharpnessMeter`] with a loss closure and a schedule (the meter alone serves loops that
/// build their own operator, as this project's training loop does).
///
/// Built from the model's variables and a closure that evaluates the loss on them (a fresh
/// graph per call); call [`SharpnessTracker::step`] once per training step, before the
/// update. On a due step it builds the Hessian at the current point and runs the configured
/// solver (and trace and density estimators), and returns a [`SharpnessRecord`].
///
/// Call [`crate::enable_double_backward`] at the start of `main`, before the first backward
/// pass of the training loop: Candle reads the setting once per thread, and the tracker's
/// first measurement otherwise fails with [`SharpnessError::SecondDerivativesNotExact`].
///
/// ```
/// # use candle_core::{Device, Tensor, Var};
/// # use stepsharp_sharpness::{enable_double_backward, Schedule, SharpnessTracker, TrackerConfig};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// enable_double_backward();
/// // L(w) = ½ Σ_i d_i w_i² with d = (1, 4): λ_max = 4 at every point.
/// let w = Var::from_tensor(&Tensor::new(&[1.0f64, 1.0], &Device::Cpu)?)?;
/// let d = Tensor::new(&[1.0f64, 4.0], &Device::Cpu)?;
/// let loss = || (w.as_tensor().sqr()? * &d)?.sum_all()? * 0.5;
/// let config = TrackerConfig { schedule: Schedule::Every(2), ..TrackerConfig::default() };
/// let mut tracker = SharpnessTracker::new(&[w.clone()], &loss, config)?;
/// for step in 0..4 {
///     if let Some(record) = tracker.step(step)? {
///         assert!((record.lambda_max() - 4.0).abs() < 1e-9 && step % 2 == 0);
///     }
///     w.set(&(w.as_tensor() * 0.5)?)?; // a training step
/// }
/// # Ok(()) }
/// ```
pub struct SharpnessTracker<F> {
    params: Vec<Var>,
    loss: F,
    schedule: Schedule,
    meter: SharpnessMeter<Tensor>,
    measurements: u64,
}

impl<F> SharpnessTracker<F>
where
    F: FnMut() -> candle_core::Result<Tensor>,
{
    /// A tracker over `params` (one dtype and device) for the scalar loss `loss()`; the
    /// config is validated here.
    pub fn new(params: &[Var], loss: F, config: TrackerConfig) -> Result<Self, SharpnessError> {
        ParameterSpace::of(params)?;
        config.validate()?;
        Ok(Self {
            params: params.to_vec(),
            loss,
            meter: SharpnessMeter::new(&config)?,
            schedule: config.schedule,
            measurements: 0,
        })
    }

    /// Measures if `step` is due by the schedule.
    pub fn step(&mut self, step: usize) -> Result<Option<SharpnessRecord>, SharpnessError> {
        if self.schedule.is_due(step) {
            self.measure(step).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Measures now, whatever the schedule (`step` only labels the record).
    pub fn measure(&mut self, step: usize) -> Result<SharpnessRecord, SharpnessError> {
        let loss = (self.loss)()?;
        let loss_value = loss.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?;
        let mut hessian = HessianOperator::new(&self.params, &[loss])?;
        let index = self.measurements;
        self.measurements += 1;
        let estimates = self.meter.measure(&mut hessian, &Measurement::all(index))?;
        let hvps = estimates.hvps();
        let spectrum = estimates
            .spectrum
            .expect("a measurement of every estimate has a spectrum")
            .hessian;
        Ok(SharpnessRecord {
            step,
            loss: loss_value,
            eigenvalues: spectrum.eigenvalues,
            residuals: spectrum.residuals,
            converged: spectrum.converged,
            trace: estimates.trace,
            density: estimates.density,
            hvps,
        })
    }

    /// The top eigenvector of the last measurement (the next warm start), flat in parameter
    /// order; save it with a checkpoint to resume bit for bit.
    pub fn warm_start(&self) -> Option<&Tensor> {
        self.meter.warm_start()
    }

    /// Restores a saved warm start and the number of measurements already taken (which
    /// decides the next seeds).
    pub fn resume(&mut self, warm_start: Option<Tensor>, measurements: u64) {
        self.meter.set_warm_start(warm_start);
        self.measurements = measurements;
    }
}
