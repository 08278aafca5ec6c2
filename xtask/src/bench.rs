//! `cargo xtask bench`: the cost of stepsharp's training step, line-search trial,
//! Hessian-vector product and Lanczos iteration, side by side with JAX on the CPU.
//!
//! The network (`--model`) is figure 3's MLP (3072-200-200-10, tanh, biases, MSE), a
//! ResNet-20 (width 16) or a VGG-11 (width 64), both with BatchNorm on batch statistics and
//! MSE, on the first
//! `--examples` CIFAR-10 training images (synthetic seeded images when no data is found, said
//! in the output). With `--jax <python>` the same computations run in JAX
//! (`xtask/reference/jax_bench.py`) on the same weights, direction, probe and images, exported
//! as `.npy` files; the two sides alternate operation by operation, round by round, and each
//! ratio is the median over rounds of stepsharp's median time over JAX's median time, so a
//! noisy shared machine moves both sides of a ratio alike. The machine's load average is
//! printed at the start and the end.

mod reference;
mod spec;
mod subject;

use std::path::PathBuf;

use anyhow::ensure;
use clap::Args;

use crate::Global;
use crate::flags::PrecisionArg;
use reference::{Jax, Reference};
use spec::{Model, Operation};
use stepsharp_runner::config::Precision;
use stepsharp_runner::stats::median;
use subject::{LANCZOS_STEPS, Subject};

/// Arguments of `bench`.
#[derive(Args)]
pub struct BenchCommand {
    /// The network.
    #[arg(long, value_enum, default_value = "mlp")]
    model: Model,
    /// Examples in the batch (the first CIFAR-10 training images); default 1000 for the MLP,
    /// 64 for the ResNet.
    #[arg(long)]
    examples: Option<usize>,
    /// Interleaved rounds; times and ratios are medians over rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Timed repetitions of each operation per round (their median is the round's time).
    #[arg(long, default_value_t = 3)]
    repetitions: usize,
    /// Precisions to time.
    #[arg(long, value_delimiter = ',', default_value = "f32,f64")]
    dtypes: Vec<PrecisionArg>,
    /// Operations to time (default: all the model has; line-search trials are MLP-only).
    #[arg(long, value_delimiter = ',')]
    operations: Vec<Operation>,
    /// A Python with JAX (e.g. `.venv/bin/python` after `pip install jax`): also time
    /// `xtask/reference/jax_bench.py` on the same data and print ratios.
    #[arg(long)]
    jax: Option<PathBuf>,
}

/// Times and values of one operation in one precision, one entry per round.
#[derive(Default)]
struct Samples {
    ours: Vec<f64>,
    jax: Vec<f64>,
    our_value: f64,
    jax_value: f64,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().next().unwrap_or("?").to_string())
        .unwrap_or_else(|_| "?".into())
}

