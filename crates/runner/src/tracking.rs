//! Sharpness tracking: the estimates of the training-loss Hessian on a fixed evaluation set
//! by exact Hessian-vector products — λ_max (top-k) with Ritz residuals and warm starts across
//! measurements, the directional sharpness along the update, for a preconditioned direction
//! (Adam) λ_max(P⁻¹H) on `P^{−1/2}HP^{−1/2}`, and on their own schedules the Hutchinson trace
//! and the spectral density — taken by the public [`SharpnessMeter`] (the measuring part of
//! `stepsharp_sharpness::SharpnessTracker`) on the operator this module builds for the
//! problem: the MLP's R-operator, a Hessian over kept graphs, or one that recomputes them.

use candle_core::Tensor;
use stepsharp_models::Gradient;
use stepsharp_sharpness::{
    EigenSolver, Estimates, HessianOperator, LanczosConfig, LinearOperator, Measurement,
    PowerConfig, ProductOperator, RecomputingHessian, SharpnessMeter, TrackerConfig,
    directional_curvature,
};

use crate::config::{GraphMemory, RunConfig, SharpnessMethod};
use crate::error::{Error, Result};
use crate::problem::{Examples, Problem, RunningStatistics};

/// The stream names that seed the trace's and the density's probes from `seeds.probe`
/// (`stepsharp_data::derive_seed`), so that they draw other numbers than the solver's start.
const TRACE_STREAM: &str = "trace";
/// See [`TRACE_STREAM`].
const DENSITY_STREAM: &str = "density";
/// See [`TRACE_STREAM`]: the start vector of the preconditioned solver.
const PRECONDITIONED_STREAM: &str = "preconditioned";

/// The estimates taken at `w_t` on the evaluation set.
#[derive(Clone, Debug)]
pub struct SharpnessReading {
    /// Loss on the evaluation set.
    pub eval_loss: f64,
    /// The due estimates (the spectrum always with the directional sharpness along the
    /// update), each with its products.
    pub estimates: Estimates,
    /// Forward passes used to build the graphs (and, when recomputing, to evaluate the loss).
    pub forward_passes: u64,
    /// Backward passes used to build gradient graphs (once per chunk, or once per chunk and
    /// HVP when recomputing).
    pub backward_passes: u64,
}

/// Measures the evaluation-set Hessian repeatedly, carrying the solvers' warm starts between
/// measurements. Measurement at step `t` seeds the solver with `seeds.probe + t`, the
/// preconditioned solver, the trace and the density with their derived seeds plus `t`.
pub struct Tracking {
    graphs: GraphMemory,
    meter: SharpnessMeter<Tensor>,
}

impl Tracking {
    /// The tracking of `config`'s `sharpness` table, with no previous measurement.
    pub fn new(config: &RunConfig) -> Result<Self> {
        let sharpness = &config.sharpness;
        let probe = config.seeds.probe;
        let solver = match sharpness.method {
            SharpnessMethod::Lanczos => EigenSolver::Lanczos(LanczosConfig {
                k: sharpness.k,
                max_iterations: sharpness.max_iterations,
                tolerance: sharpness.tolerance,
                seed: probe,
            }),
            SharpnessMethod::Power => EigenSolver::Power(PowerConfig {
                max_iterations: sharpness.max_iterations,
                relative_tolerance: sharpness.tolerance,
                seed: probe,
            }),
        };
        let derived = |stream| stepsharp_data::derive_seed(probe, stream);
        let preconditioned = config
            .direction()
            .is_preconditioned()
            .then(|| solver.clone().with_seed(derived(PRECONDITIONED_STREAM)));
        let tracker = TrackerConfig {
            solver,
            warm_start: sharpness.warm_start,
            trace: sharpness
                .trace
                .as_ref()
                .map(|t| t.estimator(derived(TRACE_STREAM))),
            density: sharpness
                .density
                .as_ref()
                .map(|d| d.estimator(derived(DENSITY_STREAM))),
            preconditioned,
            ..TrackerConfig::default()
        };
        Ok(Self {
            graphs: sharpness.graphs,
            meter: SharpnessMeter::new(&tracker)?,
        })
    }

    /// The top eigenvector of the last measurement (saved with checkpoints).
    pub fn warm_start(&self) -> Option<&Tensor> {
        self.meter.warm_start()
    }

