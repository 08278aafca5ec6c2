//! The examples a run draws from: the training set; the fixed evaluation set of the sharpness
//! measurements (the first `sharpness.eval_examples` training examples); with mini-batches
//! the training stream and, with `line_search_batch = "independent"`, the line-search stream,
//! each seeded from `seeds.data_order` and its stream name, and continued across checkpoints.

use candle_core::Device;
use stepsharp_data::{BatchSize, Batcher, BatcherState, Dataset, Prepared};

use crate::config::{LineSearchBatch, RunConfig};
use crate::error::Result;
use crate::problem::Examples;

/// Stream name of the training batches (`stepsharp_data::derive_seed`).
const TRAIN_STREAM: &str = "train";
/// Stream name of the independent line-search batches.
const LINE_SEARCH_STREAM: &str = "line-search";

/// The data of a run and the positions of its batch streams.
pub(super) struct Batches {
    /// The prepared data (none for a quadratic).
    data: Option<Prepared>,
    /// The sharpness measurements' evaluation set (no examples for a quadratic).
    eval: Examples,
    /// Training batches (mini-batch runs).
    train_stream: Option<Batcher>,
    /// Independent line-search batches (mini-batch runs with an independent line search).
    line_search_stream: Option<Batcher>,
}

impl Batches {
    /// The batches of `config` over `data`, every stream at its start.
    pub(super) fn new(config: &RunConfig, data: Option<Prepared>, device: &Device) -> Result<Self> {
        let Some(prepared) = &data else {
            return Ok(Self {
                data,
                eval: Examples::none(device)?,
                train_stream: None,
                line_search_stream: None,
            });
        };
        let n = prepared.train.len();
        let eval_n = config.sharpness.eval_examples.min(n);
        let eval = Examples::all(&prepared.train.head(eval_n)?);
        let training = &config.training;
        let mini_batch = training.batch_size != BatchSize::Full;
        let independent = training.line_search_batch == LineSearchBatch::Independent;
        let train_stream = mini_batch
            .then(|| make_batcher(config, n, TRAIN_STREAM, None))
            .transpose()?;
        let line_search_stream = (mini_batch && independent)
            .then(|| make_batcher(config, n, LINE_SEARCH_STREAM, None))
            .transpose()?;
        Ok(Self {
            data,
            eval,
            train_stream,
            line_search_stream,
        })
    }

    /// The evaluation set of the sharpness measurements.
    pub(super) fn eval(&self) -> &Examples {
        &self.eval
    }

    /// The test set, when the run evaluates one.
    pub(super) fn test_set(&self) -> Option<&Dataset> {
        self.data.as_ref().and_then(|d| d.test.as_ref())
    }

    /// The next training batch and its epoch: in full batch the whole training set (epoch
    /// 0), for a quadratic no examples.
    pub(super) fn next_training(&mut self) -> Result<(Examples, u64)> {
        match (&self.data, self.train_stream.as_mut()) {
            (Some(data), Some(stream)) => draw(data, stream),
            (Some(data), None) => Ok((Examples::all(&data.train), 0)),
            (None, _) => Ok((self.eval.clone(), 0)),
        }
    }

    /// The next batch of the independent line-search stream, or `None` when line-search
    /// trials evaluate the step's own batch.
    pub(super) fn next_line_search(&mut self) -> Result<Option<Examples>> {
        match (&self.data, self.line_search_stream.as_mut()) {
            (Some(data), Some(stream)) => Ok(Some(draw(data, stream)?.0)),
            _ => Ok(None),
        }
    }

    /// The positions of the training and line-search streams (saved with checkpoints).
    pub(super) fn stream_states(&self) -> (Option<BatcherState>, Option<BatcherState>) {
        (
            self.train_stream.as_ref().map(Batcher::state),
            self.line_search_stream.as_ref().map(Batcher::state),
        )
    }

    /// Continues the streams from saved positions; a stream with none stays at its start.
    pub(super) fn restore(
        &mut self,
        config: &RunConfig,
        train: Option<BatcherState>,
        line_search: Option<BatcherState>,
    ) -> Result<()> {
        let Some(data) = &self.data else {
            return Ok(());
        };
        let n = data.train.len();
        if let Some(saved) = train {
            self.train_stream = Some(make_batcher(config, n, TRAIN_STREAM, Some(saved))?);
        }
        if let Some(saved) = line_search {
            let stream = make_batcher(config, n, LINE_SEARCH_STREAM, Some(saved))?;
            self.line_search_stream = Some(stream);
        }
        Ok(())
    }
}

/// The next batch of `stream` over `data`'s training set, and its epoch.
fn draw(data: &Prepared, stream: &mut Batcher) -> Result<(Examples, u64)> {
    let batch = stream.next_batch();
    Ok((Examples::select(&data.train, &batch.indices)?, batch.epoch))
}

/// The mini-batch stream `stream` over `n` examples, seeded from the run's data-order seed,
/// continued from `saved` when resuming.
fn make_batcher(
    config: &RunConfig,
    n: usize,
    stream: &str,
    saved: Option<BatcherState>,
) -> Result<Batcher> {
    let training = &config.training;
    let seed = stepsharp_data::derive_seed(config.seeds.data_order, stream);
    Ok(match saved {
        Some(state) => {
            Batcher::from_state(n, training.batch_size, training.drop_last, seed, state)?
        }
        None => Batcher::new(n, training.batch_size, training.drop_last, seed)?,
    })
}
