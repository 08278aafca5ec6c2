//! `cargo xtask bench` on fixture data, without JAX: each model times its operations and
//! prints the within-stepsharp ratios of what was timed; an operation a model does not have is
//! refused by name.

use std::process::Output;

use crate::common::{Scratch, assert_contains_all};

/// `xtask --threads 1 bench --rounds 1 --repetitions 1 --dtypes f32 <args>` on the fixture.
fn bench(scratch: &Scratch, args: &[&str]) -> Output {
    scratch
        .command(&scratch.root.join("results"))
        .args([
            "--threads",
            "1",
            "bench",
            "--rounds",
            "1",
            "--repetitions",
            "1",
        ])
        .args(["--dtypes", "f32"])
        .args(args)
        .output()
        .unwrap()
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn times_each_model_and_prints_the_ratios_of_what_was_timed() {
    let scratch = Scratch::with_files(&[]);
    // The default operations: all but the MLP-only line-search trials.
    let resnet = stdout_of(&bench(
        &scratch,
        &["--model", "resnet20", "--examples", "4"],
    ));
    assert_contains_all(
        &resnet,
        &[
            "ResNet-20 (width 16, BatchNorm with batch statistics), MSE, the first 4 CIFAR-10",
            "| value + gradient | f32 |",
            "| HVP, reused | f32 |",
            "| HVP, preconditioned | f32 |",
            "| Adam step | f32 |",
            "| Lanczos, 20 steps | f32 |",
            "- f32: Adam step / GD step",
            "preconditioned HVP / HVP",
            "HVP (reused) / gradient",
            "Lanczos beyond its graph and HVPs",
        ],
    );
    assert!(!resnet.contains("line-search trial"), "{resnet}");

    let vgg = stdout_of(&bench(
        &scratch,
        &[
            "--model",
            "vgg11",
            "--examples",
            "2",
            "--operations",
            "value-and-gradient",
        ],
    ));
    assert_contains_all(
        &vgg,
        &[
            "VGG-11 (width 64, BatchNorm with batch statistics), MSE, the first 2 CIFAR-10",
            "| value + gradient | f32 |",
        ],
    );

    let mlp = stdout_of(&bench(
        &scratch,
        &[
            "--examples",
            "8",
            "--operations",
            "first-trial,further-trial,gradient-step",
        ],
    ));
    assert_contains_all(
        &mlp,
        &[
            "MLP 3072-200-200-10 tanh, MSE, the first 8 CIFAR-10",
            "| line-search trial, further | f32 |",
            "- f32: first trial / GD step",
        ],
    );
    assert!(!mlp.contains("HVP (reused) / gradient"), "{mlp}");
}

#[test]
fn refuses_an_operation_the_model_does_not_have() {
    let scratch = Scratch::with_files(&[]);
    let output = bench(
        &scratch,
        &["--model", "resnet20", "--operations", "first-trial"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "--operations: line-search trial, first is not available for --model resnet20"
        ),
        "{stderr}"
    );
}
