//! Losses and accuracy against hand computations; chunked evaluation against unchunked.

use crate::common::*;
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Architecture, BatchNormMode, Gradient, Loss, ModelError, Network, Objective, ResNetDepth,
    accuracy, loss,
};

fn logits() -> Tensor {
    Tensor::new(&[[2.0f64, -1.0, 0.5], [0.0, 0.0, 3.0]], &Device::Cpu).unwrap()
}

#[test]
fn mse_is_half_squared_error_summed_over_classes_mean_over_examples() {
    let y = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
    // Row 0: (2−1)² + 1² + 0.5² = 2.25; row 1: 0 + 1 + 9 = 10.
    let expected = 0.5 * (2.25 + 10.0) / 2.0;
    let got = loss(&logits(), &y, Loss::Mse)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!((got - expected).abs() < 1e-15, "{got}");
}

#[test]
fn cross_entropy_is_mean_negative_log_softmax_of_the_label() {
    let y = Tensor::new(&[0u8, 2], &Device::Cpu).unwrap();
    let lse = |r: &[f64]| r.iter().map(|v| v.exp()).sum::<f64>().ln();
    let expected = ((lse(&[2.0, -1.0, 0.5]) - 2.0) + (lse(&[0.0, 0.0, 3.0]) - 3.0)) / 2.0;
    let got = loss(&logits(), &y, Loss::CrossEntropy)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!((got - expected).abs() < 1e-15, "{got} vs {expected}");
    // Large logits do not overflow (max-shifted log-sum-exp).
    let big = (logits() * 1000.0).unwrap();
    let ce = loss(&big, &y, Loss::CrossEntropy)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!(ce.is_finite() && (ce - 0.0).abs() < 1e-12);
}

#[test]
fn accuracy_counts_argmax_hits_and_labels_are_validated() {
    let y = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
    assert_eq!(accuracy(&logits(), &y).unwrap(), 0.5);
    let y = Tensor::new(&[0i64, 2], &Device::Cpu).unwrap();
    assert_eq!(accuracy(&logits(), &y).unwrap(), 1.0);
    let out_of_range = Tensor::new(&[0u32, 3], &Device::Cpu).unwrap();
    assert!(matches!(
        loss(&logits(), &out_of_range, Loss::Mse),
        Err(ModelError::Shape { .. })
    ));
    let wrong_len = Tensor::new(&[0u32], &Device::Cpu).unwrap();
    assert!(matches!(
        accuracy(&logits(), &wrong_len),
        Err(ModelError::Shape { .. })
    ));
    let float_labels = Tensor::new(&[0f64, 1.0], &Device::Cpu).unwrap();
    assert!(loss(&logits(), &float_labels, Loss::Mse).is_err());
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap()
}

fn max_abs(a: &Tensor) -> f64 {
    a.abs().unwrap().max(0).unwrap().to_scalar::<f64>().unwrap()
}

#[test]
fn chunked_loss_and_gradient_do_not_depend_on_chunk_size_without_batch_norm() {
    let archs = [
        Architecture::Mlp {
            hidden: vec![8, 8],
            activation: Default::default(),
            bias: true,
        },
        Architecture::Vgg11 {
            batch_norm: false,
            width: 4,
        },
        Architecture::ResNet {
            depth: ResNetDepth::ResNet20,
            batch_norm: false,
            width: 4,
        },
    ];
    let (x, y) = (images(5, 4), labels(5, 10));
    for arch in archs {
        // The same seeded network in every objective.
        let objective = |kind, chunk| {
            let net = Network::new(&arch, 10, 2, DType::F64, &Device::Cpu).unwrap();
            Objective::new(net, kind, chunk).unwrap()
        };
        for kind in [Loss::Mse, Loss::CrossEntropy] {
            let whole = objective(kind, 5);
            let full = whole
                .evaluate(&x, &y, BatchNormMode::Train, Gradient::Compute)
                .unwrap();
            let direct = loss_value(whole.network(), &x, &y, kind);
            assert!((full.loss - direct).abs() <= 1e-14 * direct.abs());
            let g_full = full.gradient.unwrap();
            for chunk in [1, 2, 3, 7] {
                let chunked = objective(kind, chunk);
                let e = chunked
                    .evaluate(&x, &y, BatchNormMode::Train, Gradient::Compute)
                    .unwrap();
                assert!(
                    (e.loss - full.loss).abs() <= 1e-13 * full.loss.abs(),
                    "{arch:?} {chunk}"
                );
                assert_eq!(e.accuracy, full.accuracy);
                let diff = max_abs_diff(&e.gradient.unwrap(), &g_full);
                assert!(
                    diff <= 1e-12 * max_abs(&g_full),
                    "{arch:?} chunk {chunk}: {diff:e}"
                );
                let no_grad = chunked
                    .evaluate(&x, &y, BatchNormMode::Train, Gradient::Skip)
                    .unwrap();
                assert!(no_grad.gradient.is_none() && no_grad.loss == e.loss);
            }
        }
    }
}

