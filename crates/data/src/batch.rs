//! Deterministic, resumable batching.
//!
//! Epoch e of a mini-batch stream visits the examples in a ChaCha8 permutation keyed by the
//! seed on ChaCha stream e, so any epoch is regenerated directly on resume without replaying
//! earlier ones. Full batch visits 0..n in order, one batch per epoch.
//!
//! Independent stream (line searches evaluated on an independent batch): build a second
//! `Batcher` over the same examples with `derive_seed(seed, "line_search")`; it is unrelated to
//! the gradient stream and is resumed from its own [`BatcherState`].

use crate::DataError;
use crate::rng::{chacha, shuffle};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Examples per step: the full dataset (deterministic gradient descent) or `b` examples.
///
/// TOML: `batch_size = "full"` or `batch_size = 128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchSize {
    /// Every example, in order, each step (full-batch GD).
    Full,
    /// Mini-batches of this many examples (1 ≤ b ≤ n), reshuffled every epoch.
    Size(usize),
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Full => f.write_str("full"),
            BatchSize::Size(b) => write!(f, "{b}"),
        }
    }
}

impl Serialize for BatchSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            BatchSize::Full => serializer.serialize_str("full"),
            BatchSize::Size(b) => serializer.serialize_u64(b as u64),
        }
    }
}

struct BatchSizeVisitor;

impl Visitor<'_> for BatchSizeVisitor {
    type Value = BatchSize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("\"full\" or a positive integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<BatchSize, E> {
        match v {
            "full" => Ok(BatchSize::Full),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<BatchSize, E> {
        match usize::try_from(v) {
            Ok(b) if b > 0 => Ok(BatchSize::Size(b)),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<BatchSize, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BatchSizeVisitor)
    }
}

/// Where a [`Batcher`] is, plus the settings it was built with (checked on resume).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BatcherState {
    /// Epoch of the next batch (0-based).
    pub epoch: u64,
    /// Index of the next batch within its epoch (0-based, below `batches_per_epoch`).
    pub position: usize,
    /// Number of examples batched.
    pub num_examples: usize,
    /// Batch size.
    pub batch_size: BatchSize,
    /// Whether a last, smaller batch is dropped.
    pub drop_last: bool,
    /// Shuffle seed.
    pub seed: u64,
}

/// One batch: positions into the dataset (use with [`crate::Dataset::select`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Example positions in the dataset, in visiting order.
    pub indices: Vec<u32>,
    /// Epoch this batch belongs to.
    pub epoch: u64,
    /// Index of this batch within its epoch.
    pub index_in_epoch: usize,
    /// Whether this is the epoch's last batch.
    pub is_last_in_epoch: bool,
}

/// An endless, deterministic stream of batches over `num_examples` examples.
///
/// ```
/// # fn main() -> Result<(), stepsharp_data::DataError> {
/// use stepsharp_data::{BatchSize, Batcher};
/// let mut batcher = Batcher::new(10, BatchSize::Size(4), false, 7)?;
/// assert_eq!(batcher.batches_per_epoch(), 3); // 4 + 4 + 2
/// let mut seen: Vec<u32> = (0..3).flat_map(|_| batcher.next_batch().indices).collect();
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<u32>>()); // each example once per epoch
/// let state = batcher.state();
/// assert_eq!((state.epoch, state.position), (1, 0));
/// let mut resumed = Batcher::from_state(10, BatchSize::Size(4), false, 7, state)?;
/// assert_eq!(resumed.next_batch(), batcher.next_batch());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Batcher {
    num_examples: usize,
    batch_size: BatchSize,
    drop_last: bool,
    seed: u64,
    epoch: u64,
    position: usize,
    /// Visiting order of `order_epoch`.
    order: Vec<u32>,
    order_epoch: Option<u64>,
}

