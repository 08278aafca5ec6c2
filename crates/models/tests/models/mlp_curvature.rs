//! The MLP's written-out backpropagation and R-operator (`MlpCurvature`) against Candle's
//! autograd: gradients bitwise, Hessian-vector products to rounding, for every activation and
//! loss, over several chunks.

use crate::common::*;
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{Architecture, BatchNormMode, Gradient, Loss, Network, Objective};

const N: usize = 7;
const CHUNK: usize = 3;

fn mlps() -> Vec<Architecture> {
    tiny_architectures()
        .into_iter()
        .filter(|a| matches!(a, Architecture::Mlp { .. }))
        .collect()
}

fn as_f64(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap()
}

/// `net` with `kind`, in chunks of [`CHUNK`].
fn chunked(net: Network, kind: Loss) -> Objective {
    Objective::new(net, kind, CHUNK).unwrap()
}

/// Candle's gradient of the chunked loss: `backward()` of each chunk's term, summed in order.
fn autograd_gradient(objective: &Objective, x: &Tensor, y: &Tensor) -> Tensor {
    let net = objective.network();
    let terms = objective.chunk_losses(x, y, BatchNormMode::Train).unwrap();
    let mut total: Option<Tensor> = None;
    for term in terms {
        let grads = term.backward().unwrap();
        let per: Vec<Tensor> = net
            .parameters()
            .iter()
            .map(|v| grads.get(v.as_tensor()).unwrap().detach())
            .collect();
        let flat = net.flatten(&per).unwrap();
        total = Some(match total {
            Some(acc) => (acc + flat).unwrap(),
            None => flat,
        });
    }
    total.unwrap()
}

#[test]
fn gradients_are_bitwise_those_of_candle_backward() {
    for dtype in [DType::F64, DType::F32] {
        for (i, arch) in mlps().iter().enumerate() {
            for kind in [Loss::Mse, Loss::CrossEntropy] {
                let net = Network::new(arch, 10, i as u64, dtype, &Device::Cpu).unwrap();
                let objective = chunked(net, kind);
                let (x, y) = (images(N, 3 + i as u64), labels(N, 10));
                let ours = objective
                    .evaluate(&x, &y, BatchNormMode::Train, Gradient::Compute)
                    .unwrap();
                let expected = autograd_gradient(&objective, &x, &y);
                let terms = objective
                    .chunk_losses(&x, &y, BatchNormMode::Train)
                    .unwrap();
                let expected_loss: f64 = terms
                    .iter()
                    .map(|t| t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap())
                    .sum();
                assert_eq!(ours.loss, expected_loss, "{arch:?} {kind:?} {dtype:?}");
                assert_eq!(
                    as_f64(ours.gradient.as_ref().unwrap()),
                    as_f64(&expected),
                    "{arch:?} {kind:?} {dtype:?}"
                );
                let curvature = objective.curvature(&x, &y).unwrap();
                assert_eq!(curvature.loss(), ours.loss);
                assert_eq!(
                    as_f64(&curvature.gradient().unwrap()),
                    as_f64(ours.gradient.as_ref().unwrap())
                );
            }
        }
    }
}

#[test]
fn hessian_vector_products_equal_double_backward() {
    enable_double_backward();
    for (i, arch) in mlps().iter().enumerate() {
        for kind in [Loss::Mse, Loss::CrossEntropy] {
            let net = Network::new(arch, 10, 20 + i as u64, DType::F64, &Device::Cpu).unwrap();
            let objective = chunked(net, kind);
            let net = objective.network();
            let (x, y) = (images(N, 30 + i as u64), labels(N, 10));
            let curvature = objective.curvature(&x, &y).unwrap();
            assert_eq!(curvature.dim(), net.num_parameters());
            for seed in [1, 2] {
                let d = direction(net.num_parameters(), seed, DType::F64);
                let ours = curvature.hessian_vector_product(&d).unwrap();
                let expected = hvp(net, &x, &y, kind, &d);
                let scale = as_f64(&expected).iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let error = as_f64(&(&ours - &expected).unwrap())
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(scale > 1e-8, "{arch:?} {kind:?}: zero product");
                assert!(
                    error <= 1e-12 * scale,
                    "{arch:?} {kind:?}: |Hd − Hd_autograd| = {error:e}, |Hd| = {scale:e}"
                );
            }
        }
    }
}

#[test]
fn products_are_symmetric_and_linear() {
    let arch = &mlps()[0];
    let net = Network::new(arch, 10, 5, DType::F64, &Device::Cpu).unwrap();
    let objective = chunked(net, Loss::CrossEntropy);
    let (x, y) = (images(N, 8), labels(N, 10));
    let curvature = objective.curvature(&x, &y).unwrap();
    let p = objective.network().num_parameters();
    let (u, v) = (direction(p, 3, DType::F64), direction(p, 4, DType::F64));
    let hu = curvature.hessian_vector_product(&u).unwrap();
    let hv = curvature.hessian_vector_product(&v).unwrap();
    let (uhv, vhu) = (dot(&u, &hv), dot(&v, &hu));
    assert!(
        (uhv - vhu).abs() <= 1e-12 * uhv.abs().max(1e-3),
        "{uhv} vs {vhu}"
    );
    let sum = curvature
        .hessian_vector_product(&((&u * 2.0).unwrap() + &v).unwrap())
        .unwrap();
    let expected = ((&hu * 2.0).unwrap() + &hv).unwrap();
    let error = as_f64(&(&sum - &expected).unwrap())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        error <= 1e-12 * dot(&expected, &expected).sqrt(),
        "{error:e}"
    );
}

#[test]
fn refuses_networks_that_are_not_mlps_and_wrong_directions() {
    let resnet = tiny_architectures()
        .into_iter()
        .find(|a| matches!(a, Architecture::ResNet { .. }))
        .unwrap();
    let net = Network::new(&resnet, 10, 0, DType::F64, &Device::Cpu).unwrap();
    let resnet = Objective::new(net, Loss::Mse, 2).unwrap();
    let error = resnet
        .curvature(&images(2, 1), &labels(2, 10))
        .err()
        .expect("a ResNet is refused");
    assert!(error.to_string().contains("MLP"), "{error}");

    let net = Network::new(&mlps()[0], 10, 0, DType::F64, &Device::Cpu).unwrap();
    let objective = Objective::new(net, Loss::Mse, 2).unwrap();
    let mlp = objective.network();
    let curvature = objective.curvature(&images(2, 1), &labels(2, 10)).unwrap();
    let short = Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap();
    assert!(curvature.hessian_vector_product(&short).is_err());
    let f32_direction = Tensor::zeros(mlp.num_parameters(), DType::F32, &Device::Cpu).unwrap();
    assert!(curvature.hessian_vector_product(&f32_direction).is_err());
}
