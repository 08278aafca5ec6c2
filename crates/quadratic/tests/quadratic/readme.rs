//! The README's example is the example file, verbatim.

#[test]
fn readme_example_is_examples_simple_model_rs() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/simple_model.rs");
    assert!(
        readme.contains(example),
        "README.md and examples/simple_model.rs differ"
    );
}
