//! `cargo xtask gpu-check`: the CPU against a CUDA GPU on the same seeded weights and data,
//! and the cost of a step, a Hessian-vector product and a Lanczos run at paper scale
//! (run through `xtask/scripts/gpu-check.sh`).
//!
//! **Agreement.** For each agreement workload of [`Size`], in f32 and in f64, the CPU and the
//! device under test compute, from the same initial weights (drawn on the CPU from the seed, see
//! `stepsharp_models::Network::new`) and the same synthetic data ([`synthetic_data`]): the
//! loss, the gradient, one Hessian-vector product (exact double backward) with a seeded probe,
//! and the top eigenvalue after [`LANCZOS_STEPS`] Lanczos steps from the same seeded start.
//! Each relative difference (`‖a − b‖ / ‖a‖` for vectors) must be at most [`F32_TOLERANCE`]
//! or [`F64_TOLERANCE`]. An f32 difference above it still passes when it is explained by f32
//! rounding: the device's f32 value is at most [`F32_ROUNDING_FACTOR`] times further from the
//! CPU's f64 value than the CPU's own f32 value is (a workload whose conditioning amplifies
//! rounding moves both f32 results; a wrong kernel moves only the device's).
//!
//! **Timings** (f32, device under test, median of [`TIMING_REPEATS`] after one warm-up): a
//! full-batch training step (forward, backward, update), the gradient with its graph kept
//! (what every HVP differentiates), one HVP, and [`LANCZOS_STEPS`] Lanczos steps, for the
//! paper-scale problems of [`Size::Paper`].
//!
//! Writes `gpu-check.json` and `gpu-check.md` into `--out`, then fails if any difference is
//! above its tolerance. `--device cpu --size tiny` compares the CPU with itself in seconds: a
//! dry run of every code path on a machine without a GPU (and a test).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use clap::Args;
use serde::Serialize;
use stepsharp_data::{Layout, NUM_CLASSES};
use stepsharp_models::{
    Architecture, BatchNormMode, Gradient, Loss, Network, Objective, ResNetDepth, seeded_uniform,
};
use stepsharp_runner::config::DeviceKind;
use stepsharp_runner::stats::median;
use stepsharp_sharpness::{HessianOperator, LanczosConfig, LinearOperator, Vector, lanczos};

use crate::Global;
use crate::fixture::synthetic_examples;

mod report;

use report::{Agreement, Report, Rounding, Timing};

/// Largest relative CPU/device difference accepted in f32: reductions and matrix products
/// sum in a different order on a GPU (cuBLAS, no TF32), which moves f32 results by about
/// 1e-6 relative; the margin covers the amplification through double backward and Lanczos.
pub const F32_TOLERANCE: f64 = 1e-4;
/// An f32 quantity whose CPU/device difference exceeds [`F32_TOLERANCE`] passes when its
/// device error against the CPU's f64 value is at most this multiple of the CPU's f32 error
/// against it: the device is then as accurate as the CPU, up to the summation order.
pub const F32_ROUNDING_FACTOR: f64 = 10.0;
/// Largest relative CPU/device difference accepted in f64 (same reasoning, ε = 2.2e-16).
pub const F64_TOLERANCE: f64 = 1e-10;
/// Lanczos steps of both the agreement check and the timing at [`Size::Paper`].
pub const LANCZOS_STEPS: usize = 20;
/// Lanczos tolerance: far below what 20 steps reach, so every run takes all its steps and the
/// CPU and the device compare the same Ritz value.
const LANCZOS_TOLERANCE: f64 = 1e-14;
/// Timed repetitions of each operation at [`Size::Paper`] (after one untimed warm-up); the
/// median is reported.
pub const TIMING_REPEATS: usize = 3;
/// Seed of the initial weights, the synthetic data, the HVP probe and the Lanczos start.
const SEED: u64 = 17;
/// Stepsize of the timed training step (its value does not change the cost).
const STEP_ETA: f64 = 1e-3;

