//! Sharpness tracking: λ_max (top-k) of the training-loss Hessian on a fixed evaluation set by
//! exact Hessian-vector products, with Ritz residuals, warm starts across measurements, and
//! the directional sharpness along the update.

use candle_core::Tensor;
use stepsharp_sharpness::{
    DirectionalCurvature, HessianOperator, LanczosConfig, LinearOperator, PowerConfig,
    RecomputingHessian, Spectrum, directional_curvature, lanczos, power_iteration,
};

use crate::problem::{Examples, Problem};
use crate::{GraphMemory, SharpnessConfig, SharpnessMethod, WarmStart};

/// One sharpness measurement at `w_t`.
#[derive(Clone, Debug)]
pub struct SharpnessReading {
    /// Loss on the evaluation set.
    pub eval_loss: f64,
    /// Top-k eigenvalues, descending.
    pub top_k: Vec<f64>,
    /// Ritz residual of the top eigenpair.
    pub residual: f64,
    /// Whether the solver met its tolerance.
    pub converged: bool,
    /// `uᵀHu/‖u‖²` along the update direction `u`.
    pub directional: f64,
    /// HVPs used (solver and directional).
    pub hvps: u64,
    /// Forward passes used to build the graphs (and, when recomputing, to evaluate the loss).
    pub forward_passes: u64,
    /// Backward passes used to build gradient graphs (once per chunk, or once per chunk and
    /// HVP when recomputing).
    pub backward_passes: u64,
}

/// Measures sharpness repeatedly, carrying the warm-start vector between measurements.
pub struct SharpnessTracker {
    config: SharpnessConfig,
    probe_seed: u64,
    /// Top eigenvector of the previous measurement (warm start).
    pub warm_start: Option<Tensor>,
}

impl SharpnessTracker {
    /// A tracker with no previous measurement.
    pub fn new(config: SharpnessConfig, probe_seed: u64, warm_start: Option<Tensor>) -> Self {
        Self {
            config,
            probe_seed,
            warm_start,
        }
    }

    /// Measures at the problem's current parameters on `examples`, with `direction` the update.
    /// `measurement` numbers the measurement so that each gets its own seeded start vector.
    pub fn measure(
        &mut self,
        problem: &Problem,
        examples: &Examples,
        direction: &Tensor,
        measurement: u64,
    ) -> anyhow::Result<SharpnessReading> {
        let params = problem.parameters();
        let (eval_loss, estimate, passes) = match self.config.graphs {
            GraphMemory::Keep => {
                let losses = problem.chunk_losses(examples)?;
                let eval_loss = losses
                    .iter()
                    .map(|l| l.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>())
                    .sum::<Result<f64, _>>()?;
                let mut operator = HessianOperator::new(&params, &losses)?;
                let estimate = self.estimate(&mut operator, direction, measurement)?;
                let chunks = losses.len() as u64;
                (eval_loss, estimate, (chunks, chunks))
            }
            GraphMemory::Recompute => {
                let evaluation = problem.measure(examples, false, false)?;
                let mut operator =
                    RecomputingHessian::new(&params, problem.chunk_count(examples), |c| {
                        problem
                            .chunk_loss(examples, c)
                            .map_err(|e| candle_core::Error::msg(format!("{e:#}")))
                    })?;
                let estimate = self.estimate(&mut operator, direction, measurement)?;
                let rebuilt = operator.forward_passes() as u64;
                let forward = evaluation.forward_passes + rebuilt;
                (evaluation.loss, estimate, (forward, rebuilt))
            }
        };
        let (spectrum, directional) = estimate;
        let top = &spectrum.eigenpairs[0];
        self.warm_start = Some(top.vector.clone());
        Ok(SharpnessReading {
            eval_loss,
            top_k: spectrum.eigenpairs.iter().map(|p| p.value).collect(),
            residual: top.residual,
            converged: spectrum.converged,
            directional: directional.normalized,
            hvps: (spectrum.hvps + directional.hvps) as u64,
            forward_passes: passes.0,
            backward_passes: passes.1,
        })
    }

    /// The configured eigen-solver and the directional sharpness on one operator (each reports
    /// the HVPs it used).
    fn estimate<O>(
        &self,
        operator: &mut O,
        direction: &Tensor,
        measurement: u64,
    ) -> anyhow::Result<(Spectrum<Tensor>, DirectionalCurvature)>
    where
        O: LinearOperator<Vector = Tensor>,
    {
        let seed = self.probe_seed.wrapping_add(measurement);
        let warm = match self.config.warm_start {
            WarmStart::Previous => self.warm_start.as_ref(),
            WarmStart::Cold => None,
        };
        let spectrum: Spectrum<Tensor> = match self.config.method {
            SharpnessMethod::Lanczos => {
                let config = LanczosConfig {
                    k: self.config.k,
                    max_iterations: self.config.max_iterations,
                    tolerance: self.config.tolerance,
                    seed,
                };
                lanczos(operator, &config, warm)?
            }
            SharpnessMethod::Power => {
                let config = PowerConfig {
                    max_iterations: self.config.max_iterations,
                    relative_tolerance: self.config.tolerance,
                    seed,
                };
                power_iteration(operator, &config, warm)?
            }
        };
        let directional = directional_curvature(operator, direction)?;
        Ok((spectrum, directional))
    }
}

/// `uᵀHu` on `examples` (CDAT's curvature oracle): one exact HVP.
pub fn curvature_along(
    problem: &Problem,
    examples: &Examples,
    direction: &Tensor,
) -> anyhow::Result<f64> {
    let losses = problem.chunk_losses(examples)?;
    let mut operator = HessianOperator::new(&problem.parameters(), &losses)?;
    Ok(directional_curvature(&mut operator, direction)?.quadratic_form)
}
