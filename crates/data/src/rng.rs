//! Seeded randomness: derived seeds, per-epoch permutations and subset sampling.
//!
//! Everything is built from ChaCha8 output words and an explicit Fisher–Yates shuffle with
//! Lemire's unbiased bounded integers, so the streams do not depend on `rand`'s
//! implementation details (ChaCha8 output is value-stable across rand_chacha versions).

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Derives an independent seed for a named stream: the first 8 bytes (little-endian) of
/// `blake3("stepsharp-data derive_seed" ‖ seed as u64 LE ‖ stream)`.
///
/// Use it for a second, independent batch stream, e.g. line-search trials evaluated on an
/// independent batch: `Batcher::new(n, batch_size, drop_last, derive_seed(seed, "line_search"))`.
/// Different stream names give unrelated seeds; the same inputs always give the same seed.
///
/// ```
/// use stepsharp_data::derive_seed;
/// assert_eq!(derive_seed(7, "line_search"), derive_seed(7, "line_search"));
/// assert_ne!(derive_seed(7, "line_search"), derive_seed(7, "eval"));
/// assert_ne!(derive_seed(7, "line_search"), derive_seed(8, "line_search"));
/// ```
pub fn derive_seed(seed: u64, stream: &str) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"stepsharp-data derive_seed");
    hasher.update(&seed.to_le_bytes());
    hasher.update(stream.as_bytes());
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// A ChaCha8 generator keyed by `blake3(domain ‖ seed)` on ChaCha stream `stream`.
pub(crate) fn chacha(domain: &str, seed: u64, stream: u64) -> ChaCha8Rng {
    let mut hasher = blake3::Hasher::new();
    hasher.update(domain.as_bytes());
    hasher.update(&seed.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(*hasher.finalize().as_bytes());
    rng.set_stream(stream);
    rng
}

/// A uniform integer in `0..bound` (Lemire 2019, unbiased); `bound` must be positive.
pub(crate) fn uniform_below(rng: &mut impl RngCore, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    let mut product = u128::from(rng.next_u64()) * u128::from(bound);
    let mut low = product as u64;
    if low < bound {
        let threshold = bound.wrapping_neg() % bound;
        while low < threshold {
            product = u128::from(rng.next_u64()) * u128::from(bound);
            low = product as u64;
        }
    }
    (product >> 64) as u64
}

/// Shuffles `items` in place (Fisher–Yates, last position first).
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut impl RngCore) {
    for i in (1..items.len()).rev() {
        let j = uniform_below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// `count` distinct indices from `0..n`, drawn uniformly (partial Fisher–Yates), sorted.
pub(crate) fn sample_sorted(n: usize, count: usize, rng: &mut impl RngCore) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..count.min(n) {
        let j = i + uniform_below(rng, (n - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(count);
    all.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_below_is_roughly_uniform_and_in_range() {
        let mut rng = chacha("test", 1, 0);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[uniform_below(&mut rng, 7) as usize] += 1;
        }
        // Expected 10,000 each; 5 standard deviations is about 450.
        for c in counts {
            assert!((9_550..=10_450).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn shuffle_is_a_permutation_and_seed_dependent() {
        let mut a: Vec<usize> = (0..100).collect();
        shuffle(&mut a, &mut chacha("test", 3, 0));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        let mut b: Vec<usize> = (0..100).collect();
        shuffle(&mut b, &mut chacha("test", 4, 0));
        assert_ne!(a, b);
        let mut c: Vec<usize> = (0..100).collect();
        shuffle(&mut c, &mut chacha("test", 3, 1));
        assert_ne!(a, c, "another stream must give another permutation");
    }

    #[test]
    fn sample_sorted_gives_distinct_sorted_indices() {
        let s = sample_sorted(1000, 50, &mut chacha("test", 9, 0));
        assert_eq!(s.len(), 50);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!(*s.last().unwrap() < 1000);
        assert_eq!(
            sample_sorted(5, 5, &mut chacha("test", 9, 0)),
            [0, 1, 2, 3, 4]
        );
    }
}
