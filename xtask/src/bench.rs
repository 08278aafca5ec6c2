//! `cargo xtask bench`: the cost of stepsharp's MLP training step, line-search trial,
//! Hessian-vector product and Lanczos iteration, side by side with JAX on the CPU.
//!
//! The network is figure 3's MLP (3072-200-200-10, tanh, biases, MSE) on the first
//! `--examples` CIFAR-10 training images (synthetic seeded images when no data is found, said
//! in the output). With `--jax <python>` the same computations run in JAX
//! (`xtask/reference/jax_bench.py`) on the same weights, direction, probe and images, exported
//! as `.npy` files; the two sides alternate operation by operation, round by round, and each
//! ratio is the median over rounds of stepsharp's median time over JAX's median time, so a
//! noisy shared machine moves both sides of a ratio alike. The machine's load average is
//! printed at the start and the end.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use candle_core::{DType, Device, Tensor};
use clap::Args;
use stepsharp_data::{DataConfig, Subset};
use stepsharp_models::{
    Architecture, BatchNormMode, LineLoss, Loss, Network, evaluate, seeded_uniform,
};
use stepsharp_sharpness::{HessianOperator, LanczosConfig, LinearOperator, lanczos};

use crate::Global;

/// Stepsize of the timed gradient-descent step (figure 3's tuned constant).
const GD_STEPSIZE: f64 = 0.04;
/// Trial stepsize of the timed line-search trial.
const TRIAL_STEPSIZE: f64 = 0.01;
/// Lanczos steps timed (the reference script runs the same number).
const LANCZOS_STEPS: usize = 20;
/// Seed of the network's weights, the direction and the probe.
const SEED: u64 = 0;

/// Arguments of `bench`.
#[derive(Args)]
pub struct BenchCommand {
    /// Examples in the batch (the first CIFAR-10 training images).
    #[arg(long, default_value_t = 1000)]
    examples: usize,
    /// Interleaved rounds; times and ratios are medians over rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Timed repetitions of each operation per round (their median is the round's time).
    #[arg(long, default_value_t = 3)]
    repetitions: usize,
    /// Precisions to time.
    #[arg(long, value_delimiter = ',', default_value = "f32,f64")]
    dtypes: Vec<Precision>,
    /// Operations to time (default: all).
    #[arg(long, value_delimiter = ',')]
    operations: Vec<Operation>,
    /// A Python with JAX (e.g. `.venv/bin/python` after `pip install jax`): also time
    /// `xtask/reference/jax_bench.py` on the same data and print ratios.
    #[arg(long)]
    jax: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq)]
enum Precision {
    F32,
    F64,
}

impl Precision {
    fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

/// A timed operation, with the name of its JAX counterpart when there is one.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq)]
enum Operation {
    /// Loss and gradient (`evaluate` with the gradient; `jax.value_and_grad`).
    ValueAndGradient,
    /// Loss, gradient and the update `w − η∇f` (a full-batch gradient-descent step).
    GradientStep,
    /// A line search's first trial `f(w + t·d)`, which builds the [`LineLoss`] (JAX: a forward
    /// pass at `w + t·d`).
    FirstTrial,
    /// A further trial on the same line (JAX: a forward pass at `w + t·d`).
    FurtherTrial,
    /// Gradient graph and one HVP (`jvp(grad)` from scratch).
    HvpFromScratch,
    /// One HVP through a kept gradient graph (JAX: a jitted `jax.linearize` of the gradient).
    HvpReused,
    /// A 20-step Lanczos through one gradient graph (JAX: 20 `jvp(grad)` with full
    /// reorthogonalisation, jitted as one loop).
    Lanczos,
}

impl Operation {
    const ALL: [Operation; 7] = [
        Operation::ValueAndGradient,
        Operation::GradientStep,
        Operation::FirstTrial,
        Operation::FurtherTrial,
        Operation::HvpFromScratch,
        Operation::HvpReused,
        Operation::Lanczos,
    ];

    fn label(self) -> &'static str {
        match self {
            Operation::ValueAndGradient => "value + gradient",
            Operation::GradientStep => "GD step",
            Operation::FirstTrial => "line-search trial, first",
            Operation::FurtherTrial => "line-search trial, further",
            Operation::HvpFromScratch => "HVP from scratch",
            Operation::HvpReused => "HVP, reused graph",
            Operation::Lanczos => "Lanczos, 20 steps",
        }
    }

    fn jax_name(self) -> &'static str {
        match self {
            Operation::ValueAndGradient => "value_and_grad",
            Operation::GradientStep => "gd_step",
            Operation::FirstTrial | Operation::FurtherTrial => "trial",
            Operation::HvpFromScratch => "hvp",
            Operation::HvpReused => "hvp_linearized",
            Operation::Lanczos => "lanczos",
        }
    }
}