#[test]
fn chunk_losses_sum_to_the_evaluated_loss_and_gradient_with_ghost_batches() {
    let arch = Architecture::Vgg11 {
        batch_norm: true,
        width: 4,
    };
    let net = Network::new(&arch, 10, 2, DType::F64, &Device::Cpu).unwrap();
    let objective = Objective::new(net, Loss::CrossEntropy, 4).unwrap();
    let net = objective.network();
    let (x, y) = (images(6, 4), labels(6, 10));
    let e = objective
        .evaluate(&x, &y, BatchNormMode::Train, Gradient::Compute)
        .unwrap();
    let parts = objective
        .chunk_losses(&x, &y, BatchNormMode::Train)
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(
        stepsharp_models::chunk_ranges(6, 4).unwrap(),
        [(0, 4), (4, 2)]
    );
    for (c, part) in parts.iter().enumerate() {
        let single = objective
            .chunk_loss(&x, &y, BatchNormMode::Train, c)
            .unwrap();
        assert_eq!(
            single.to_scalar::<f64>().unwrap(),
            part.to_scalar::<f64>().unwrap()
        );
    }
    assert!(
        objective
            .chunk_loss(&x, &y, BatchNormMode::Train, 2)
            .is_err()
    );
    let total = (&parts[0] + &parts[1]).unwrap();
    assert!((total.to_scalar::<f64>().unwrap() - e.loss).abs() <= 1e-14 * e.loss);
    let grads = total.backward().unwrap();
    let per: Vec<Tensor> = net
        .parameters()
        .iter()
        .map(|v| grads.get(v.as_tensor()).unwrap().clone())
        .collect();
    let g = net.flatten(&per).unwrap();
    let eg = e.gradient.unwrap();
    assert!(max_abs_diff(&g, &eg) <= 1e-13 * max_abs(&eg));
    // Ghost batches: with BatchNorm the objective depends on the chunk size.
    let one_chunk = Network::new(&arch, 10, 2, DType::F64, &Device::Cpu).unwrap();
    let one_chunk = Objective::new(one_chunk, Loss::CrossEntropy, 6).unwrap();
    let whole = one_chunk
        .evaluate(&x, &y, BatchNormMode::Train, Gradient::Skip)
        .unwrap();
    assert!((whole.loss - loss_value(net, &x, &y, Loss::CrossEntropy)).abs() <= 1e-14 * whole.loss);
    assert!((whole.loss - e.loss).abs() > 1e-6);
}

#[test]
fn evaluation_moves_chunks_to_the_network_dtype_and_rejects_bad_chunks() {
    let mlp = || Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F64, &Device::Cpu).unwrap();
    let objective = Objective::new(mlp(), Loss::Mse, 3).unwrap();
    let (x, y) = (images(4, 1), labels(4, 10));
    let x32 = x.to_dtype(DType::F32).unwrap();
    let a = objective
        .evaluate(&x32, &y, BatchNormMode::Eval, Gradient::Skip)
        .unwrap();
    let b = objective
        .evaluate(
            &x32.to_dtype(DType::F64).unwrap(),
            &y,
            BatchNormMode::Eval,
            Gradient::Skip,
        )
        .unwrap();
    assert_eq!(a.loss, b.loss);
    assert!(matches!(
        Objective::new(mlp(), Loss::Mse, 0),
        Err(ModelError::InvalidConfig {
            field: "chunk_size",
            ..
        })
    ));
    assert!(
        Objective::new(mlp(), Loss::Mse, 2)
            .unwrap()
            .evaluate(&x, &labels(3, 10), BatchNormMode::Train, Gradient::Skip)
            .is_err()
    );
}
