//! Deterministic, resumable batching.

use stepsharp_data::{BatchSize, Batcher, BatcherState, DataError, derive_seed};

fn epoch(batcher: &mut Batcher) -> Vec<Vec<u32>> {
    (0..batcher.batches_per_epoch())
        .map(|_| batcher.next_batch().indices)
        .collect()
}

#[test]
fn every_example_exactly_once_per_epoch() {
    for (n, b) in [(10, 3), (10, 5), (10, 10), (7, 1), (5000, 128), (1, 1)] {
        let mut batcher = Batcher::new(n, BatchSize::Size(b), false, 42).unwrap();
        assert_eq!(batcher.batches_per_epoch(), n.div_ceil(b));
        for e in 0..3u64 {
            let first = batcher.next_batch();
            assert_eq!((first.epoch, first.index_in_epoch), (e, 0));
            let mut all = first.indices.clone();
            for k in 1..batcher.batches_per_epoch() {
                let batch = batcher.next_batch();
                assert_eq!((batch.epoch, batch.index_in_epoch), (e, k));
                assert_eq!(batch.is_last_in_epoch, k + 1 == batcher.batches_per_epoch());
                let expected_len = if k + 1 == batcher.batches_per_epoch() {
                    n - k * b
                } else {
                    b
                };
                assert_eq!(batch.indices.len(), expected_len);
                all.extend(batch.indices);
            }
            all.sort_unstable();
            assert_eq!(
                all,
                (0..n as u32).collect::<Vec<_>>(),
                "n={n} b={b} epoch {e}"
            );
        }
    }
}

#[test]
fn drop_last_drops_the_remainder_and_never_repeats() {
    let mut batcher = Batcher::new(10, BatchSize::Size(3), true, 1).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 3);
    for _ in 0..4 {
        let batches = epoch(&mut batcher);
        assert!(batches.iter().all(|b| b.len() == 3));
        let mut all: Vec<u32> = batches.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 9, "9 distinct examples, 1 dropped");
    }
}

#[test]
fn same_seed_same_stream_other_seed_or_epoch_differs() {
    let stream = |seed| {
        let mut b = Batcher::new(100, BatchSize::Size(10), false, seed).unwrap();
        (0..30).map(|_| b.next_batch().indices).collect::<Vec<_>>()
    };
    assert_eq!(stream(3), stream(3));
    assert_ne!(stream(3), stream(4));
    let s = stream(3);
    assert_ne!(s[..10], s[10..20], "each epoch is reshuffled");
    let b = Batcher::new(100, BatchSize::Size(10), false, 3).unwrap();
    assert_eq!(b.epoch_order(1), s[10..20].concat());
}

#[test]
fn full_batch_is_everything_in_order_every_step() {
    let mut batcher = Batcher::new(6, BatchSize::Full, false, 9).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 1);
    for e in 0..3 {
        let batch = batcher.next_batch();
        assert_eq!(batch.indices, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            (batch.epoch, batch.index_in_epoch, batch.is_last_in_epoch),
            (e, 0, true)
        );
    }
}

#[test]
fn resume_from_any_state_continues_the_same_stream() {
    let (n, bs, drop_last, seed) = (23, BatchSize::Size(5), true, 77);
    let mut reference = Batcher::new(n, bs, drop_last, seed).unwrap();
    let expected: Vec<_> = (0..20).map(|_| reference.next_batch()).collect();
    for stop in 0..20 {
        let mut first = Batcher::new(n, bs, drop_last, seed).unwrap();
        for _ in 0..stop {
            first.next_batch();
        }
        // Through serde, as a checkpoint would.
        let saved = toml::to_string(&first.state()).unwrap();
        let state: BatcherState = toml::from_str(&saved).unwrap();
        let mut resumed = Batcher::from_state(n, bs, drop_last, seed, state).unwrap();
        for want in &expected[stop..] {
            assert_eq!(&resumed.next_batch(), want, "resumed after {stop} batches");
        }
    }
}

#[test]
fn state_of_another_configuration_is_rejected() {
    let mut b = Batcher::new(20, BatchSize::Size(4), false, 1).unwrap();
    b.next_batch();
    let state = b.state();
    let err = Batcher::from_state(20, BatchSize::Size(4), false, 2, state.clone()).unwrap_err();
    assert!(
        matches!(err, DataError::StateMismatch { field: "seed", .. }),
        "{err:?}"
    );
    let err = Batcher::from_state(20, BatchSize::Size(5), false, 1, state.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::StateMismatch {
                field: "batch_size",
                ..
            }
        ),
        "{err:?}"
    );
    let err = Batcher::from_state(21, BatchSize::Size(4), false, 1, state.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::StateMismatch {
                field: "num_examples",
                ..
            }
        ),
        "{err:?}"
    );
    let err = Batcher::from_state(20, BatchSize::Size(4), true, 1, state.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::StateMismatch {
                field: "drop_last",
                ..
            }
        ),
        "{err:?}"
    );
    let bad = BatcherState {
        position: 5,
        ..state
    };
    assert!(matches!(
        Batcher::from_state(20, BatchSize::Size(4), false, 1, bad),
        Err(DataError::InvalidConfig { .. })
    ));
}

#[test]
fn invalid_sizes_are_rejected() {
    for (n, bs) in [
        (0, BatchSize::Full),
        (10, BatchSize::Size(0)),
        (10, BatchSize::Size(11)),
    ] {
        let err = Batcher::new(n, bs, false, 0).unwrap_err();
        assert!(matches!(err, DataError::InvalidConfig { .. }), "{err:?}");
    }
}

#[test]
fn batch_size_in_toml_is_full_or_an_integer() {
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct C {
        batch_size: BatchSize,
    }
    assert_eq!(
        toml::from_str::<C>("batch_size = \"full\"")
            .unwrap()
            .batch_size,
        BatchSize::Full
    );
    assert_eq!(
        toml::from_str::<C>("batch_size = 128").unwrap().batch_size,
        BatchSize::Size(128)
    );
    for bad in [
        "batch_size = 0",
        "batch_size = -3",
        "batch_size = \"half\"",
        "batch_size = 1.5",
    ] {
        assert!(toml::from_str::<C>(bad).is_err(), "{bad}");
    }
    for value in [BatchSize::Full, BatchSize::Size(64)] {
        let text = toml::to_string(&C { batch_size: value }).unwrap();
        assert_eq!(toml::from_str::<C>(&text).unwrap().batch_size, value);
    }
}

#[test]
fn derived_stream_is_independent_of_the_main_stream() {
    let seed = 5;
    let mut main = Batcher::new(50, BatchSize::Size(10), false, seed).unwrap();
    let mut line_search = Batcher::new(
        50,
        BatchSize::Size(10),
        false,
        derive_seed(seed, "line_search"),
    )
    .unwrap();
    let a: Vec<_> = (0..5).map(|_| main.next_batch().indices).collect();
    let b: Vec<_> = (0..5).map(|_| line_search.next_batch().indices).collect();
    assert_ne!(a, b);
    assert_eq!(
        derive_seed(seed, "line_search"),
        derive_seed(seed, "line_search")
    );
}