/// The network, data, direction and probe of one precision.
struct Subject {
    net: Network,
    inputs: Tensor,
    labels: Tensor,
    direction: Tensor,
    probe: Tensor,
}

impl Subject {
    /// The f64 weights `weights` (and direction, probe) converted to `dtype`.
    fn new(reference: &Reference, dtype: DType) -> anyhow::Result<Self> {
        let net = Network::new(&Architecture::mlp_cohen(), 10, SEED, dtype, &Device::Cpu)?;
        net.set_flat_parameters(&reference.weights.to_dtype(dtype)?)?;
        Ok(Self {
            net,
            inputs: reference.inputs.to_dtype(dtype)?,
            labels: reference.labels.clone(),
            direction: reference.direction.to_dtype(dtype)?,
            probe: reference.probe.to_dtype(dtype)?,
        })
    }

    fn examples(&self) -> usize {
        self.labels.dims()[0]
    }

    fn gradient_evaluation(&self) -> anyhow::Result<stepsharp_models::Evaluation> {
        let n = self.examples();
        Ok(evaluate(
            &self.net,
            &self.inputs,
            &self.labels,
            Loss::Mse,
            n,
            BatchNormMode::Train,
            true,
        )?)
    }

    fn hessian(&self) -> anyhow::Result<HessianOperator> {
        let logits = self.net.forward(&self.inputs, BatchNormMode::Train)?;
        let loss = stepsharp_models::loss(&logits, &self.labels, Loss::Mse)?;
        Ok(HessianOperator::new(self.net.parameters(), &[loss])?)
    }