impl BenchCommand {
    pub fn run(self, global: &Global) -> anyhow::Result<()> {
        let examples = self
            .examples
            .unwrap_or_else(|| self.model.default_examples());
        ensure!(examples > 0, "--examples must be at least 1");
        ensure!(
            self.rounds > 0 && self.repetitions > 0,
            "--rounds and --repetitions must be at least 1"
        );
        let threads = global
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let operations: Vec<Operation> = if self.operations.is_empty() {
            let supported = Operation::ALL.into_iter();
            supported.filter(|&o| self.model.supports(o)).collect()
        } else {
            self.operations.clone()
        };
        if let Some(&unsupported) = operations.iter().find(|&&o| !self.model.supports(o)) {
            anyhow::bail!(
                "--operations: {} is not available for --model {}",
                unsupported.label(),
                self.model.name()
            );
        }
        let reference = Reference::new(self.model, examples, global.data.as_deref())?;
        let subjects = self
            .dtypes
            .iter()
            .map(|&p| {
                let precision = Precision::from(p);
                Ok((precision, Subject::new(&reference, precision.dtype())?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let folder = tempfile::tempdir()?;
        let mut jax = match &self.jax {
            Some(python) => {
                reference.export(folder.path())?;
                Some(Jax::start(python, folder.path(), self.model, threads)?)
            }
            None => None,
        };
        println!(
            "{}, {}; {threads} thread(s); {} round(s) × {} repetition(s)",
            self.model.description(),
            reference.source,
            self.rounds,
            self.repetitions
        );
        if let Some((_, version)) = &jax {
            println!("JAX {version} on the CPU, same weights and images, interleaved");
        }
        println!(
            "load average at start: {} ({} cores)",
            load_average(),
            num_cores()
        );
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
                    entry.ours.push(median(&times).unwrap_or(f64::NAN));
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
                    format!("{:.1}", 1e3 * median(&entry.jax).unwrap_or(f64::NAN)),
                    format!("{:.2}", median(&ratios).unwrap_or(f64::NAN)),
                    format!("{:.6e} / {:.6e}", entry.our_value, entry.jax_value),
                )
            } else {
                ("–".into(), "–".into(), format!("{:.6e}", entry.our_value))
            };
            println!(
                "| {} | {} | {:.1} | {jax} | {ratio} | {values} |",
                operation.label(),
                precision.name(),
                1e3 * median(&entry.ours).unwrap_or(f64::NAN),
            );
        }
    }
    let mut lines = Vec::new();
    for ((precision, _), per_operation) in subjects.iter().zip(samples) {
        let ours = within_ratios(operations, per_operation, |s| &s.ours[..]);
        let theirs = within_ratios(operations, per_operation, |s| &s.jax[..]);
        let described: Vec<String> = ours
            .iter()
            .map(
                |(name, value)| match theirs.iter().find(|(n, _)| n == name) {
                    Some((_, jax)) if with_jax => format!("{name} {value} (JAX {jax})"),
                    _ => format!("{name} {value}"),
                },
            )
            .collect();
        if !described.is_empty() {
            lines.push(format!("- {}: {}", precision.name(), described.join(", ")));
        }
    }
    if !lines.is_empty() {
        println!(
            "\nWithin stepsharp (each the median over rounds of the ratio of two operations timed in the \
             same round; the ratios whose operations were timed):"
        );
        println!("{}", lines.join("\n"));
    }
}

/// The ratios between operations of one side (stepsharp's or JAX's times, `side`), as
/// `(name, formatted value)`: each is computed within every round (both operations timed
/// seconds apart) and the median over rounds is reported, which a machine whose speed drifts
/// between rounds moves less than a ratio of two medians.
fn within_ratios(
    operations: &[Operation],
    per_operation: &[Samples],
    side: fn(&Samples) -> &[f64],
) -> Vec<(&'static str, String)> {
    let rounds = |operation: Operation| {
        let index = operations.iter().position(|&o| o == operation)?;
        let times = side(&per_operation[index]);
        (!times.is_empty()).then_some(times)
    };
    let mut ratios = Vec::new();
    if let (Some(first), Some(further), Some(step)) = (
        rounds(Operation::FirstTrial),
        rounds(Operation::FurtherTrial),
        rounds(Operation::GradientStep),
    ) {
        let first_ratio = per_round(&[first, step], |t| t[0] / t[1]);
        let further_ratio = per_round(&[further, step], |t| t[0] / t[1]);
        ratios.push(("first trial / GD step", format!("{first_ratio:.2}")));
        ratios.push(("further trial / GD step", format!("{further_ratio:.3}")));
    }
    if let (Some(adam), Some(step)) = (rounds(Operation::AdamStep), rounds(Operation::GradientStep))
    {
        let ratio = per_round(&[adam, step], |t| t[0] / t[1]);
        ratios.push(("Adam step / GD step", format!("{ratio:.2}")));
    }
    let hvp = rounds(Operation::HvpReused);
    if let (Some(preconditioned), Some(hvp)) = (rounds(Operation::HvpPreconditioned), hvp) {
        let ratio = per_round(&[preconditioned, hvp], |t| t[0] / t[1]);
        ratios.push(("preconditioned HVP / HVP", format!("{ratio:.2}")));
    }
    if let (Some(hvp), Some(gradient)) = (hvp, rounds(Operation::ValueAndGradient)) {
        let ratio = per_round(&[hvp, gradient], |t| t[0] / t[1]);
        ratios.push(("HVP (reused) / gradient", format!("{ratio:.2}")));
    }
    if let (Some(hvp), Some(gradient)) = (
        rounds(Operation::HvpDoubleBackward),
        rounds(Operation::ValueAndGradient),
    ) {
        let ratio = per_round(&[hvp, gradient], |t| t[0] / t[1]);
        ratios.push(("HVP (double backward) / gradient", format!("{ratio:.2}")));
    }
    if let (Some(hvp), Some(scratch), Some(lanczos)) = (
        hvp,
        rounds(Operation::HvpFromScratch),
        rounds(Operation::Lanczos),
    ) {
        // Lanczos minus its graph (an HVP from scratch minus a reused one) and its HVPs.
        let overhead = per_round(&[lanczos, scratch, hvp], |t| {
            let (lanczos, scratch, hvp) = (t[0], t[1], t[2]);
            (lanczos - (scratch - hvp) - LANCZOS_STEPS as f64 * hvp) / lanczos
        });
        ratios.push((
            "Lanczos beyond its graph and HVPs",
            format!("{:.1}%", 100.0 * overhead),
        ));
    }
    ratios
}

/// The median over rounds `r` of `ratio([series₀[r], series₁[r], …])`.
fn per_round(series: &[&[f64]], ratio: impl Fn(&[f64]) -> f64) -> f64 {
    let rounds = series.iter().map(|s| s.len()).min().unwrap_or(0);
    let values: Vec<f64> = (0..rounds)
        .map(|r| ratio(&series.iter().map(|s| s[r]).collect::<Vec<_>>()))
        .collect();
    median(&values).unwrap_or(f64::NAN)
}
