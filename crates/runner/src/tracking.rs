//! Sharpness tracking: λ_max (top-k) of the training-loss Hessian on a fixed evaluation set by
//! exact Hessian-vector products, with Ritz residuals, warm starts across measurements
//! ([`WarmStartedSolver`], shared with the public `SharpnessTracker`), for a preconditioned
//! direction (Adam) the preconditioned sharpness λ_max(P⁻¹H) on `P^{−1/2}HP^{−1/2}`
//! ([`DiagonallyScaled`], its own warm start), the directional sharpness along the update,
//! and on their own schedules the Hutchinson trace and the spectral density.

use candle_core::Tensor;
use stepsharp_models::Gradient;
use stepsharp_sharpness::{
    DensityConfig, DiagonallyScaled, EigenSolver, HessianOperator, LanczosConfig, LinearOperator,
    PowerConfig, ProductOperator, RecomputingHessian, SpectralDensity, TraceConfig, TraceEstimate,
    WarmStartedSolver, directional_curvature, hutchinson_trace, spectral_density,
};

use crate::config::{GraphMemory, RunConfig, SharpnessConfig, SharpnessMethod};
use crate::error::{Error, Result};
use crate::problem::{Examples, Problem, RunningStatistics};

/// The stream names that seed the trace's and the density's probes from `seeds.probe`
/// (`stepsharp_data::derive_seed`), so that they draw other numbers than the solver's start.
const TRACE_STREAM: &str = "trace";
/// See [`TRACE_STREAM`].
const DENSITY_STREAM: &str = "density";
/// See [`TRACE_STREAM`]: the start vector of the preconditioned solver.
const PRECONDITIONED_STREAM: &str = "preconditioned";

/// Which estimates are due at a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// λ_max (top-k) and the directional sharpness (`sharpness.measure`).
    pub spectrum: bool,
    /// The trace (`sharpness.trace`).
    pub trace: bool,
    /// The spectral density (`sharpness.density`).
    pub density: bool,
}

impl Due {
    /// The estimates `config` schedules at `step` of a run of `max_steps` steps.
    pub fn at(config: &SharpnessConfig, step: usize, max_steps: usize) -> Self {
        Self {
            spectrum: config.measure.fires(step, max_steps),
            trace: config
                .trace
                .as_ref()
                .is_some_and(|t| t.fires(step, max_steps)),
            density: config
                .density
                .as_ref()
                .is_some_and(|d| d.fires(step, max_steps)),
        }
    }

    /// Whether anything is due.
    pub fn any(self) -> bool {
        self.spectrum || self.trace || self.density
    }
}

/// λ_max and what comes with it, at one measured step.
#[derive(Clone, Debug)]
pub struct SpectrumReading {
    /// Top-k eigenvalues, descending.
    pub top_k: Vec<f64>,
    /// Ritz residual of the top eigenpair.
    pub residual: f64,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// HVPs of the eigen-solver.
    pub hvps: u64,
    /// `uᵀHu/‖u‖²` along the update direction `u`.
    pub directional: f64,
    /// λ_max(P⁻¹H), for a preconditioned direction.
    pub preconditioned: Option<PreconditionedReading>,
}

/// The preconditioned sharpness λ_max(P⁻¹H) at one measured step.
#[derive(Clone, Debug)]
pub struct PreconditionedReading {
    /// The top eigenvalue of `P^{−1/2}HP^{−1/2}`.
    pub value: f64,
    /// Its Ritz residual.
    pub residual: f64,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// HVPs it took.
    pub hvps: u64,
}

/// The estimates taken at `w_t` on the evaluation set.
#[derive(Clone, Debug)]
pub struct SharpnessReading {
    /// Loss on the evaluation set.
    pub eval_loss: f64,
    /// λ_max (top-k) and the directional sharpness, when due.
    pub spectrum: Option<SpectrumReading>,
    /// The trace, when due.
    pub trace: Option<TraceEstimate>,
    /// The spectral density, when due.
    pub density: Option<SpectralDensity>,
    /// HVPs used (solver, directional, trace and density).
    pub hvps: u64,
    /// Forward passes used to build the graphs (and, when recomputing, to evaluate the loss).
    pub forward_passes: u64,
    /// Backward passes used to build gradient graphs (once per chunk, or once per chunk and
    /// HVP when recomputing).
    pub backward_passes: u64,
}

