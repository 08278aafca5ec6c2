//! Runs gradient descent with the Armijo rule on a quadratic with a known spectrum, with the
//! sharpness measured by Lanczos every 5 steps, into a temporary results folder.

use stepsharp_runner::config::RunConfig;
use stepsharp_runner::train::{RunOptions, execute};

fn main() -> anyhow::Result<()> {
    stepsharp_sharpness::enable_double_backward();
    let config = RunConfig::from_toml(
        r#"
        model = { kind = "quadratic", spectrum = [10.0, 3.0, 1.0, 0.1], seed = 1 }
        stepsize = { kind = "armijo" }
        training = { max_steps = 20 }
        sharpness = { measure = { every = 5 }, tolerance = 1e-8 }
        dtype = "f64"
        "#,
        "example",
    )?;
    let results = tempfile::tempdir()?;
    let options = RunOptions {
        results: results.path().to_path_buf(),
        ..Default::default()
    };
    let outcome = execute(&config, &options, &mut |_| {})?;
    println!("run {} {}", outcome.dir.id(), outcome.status.describe());
    for row in outcome.rows.iter().filter(|r| r.lambda_max.is_some()) {
        let lambda = row.lambda_max.unwrap();
        println!(
            "step {:>2}  loss {:.3e}  η {:.4}  λ_max {lambda:.6}  η·λ_max {:.3}",
            row.step,
            row.loss,
            row.eta,
            row.eta * lambda
        );
        assert!((lambda - 10.0).abs() < 1e-6);
    }
    Ok(())
}
