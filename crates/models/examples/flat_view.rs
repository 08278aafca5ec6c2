//! One gradient-descent step through the flat parameter view.
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Architecture, BatchNormMode, Loss, ModelError, Network, evaluate, seeded_uniform,
};

fn main() -> Result<(), ModelError> {
    let device = Device::Cpu;
    let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F32, &device)?;
    println!("{}", net.describe()); // mlp[200,200] tanh bias, 10 classes: 656810 parameters

    // A toy batch of 8 CIFAR-shaped images and labels.
    let pixels = seeded_uniform(1, "example.images", 8 * 3 * 32 * 32, 1.0);
    let x = Tensor::from_vec(pixels, (8, 3, 32, 32), &device)?.to_dtype(DType::F32)?;
    let y = Tensor::new(&[0u32, 1, 2, 3, 4, 5, 6, 7], &device)?;

    // Loss and flat gradient, in chunks of 4 examples.
    let before = evaluate(&net, &x, &y, Loss::Mse, 4, BatchNormMode::TrainUpdate, true)?;
    let g = before.gradient.expect("gradient was requested");
    assert_eq!(g.dims(), [net.num_parameters()]);

    // w ← w − η·g, keeping a copy of w to undo the step.
    let w0 = net.flat_parameters()?;
    net.add_scaled(-0.1, &g)?;
    let after = evaluate(&net, &x, &y, Loss::Mse, 4, BatchNormMode::Train, false)?;
    println!("loss {:.4} -> {:.4}", before.loss, after.loss);
    assert!(after.loss < before.loss);

    net.set_flat_parameters(&w0)?;
    Ok(())
}
