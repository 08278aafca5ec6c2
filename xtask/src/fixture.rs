//! Seeded synthetic CIFAR-10 examples for the commands that time or compare computations
//! without the real data: the data crate's fixture ([`stepsharp_data::write_fixture`]), read
//! back through the loader that reads CIFAR-10.

use candle_core::{DType, Device, Tensor};
use stepsharp_data::{DataConfig, DataSource, Layout, Origin, Subset, TRAIN_FILES};

/// The first `n` training examples of a synthetic CIFAR-10 folder written from `seed`, loaded
/// as CIFAR-10 is (pixels in [0, 1], labels cycling over the classes, in `layout`), in f64 on
/// the CPU: inputs and labels.
pub fn synthetic_examples(n: usize, seed: u64, layout: Layout) -> anyhow::Result<(Tensor, Tensor)> {
    let folder = tempfile::tempdir()?;
    stepsharp_data::write_fixture(folder.path(), n.div_ceil(TRAIN_FILES.len()), 1, seed)?;
    let source = DataSource::new(folder.path(), Origin::Explicit);
    let config = DataConfig {
        train_subset: Subset::First { count: n },
        layout,
        ..DataConfig::default()
    };
    let data = stepsharp_data::load(&source, &config, false, DType::F64, &Device::Cpu)?;
    Ok((data.train.inputs, data.train.labels))
}