/// What the check measures on each device: a network, its loss and the number of
/// (synthetic) examples, evaluated as one chunk.
struct Workload {
    name: &'static str,
    architecture: Architecture,
    loss: Loss,
    examples: usize,
}

impl Workload {
    /// Figure 3's MLP with MSE on `examples` examples.
    fn mlp(examples: usize) -> Self {
        Workload {
            name: "MLP 3072-200-200-10 tanh, MSE",
            architecture: Architecture::mlp_cohen(),
            loss: Loss::Mse,
            examples,
        }
    }
}

/// ResNet-20 of base width `width` with BatchNorm (in train mode: batch statistics).
fn resnet20(width: usize) -> Architecture {
    Architecture::ResNet {
        depth: ResNetDepth::ResNet20,
        batch_norm: true,
        width,
    }
}

/// Problem sizes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Agreement on figure3's MLP (tanh, MSE) with 256 examples and on a width-4 ResNet-20
    /// (relu, BatchNorm, stride-2 convolutions, cross-entropy) with 16 images; timings of
    /// figure3's paper-scale full-batch problems, the MLP on 4096 examples and ResNet-20
    /// (width 16) on 512 images, both with MSE; [`LANCZOS_STEPS`] and [`TIMING_REPEATS`].
    Paper,
    /// A dry run of every code path in seconds on a CPU: 16 and 2 examples for agreement, 32
    /// and 4 (width 4) for timings, 4 Lanczos steps, 1 repetition.
    Tiny,
}

impl Size {
    /// The agreement workloads.
    fn agreement_workloads(self) -> [Workload; 2] {
        let (mlp, resnet) = match self {
            Size::Paper => (256, 16),
            Size::Tiny => (16, 2),
        };
        [
            Workload::mlp(mlp),
            Workload {
                name: "ResNet-20 width 4 BN, cross-entropy",
                architecture: resnet20(4),
                loss: Loss::CrossEntropy,
                examples: resnet,
            },
        ]
    }

    /// The timed workloads.
    fn timing_workloads(self) -> [Workload; 2] {
        let (mlp, resnet, width) = match self {
            Size::Paper => (4096, 512, 16),
            Size::Tiny => (32, 4, 4),
        };
        [
            Workload::mlp(mlp),
            Workload {
                name: "ResNet-20 BN, MSE",
                architecture: resnet20(width),
                loss: Loss::Mse,
                examples: resnet,
            },
        ]
    }

    /// Lanczos steps of the agreement check and the timing.
    fn lanczos_steps(self) -> usize {
        match self {
            Size::Paper => LANCZOS_STEPS,
            Size::Tiny => 4,
        }
    }

    /// Timed repetitions of each operation.
    fn timing_repeats(self) -> usize {
        match self {
            Size::Paper => TIMING_REPEATS,
            Size::Tiny => 1,
        }
    }
}

/// Arguments of `gpu-check`. The device under test is `--device` (default: cuda).
#[derive(Args)]
pub struct GpuCheckCommand {
    /// Folder for `gpu-check.json` and `gpu-check.md` (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Problem sizes: `paper` on a GPU, `tiny` for a dry run on a CPU (`--device cpu`).
    #[arg(long, value_enum, default_value = "paper")]
    size: Size,
}

impl GpuCheckCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let device = global.options().device.unwrap_or(DeviceKind::Cuda);
        let report = check(device, self.size, &self.out)?;
        println!("{}", report.markdown());
        anyhow::ensure!(
            report.passed,
            "the CPU and {} differ beyond tolerance (see {})",
            report.device,
            self.out.join("gpu-check.md").display()
        );
        Ok(())
    }
}

