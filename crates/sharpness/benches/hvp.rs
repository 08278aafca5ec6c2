//! Cost of one gradient, one Hessian-vector product and a 20-step Lanczos on the MLP
//! 3072-200-200-10 of `stepsharp-models` (`Architecture::mlp_cohen`: tanh, biases) with
//! cross-entropy on a batch of 5000 synthetic CIFAR-sized inputs, in f32 and f64 on the CPU.
//! Run with `cargo bench -p stepsharp-sharpness`.
//!
//! "plain gradient" is a forward + backward pass with Candle's default detaching (what
//! training pays); "graph gradient" is the same with `CANDLE_GRAD_DO_NOT_DETACH=1`, keeping
//! the graph for products (what building a `HessianOperator` pays); "HVP" is one product
//! reusing that graph. Times are medians of a few repetitions.

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use stepsharp_models::{
    Architecture, BatchNormMode, Loss, ModelError, Network, loss, seeded_uniform,
};
use stepsharp_sharpness::{
    DO_NOT_DETACH_VARIABLE, HessianOperator, LanczosConfig, LinearOperator, Vector,
    ensure_exact_second_derivatives, lanczos,
};

const BATCH: usize = 5000;
/// CIFAR-10's classes (`stepsharp_data::NUM_CLASSES`; the data crate is no dependency of this
/// crate).
const CLASSES: usize = 10;
const REPETITIONS: usize = 5;
const LANCZOS_STEPS: usize = 20;

/// The network exactly as training builds it (`stepsharp-models`, whose first layer skips the
/// unused gradient of the data), on synthetic CIFAR-shaped images.
struct Model {
    network: Network,
    images: Tensor,
    labels: Tensor,
}

impl Model {
    fn new(dtype: DType) -> Result<Self, ModelError> {
        let device = Device::Cpu;
        let network = Network::new(&Architecture::mlp_cohen(), CLASSES, 0, dtype, &device)?;
        let pixels = seeded_uniform(0, "bench.images", BATCH * 3 * 32 * 32, 1.0);
        let images = Tensor::from_vec(pixels, (BATCH, 3, 32, 32), &device)?.to_dtype(dtype)?;
        let labels: Vec<u32> = (0..BATCH as u32)
            .map(|i| (i * 7) % CLASSES as u32)
            .collect();
        let labels = Tensor::new(labels, &device)?;
        Ok(Self {
            network,
            images,
            labels,
        })
    }

    fn vars(&self) -> &[Var] {
        self.network.parameters()
    }

    fn dim(&self) -> usize {
        self.network.num_parameters()
    }

    /// Mean cross-entropy of the batch.
    fn loss(&self) -> Result<Tensor, ModelError> {
        let logits = self
            .network
            .forward(&self.images, BatchNormMode::default())?;
        loss(&logits, &self.labels, Loss::CrossEntropy)
    }
}

/// The middle of an odd number of samples. (The runner's `median` is out of reach here: the
/// runner depends on this crate, and a bench must not depend on it back.)
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed().as_secs_f64()
}

/// Plain gradients, on a thread whose first backward pass sees detaching on.
fn plain_gradient_seconds(dtype: DType) -> f64 {
    std::thread::spawn(move || {
        let model = Model::new(dtype).unwrap();
        let samples = (0..REPETITIONS)
            .map(|_| time(|| model.loss().unwrap().backward().unwrap()))
            .collect();
        median(samples)
    })
    .join()
    .unwrap()
}

struct Row {
    dtype: DType,
    plain_gradient: f64,
    graph_gradient: f64,
    hvp: f64,
    lanczos: f64,
    lanczos_hvps: usize,
    lambda_max: f64,
}

fn measure(dtype: DType, plain_gradient: f64) -> Row {
    let model = Model::new(dtype).unwrap();
    let mut operator = None;
    let graph_samples = (0..REPETITIONS)
        .map(|_| {
            operator = None; // free the previous graph first
            time(|| {
                operator =
                    Some(HessianOperator::new(model.vars(), &[model.loss().unwrap()]).unwrap())
            })
        })
        .collect();
    let mut operator = operator.unwrap();
    let probe = operator.gradient().unwrap();
    let hvp_samples = (0..REPETITIONS)
        .map(|_| time(|| operator.apply(&probe).unwrap()))
        .collect();
    let config = LanczosConfig {
        k: 1,
        max_iterations: LANCZOS_STEPS,
        tolerance: 1e-12,
        seed: 0,
    };
    let before = operator.hvps();
    let mut spectrum = None;
    let lanczos_seconds = time(|| spectrum = Some(lanczos(&mut operator, &config, None).unwrap()));
    let spectrum = spectrum.unwrap();
    assert_eq!(operator.hvps() - before, spectrum.hvps);
    assert_eq!(Vector::len(&probe), model.dim());
    Row {
        dtype,
        plain_gradient,
        graph_gradient: median(graph_samples),
        hvp: median(hvp_samples),
        lanczos: lanczos_seconds,
        lanczos_hvps: spectrum.hvps,
        lambda_max: spectrum.lambda_max(),
    }
}

fn main() {
    // Single-threaded here: nothing else reads the environment.
    unsafe { std::env::remove_var(DO_NOT_DETACH_VARIABLE) };
    let plain: Vec<(DType, f64)> = [DType::F32, DType::F64]
        .into_iter()
        .map(|dtype| (dtype, plain_gradient_seconds(dtype)))
        .collect();
    ensure_exact_second_derivatives().expect("double backward must be exact");
    let rows: Vec<Row> = plain
        .into_iter()
        .map(|(dtype, plain)| measure(dtype, plain))
        .collect();
    println!(
        "{}, batch {BATCH}, cross-entropy, CPU, {} parameters, median of {REPETITIONS}",
        Model::new(DType::F32).unwrap().network.describe(),
        Model::new(DType::F32).unwrap().dim()
    );
    println!(
        "| dtype | plain gradient (s) | graph gradient (s) | HVP (s) | {LANCZOS_STEPS}-step Lanczos (s) | HVP / plain gradient | HVP / graph gradient | lambda_max |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {:?} | {:.3} | {:.3} | {:.3} | {:.2} ({} HVPs) | {:.2} | {:.2} | {:.4} |",
            row.dtype,
            row.plain_gradient,
            row.graph_gradient,
            row.hvp,
            row.lanczos,
            row.lanczos_hvps,
            row.hvp / row.plain_gradient,
            row.hvp / row.graph_gradient,
            row.lambda_max,
        );
    }
}
