//! Output shapes, parameter counts against closed forms, seeded initialization, configs.

use crate::common::*;
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Activation, Architecture, BatchNormMode, ModelError, Network, ResNetDepth, seeded_uniform,
};

fn count(arch: &Architecture, k: usize) -> usize {
    Network::new(arch, k, 0, DType::F32, &Device::Cpu)
        .unwrap()
        .num_parameters()
}

/// Σ over layers of (in·out + out) for a bias MLP, in·out without bias.
fn mlp_closed_form(widths: &[usize], bias: bool) -> usize {
    widths
        .windows(2)
        .map(|w| w[0] * w[1] + if bias { w[1] } else { 0 })
        .sum()
}

/// VGG-11: 8 conv 3×3 layers with channels c = w·[1, 2, 4, 4, 8, 8, 8, 8]:
/// Σ 9·c_in·c_out + (2·c_out with BatchNorm γ, β | c_out conv bias), then 8w·k + k.
fn vgg_closed_form(w: usize, bn: bool, k: usize) -> usize {
    let c = [3, w, 2 * w, 4 * w, 4 * w, 8 * w, 8 * w, 8 * w, 8 * w];
    let per_channel = if bn { 2 } else { 1 };
    let convs: usize = (0..8)
        .map(|i| 9 * c[i] * c[i + 1] + per_channel * c[i + 1])
        .sum();
    convs + 8 * w * k + k
}

/// ResNet with basic blocks and option-B shortcuts, stage channels c_s = w·2^s:
/// stem 27w + a·w; first block of stage s > 0: 9·c_{s−1}·c_s + 9·c_s² + 2a·c_s (two convs) +
/// c_{s−1}·c_s + a·c_s (1×1 shortcut); every other block 18·c_s² + 2a·c_s; head c_last·k + k;
/// a = 2 with BatchNorm (γ, β), 1 without (conv bias).
fn resnet_closed_form(blocks: &[usize], w: usize, bn: bool, k: usize) -> usize {
    let a = if bn { 2 } else { 1 };
    let mut total = 27 * w + a * w;
    for (s, &b) in blocks.iter().enumerate() {
        let c = w << s;
        total += (b - 1) * (18 * c * c + 2 * a * c);
        total += if s == 0 {
            18 * c * c + 2 * a * c
        } else {
            let p = c / 2;
            9 * p * c + 9 * c * c + 2 * a * c + p * c + a * c
        };
    }
    total + (w << (blocks.len() - 1)) * k + k
}

#[test]
fn mlp_parameter_counts_match_closed_form() {
    assert_eq!(count(&Architecture::mlp_cohen(), 10), 656_810);
    assert_eq!(mlp_closed_form(&[3072, 200, 200, 10], true), 656_810);
    for (hidden, bias) in [(vec![], true), (vec![7], false), (vec![5, 9, 3], true)] {
        let arch = Architecture::Mlp {
            hidden: hidden.clone(),
            activation: Activation::Relu,
            bias,
        };
        let mut widths = vec![3072];
        widths.extend(&hidden);
        widths.push(4);
        assert_eq!(count(&arch, 4), mlp_closed_form(&widths, bias), "{arch:?}");
    }
}

#[test]
fn cnn_parameter_counts_match_closed_forms() {
    for bn in [false, true] {
        for w in [4, 64] {
            let arch = Architecture::Vgg11 {
                batch_norm: bn,
                width: w,
            };
            assert_eq!(count(&arch, 10), vgg_closed_form(w, bn, 10), "{arch:?}");
        }
        for depth in [
            ResNetDepth::ResNet20,
            ResNetDepth::ResNet32,
            ResNetDepth::ResNet18,
            ResNetDepth::ResNet34,
        ] {
            for w in [4, depth.standard_width()] {
                let arch = Architecture::ResNet {
                    depth,
                    batch_norm: bn,
                    width: w,
                };
                let expected = resnet_closed_form(depth.blocks_per_stage(), w, bn, 10);
                assert_eq!(count(&arch, 10), expected, "{arch:?}");
            }
        }
    }
}