impl Batcher {
    /// A batcher at epoch 0, position 0.
    ///
    /// Errors: `num_examples` is 0 or above `u32::MAX`; `Size(b)` with b = 0 or b > n.
    pub fn new(
        num_examples: usize,
        batch_size: BatchSize,
        drop_last: bool,
        seed: u64,
    ) -> Result<Self, DataError> {
        if num_examples == 0 || num_examples > u32::MAX as usize {
            return Err(DataError::invalid(
                "num_examples",
                num_examples,
                "1..=4294967295",
            ));
        }
        if let BatchSize::Size(b) = batch_size
            && (b == 0 || b > num_examples)
        {
            return Err(DataError::invalid(
                "batch_size",
                b,
                format!("\"full\" or an integer in 1..={num_examples}"),
            ));
        }
        Ok(Self {
            num_examples,
            batch_size,
            drop_last,
            seed,
            epoch: 0,
            position: 0,
            order: Vec::new(),
            order_epoch: None,
        })
    }

    /// Rebuilds a batcher from a saved state; the settings must match the state's.
    pub fn from_state(
        num_examples: usize,
        batch_size: BatchSize,
        drop_last: bool,
        seed: u64,
        state: BatcherState,
    ) -> Result<Self, DataError> {
        let mismatch = |field, state: String, requested: String| {
            Err(DataError::StateMismatch {
                field,
                state,
                requested,
            })
        };
        if state.num_examples != num_examples {
            return mismatch(
                "num_examples",
                state.num_examples.to_string(),
                num_examples.to_string(),
            );
        }
        if state.batch_size != batch_size {
            return mismatch(
                "batch_size",
                state.batch_size.to_string(),
                batch_size.to_string(),
            );
        }
        if state.drop_last != drop_last {
            return mismatch(
                "drop_last",
                state.drop_last.to_string(),
                drop_last.to_string(),
            );
        }
        if state.seed != seed {
            return mismatch("seed", state.seed.to_string(), seed.to_string());
        }
        let mut batcher = Self::new(num_examples, batch_size, drop_last, seed)?;
        if state.position >= batcher.batches_per_epoch() {
            return Err(DataError::invalid(
                "batcher state position",
                state.position,
                format!("below batches_per_epoch = {}", batcher.batches_per_epoch()),
            ));
        }
        batcher.epoch = state.epoch;
        batcher.position = state.position;
        Ok(batcher)
    }

    /// The state to save for an exact resume.
    pub fn state(&self) -> BatcherState {
        BatcherState {
            epoch: self.epoch,
            position: self.position,
            num_examples: self.num_examples,
            batch_size: self.batch_size,
            drop_last: self.drop_last,
            seed: self.seed,
        }
    }

    /// Batches per epoch: 1 for `Full`; ⌊n/b⌋ with `drop_last`, else ⌈n/b⌉.
    pub fn batches_per_epoch(&self) -> usize {
        match self.batch_size {
            BatchSize::Full => 1,
            BatchSize::Size(b) if self.drop_last => self.num_examples / b,
            BatchSize::Size(b) => self.num_examples.div_ceil(b),
        }
    }

    /// The visiting order of `epoch`: identity for `Full`, else a seeded permutation of 0..n.
    pub fn epoch_order(&self, epoch: u64) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.num_examples as u32).collect();
        if let BatchSize::Size(_) = self.batch_size {
            shuffle(
                &mut order,
                &mut chacha("stepsharp-data epoch shuffle", self.seed, epoch),
            );
        }
        order
    }

    /// The next batch; advances the state (after an epoch's last batch: next epoch, 0).
    pub fn next_batch(&mut self) -> Batch {
        if self.order_epoch != Some(self.epoch) {
            self.order = self.epoch_order(self.epoch);
            self.order_epoch = Some(self.epoch);
        }
        let size = match self.batch_size {
            BatchSize::Full => self.num_examples,
            BatchSize::Size(b) => b,
        };
        let start = self.position * size;
        let end = (start + size).min(self.num_examples);
        let per_epoch = self.batches_per_epoch();
        let batch = Batch {
            indices: self.order[start..end].to_vec(),
            epoch: self.epoch,
            index_in_epoch: self.position,
            is_last_in_epoch: self.position + 1 == per_epoch,
        };
        self.position += 1;
        if self.position == per_epoch {
            self.position = 0;
            self.epoch += 1;
        }
        batch
    }
}