/// Measures the evaluation-set Hessian repeatedly, carrying the solver's warm start between
/// measurements. Measurement at step `t` seeds the solver with `seeds.probe + t`, the trace
/// and the density with their derived seeds plus `t`.
pub struct Tracking {
    graphs: GraphMemory,
    solver: WarmStartedSolver<Tensor>,
    /// The solver of λ_max(P⁻¹H), for a preconditioned direction.
    preconditioned: Option<WarmStartedSolver<Tensor>>,
    trace: Option<TraceConfig>,
    density: Option<DensityConfig>,
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
        let preconditioned = match config.direction().is_preconditioned() {
            true => Some(WarmStartedSolver::new(
                solver.clone().with_seed(derived(PRECONDITIONED_STREAM)),
                sharpness.warm_start,
            )?),
            false => None,
        };
        Ok(Self {
            graphs: sharpness.graphs,
            solver: WarmStartedSolver::new(solver, sharpness.warm_start)?,
            preconditioned,
            trace: sharpness
                .trace
                .as_ref()
                .map(|t| t.estimator(derived(TRACE_STREAM))),
            density: sharpness
                .density
                .as_ref()
                .map(|d| d.estimator(derived(DENSITY_STREAM))),
        })
    }

    /// The top eigenvector of the last measurement (saved with checkpoints).
    pub fn warm_start(&self) -> Option<&Tensor> {
        self.solver.warm_start()
    }

    /// Restores a saved warm start.
    pub fn set_warm_start(&mut self, warm_start: Option<Tensor>) {
        self.solver.set_warm_start(warm_start);
    }

    /// The top eigenvector of the last preconditioned measurement (saved with checkpoints).
    pub fn preconditioned_warm_start(&self) -> Option<&Tensor> {
        self.preconditioned.as_ref()?.warm_start()
    }

    /// Restores a saved preconditioned warm start (ignored without a preconditioned solver).
    pub fn set_preconditioned_warm_start(&mut self, warm_start: Option<Tensor>) {
        if let Some(solver) = &mut self.preconditioned {
            solver.set_warm_start(warm_start);
        }
    }

    /// Takes the `due` estimates at the problem's current parameters on `examples`, with
    /// `direction` the update, at training step `step`; with `preconditioner` (the diagonal of
    /// `P^{−1/2}`) also the preconditioned sharpness.
    pub fn measure(
        &mut self,
        problem: &Problem,
        examples: &Examples,
        direction: &Tensor,
        preconditioner: Option<&Tensor>,
        step: u64,
        due: Due,
    ) -> Result<SharpnessReading> {
        let targets = Targets {
            direction,
            preconditioner,
            step,
            due,
        };
        let params = problem.parameters();
        if let Some(curvature) = problem.mlp_curvature(examples)? {
            // The R-operator keeps no graph: the same for both graph-memory policies.
            let chunks = problem.chunk_count(examples) as u64;
            return self.estimate(
                &mut ProductOperator::new(&params, |v| curvature.hessian_vector_product(v))?,
                &targets,
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
                self.estimate(&mut operator, &targets, eval_loss, (chunks, chunks))
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
                    self.estimate(&mut operator, &targets, evaluation.loss, (0, 0))?;
                let rebuilt = operator.forward_passes() as u64;
                reading.forward_passes = evaluation.forward_passes + rebuilt;
                reading.backward_passes = rebuilt;
                Ok(reading)
            }
        }
    }

    /// The due estimates on one operator (each reports the HVPs it used); `passes` are the
    /// forward and backward passes that built it.
    fn estimate<O>(
        &mut self,
        operator: &mut O,
        targets: &Targets,
        eval_loss: f64,
        passes: (u64, u64),
    ) -> Result<SharpnessReading>
    where
        O: LinearOperator<Vector = Tensor>,
    {
        let Targets {
            direction,
            preconditioner,
            step,
            due,
        } = *targets;
        let mut hvps = 0;
        let spectrum = if due.spectrum {
            let spectrum = self.solver.solve(operator, step)?;
            let directional = directional_curvature(operator, direction)?;
            hvps += spectrum.hvps + directional.hvps;
            let preconditioned = match (preconditioner, &mut self.preconditioned) {
                (Some(diagonal), Some(solver)) => {
                    let mut scaled = DiagonallyScaled::new(operator, diagonal.clone())?;
                    let spectrum = solver.solve(&mut scaled, step)?;
                    hvps += spectrum.hvps;
                    let top = spectrum.eigenpairs.first().ok_or_else(|| {
                        Error::Invalid(
                            "the preconditioned eigen-solver returned no eigenpair".into(),
                        )
                    })?;
                    Some(PreconditionedReading {
                        value: top.value,
                        residual: top.residual,
                        converged: spectrum.converged,
                        hvps: spectrum.hvps as u64,
                    })
                }
                _ => None,
            };
            let top = spectrum
                .eigenpairs
                .first()
                .ok_or_else(|| Error::Invalid("the eigen-solver returned no eigenpair".into()))?;
            Some(SpectrumReading {
                top_k: spectrum.eigenpairs.iter().map(|p| p.value).collect(),
                residual: top.residual,
                converged: spectrum.converged,
                hvps: spectrum.hvps as u64,
                directional: directional.normalized,
                preconditioned,
            })
        } else {
            None
        };
        let trace = match self.trace.as_ref().filter(|_| due.trace) {
            Some(config) => Some(hutchinson_trace(operator, &config.for_measurement(step))?),
            None => None,
        };
        let density = match self.density.as_ref().filter(|_| due.density) {
            Some(config) => Some(spectral_density(operator, &config.for_measurement(step))?),
            None => None,
        };
        hvps += trace.as_ref().map_or(0, |t| t.hvps) + density.as_ref().map_or(0, |d| d.hvps);
        Ok(SharpnessReading {
            eval_loss,
            spectrum,
            trace,
            density,
            hvps: hvps as u64,
            forward_passes: passes.0,
            backward_passes: passes.1,
        })
    }
}

/// What one measurement estimates: along which update, with which preconditioner, at which
/// step, and which estimates are due.
#[derive(Clone, Copy)]
struct Targets<'a> {
    direction: &'a Tensor,
    preconditioner: Option<&'a Tensor>,
    step: u64,
    due: Due,
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
