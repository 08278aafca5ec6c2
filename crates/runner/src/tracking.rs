//! Sharpness tracking: λ_max (top-k) of the training-loss Hessian on a fixed evaluation set by
//! exact Hessian-vector products, with Ritz residuals, warm starts across measurements, and
//! the directional sharpness along the update.

use candle_core::Tensor;
use stepsharp_sharpness::{
    HessianOperator, LanczosConfig, PowerConfig, Spectrum, directional_curvature, lanczos,
    power_iteration,
};

use crate::problem::{Examples, Problem};
use crate::{SharpnessConfig, SharpnessMethod, WarmStart};

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
    /// Forward passes used to build the graphs.
    pub forward_passes: u64,
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
        let losses = problem.chunk_losses(examples)?;
        let forward_passes = losses.len() as u64;
        let eval_loss = losses
            .iter()
            .map(|l| l.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>())
            .sum::<Result<f64, _>>()?;
        let mut operator = HessianOperator::new(&problem.parameters(), &losses)?;
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
                lanczos(&mut operator, &config, warm)?
            }
            SharpnessMethod::Power => {
                let config = PowerConfig {
                    max_iterations: self.config.max_iterations,
                    relative_tolerance: self.config.tolerance,
                    seed,
                };
                power_iteration(&mut operator, &config, warm)?
            }
        };
        let directional = directional_curvature(&mut operator, direction)?;
        let top = &spectrum.eigenpairs[0];
        self.warm_start = Some(top.vector.clone());
        Ok(SharpnessReading {
            eval_loss,
            top_k: spectrum.eigenpairs.iter().map(|p| p.value).collect(),
            residual: top.residual,
            converged: spectrum.converged,
            directional: directional.normalized,
            hvps: operator.hvps() as u64,
            forward_passes,
        })
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