/// Runs the agreement checks and the timings on `device` and writes the report into `out`.
fn check(device: DeviceKind, size: Size, out: &Path) -> anyhow::Result<Report> {
    stepsharp_sharpness::enable_double_backward();
    let target = device.open()?;
    let mut agreement = Vec::new();
    for workload in size.agreement_workloads() {
        let exact = measure(&workload, DType::F64, &Device::Cpu, size)?;
        let f32_cpu = measure(&workload, DType::F32, &Device::Cpu, size)?;
        let f32_device = measure(&workload, DType::F32, &target, size)?;
        let f64_device = measure(&workload, DType::F64, &target, size)?;
        for entry in [
            compare(&workload, DType::F32, &f32_cpu, &f32_device, Some(&exact)),
            compare(&workload, DType::F64, &exact, &f64_device, None),
        ] {
            eprintln!(
                "agreement: {} {}: passed = {}",
                entry.problem, entry.dtype, entry.passed
            );
            agreement.push(entry);
        }
    }
    let mut timings = Vec::new();
    for workload in size.timing_workloads() {
        timings.push(time(&workload, &target, size)?);
        eprintln!("timed: {}", workload.name);
    }
    let passed = agreement.iter().all(|a| a.passed);
    let report = Report {
        device: format!("{device:?}").to_lowercase(),
        size,
        lanczos_steps: size.lanczos_steps(),
        timing_repeats: size.timing_repeats(),
        agreement,
        timings,
        passed,
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(out.join("gpu-check.json"), json + "\n")?;
    std::fs::write(out.join("gpu-check.md"), report.markdown())?;
    Ok(report)
}

/// `n` synthetic images (n, 3, 32, 32) from [`SEED`] ([`synthetic_examples`]: the data crate's
/// fixture, pixels in [0, 1], labels cycling over the classes), read in f64 on the CPU and then
/// moved: identical on every device up to the dtype conversion.
fn synthetic_data(n: usize, dtype: DType, device: &Device) -> anyhow::Result<(Tensor, Tensor)> {
    let (inputs, labels) = synthetic_examples(n, SEED, Layout::Image)?;
    Ok((
        inputs.to_dtype(dtype)?.to_device(device)?,
        labels.to_device(device)?,
    ))
}

/// What one device computes for a workload.
struct Measured {
    parameters: usize,
    loss: f64,
    gradient: Vec<f64>,
    hvp: Vec<f64>,
    lambda_max: f64,
}

/// The workload's network on `device` with its seeded weights and its loss over all its
/// examples as one chunk, and its data.
fn setup(
    workload: &Workload,
    dtype: DType,
    device: &Device,
) -> anyhow::Result<(Objective, Tensor, Tensor)> {
    let net = Network::new(&workload.architecture, NUM_CLASSES, SEED, dtype, device)?;
    let objective = Objective::new(net, workload.loss, workload.examples)?;
    let (inputs, labels) = synthetic_data(workload.examples, dtype, device)?;
    Ok((objective, inputs, labels))
}

/// The loss (one chunk, BatchNorm with batch statistics) and its Hessian operator, which
/// computes the gradient with its graph.
fn hessian(
    objective: &Objective,
    inputs: &Tensor,
    labels: &Tensor,
) -> anyhow::Result<(Tensor, HessianOperator)> {
    let chunks = objective.chunk_losses(inputs, labels, BatchNormMode::Train)?;
    let operator = HessianOperator::new(objective.network().parameters(), &chunks)?;
    Ok((chunks[0].clone(), operator))
}

/// The probe of the HVP: seeded, uniform in [−1, 1), shaped like the operator's vectors.
fn probe(operator: &HessianOperator) -> anyhow::Result<Tensor> {
    let values = seeded_uniform(SEED, "gpu-check.probe", operator.dim(), 1.0);
    Ok(operator.template()?.like(&values)?)
}

fn lanczos_config(size: Size) -> LanczosConfig {
    LanczosConfig {
        k: 1,
        max_iterations: size.lanczos_steps(),
        tolerance: LANCZOS_TOLERANCE,
        seed: SEED,
    }
}

fn measure(
    workload: &Workload,
    dtype: DType,
    device: &Device,
    size: Size,
) -> anyhow::Result<Measured> {
    let (objective, inputs, labels) = setup(workload, dtype, device)?;
    let (loss, mut operator) = hessian(&objective, &inputs, &labels)?;
    let hvp = operator.apply(&probe(&operator)?)?;
    let spectrum = lanczos(&mut operator, &lanczos_config(size), None)?;
    Ok(Measured {
        parameters: objective.network().num_parameters(),
        loss: loss.to_dtype(DType::F64)?.to_scalar::<f64>()?,
        gradient: operator.gradient()?.to_vec()?,
        hvp: hvp.to_vec()?,
        lambda_max: spectrum.lambda_max(),
    })
}

/// `|a − b| / |a|`, with NaN (which fails every test) when either side is not finite.
fn relative(a: f64, b: f64) -> f64 {
    if a.is_finite() && b.is_finite() {
        (a - b).abs() / a.abs()
    } else {
        f64::NAN
    }
}

/// `‖a − b‖ / ‖a‖`, NaN when not finite or of different lengths.
fn relative_vector(a: &[f64], b: &[f64]) -> f64 {
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let difference = norm(&mut a.iter().zip(b).map(|(x, y)| x - y));
    let scale = norm(&mut a.iter().copied());
    if a.len() == b.len() && difference.is_finite() && scale.is_finite() {
        difference / scale
    } else {
        f64::NAN
    }
}

/// Relative differences of `b` from `a`: loss, gradient, HVP, λ_max.
fn differences(a: &Measured, b: &Measured) -> [f64; 4] {
    [
        relative(a.loss, b.loss),
        relative_vector(&a.gradient, &b.gradient),
        relative_vector(&a.hvp, &b.hvp),
        relative(a.lambda_max, b.lambda_max),
    ]
}

/// The CPU (`reference`) against the device (`tested`) in `dtype`; for f32, `exact` is the
/// CPU's f64 result of the same workload, which decides whether a difference above
/// [`F32_TOLERANCE`] is f32 rounding ([`F32_ROUNDING_FACTOR`]).
fn compare(
    workload: &Workload,
    dtype: DType,
    reference: &Measured,
    tested: &Measured,
    exact: Option<&Measured>,
) -> Agreement {
    let tolerance = if dtype == DType::F32 {
        F32_TOLERANCE
    } else {
        F64_TOLERANCE
    };
    let [loss, gradient, hvp, lambda_max] = differences(reference, tested);
    let rounding = exact.map(|exact| Rounding {
        cpu: differences(exact, reference),
        device: differences(exact, tested),
    });
    let passed = [loss, gradient, hvp, lambda_max]
        .iter()
        .enumerate()
        .all(|(i, &difference)| {
            difference <= tolerance
                || rounding
                    .as_ref()
                    .is_some_and(|r| r.device[i] <= F32_ROUNDING_FACTOR * r.cpu[i])
        });
    Agreement {
        problem: workload.name,
        dtype: if dtype == DType::F32 { "f32" } else { "f64" },
        parameters: reference.parameters,
        loss_cpu: reference.loss,
        loss,
        gradient,
        hvp,
        lambda_max_cpu: reference.lambda_max,
        lambda_max_device: tested.lambda_max,
        lambda_max,
        tolerance,
        rounding,
        passed,
    }
}

/// Median seconds of `repeats` runs of `operation` after one warm-up; the device is
/// synchronized before the clock stops (CUDA kernels run asynchronously).
fn median_seconds(
    device: &Device,
    repeats: usize,
    mut operation: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    operation()?;
    device.synchronize()?;
    let mut seconds = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        operation()?;
        device.synchronize()?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    median(&seconds).context("at least one repetition")
}

fn time(workload: &Workload, device: &Device, size: Size) -> anyhow::Result<Timing> {
    let (objective, inputs, labels) = setup(workload, DType::F32, device)?;
    let repeats = size.timing_repeats();
    let step_s = median_seconds(device, repeats, || {
        let evaluation = objective.evaluate(
            &inputs,
            &labels,
            BatchNormMode::TrainUpdate,
            Gradient::Compute,
        )?;
        let gradient = evaluation
            .gradient
            .context("evaluate returned no gradient")?;
        Ok(objective.network().add_scaled(-STEP_ETA, &gradient)?)
    })?;
    let gradient_with_graph_s = median_seconds(device, repeats, || {
        hessian(&objective, &inputs, &labels)?;
        Ok(())
    })?;
    let (_, mut operator) = hessian(&objective, &inputs, &labels)?;
    let v = probe(&operator)?;
    let hvp_s = median_seconds(device, repeats, || {
        operator.apply(&v)?;
        Ok(())
    })?;
    let lanczos_s = median_seconds(device, repeats, || {
        lanczos(&mut operator, &lanczos_config(size), None)?;
        Ok(())
    })?;
    Ok(Timing {
        problem: workload.name,
        examples: workload.examples,
        parameters: objective.network().num_parameters(),
        step_s,
        gradient_with_graph_s,
        hvp_s,
        lanczos_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dry run: the CPU against itself takes every code path of the GPU check, and two
    /// CPU runs are bitwise identical (`docs/candle.md#cpu-determinism`), so every difference is
    /// exactly 0.
    #[test]
    fn cpu_against_itself_agrees_exactly_and_writes_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let report = check(DeviceKind::Cpu, Size::Tiny, dir.path()).unwrap();
        assert!(report.passed);
        assert_eq!(report.agreement.len(), 4);
        for a in &report.agreement {
            assert_eq!([a.loss, a.gradient, a.hvp, a.lambda_max], [0.0; 4], "{a:?}");
            assert!(a.lambda_max_cpu > 0.0 && a.loss_cpu > 0.0, "{a:?}");
        }
        for t in &report.timings {
            let times = [t.step_s, t.gradient_with_graph_s, t.hvp_s, t.lanczos_s];
            assert!(times.iter().all(|&s| s > 0.0), "{t:?}");
        }
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("gpu-check.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["passed"], true);
        let markdown = std::fs::read_to_string(dir.path().join("gpu-check.md")).unwrap();
        assert!(
            markdown.contains("CPU against cpu (tiny timings)"),
            "{markdown}"
        );
    }

    /// A measurement whose every value is `1 + error` times the exact one.
    fn off_by(error: f64) -> Measured {
        Measured {
            parameters: 2,
            loss: 1.0 + error,
            gradient: vec![3.0 * (1.0 + error), 4.0 * (1.0 + error)],
            hvp: vec![1.0 + error, 0.0],
            lambda_max: 2.0 * (1.0 + error),
        }
    }

    #[test]
    fn an_f32_difference_passes_only_when_the_cpu_is_as_far_from_f64() {
        let workload = Workload::mlp(1);
        let exact = off_by(0.0);
        // CPU and device 2e-3 apart, each about 1e-3 from f64: rounding, passes.
        let rounding = compare(
            &workload,
            DType::F32,
            &off_by(1e-3),
            &off_by(-1e-3),
            Some(&exact),
        );
        assert!(
            rounding.gradient > F32_TOLERANCE && rounding.passed,
            "{rounding:?}"
        );
        // The CPU within 1e-7 of f64, the device 1e-3 away: not rounding, fails.
        let wrong = compare(
            &workload,
            DType::F32,
            &off_by(1e-7),
            &off_by(1e-3),
            Some(&exact),
        );
        assert!(!wrong.passed, "{wrong:?}");
        // f64 has no rounding escape.
        let f64_row = compare(&workload, DType::F64, &off_by(0.0), &off_by(1e-9), None);
        assert!(!f64_row.passed && f64_row.rounding.is_none(), "{f64_row:?}");
    }

    #[test]
    fn differences_are_relative_and_nan_fails() {
        assert_eq!(relative(2.0, 1.5), 0.25);
        assert_eq!(relative_vector(&[3.0, 4.0], &[3.0, 4.5]), 0.1);
        assert!(relative(1.0, f64::NAN).is_nan());
        assert!(relative(f64::INFINITY, 1.0).is_nan());
    }
}
