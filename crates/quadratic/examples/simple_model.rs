//! Prints the simple model's trajectories for the paper's three presets, CDAT with both σ
//! (every 10th step).
//!
//! Run with `cargo run --release -p stepsharp-quadratic --example simple_model`.

use stepsharp_quadratic::{SimpleModelConfig, simulate};

fn main() -> Result<(), stepsharp_quadratic::QuadraticError> {
    let presets = [
        ("constant η = 1", SimpleModelConfig::paper_constant()),
        (
            "classical tuner",
            SimpleModelConfig::paper_classical_tuner(),
        ),
        ("CDAT σ = 2", SimpleModelConfig::paper_cdat(2.0)),
        ("CDAT σ = 1.9", SimpleModelConfig::paper_cdat(1.9)),
    ];
    for (name, config) in &presets {
        println!("# {name}");
        println!(
            "{:>5} {:>10} {:>10} {:>8} {:>11}",
            "step", "eta", "lambda", "eta*lam", "loss"
        );
        for p in simulate(config, 200)?.iter().step_by(10) {
            println!(
                "{:>5} {:>10.4} {:>10.4} {:>8.4} {:>11.4e}",
                p.step, p.eta, p.lambda, p.eta_lambda, p.loss
            );
        }
    }
    Ok(())
}