#[test]
fn every_architecture_outputs_logits_per_example() {
    let x = images(2, 3).to_dtype(DType::F32).unwrap();
    for arch in tiny_architectures() {
        let net = Network::new(&arch, 7, 0, DType::F32, &Device::Cpu).unwrap();
        for mode in [
            BatchNormMode::Train,
            BatchNormMode::Eval,
            BatchNormMode::TrainUpdate,
        ] {
            assert_eq!(net.forward(&x, mode).unwrap().dims(), [2, 7], "{arch:?}");
        }
        assert_eq!(net.has_batch_norm(), arch.has_batch_norm());
        assert!(net.describe().contains(&net.num_parameters().to_string()));
        let flat_input = x.flatten_from(1).unwrap();
        let mlp = matches!(arch, Architecture::Mlp { .. });
        assert_eq!(net.forward(&flat_input, BatchNormMode::Train).is_ok(), mlp);
    }
    let bad = Tensor::zeros((2, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
    let net = Network::new(&Architecture::vgg11(false), 10, 0, DType::F32, &Device::Cpu);
    assert!(matches!(
        net.unwrap().forward(&bad, BatchNormMode::Train),
        Err(ModelError::Shape { .. })
    ));
}

#[test]
fn parameter_names_are_sorted_unique_and_in_forward_order() {
    for arch in tiny_architectures() {
        let net = Network::new(&arch, 10, 0, DType::F32, &Device::Cpu).unwrap();
        let names = net.parameter_names();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
        assert!(names[0].starts_with("layer000."));
        assert_eq!(names.len(), net.parameters().len());
        assert!(names.iter().all(|n| !n.contains("running")));
    }
    let net = Network::new(
        &Architecture::resnet(ResNetDepth::ResNet20, true),
        10,
        0,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(net.parameter_names()[0], "layer000.stem.conv.weight");
    assert_eq!(net.parameter_names()[1], "layer001.stem.bn.bias");
    assert!(
        net.parameter_names()
            .last()
            .unwrap()
            .ends_with(".head.weight")
    );
}

#[test]
fn initialization_is_seeded_and_bitwise_reproducible() {
    for arch in tiny_architectures() {
        let build = |seed, dtype| Network::new(&arch, 10, seed, dtype, &Device::Cpu).unwrap();
        let a = build(9, DType::F64)
            .flat_parameters()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let b = build(9, DType::F64)
            .flat_parameters()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let c = build(10, DType::F64)
            .flat_parameters()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let f = build(9, DType::F32)
            .flat_parameters()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(a, b, "{arch:?}");
        assert_ne!(a, c, "{arch:?}");
        let cast: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        assert_eq!(f, cast, "{arch:?}: f32 init is not the f64 init rounded");
    }
}

/// PyTorch defaults: Linear/Conv weight and bias ~ U(±1/√fan_in); BatchNorm γ = 1, β = 0.
#[test]
fn initialization_follows_the_documented_scheme() {
    let arch = Architecture::ResNet {
        depth: ResNetDepth::ResNet20,
        batch_norm: true,
        width: 4,
    };
    let net = Network::new(&arch, 10, 42, DType::F64, &Device::Cpu).unwrap();
    for (name, var) in net.parameter_names().iter().zip(net.parameters()) {
        let values = var
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let dims = var.dims();
        if name.contains(".bn.") {
            let expected = if name.ends_with(".weight") { 1.0 } else { 0.0 };
            assert!(values.iter().all(|&v| v == expected), "{name}");
        } else if name.ends_with(".weight") {
            let fan_in: usize = dims[1..].iter().product();
            let bound = 1.0 / (fan_in as f64).sqrt();
            assert_eq!(
                values,
                seeded_uniform(42, name, values.len(), bound),
                "{name}"
            );
        }
    }
    // Moments of U(−b, b): mean 0, variance b²/3, over a large draw.
    let draw = seeded_uniform(1, "moments", 200_000, 2.0);
    let mean = draw.iter().sum::<f64>() / draw.len() as f64;
    let var = draw.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draw.len() as f64;
    assert!(
        mean.abs() < 0.02 && (var - 4.0 / 3.0).abs() < 0.02,
        "{mean} {var}"
    );
    assert!(draw.iter().all(|x| (-2.0..2.0).contains(x)));
}

#[test]
fn configs_validate_and_round_trip_through_serde_names() {
    assert_eq!(Architecture::default(), Architecture::mlp_cohen());
    let bad = Architecture::Mlp {
        hidden: vec![200, 0],
        activation: Activation::Tanh,
        bias: true,
    };
    assert!(matches!(
        bad.validate(),
        Err(ModelError::InvalidConfig {
            field: "mlp.hidden",
            ..
        })
    ));
    let bad = Architecture::ResNet {
        depth: ResNetDepth::ResNet20,
        batch_norm: true,
        width: 0,
    };
    assert!(matches!(
        bad.validate(),
        Err(ModelError::InvalidConfig {
            field: "resnet.width",
            ..
        })
    ));
    let bad = Architecture::Vgg11 {
        batch_norm: true,
        width: 0,
    };
    assert!(matches!(
        Network::new(&bad, 10, 0, DType::F32, &Device::Cpu),
        Err(ModelError::InvalidConfig {
            field: "vgg11.width",
            ..
        })
    ));
    assert!(matches!(
        Network::new(&Architecture::mlp_cohen(), 0, 0, DType::F32, &Device::Cpu),
        Err(ModelError::InvalidConfig {
            field: "num_classes",
            ..
        })
    ));
    assert_eq!(ResNetDepth::ResNet32.standard_width(), 16);
    assert_eq!(ResNetDepth::ResNet34.standard_width(), 64);
    assert_eq!(
        Architecture::vgg11(true),
        Architecture::Vgg11 {
            batch_norm: true,
            width: 64
        }
    );
}

#[test]
fn configs_use_snake_case_tags_and_reject_unknown_fields() {
    let parse = |s: &str| serde_json::from_str::<Architecture>(s);
    assert_eq!(
        parse(r#"{"kind": "mlp"}"#).unwrap(),
        Architecture::mlp_cohen()
    );
    assert_eq!(
        parse(r#"{"kind": "mlp", "hidden": [50], "activation": "softplus", "bias": false}"#)
            .unwrap(),
        Architecture::Mlp {
            hidden: vec![50],
            activation: Activation::Softplus,
            bias: false
        }
    );
    assert_eq!(
        parse(r#"{"kind": "resnet", "depth": "resnet32", "batch_norm": true, "width": 16}"#)
            .unwrap(),
        Architecture::resnet(ResNetDepth::ResNet32, true)
    );
    assert_eq!(
        parse(r#"{"kind": "vgg11", "batch_norm": false}"#).unwrap(),
        Architecture::vgg11(false)
    );
    assert!(parse(r#"{"kind": "vgg11", "batch_norm": false, "dropout": 0.5}"#).is_err());
    assert!(parse(r#"{"kind": "resnet", "depth": "resnet20", "batch_norm": true}"#).is_err());
    for arch in tiny_architectures() {
        let json = serde_json::to_string(&arch).unwrap();
        assert_eq!(parse(&json).unwrap(), arch, "{json}");
    }
    assert_eq!(
        serde_json::to_string(&stepsharp_models::Loss::CrossEntropy).unwrap(),
        r#""cross_entropy""#
    );
}
