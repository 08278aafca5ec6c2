//! Loads the first 5000 CIFAR-10 training images (Cohen et al. 2021) and the local test
//! records, prints the summary and the elapsed time.
//!
//! Run: `STEPSHARP_DATA=/path/to/cifar-10-batches-bin cargo run --release -p stepsharp-data --example load_subset`
//! (or pass the directory as the first argument).

use candle_core::{DType, Device};
use std::path::PathBuf;
use std::time::Instant;
use stepsharp_data::{DataConfig, DataError, load, locate};

fn main() -> Result<(), DataError> {
    let explicit = std::env::args_os().nth(1).map(PathBuf::from);
    let start = Instant::now();
    let source = locate(explicit.as_deref())?;
    let data = load(
        &source,
        &DataConfig::default(),
        true,
        DType::F32,
        &Device::Cpu,
    )?;
    let elapsed = start.elapsed();
    println!("{}", data.summary);
    println!("loaded in {:.1} ms", elapsed.as_secs_f64() * 1e3);
    Ok(())
}
