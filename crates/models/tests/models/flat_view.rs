//! Flat parameter view and the BatchNorm buffer policy.

use crate::common::*;
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Architecture, BatchNormMode, Gradient, ModelError, Network, Objective, ResNetDepth,
};

fn vec64(t: &Tensor) -> Vec<f64> {
    t.to_vec1::<f64>().unwrap()
}

#[test]
fn network_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Network>();
}

#[test]
fn flat_view_round_trips_and_never_aliases() {
    for arch in tiny_architectures() {
        let net = Network::new(&arch, 10, 3, DType::F64, &Device::Cpu).unwrap();
        let p = net.num_parameters();
        let w0 = net.flat_parameters().unwrap();
        assert_eq!(w0.dims(), [p]);
        let snapshot = vec64(&w0);
        // flatten(parameters) is the same vector.
        let tensors: Vec<Tensor> = net
            .parameters()
            .iter()
            .map(|v| v.as_tensor().clone())
            .collect();
        assert_eq!(vec64(&net.flatten(&tensors).unwrap()), snapshot);

        // w ← w + η·u, elementwise exactly w + u·η.
        let u = direction(p, 8, DType::F64);
        net.add_scaled(0.37, &u).unwrap();
        let expected: Vec<f64> = snapshot
            .iter()
            .zip(vec64(&u))
            .map(|(w, u)| w + u * 0.37)
            .collect();
        assert_eq!(vec64(&net.flat_parameters().unwrap()), expected, "{arch:?}");
        assert_eq!(
            vec64(&w0),
            snapshot,
            "flat_parameters aliased the parameters"
        );

        // set_flat_parameters copies: later updates do not write into the source vector.
        net.set_flat_parameters(&w0).unwrap();
        assert_eq!(vec64(&net.flat_parameters().unwrap()), snapshot);
        net.add_scaled(1.0, &u).unwrap();
        assert_eq!(
            vec64(&w0),
            snapshot,
            "set_flat_parameters aliased its argument"
        );
    }
}

#[test]
fn single_parameter_network_flat_copy_does_not_alias() {
    let arch = Architecture::Mlp {
        hidden: vec![],
        activation: Default::default(),
        bias: false,
    };
    let net = Network::new(&arch, 2, 0, DType::F64, &Device::Cpu).unwrap();
    assert_eq!(net.parameters().len(), 1);
    let w0 = net.flat_parameters().unwrap();
    let before = vec64(&w0);
    net.add_scaled(1.0, &direction(net.num_parameters(), 1, DType::F64))
        .unwrap();
    assert_eq!(vec64(&w0), before);
}

#[test]
fn flat_view_rejects_wrong_length_dtype_and_count() {
    let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F32, &Device::Cpu).unwrap();
    let short = Tensor::zeros(10, DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(
        net.set_flat_parameters(&short),
        Err(ModelError::Shape { .. })
    ));
    let wrong_dtype = Tensor::zeros(net.num_parameters(), DType::F64, &Device::Cpu).unwrap();
    assert!(matches!(
        net.add_scaled(1.0, &wrong_dtype),
        Err(ModelError::Shape { .. })
    ));
    assert!(matches!(
        net.flatten(&[short]),
        Err(ModelError::Shape { .. })
    ));
}

fn bn_net() -> Network {
    let arch = Architecture::ResNet {
        depth: ResNetDepth::ResNet20,
        batch_norm: true,
        width: 4,
    };
    Network::new(&arch, 10, 5, DType::F64, &Device::Cpu).unwrap()
}

fn buffer_values(net: &Network) -> Vec<Vec<f64>> {
    net.buffers()
        .unwrap()
        .iter()
        .map(|(_, t)| vec64(t))
        .collect()
}

#[test]
fn only_train_update_changes_running_statistics() {
    let objective = Objective::new(bn_net(), Default::default(), 2).unwrap();
    let net = objective.network();
    let x = images(4, 1);
    let initial = buffer_values(net);
    let names: Vec<String> = net.buffers().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "layer001.stem.bn.running_mean");
    assert_eq!(names[1], "layer001.stem.bn.running_var");
    assert_eq!(
        names.len(),
        2 * (19 + 2),
        "19 convs + 2 shortcuts, 2 buffers each"
    );
    assert!(initial[0].iter().all(|&m| m == 0.0) && initial[1].iter().all(|&v| v == 1.0));

    net.forward(&x, BatchNormMode::Train).unwrap();
    net.forward(&x, BatchNormMode::Eval).unwrap();
    objective
        .evaluate(&x, &labels(4, 10), BatchNormMode::Train, Gradient::Compute)
        .unwrap();
    assert_eq!(buffer_values(net), initial);

    net.forward(&x, BatchNormMode::TrainUpdate).unwrap();
    let updated = buffer_values(net);
    // Ground truth for the stem: conv output statistics over (n, h, w), PyTorch momentum 0.1,
    // unbiased variance for the running estimate.
    let stem_w = net.parameters()[0].as_tensor();
    let z = x.conv2d(stem_w, 1, 1, 1, 1).unwrap();
    let m = (4 * 32 * 32) as f64;
    let mean = z.mean((0, 2, 3)).unwrap();
    let var = z
        .broadcast_sub(&mean.reshape((1, 4, 1, 1)).unwrap())
        .unwrap()
        .sqr()
        .unwrap()
        .sum((0, 2, 3))
        .unwrap()
        / (m - 1.0);
    let (mean, var) = (vec64(&mean), vec64(&var.unwrap()));
    for c in 0..4 {
        assert!((updated[0][c] - 0.1 * mean[c]).abs() < 1e-14);
        assert!((updated[1][c] - (0.9 + 0.1 * var[c])).abs() < 1e-14);
    }
    assert!(updated.iter().zip(&initial).all(|(u, i)| u != i));
}

#[test]
fn eval_mode_uses_running_statistics_and_buffers_restore() {
    let net = bn_net();
    let x = images(3, 2);
    let saved = net.buffers().unwrap();
    let eval_before = vec64(
        &net.forward(&x, BatchNormMode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap(),
    );
    let train = vec64(
        &net.forward(&x, BatchNormMode::Train)
            .unwrap()
            .flatten_all()
            .unwrap(),
    );
    assert_ne!(eval_before, train);
    for _ in 0..3 {
        net.forward(&x, BatchNormMode::TrainUpdate).unwrap();
    }
    let eval_after = vec64(
        &net.forward(&x, BatchNormMode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap(),
    );
    assert_ne!(eval_after, eval_before);
    net.set_buffers(&saved).unwrap();
    let eval_restored = vec64(
        &net.forward(&x, BatchNormMode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap(),
    );
    assert_eq!(eval_restored, eval_before);
    // Train-mode output is independent of the running statistics.
    assert_eq!(
        vec64(
            &net.forward(&x, BatchNormMode::Train)
                .unwrap()
                .flatten_all()
                .unwrap()
        ),
        train
    );
    assert!(net.set_buffers(&saved[1..]).is_err());

    let plain = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F32, &Device::Cpu).unwrap();
    assert!(!plain.has_batch_norm() && plain.buffers().unwrap().is_empty());
}