    /// Restores a saved warm start.
    pub fn set_warm_start(&mut self, warm_start: Option<Tensor>) {
        self.meter.set_warm_start(warm_start);
    }

    /// The top eigenvector of the last preconditioned measurement (saved with checkpoints).
    pub fn preconditioned_warm_start(&self) -> Option<&Tensor> {
        self.meter.preconditioned_warm_start()
    }

    /// Restores a saved preconditioned warm start (ignored without a preconditioned solver).
    pub fn set_preconditioned_warm_start(&mut self, warm_start: Option<Tensor>) {
        self.meter.set_preconditioned_warm_start(warm_start);
    }

    /// Takes `measurement`'s due estimates at the problem's current parameters on `examples`
    /// (its index is the training step; its direction, the update, is always given).
    pub fn measure(
        &mut self,
        problem: &Problem,
        examples: &Examples,
        measurement: &Measurement<'_, Tensor>,
    ) -> Result<SharpnessReading> {
        let params = problem.parameters();
        if let Some(curvature) = problem.mlp_curvature(examples)? {
            // The R-operator keeps no graph: the same for both graph-memory policies.
            let chunks = problem.chunk_count(examples) as u64;
            return self.estimate(
                &mut ProductOperator::new(&params, |v| curvature.hessian_vector_product(v))?,
                measurement,
                curvature.loss(),
                (chunks, chunks),
            );
        }
        match self.graphs {
            GraphMemory::Keep => {
                let losses = problem.chunk_losses(examples)?;
                let eval_loss = losses
                    .iter()
                    .map(|l| l.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>())
                    .sum::<Result<f64, _>>()?;
                let mut operator = HessianOperator::new(&params, &losses)?;
                let chunks = losses.len() as u64;
                self.estimate(&mut operator, measurement, eval_loss, (chunks, chunks))
            }
            GraphMemory::Recompute => {
                let evaluation =
                    problem.measure(examples, Gradient::Skip, RunningStatistics::Keep)?;
                let mut operator =
                    RecomputingHessian::new(&params, problem.chunk_count(examples), |c| {
                        problem
                            .chunk_loss(examples, c)
                            .map_err(|e| candle_core::Error::msg(format!("{e:#}")))
                    })?;
                let mut reading =
                    self.estimate(&mut operator, measurement, evaluation.loss, (0, 0))?;
                let rebuilt = operator.forward_passes() as u64;
                reading.forward_passes = evaluation.forward_passes + rebuilt;
                reading.backward_passes = rebuilt;
                Ok(reading)
            }
        }
    }

    /// The due estimates on one operator; `passes` are the forward and backward passes that
    /// built it.
    fn estimate<O>(
        &mut self,
        operator: &mut O,
        measurement: &Measurement<'_, Tensor>,
        eval_loss: f64,
        passes: (u64, u64),
    ) -> Result<SharpnessReading>
    where
        O: LinearOperator<Vector = Tensor>,
    {
        let estimates = self.meter.measure(operator, measurement)?;
        if let Some(spectrum) = &estimates.spectrum {
            let mut solvers = std::iter::once(&spectrum.hessian).chain(&spectrum.preconditioned);
            if solvers.any(|s| s.eigenvalues.is_empty()) {
                return Err(Error::Invalid(
                    "an eigen-solver returned no eigenpair".into(),
                ));
            }
        }
        Ok(SharpnessReading {
            eval_loss,
            estimates,
            forward_passes: passes.0,
            backward_passes: passes.1,
        })
    }
}

/// `uᵀHu` on `examples` (CDAT's curvature oracle): one exact HVP.
pub fn curvature_along(problem: &Problem, examples: &Examples, direction: &Tensor) -> Result<f64> {
    let params = problem.parameters();
    let form = match problem.mlp_curvature(examples)? {
        Some(curvature) => directional_curvature(
            &mut ProductOperator::new(&params, |v| curvature.hessian_vector_product(v))?,
            direction,
        )?,
        None => {
            let losses = problem.chunk_losses(examples)?;
            directional_curvature(&mut HessianOperator::new(&params, &losses)?, direction)?
        }
    };
    Ok(form.quadratic_form)
}
