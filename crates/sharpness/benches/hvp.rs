//! Cost of one gradient, one Hessian-vector product and a 20-step Lanczos on an MLP
//! 3072-200-200-10 (tanh, cross-entropy) with a batch of 5000 synthetic CIFAR-sized inputs,
//! in f32 and f64 on the CPU. Run with `cargo bench -p stepsharp-sharpness`.
//!
//! "plain gradient" is a forward + backward pass with Candle's default detaching (what
//! training pays); "graph gradient" is the same with `CANDLE_GRAD_DO_NOT_DETACH=1`, keeping
//! the graph for products (what building a `HessianOperator` pays); "HVP" is one product
//! reusing that graph. Times are medians of a few repetitions.

use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand::distr::{Distribution, Uniform};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use stepsharp_sharpness::{
    DO_NOT_DETACH_VARIABLE, HessianOperator, LanczosConfig, LinearOperator, Vector,
    ensure_exact_second_derivatives, lanczos,
};

const WIDTHS: [usize; 4] = [3072, 200, 200, 10];
const BATCH: usize = 5000;
const REPETITIONS: usize = 3;
const LANCZOS_STEPS: usize = 20;

struct Model {
    vars: Vec<Var>,
    inputs: Tensor,
    targets: Tensor,
}

impl Model {
    fn new(dtype: DType) -> candle_core::Result<Self> {
        let device = Device::Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut vars = Vec::new();
        for pair in WIDTHS.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let scale = 1.0 / (fan_in as f64).sqrt();
            let weights: Vec<f64> = (0..fan_in * fan_out)
                .map(|_| {
                    let x: f64 = StandardNormal.sample(&mut rng);
                    scale * x
                })
                .collect();
            let w = Tensor::from_vec(weights, (fan_out, fan_in), &device)?.to_dtype(dtype)?;
            vars.push(Var::from_tensor(&w)?);
            vars.push(Var::from_tensor(&Tensor::zeros(fan_out, dtype, &device)?)?);
        }
        let unit = Uniform::new(0.0f64, 1.0).expect("valid range");
        let pixels: Vec<f64> = (0..BATCH * WIDTHS[0])
            .map(|_| unit.sample(&mut rng))
            .collect();
        let inputs = Tensor::from_vec(pixels, (BATCH, WIDTHS[0]), &device)?.to_dtype(dtype)?;
        let classes = WIDTHS[3];
        let mut onehot = vec![0.0f64; BATCH * classes];
        let label = Uniform::new(0, classes).expect("valid range");
        for row in onehot.chunks_mut(classes) {
            row[label.sample(&mut rng)] = 1.0;
        }
        let targets = Tensor::from_vec(onehot, (BATCH, classes), &device)?.to_dtype(dtype)?;
        Ok(Self {
            vars,
            inputs,
            targets,
        })
    }

    fn dim(&self) -> usize {
        self.vars.iter().map(|v| v.elem_count()).sum()
    }

    /// Mean cross-entropy through tanh hidden layers.
    fn loss(&self) -> candle_core::Result<Tensor> {
        let mut h = self.inputs.clone();
        let layers = self.vars.len() / 2;
        for layer in 0..layers {
            let (w, b) = (&self.vars[2 * layer], &self.vars[2 * layer + 1]);
            h = h
                .matmul(&w.as_tensor().t()?)?
                .broadcast_add(b.as_tensor())?;
            if layer + 1 < layers {
                h = h.tanh()?;
            }
        }
        let log_probs = candle_nn::ops::log_softmax(&h, D::Minus1)?;
        log_probs.mul(&self.targets)?.sum_all()?.neg()? / BATCH as f64
    }
}

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
                    Some(HessianOperator::new(&model.vars, &[model.loss().unwrap()]).unwrap())
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
        "MLP {WIDTHS:?}, batch {BATCH}, tanh + cross-entropy, CPU, {} parameters, median of {REPETITIONS}",
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
