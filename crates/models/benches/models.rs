//! Forward+backward and one Hessian-vector product per architecture on a batch of 512 CIFAR
//! images, f32, CPU. Run with `cargo bench -p stepsharp-models`; prints a Markdown table.
//! Arguments select architectures by name: `cargo bench -p stepsharp-models -- mlp`.
//! `STEPSHARP_BENCH_BATCH=64` changes the batch (default 512; CNN HVP chunks are at most 64).
//!
//! - "fwd+bwd": forward (BatchNorm train mode), MSE loss, backward, without
//!   `CANDLE_GRAD_DO_NOT_DETACH` (plain training gradient).
//! - "HVP": forward, backward keeping the gradient graph (`CANDLE_GRAD_DO_NOT_DETACH=1`),
//!   then s = Σ⟨g, v⟩ and a second backward: the cost of one HVP from scratch.
//! - "reused HVP": one more double backward through the same gradient graph (power
//!   iteration / Lanczos reuse the graph for every probe).
//!
//! Repetitions: median of 5 for the MLP; for the CNNs median of 3 up to 64 images, else a
//! single run (full-width VGG-11 takes minutes per pass on 2 CPU cores at 512 images). CNN
//! HVPs are summed over chunks of 64 examples (one double-backward graph of a whole 512 batch
//! of ResNet-20 exceeded 24 GB of RAM).

use std::time::{Duration, Instant};

/// The allocator the harness runs on (`xtask/src/main.rs`); run with
/// `MIMALLOC_PURGE_DELAY=-1` as the harness does, or page faults dominate the CNN rows.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Architecture, BatchNormMode, Loss, Network, ResNetDepth, loss, seeded_uniform,
};

/// The batch size: `STEPSHARP_BENCH_BATCH`, or 512.
fn batch() -> usize {
    std::env::var("STEPSHARP_BENCH_BATCH")
        .ok()
        .map(|v| {
            v.parse()
                .expect("STEPSHARP_BENCH_BATCH must be a positive integer")
        })
        .unwrap_or(512)
}

fn data(batch: usize) -> (Tensor, Tensor) {
    let v = seeded_uniform(0, "bench.images", batch * 3 * 32 * 32, 1.0);
    let x = Tensor::from_vec(v, (batch, 3, 32, 32), &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let y: Vec<u32> = (0..batch as u32).map(|i| i % 10).collect();
    (x, Tensor::new(y, &Device::Cpu).unwrap())
}

/// The middle of an odd number of timings. (The runner's `median` is out of reach here: the
/// runner depends on this crate, and a bench must not depend on it back.)
fn median(mut t: Vec<Duration>) -> f64 {
    t.sort();
    t[t.len() / 2].as_secs_f64()
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn probe(net: &Network) -> Vec<Tensor> {
    net.parameters()
        .iter()
        .map(|v| {
            let values = seeded_uniform(1, "bench.probe", v.elem_count(), 1.0);
            Tensor::from_vec(values, v.shape(), &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap()
        })
        .collect()
}

fn hvp_from(net: &Network, grads: &candle_core::backprop::GradStore, v: &[Tensor]) {
    let mut s = Tensor::zeros((), DType::F32, &Device::Cpu).unwrap();
    for (p, vp) in net.parameters().iter().zip(v) {
        s = (s
            + (grads.get(p.as_tensor()).unwrap() * vp)
                .unwrap()
                .sum_all()
                .unwrap())
        .unwrap();
    }
    let h = s.backward().unwrap();
    assert!(h.get(net.parameters()[0].as_tensor()).is_some());
}

fn main() {
    // (architecture, repetitions, HVP chunk size): CNN HVPs keep the whole double-backward
    // graph alive, which for a batch of 512 exceeds 24 GB of RAM, so they run in chunks.
    // CNNs: median of 3 up to 64 images (the first pass also pays for fresh memory), else one.
    let batch = batch();
    let cnn_reps = if batch <= 64 { 3 } else { 1 };
    let cases = [
        (Architecture::mlp_cohen(), 5, batch),
        (
            Architecture::resnet(ResNetDepth::ResNet20, true),
            cnn_reps,
            batch.min(64),
        ),
        (Architecture::vgg11(false), cnn_reps, batch.min(64)),
    ];
    // `cargo bench -p stepsharp-models -- mlp`: only architectures whose name contains an
    // argument (cargo itself passes `--bench`, which is skipped).
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let cases = cases.into_iter().filter(|(arch, _, _)| {
        filters.is_empty() || filters.iter().any(|f| arch.name().contains(f.as_str()))
    });
    let (x, y) = data(batch);
    println!("| architecture | parameters | fwd+bwd (s) | HVP (s) | HVP chunk | reused HVP (s) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (arch, reps, chunk) in cases {
        let net = Network::new(&arch, 10, 0, DType::F32, &Device::Cpu).unwrap();
        // First-order gradient on a fresh thread without the double-backward variable.
        let fwd_bwd = std::thread::scope(|s| {
            s.spawn(|| {
                time(reps, || {
                    let logits = net.forward(&x, BatchNormMode::Train).unwrap();
                    loss(&logits, &y, Loss::Mse).unwrap().backward().unwrap();
                })
            })
            .join()
            .unwrap()
        });
        // SAFETY: the scoped thread above has finished; this thread sets the variable before
        // any backward pass of the threads below.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
        let v = probe(&net);
        let (hvp, reused) = std::thread::scope(|s| {
            s.spawn(|| {
                let (mut first, mut again) = (Vec::new(), Vec::new());
                for _ in 0..reps {
                    let start = Instant::now();
                    let mut middle = start;
                    for c in 0..batch / chunk {
                        let xc = x.narrow(0, c * chunk, chunk).unwrap();
                        let yc = y.narrow(0, c * chunk, chunk).unwrap();
                        let logits = net.forward(&xc, BatchNormMode::Train).unwrap();
                        let l = (loss(&logits, &yc, Loss::Mse).unwrap()
                            * (chunk as f64 / batch as f64))
                            .unwrap();
                        let grads = l.backward().unwrap();
                        hvp_from(&net, &grads, &v);
                        middle = Instant::now();
                        if chunk == batch {
                            hvp_from(&net, &grads, &v);
                        }
                    }
                    first.push(middle - start);
                    again.push(middle.elapsed());
                }
                (median(first), median(again))
            })
            .join()
            .unwrap()
        });
        unsafe { std::env::remove_var("CANDLE_GRAD_DO_NOT_DETACH") };
        let reused = if chunk == batch {
            format!("{reused:.3}")
        } else {
            "–".into()
        };
        println!(
            "| {} | {} | {fwd_bwd:.2} | {hvp:.2} | {chunk} | {reused} |",
            arch.name(),
            net.num_parameters()
        );
    }
}