    /// Runs `operation` once; returns its seconds and a value to compare with JAX's.
    fn time(&self, operation: Operation) -> anyhow::Result<(f64, f64)> {
        let w0 = self.net.flat_parameters()?;
        let started = Instant::now();
        let value = match operation {
            Operation::ValueAndGradient => self.gradient_evaluation()?.loss,
            Operation::GradientStep => {
                let evaluation = self.gradient_evaluation()?;
                let gradient = evaluation.gradient.context("gradient")?;
                self.net.add_scaled(-GD_STEPSIZE, &gradient)?;
                evaluation.loss
            }
            Operation::FirstTrial | Operation::FurtherTrial => {
                let evaluation = self.gradient_evaluation()?;
                let origin = evaluation.line_origin.context("an MLP keeps its origin")?;
                let started_line = Instant::now();
                let line = LineLoss::new(&self.net, &origin, &self.direction)?;
                let first = line.loss_at(TRIAL_STEPSIZE)?;
                let value = if operation == Operation::FirstTrial {
                    first
                } else {
                    let further = Instant::now();
                    let value = line.loss_at(TRIAL_STEPSIZE)?;
                    return Ok((further.elapsed().as_secs_f64(), value));
                };
                return Ok((started_line.elapsed().as_secs_f64(), value));
            }
            Operation::HvpFromScratch => {
                let mut hessian = self.hessian()?;
                entry_sum(&hessian.apply(&self.probe)?)?
            }
            Operation::HvpReused => {
                let mut hessian = self.hessian()?;
                let reused = Instant::now();
                let value = entry_sum(&hessian.apply(&self.probe)?)?;
                return Ok((reused.elapsed().as_secs_f64(), value));
            }
            Operation::Lanczos => {
                let mut hessian = self.hessian()?;
                let config = LanczosConfig {
                    k: 1,
                    max_iterations: LANCZOS_STEPS,
                    tolerance: f64::MIN_POSITIVE,
                    seed: SEED,
                };
                lanczos(&mut hessian, &config, Some(&self.probe))?.lambda_max()
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        if operation == Operation::GradientStep {
            self.net.set_flat_parameters(&w0)?;
        }
        Ok((seconds, value))
    }
}

/// The sum of a flat vector's entries (JAX's script returns the same value for its HVPs).
fn entry_sum(flat: &Tensor) -> anyhow::Result<f64> {
    Ok(flat.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()?)
}

/// The shared inputs in f64: weights, direction, probe (flat, stepsharp's order) and data.
struct Reference {
    weights: Tensor,
    direction: Tensor,
    probe: Tensor,
    inputs: Tensor,
    labels: Tensor,
    /// Where the images came from.
    source: String,
}

impl Reference {
    fn new(examples: usize, data_dir: Option<&Path>) -> anyhow::Result<Self> {
        let net = reference_network()?;
        let n = net.num_parameters();
        let vector = |stream: &str, scale: f64| {
            Tensor::from_vec(seeded_uniform(SEED, stream, n, scale), n, &Device::Cpu)
        };
        let (inputs, labels, source) = images(examples, data_dir)?;
        Ok(Self {
            weights: net.flat_parameters()?,
            direction: vector("bench.direction", 1e-2)?,
            probe: vector("bench.probe", 1.0)?,
            inputs,
            labels,
            source,
        })
    }

    /// Writes the `.npy` files `jax_bench.py` reads (parameters as weight, bias per layer).
    fn export(&self, folder: &Path) -> anyhow::Result<()> {
        let net = reference_network()?;
        let mut order: Vec<usize> = (0..net.parameters().len()).collect();
        let names = net.parameter_names();
        order.sort_by_key(|&i| {
            let (layer, kind) = names[i].rsplit_once('.').unwrap_or((&names[i], ""));
            (layer.to_string(), kind == "bias")
        });
        let mut offsets = Vec::new();
        let mut offset = 0;
        for v in net.parameters() {
            offsets.push(offset);
            offset += v.elem_count();
        }
        for (position, &i) in order.iter().enumerate() {
            let shape = net.parameters()[i].shape();
            let slice = |flat: &Tensor| {
                flat.narrow(0, offsets[i], shape.elem_count())?
                    .reshape(shape)
            };
            slice(&self.weights)?.write_npy(folder.join(format!("param_{position}.npy")))?;
            slice(&self.direction)?.write_npy(folder.join(format!("direction_{position}.npy")))?;
            slice(&self.probe)?.write_npy(folder.join(format!("probe_{position}.npy")))?;
        }
        self.inputs.write_npy(folder.join("x.npy"))?;
        self.labels.write_npy(folder.join("y.npy"))?;
        Ok(())
    }
}

/// Figure 3's MLP with the benchmark's seed, in f64 (the reference weights and their order).
fn reference_network() -> anyhow::Result<Network> {
    Ok(Network::new(
        &Architecture::mlp_cohen(),
        10,
        SEED,
        DType::F64,
        &Device::Cpu,
    )?)
}

/// The first `examples` CIFAR-10 training images (unit range, flat) in f64, or seeded
/// synthetic ones when the data set cannot be found.
fn images(examples: usize, data_dir: Option<&Path>) -> anyhow::Result<(Tensor, Tensor, String)> {
    let config = DataConfig {
        train_subset: Subset::First { count: examples },
        ..DataConfig::default()
    };
    match stepsharp_data::locate(data_dir) {
        Ok(source) => {
            let data = stepsharp_data::load(&source, &config, false, DType::F64, &Device::Cpu)
                .with_context(|| format!("loading CIFAR-10 from {}", source.dir.display()))?;
            let description = format!("the first {examples} CIFAR-10 training images");
            Ok((data.train.inputs, data.train.labels, description))
        }
        Err(error) => {
            let pixels = seeded_uniform(SEED, "bench.images", examples * 3072, 1.0);
            let pixels: Vec<f64> = pixels.into_iter().map(|p| p.abs()).collect();
            let labels: Vec<u32> = (0..examples as u32).map(|i| (7 * i) % 10).collect();
            let description = format!("{examples} synthetic images (no CIFAR-10: {error})");
            Ok((
                Tensor::from_vec(pixels, (examples, 3072), &Device::Cpu)?,
                Tensor::new(labels, &Device::Cpu)?,
                description,
            ))
        }
    }
}

/// The reference script, running as a child process.
struct Jax {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Jax {
    fn start(python: &Path, folder: &Path, threads: usize) -> anyhow::Result<(Self, String)> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/jax_bench.py");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(folder)
            .arg("--threads")
            .arg(threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {} {}", python.display(), script.display()))?;
        let input = child.stdin.take().context("JAX stdin")?;
        let mut output = BufReader::new(child.stdout.take().context("JAX stdout")?);
        let mut ready = String::new();
        output.read_line(&mut ready)?;
        ensure!(
            ready.starts_with("ready"),
            "{} did not start (is JAX installed for {}?)",
            script.display(),
            python.display()
        );
        let version = ready.trim().trim_start_matches("ready").trim().to_string();
        Ok((
            Self {
                child,
                input,
                output,
            },
            version,
        ))
    }

    /// JAX's median seconds and value for `operation`.
    fn time(
        &mut self,
        operation: Operation,
        precision: Precision,
        reps: usize,
    ) -> anyhow::Result<(f64, f64)> {
        writeln!(
            self.input,
            "{} {} {reps}",
            operation.jax_name(),
            precision.name()
        )?;
        self.input.flush()?;
        let mut line = String::new();
        self.output.read_line(&mut line)?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 {
            bail!("unexpected answer from jax_bench.py: {line:?}");
        }
        Ok((fields[2].parse()?, fields[3].parse()?))
    }
}

impl Drop for Jax {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Times and values of one operation in one precision, one entry per round.
#[derive(Default)]
struct Samples {
    ours: Vec<f64>,
    jax: Vec<f64>,
    our_value: f64,
    jax_value: f64,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[sorted.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|_| "?".into())
}

impl BenchCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        ensure!(self.examples > 0, "--examples must be at least 1");
        ensure!(
            self.rounds > 0 && self.repetitions > 0,
            "--rounds and --repetitions must be at least 1"
        );
        let threads = global
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let reference = Reference::new(self.examples, global.data.as_deref())?;
        let subjects = self
            .dtypes
            .iter()
            .map(|&p| Ok((p, Subject::new(&reference, p.dtype())?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let folder = tempfile::tempdir()?;
        let mut jax = match &self.jax {
            Some(python) => {
                reference.export(folder.path())?;
                Some(Jax::start(python, folder.path(), threads)?)
            }
            None => None,
        };
        println!(
            "MLP 3072-200-200-10 tanh, MSE, {}; {threads} thread(s); {} round(s) × {} repetition(s)",
            reference.source, self.rounds, self.repetitions
        );
        if let Some((_, version)) = &jax {
            println!("JAX {version} on the CPU, same weights and images, interleaved");
        }
        println!(
            "load average at start: {} ({} cores)",
            load_average(),
            num_cores()
        );
        let operations = if self.operations.is_empty() {
            Operation::ALL.to_vec()
        } else {
            self.operations.clone()
        };
        let mut samples: Vec<Vec<Samples>> = subjects
            .iter()
            .map(|_| operations.iter().map(|_| Samples::default()).collect())
            .collect();
        for round in 0..self.rounds {
            eprint!("\rround {}/{}", round + 1, self.rounds);
            for ((precision, subject), per_operation) in subjects.iter().zip(&mut samples) {
                for (&operation, entry) in operations.iter().zip(per_operation.iter_mut()) {
                    subject.time(operation)?; // warm up
                    let mut times = Vec::with_capacity(self.repetitions);
                    for _ in 0..self.repetitions {
                        let (seconds, value) = subject.time(operation)?;
                        times.push(seconds);
                        entry.our_value = value;
                    }
                    entry.ours.push(median(&times));
                    if let Some((jax, _)) = jax.as_mut() {
                        let (seconds, value) = jax.time(operation, *precision, self.repetitions)?;
                        entry.jax.push(seconds);
                        entry.jax_value = value;
                    }
                }
            }
        }
        eprintln!();
        println!("load average at end: {}\n", load_average());
        print_table(&subjects, &operations, &samples, jax.is_some());
        Ok(())
    }
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn print_table(
    subjects: &[(Precision, Subject)],
    operations: &[Operation],
    samples: &[Vec<Samples>],
    with_jax: bool,
) {
    println!("| operation | dtype | stepsharp (ms) | JAX (ms) | ratio | value: stepsharp / JAX |");
    println!("|---|---|---:|---:|---:|---|");
    for ((precision, _), per_operation) in subjects.iter().zip(samples) {
        for (&operation, entry) in operations.iter().zip(per_operation) {
            let ratios: Vec<f64> = entry
                .ours
                .iter()
                .zip(&entry.jax)
                .map(|(a, b)| a / b)
                .collect();
            let (jax, ratio, values) = if with_jax {
                (
                    format!("{:.1}", 1e3 * median(&entry.jax)),
                    format!("{:.2}", median(&ratios)),
                    format!("{:.6e} / {:.6e}", entry.our_value, entry.jax_value),
                )
            } else {
                ("–".into(), "–".into(), format!("{:.6e}", entry.our_value))
            };
            println!(
                "| {} | {} | {:.1} | {jax} | {ratio} | {values} |",
                operation.label(),
                precision.name(),
                1e3 * median(&entry.ours),
            );
        }
    }
    if operations.len() < Operation::ALL.len() {
        return;
    }
    println!("\nWithin stepsharp (medians over rounds):");
    for ((precision, _), per_operation) in subjects.iter().zip(samples) {
        let time = |operation: Operation| {
            let index = operations
                .iter()
                .position(|&o| o == operation)
                .expect("all listed");
            median(&per_operation[index].ours)
        };
        let step = time(Operation::GradientStep);
        let gradient = time(Operation::ValueAndGradient);
        let hvp = time(Operation::HvpReused);
        let lanczos = time(Operation::Lanczos);
        let graph = time(Operation::HvpFromScratch) - hvp;
        let overhead = (lanczos - graph - LANCZOS_STEPS as f64 * hvp) / lanczos;
        println!(
            "- {}: first trial / GD step {:.2}, further trial / GD step {:.3}, \
             HVP (reused) / gradient {:.2}, Lanczos beyond its graph and HVPs {:.1}%",
            precision.name(),
            time(Operation::FirstTrial) / step,
            time(Operation::FurtherTrial) / step,
            hvp / gradient,
            100.0 * overhead,
        );
    }
}
