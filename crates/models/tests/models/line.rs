//! `LineLoss` against forward passes at `w₀ + t·d`: identical at t = 0, equal up to rounding
//! elsewhere, parameters untouched, and clear errors for what it does not support.

use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Activation, Architecture, BatchNormMode, Evaluation, Gradient, LineLoss, Loss, Network,
    Objective, ResNetDepth, seeded_uniform,
};

const EXAMPLES: usize = 8;

fn data(dtype: DType) -> (Tensor, Tensor) {
    let pixels = seeded_uniform(3, "line.images", EXAMPLES * 3 * 32 * 32, 1.0);
    let x = Tensor::from_vec(pixels, (EXAMPLES, 3 * 32 * 32), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    let labels: Vec<u32> = (0..EXAMPLES as u32).map(|i| (3 * i) % 10).collect();
    (x, Tensor::new(labels, &Device::Cpu).unwrap())
}

fn mlp(activation: Activation, bias: bool) -> Architecture {
    Architecture::Mlp {
        hidden: vec![6, 5],
        activation,
        bias,
    }
}

/// A direction that is not the gradient, so every layer moves differently.
fn direction(net: &Network) -> Tensor {
    let values = seeded_uniform(4, "line.direction", net.num_parameters(), 1.0);
    Tensor::from_vec(values, net.num_parameters(), &Device::Cpu)
        .unwrap()
        .to_dtype(net.dtype())
        .unwrap()
}

fn small_f32_mlp() -> Network {
    Network::new(
        &mlp(Activation::Tanh, true),
        10,
        0,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap()
}

/// ResNet-20 of width 1 without BatchNorm: a CNN small enough for a test.
fn narrow_resnet() -> Network {
    let arch = Architecture::ResNet {
        depth: ResNetDepth::ResNet20,
        batch_norm: false,
        width: 1,
    };
    Network::new(&arch, 10, 0, DType::F32, &Device::Cpu).unwrap()
}

fn as_f64(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().to_vec1().unwrap()
}

/// `objective`'s evaluation (batch statistics, no update), with or without the gradient.
fn evaluate(objective: &Objective, x: &Tensor, y: &Tensor, gradient: Gradient) -> Evaluation {
    objective
        .evaluate(x, y, BatchNormMode::Train, gradient)
        .unwrap()
}

/// Images (n, 3, 32, 32), which an MLP flattens (figure1 feeds its MLP the CNNs' layout): the
/// same line as for the flat inputs. (A line origin used to keep the images unflattened, and
/// every Armijo trial of such a run failed with a rank error.)
#[test]
fn image_inputs_give_the_line_of_their_flattened_pixels() {
    let net = Network::new(
        &mlp(Activation::Tanh, true),
        10,
        1,
        DType::F64,
        &Device::Cpu,
    )
    .unwrap();
    let objective = Objective::new(net, Loss::Mse, 3).unwrap();
    let net = objective.network();
    let (x, y) = data(DType::F64);
    let images = x.reshape((EXAMPLES, 3, 32, 32)).unwrap();
    let d = direction(net);
    let line = |inputs: &Tensor| {
        let at_w0 = evaluate(&objective, inputs, &y, Gradient::Compute);
        let line = LineLoss::new(net, at_w0.line_origin.as_ref().unwrap(), &d).unwrap();
        [0.0, 0.05, -0.2].map(|t| line.loss_at(t).unwrap())
    };
    assert_eq!(line(&images), line(&x));
}

#[test]
fn matches_forward_passes_along_the_line() {
    for (dtype, tolerance) in [(DType::F64, 1e-13), (DType::F32, 1e-5)] {
        for (activation, bias) in [(Activation::Tanh, true), (Activation::Relu, false)] {
            for kind in [Loss::Mse, Loss::CrossEntropy] {
                // Chunks of 3: 8 examples make chunks of 3, 3 and 2.
                let chunk = 3;
                let net = Network::new(&mlp(activation, bias), 10, 1, dtype, &Device::Cpu).unwrap();
                let objective = Objective::new(net, kind, chunk).unwrap();
                let net = objective.network();
                let (x, y) = data(dtype);
                let at_w0 = evaluate(&objective, &x, &y, Gradient::Compute);
                let origin = at_w0
                    .line_origin
                    .as_ref()
                    .expect("an MLP keeps its line origin");
                let d = direction(net);
                let line = LineLoss::new(net, origin, &d).unwrap();
                let w0 = net.flat_parameters().unwrap();
                assert_eq!(line.loss_at(0.0).unwrap(), at_w0.loss, "{dtype:?} t = 0");
                for t in [1e-3, 0.05, 0.7, -0.2] {
                    let value = line.loss_at(t).unwrap();
                    assert_eq!(
                        as_f64(&net.flat_parameters().unwrap()),
                        as_f64(&w0),
                        "loss_at must not move the parameters"
                    );
                    net.set_flat_parameters(&(&w0 + (&d * t).unwrap()).unwrap())
                        .unwrap();
                    let expected = evaluate(&objective, &x, &y, Gradient::Skip).loss;
                    net.set_flat_parameters(&w0).unwrap();
                    let error = (value - expected).abs() / expected.abs();
                    assert!(
                        error < tolerance,
                        "{dtype:?} {activation:?} bias {bias} {kind:?} t = {t}: {value} vs {expected}"
                    );
                    assert_ne!(value, at_w0.loss, "t = {t} must move the loss");
                }
            }
        }
    }
}

#[test]
fn keeps_no_origin_without_a_gradient_or_for_a_cnn() {
    let (x, y) = data(DType::F32);
    let mlp = Objective::new(small_f32_mlp(), Loss::Mse, 4).unwrap();
    let plain = evaluate(&mlp, &x, &y, Gradient::Skip);
    assert!(plain.line_origin.is_none());

    let cnn = Objective::new(narrow_resnet(), Loss::Mse, 4).unwrap();
    let images = x.reshape((EXAMPLES, 3, 32, 32)).unwrap();
    let graded = evaluate(&cnn, &images, &y, Gradient::Compute);
    assert!(graded.line_origin.is_none());
}

#[test]
fn rejects_a_cnn_or_a_direction_of_the_wrong_length() {
    let (x, y) = data(DType::F32);
    let objective = Objective::new(small_f32_mlp(), Loss::Mse, 8).unwrap();
    let net = objective.network();
    let at_w0 = evaluate(&objective, &x, &y, Gradient::Compute);
    let origin = at_w0.line_origin.unwrap();
    let short = Tensor::zeros(net.num_parameters() - 1, DType::F32, &Device::Cpu).unwrap();
    let error = LineLoss::new(net, &origin, &short)
        .err()
        .expect("wrong length");
    assert!(
        error
            .to_string()
            .contains(&net.num_parameters().to_string()),
        "{error}"
    );

    let cnn = narrow_resnet();
    let d = Tensor::zeros(cnn.num_parameters(), DType::F32, &Device::Cpu).unwrap();
    let error = LineLoss::new(&cnn, &origin, &d).err().expect("a CNN");
    assert!(error.to_string().contains("MLP"), "{error}");
}
