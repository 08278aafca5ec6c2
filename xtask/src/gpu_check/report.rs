//! What `gpu-check` measured: the JSON report's structure and its markdown tables.

use serde::Serialize;

use super::Size;

/// One workload in one dtype: relative CPU/device differences (`loss`, `gradient`, `hvp`,
/// `lambda_max`; NaN when a value is not finite) and the values they compare.
#[derive(Debug, Serialize)]
pub(super) struct Agreement {
    /// The workload's name (the JSON key and the tables' column are `problem`).
    pub(super) problem: &'static str,
    pub(super) dtype: &'static str,
    pub(super) parameters: usize,
    pub(super) loss_cpu: f64,
    pub(super) loss: f64,
    pub(super) gradient: f64,
    pub(super) hvp: f64,
    pub(super) lambda_max_cpu: f64,
    pub(super) lambda_max_device: f64,
    pub(super) lambda_max: f64,
    /// [`super::F32_TOLERANCE`] or [`super::F64_TOLERANCE`].
    pub(super) tolerance: f64,
    /// f32 only: how far each f32 result is from the CPU's f64 result.
    pub(super) rounding: Option<Rounding>,
    /// Every difference is at most `tolerance`, or (f32) explained by rounding:
    /// `rounding.device ≤ F32_ROUNDING_FACTOR · rounding.cpu` for that quantity.
    pub(super) passed: bool,
}

/// Relative errors (loss, gradient, HVP, λ_max) of the CPU's and the device's f32 results
/// against the CPU's f64 result of the same workload.
#[derive(Debug, Serialize)]
pub(super) struct Rounding {
    pub(super) cpu: [f64; 4],
    pub(super) device: [f64; 4],
}

/// Seconds per operation (median) on the device under test.
#[derive(Debug, Serialize)]
pub(super) struct Timing {
    /// The workload's name (the JSON key and the tables' column are `problem`).
    pub(super) problem: &'static str,
    pub(super) examples: usize,
    pub(super) parameters: usize,
    pub(super) step_s: f64,
    pub(super) gradient_with_graph_s: f64,
    pub(super) hvp_s: f64,
    pub(super) lanczos_s: f64,
}

/// Everything `gpu-check` measured (the JSON file).
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub(super) device: String,
    pub(super) size: Size,
    pub(super) lanczos_steps: usize,
    pub(super) timing_repeats: usize,
    pub(super) agreement: Vec<Agreement>,
    pub(super) timings: Vec<Timing>,
    pub(super) passed: bool,
}

impl Report {
    /// The report as markdown tables (the `.md` file).
    pub(super) fn markdown(&self) -> String {
        let mut text = format!(
            "# gpu-check: CPU against {} ({} timings)\n\n\
             Relative differences CPU vs device (vectors: ‖a − b‖/‖a‖); λ_max after {} \
             Lanczos steps from the same start.\n\n\
             | problem | dtype | parameters | loss (CPU) | loss | gradient | HVP | λ_max CPU | \
             λ_max device | λ_max | tolerance | passed |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n",
            self.device,
            serde_json::to_string(&self.size)
                .unwrap_or_default()
                .trim_matches('"'),
            self.lanczos_steps
        );
        for a in &self.agreement {
            text += &format!(
                "| {} | {} | {} | {:.6} | {:.1e} | {:.1e} | {:.1e} | {:.6} | {:.6} | {:.1e} | \
                 {:.0e} | {} |\n",
                a.problem,
                a.dtype,
                a.parameters,
                a.loss_cpu,
                a.loss,
                a.gradient,
                a.hvp,
                a.lambda_max_cpu,
                a.lambda_max_device,
                a.lambda_max,
                a.tolerance,
                if a.passed { "yes" } else { "**NO**" }
            );
        }
        text += &format!(
            "\nf32 against the CPU's f64 result (relative errors, CPU / device): a difference \
             above the tolerance passes when the device's error is at most {} times the CPU's.\n\n\
             | problem | loss | gradient | HVP | λ_max |\n|---|---|---|---|---|\n",
            super::F32_ROUNDING_FACTOR
        );
        for a in &self.agreement {
            if let Some(r) = &a.rounding {
                let pair = |i: usize| format!("{:.1e} / {:.1e}", r.cpu[i], r.device[i]);
                text += &format!(
                    "| {} | {} | {} | {} | {} |\n",
                    a.problem,
                    pair(0),
                    pair(1),
                    pair(2),
                    pair(3)
                );
            }
        }
        text += &format!(
            "\nSeconds on {} (f32, median of {}): a full-batch step (forward, backward, \
             update), the gradient with its graph kept, one HVP, {} Lanczos steps.\n\n\
             | problem | examples | parameters | step | gradient + graph | HVP | Lanczos |\n\
             |---|---|---|---|---|---|---|\n",
            self.device, self.timing_repeats, self.lanczos_steps
        );
        for t in &self.timings {
            text += &format!(
                "| {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.3} |\n",
                t.problem,
                t.examples,
                t.parameters,
                t.step_s,
                t.gradient_with_graph_s,
                t.hvp_s,
                t.lanczos_s
            );
        }
        text
    }
}
