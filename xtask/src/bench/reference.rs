//! The inputs both sides of the benchmark share (weights, direction, probe, images) and the
//! JAX reference script run as a child process on them.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, bail, ensure};
use candle_core::{DType, Device, Tensor};
use stepsharp_data::{DataConfig, Layout, NUM_CLASSES, Subset};
use stepsharp_models::{Network, seeded_uniform};
use stepsharp_runner::config::Precision;

use super::spec::{Model, Operation, SEED};
use crate::fixture::synthetic_examples;

/// The shared inputs in f64: weights, direction, probe (flat, stepsharp's order) and data.
pub(super) struct Reference {
    pub(super) model: Model,
    pub(super) weights: Tensor,
    pub(super) direction: Tensor,
    pub(super) probe: Tensor,
    pub(super) inputs: Tensor,
    pub(super) labels: Tensor,
    /// Where the images came from.
    pub(super) source: String,
}

impl Reference {
    pub(super) fn new(
        model: Model,
        examples: usize,
        data_dir: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let net = reference_network(model)?;
        let n = net.num_parameters();
        let vector = |stream: &str, scale: f64| {
            Tensor::from_vec(seeded_uniform(SEED, stream, n, scale), n, &Device::Cpu)
        };
        let (inputs, labels, source) = images(examples, data_dir)?;
        let inputs = match model {
            Model::Mlp => inputs,
            Model::Resnet20 | Model::Vgg11 => inputs.reshape((examples, 3, 32, 32))?,
        };
        Ok(Self {
            model,
            weights: net.flat_parameters()?,
            direction: vector("bench.direction", 1e-2)?,
            probe: vector("bench.probe", 1.0)?,
            inputs,
            labels,
            source,
        })
    }

    /// Writes the `.npy` files `jax_bench.py` reads (parameters as weight, bias per layer)
    /// and `names.txt`, the parameters' names in the same order.
    pub(super) fn export(&self, folder: &Path) -> anyhow::Result<()> {
        let net = reference_network(self.model)?;
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
        let ordered: Vec<&str> = order.iter().map(|&i| names[i].as_str()).collect();
        std::fs::write(folder.join("names.txt"), ordered.join("\n") + "\n")?;
        self.inputs.write_npy(folder.join("x.npy"))?;
        self.labels.write_npy(folder.join("y.npy"))?;
        Ok(())
    }
}

/// The network with the benchmark's seed, in f64 (the reference weights and their order).
pub(super) fn reference_network(model: Model) -> anyhow::Result<Network> {
    Ok(Network::new(
        &model.architecture(),
        NUM_CLASSES,
        SEED,
        DType::F64,
        &Device::Cpu,
    )?)
}

/// The first `examples` CIFAR-10 training images (unit range, flat) in f64, or as many of the
/// data crate's seeded synthetic ones ([`synthetic_examples`]) when the data set cannot be
/// found.
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
            let (inputs, labels) = synthetic_examples(examples, SEED, Layout::Flat)?;
            let description = format!("{examples} synthetic images (no CIFAR-10: {error})");
            Ok((inputs, labels, description))
        }
    }
}

/// The reference script, running as a child process.
pub(super) struct Jax {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Jax {
    pub(super) fn start(
        python: &Path,
        folder: &Path,
        model: Model,
        threads: usize,
    ) -> anyhow::Result<(Self, String)> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/jax_bench.py");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(folder)
            .arg("--model")
            .arg(model.name())
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
    pub(super) fn time(
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
