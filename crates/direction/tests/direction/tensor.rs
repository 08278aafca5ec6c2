//! Candle tensors give the updates of `Vec<f64>`: bitwise in f64 on the CPU, within f32
//! rounding in f32.

use candle_core::{DType, Device, Tensor};
use stepsharp_direction::{
    AdamConfig, Direction, DirectionConfig, DirectionVector, MomentumConfig, NonDescentAction,
};

const GRADIENTS: [[f64; 4]; 4] = [
    [1.0, -2.0, 0.5, 1e-3],
    [0.5, -1.0, 3.0, -2e-3],
    [-0.3, 0.2, 0.1, 0.0],
    [2.0, 0.0, -1.0, 4.0],
];

fn configs() -> [DirectionConfig; 4] {
    [
        DirectionConfig::GradientDescent,
        DirectionConfig::HeavyBall(MomentumConfig::default()),
        DirectionConfig::Nesterov(MomentumConfig::default()),
        DirectionConfig::Adam(AdamConfig::default()),
    ]
}

fn tensor_updates(config: DirectionConfig, dtype: DType) -> Vec<(Vec<f64>, f64)> {
    let mut direction = Direction::<Tensor>::new(config).unwrap();
    GRADIENTS
        .iter()
        .map(|g| {
            let g = Tensor::new(g, &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let step = direction.step(&g, NonDescentAction::Restart).unwrap();
            let update = step.update.to_dtype(DType::F64).unwrap().to_vec1().unwrap();
            (update, step.slope)
        })
        .collect()
}

fn vec_updates(config: DirectionConfig) -> Vec<(Vec<f64>, f64)> {
    let mut direction = Direction::<Vec<f64>>::new(config).unwrap();
    GRADIENTS
        .iter()
        .map(|g| {
            let step = direction
                .step(&g.to_vec(), NonDescentAction::Restart)
                .unwrap();
            (step.update, step.slope)
        })
        .collect()
}

#[test]
fn f64_tensors_update_exactly_as_vectors() {
    for config in configs() {
        let tensor = tensor_updates(config, DType::F64);
        let vector = vec_updates(config);
        for ((tu, ts), (vu, vs)) in tensor.iter().zip(&vector) {
            assert_eq!(tu, vu, "{}", config.name());
            // Candle's sum may add in another order: equal to rounding.
            assert!(
                (ts - vs).abs() <= 1e-14 * vs.abs(),
                "{}: {ts} vs {vs}",
                config.name()
            );
        }
    }
}

#[test]
fn f32_tensors_update_within_f32_rounding() {
    for config in configs() {
        for ((tu, _), (vu, _)) in tensor_updates(config, DType::F32)
            .iter()
            .zip(vec_updates(config))
        {
            for (t, v) in tu.iter().zip(&vu) {
                assert!(
                    (t - v).abs() <= 1e-6 * v.abs().max(1e-3),
                    "{}: {t} vs {v}",
                    config.name()
                );
            }
        }
    }
}

#[test]
fn gradient_descents_slope_is_minus_the_squared_norm_bit_for_bit() {
    // A training loop computes ‖g‖² as Σ g ⊙ g in the tensor's dtype; the slope of −g must be
    // exactly its negative, so that rules see the same numbers as without a direction.
    let g = Tensor::new(&[0.1f32, -0.7, 3.3, 1e-4, 2.5e3], &Device::Cpu).unwrap();
    let norm_sq = g
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let norm_sq = norm_sq.to_scalar::<f64>().unwrap();
    let mut direction = Direction::<Tensor>::new(DirectionConfig::GradientDescent).unwrap();
    let step = direction.step(&g, NonDescentAction::Restart).unwrap();
    assert_eq!(step.slope, -norm_sq);
    assert_eq!(DirectionVector::dot(&g, &g).unwrap(), norm_sq);
    let negated: Vec<f32> = g.neg().unwrap().to_vec1().unwrap();
    assert_eq!(step.update.to_vec1::<f32>().unwrap(), negated);
}

#[test]
fn strided_tensors_take_candles_path_with_the_same_values() {
    let m = Tensor::new(&[[1.0f64, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap();
    let v = Tensor::new(&[[0.5f64, 0.25], [2.0, 1.0]], &Device::Cpu).unwrap();
    let (mt, vt) = (m.t().unwrap(), v.t().unwrap());
    let strided = mt.adam_update(&vt, 0.5, 0.25, 1e-3).unwrap();
    let contiguous = mt
        .contiguous()
        .unwrap()
        .adam_update(&vt.contiguous().unwrap(), 0.5, 0.25, 1e-3)
        .unwrap();
    let (a, b): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
        (strided.to_vec2().unwrap(), contiguous.to_vec2().unwrap());
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() <= 1e-15 * y.abs(), "{x} vs {y}");
    }
}

#[test]
fn the_fused_adam_step_has_the_values_of_the_separate_operations() {
    use stepsharp_direction::AdamStepConstants;
    let constants = AdamStepConstants {
        beta1: 0.9,
        beta2: 0.999,
        c1: 1.0 - 0.9f64.powi(7),
        c2: 1.0 - 0.999f64.powi(7),
        eps: 1e-8,
    };
    for dtype in [DType::F32, DType::F64] {
        let values = |phase: f64| -> Tensor {
            let v: Vec<f64> = (0..1000)
                .map(|i| ((i as f64) * 0.37 + phase).sin() * 1e-2)
                .collect();
            Tensor::new(v, &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        };
        let (g, m) = (values(0.1), values(1.3));
        let v = values(2.9).sqr().unwrap();
        let (fused_m, fused_v, fused_u) = g.adam_step(&m, &v, constants).unwrap();
        let separate_m = m.combined(0.9, &g, 1.0 - 0.9).unwrap();
        let separate_v = v.combined_with_square(0.999, &g, 1.0 - 0.999).unwrap();
        let separate_u = separate_m
            .adam_update(&separate_v, constants.c1, constants.c2, 1e-8)
            .unwrap();
        let bits = |t: &Tensor| -> Vec<u64> {
            t.to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(&fused_m), bits(&separate_m), "{dtype:?}");
        assert_eq!(bits(&fused_v), bits(&separate_v), "{dtype:?}");
        assert_eq!(bits(&fused_u), bits(&separate_u), "{dtype:?}");
    }
}
