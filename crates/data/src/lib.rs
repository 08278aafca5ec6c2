//! CIFAR-10 for Candle: a strict reader for the official binary format, data sources resolved
//! in a documented order, subsets with a data fingerprint, preprocessing, and deterministic,
//! resumable batching.
//!
//! Sources ([`locate`]): an explicit directory, then `$STEPSHARP_DATA`, then the cache folder,
//! then (feature `hub`) a one-time download through candle-datasets written into the cache in
//! the binary format. See the crate README for machines with and without internet.

#![warn(missing_docs)]

mod batch;
mod checksum;
mod config;
mod dataset;
mod error;
mod fixture;
mod format;
mod hub;
mod preprocess;
mod rng;
mod source;
mod subset;

pub use batch::{Batch, BatchSize, Batcher, BatcherState};
pub use checksum::{ChecksumReport, MANIFEST_FILE, sha256_hex, verify_checksums, write_checksums};
pub use config::{DataConfig, Layout, Normalization};
pub use dataset::{Dataset, Prepared, load};
pub use error::DataError;
pub use fixture::write_fixture;
pub use format::{
    CACHE_SUBDIR, CHANNELS, CifarRecords, IMAGE_BYTES, IMAGE_SIDE, MAX_RECORDS_PER_FILE,
    NUM_CLASSES, RECORD_BYTES, Split, TEST_FILE, TRAIN_FILES, parse_batch_bytes, read_batch_file,
    write_batch_file,
};
pub use hub::records_from_hub_tensors;
pub use preprocess::Statistics;
pub use rng::derive_seed;
pub use source::{CACHE_ENV_VAR, DataSource, ENV_VAR, Origin, cache_dir, locate};
pub use subset::Subset;
