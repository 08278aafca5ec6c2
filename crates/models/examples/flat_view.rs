//! One gradient-descent step through the flat parameter view.
use candle_core::{DType, Device, Tensor};
use stepsharp_models::{
    Architecture, BatchNormMode, Gradient, Loss, ModelError, Network, Objective, seeded_uniform,
};

fn main() -> Result<(), ModelError> {
    let device = Device::Cpu;
    let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F32, &device)?;
    println!("{}", net.describe()); // mlp[200,200] tanh bias, 10 classes: 656810 parameters
    // MSE, evaluated in chunks of 4 examples.
    let objective = Objective::new(net, Loss::Mse, 4)?;
    let net = objective.network();

    // A toy batch of 8 CIFAR-shaped images and labels.
    let pixels = seeded_uniform(1, "example.images", 8 * 3 * 32 * 32, 1.0);
    let x = Tensor::from_vec(pixels, (8, 3, 32, 32), &device)?.to_dtype(DType::F32)?;
    let y = Tensor::new(&[0u32, 1, 2, 3, 4, 5, 6, 7], &device)?;

    // Loss and flat gradient.
    let before = objective.evaluate(&x, &y, BatchNormMode::TrainUpdate, Gradient::Compute)?;
    let g = before.gradient.expect("gradient was requested");
    assert_eq!(g.dims(), [net.num_parameters()]);

    // w ← w − η·g, keeping a copy of w to undo the step.
    let w0 = net.flat_parameters()?;
    net.add_scaled(-0.1, &g)?;
    let after = objective.evaluate(&x, &y, BatchNormMode::Train, Gradient::Skip)?;
    println!("loss {:.4} -> {:.4}", before.loss, after.loss);
    assert!(after.loss < before.loss);

    net.set_flat_parameters(&w0)?;
    Ok(())
}
