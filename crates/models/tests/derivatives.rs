//! First and second derivatives through every architecture against finite differences (f64)
//! and, for linear models, against the closed-form Hessian.

mod common;

use candle_core::{DType, Device, Tensor};
use common::*;
use stepsharp_models::{Architecture, Loss, Network};

const N: usize = 3;

fn setup(arch: &Architecture) -> (Network, Tensor, Tensor) {
    let net = Network::new(arch, 10, 1, DType::F64, &Device::Cpu).unwrap();
    (net, images(N, 11), labels(N, 10))
}

fn norm(t: &Tensor) -> f64 {
    dot(t, t).sqrt()
}

/// `f(net)` with the parameters at w0 + t·d, leaving them at w0 afterwards.
fn at_offset<T>(
    net: &Network,
    w0: &Tensor,
    t: f64,
    d: &Tensor,
    f: impl FnOnce(&Network) -> T,
) -> T {
    net.add_scaled(t, d).unwrap();
    let value = f(net);
    net.set_flat_parameters(w0).unwrap();
    value
}

fn losses() -> [Loss; 2] {
    [Loss::Mse, Loss::CrossEntropy]
}

#[test]
fn gradients_match_central_differences_for_every_architecture() {
    for (i, arch) in tiny_architectures().iter().enumerate() {
        let kind = losses()[i % 2];
        let (net, x, y) = setup(arch);
        let p = net.num_parameters();
        let d = direction(p, 5 + i as u64, DType::F64);
        let w0 = net.flat_parameters().unwrap();
        let g = gradient(&net, &x, &y, kind);
        let eps = if is_smooth(arch) { 1e-5 } else { 1e-8 };
        let fd = (at_offset(&net, &w0, eps, &d, |n| loss_value(n, &x, &y, kind))
            - at_offset(&net, &w0, -eps, &d, |n| loss_value(n, &x, &y, kind)))
            / (2.0 * eps);
        let exact = dot(&g, &d);
        let err = (fd - exact).abs();
        assert!(norm(&g) > 1e-6, "{arch:?}: zero gradient");
        assert!(
            err <= 1e-6 * norm(&g) + 1e-10,
            "{arch:?} {kind:?}: g·d = {exact:e}, central difference {fd:e}, error {err:e}"
        );
    }
}

#[test]
fn hessian_vector_products_match_differences_of_gradients_for_every_architecture() {
    enable_double_backward();
    for (i, arch) in tiny_architectures().iter().enumerate() {
        let kind = losses()[(i + 1) % 2];
        let (net, x, y) = setup(arch);
        let p = net.num_parameters();
        let d = direction(p, 100 + i as u64, DType::F64);
        let v = direction(p, 200 + i as u64, DType::F64);
        let w0 = net.flat_parameters().unwrap();
        let hd = hvp(&net, &x, &y, kind, &d);
        let hv = hvp(&net, &x, &y, kind, &v);
        let exact = dot(&v, &hd);
        let eps = if is_smooth(arch) { 1e-4 } else { 1e-8 };
        let diff = (at_offset(&net, &w0, eps, &d, |n| gradient(n, &x, &y, kind))
            - at_offset(&net, &w0, -eps, &d, |n| gradient(n, &x, &y, kind)))
        .unwrap();
        let fd = dot(&v, &diff) / (2.0 * eps);
        let scale = norm(&hd);
        assert!(
            scale > 1e-6,
            "{arch:?}: H·d is zero (double backward detached?)"
        );
        let err = (fd - exact).abs();
        assert!(
            err <= 1e-5 * scale,
            "{arch:?} {kind:?}: vᵀHd = {exact:e}, difference of gradients {fd:e}, error {err:e}"
        );
        // Symmetry of the exact Hessian.
        let sym = (dot(&d, &hv) - exact).abs();
        assert!(
            sym <= 1e-10 * (scale + norm(&hv)),
            "{arch:?}: vᵀHd ≠ dᵀHv ({sym:e})"
        );
    }
}

/// Linear model f(x) = Wx + b: with MSE, vᵀHd = (1/n)Σᵢ⟨Vxᵢ + v_b, Dxᵢ + d_b⟩; with
/// cross-entropy, vᵀHd = (1/n)Σᵢ [Σₐ pₐuₐwₐ − (Σₐ pₐuₐ)(Σₐ pₐwₐ)], p = softmax(f(xᵢ)),
/// u = Vxᵢ + v_b, w = Dxᵢ + d_b.
#[test]
fn linear_model_hvp_matches_closed_form_hessian() {
    enable_double_backward();
    let arch = Architecture::Mlp {
        hidden: vec![],
        activation: Default::default(),
        bias: true,
    };
    let (net, x, y) = setup(&arch);
    assert_eq!(
        net.parameter_names(),
        ["layer000.linear.bias", "layer000.linear.weight"]
    );
    let p = net.num_parameters();
    let (d, v) = (direction(p, 1, DType::F64), direction(p, 2, DType::F64));
    let xf = x.flatten_from(1).unwrap();
    let apply = |flat: &Tensor| {
        let parts = split(&net, flat);
        xf.matmul(&parts[1].t().unwrap())
            .unwrap()
            .broadcast_add(&parts[0])
            .unwrap()
    };
    let (u, w) = (apply(&v), apply(&d));
    let mse = dot(&u, &w) / N as f64;
    assert!((dot(&v, &hvp(&net, &x, &y, Loss::Mse, &d)) - mse).abs() <= 1e-12 * mse.abs().max(1.0));

    let logits = net.forward(&x, Default::default()).unwrap();
    let probs = candle_nn::ops::softmax(&logits, 1).unwrap();
    let puw = (&probs * (&u * &w).unwrap()).unwrap().sum(1).unwrap();
    let pu = (&probs * &u).unwrap().sum(1).unwrap();
    let pw = (&probs * &w).unwrap().sum(1).unwrap();
    let ce_t = (puw - (pu * pw).unwrap()).unwrap().sum_all().unwrap();
    let ce = ce_t.to_scalar::<f64>().unwrap() / N as f64;
    let exact = dot(&v, &hvp(&net, &x, &y, Loss::CrossEntropy, &d));
    assert!(
        (exact - ce).abs() <= 1e-12 * ce.abs().max(1.0),
        "{exact} vs {ce}"
    );
}
