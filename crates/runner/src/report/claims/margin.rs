//! How far the evidence of a claim sits from its threshold: per seed, the statistic the test
//! compared with its bound, so that a reader sees which verdicts sit on a threshold.

use std::fmt;

use super::fmt as number;

/// A verdict whose nearest seed lies within this relative distance of its threshold "sits on
/// the threshold": a small change of the runs (rounding, another seed) could flip it.
pub const NEAR_THRESHOLD: f64 = 0.1;

/// The bound a statistic is compared with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// Holds when the statistic is at least this.
    AtLeast(f64),
    /// Holds when the statistic is at most this.
    AtMost(f64),
    /// Holds when the statistic is strictly below this.
    Below(f64),
    /// Holds when the statistic is strictly above this.
    Above(f64),
    /// Holds when the statistic is in `[lo, hi]`.
    Within(f64, f64),
}

impl Bound {
    /// The signed distance of `value` to the bound, positive on the side where the test holds,
    /// negative on the other: relative to the threshold for a one-sided bound, relative to the
    /// half-width of the band for [`Bound::Within`] (1 at its centre, 0 at either end).
    pub fn relative_distance(self, value: f64) -> f64 {
        let relative = |scale: f64, inside: f64| inside / scale.abs().max(f64::MIN_POSITIVE);
        match self {
            Bound::AtLeast(t) | Bound::Above(t) => relative(t, value - t),
            Bound::AtMost(t) | Bound::Below(t) => relative(t, t - value),
            Bound::Within(lo, hi) => relative((hi - lo) / 2.0, (value - lo).min(hi - value)),
        }
    }

    /// What [`relative_distance`](Self::relative_distance) is relative to, in words.
    fn scale(self) -> &'static str {
        match self {
            Bound::Within(..) => " of the band's half-width",
            _ => "",
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::AtLeast(t) => write!(f, "≥ {t}"),
            Bound::AtMost(t) => write!(f, "≤ {t}"),
            Bound::Below(t) => write!(f, "< {t}"),
            Bound::Above(t) => write!(f, "> {t}"),
            Bound::Within(lo, hi) => write!(f, "in [{lo}, {hi}]"),
        }
    }
}

/// One statistic of a claim per seed, with the bound its test compared it with.
#[derive(Clone, Debug, PartialEq)]
pub struct Margin {
    /// The statistic, e.g. `λ_max growth`.
    pub quantity: String,
    /// Its value per seed (None where it could not be computed).
    pub values: Vec<Option<f64>>,
    /// The bound.
    pub bound: Bound,
}

impl Margin {
    /// The value nearest the threshold, with its signed relative distance (see
    /// [`Bound::relative_distance`]); None without any value.
    pub fn nearest(&self) -> Option<(f64, f64)> {
        self.values
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .map(|&v| (v, self.bound.relative_distance(v)))
            .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
    }

    /// Whether the nearest value lies within [`NEAR_THRESHOLD`] of the threshold.
    pub fn sits_on_threshold(&self) -> bool {
        self.nearest()
            .is_some_and(|(_, distance)| distance.abs() < NEAR_THRESHOLD)
    }
}

impl fmt::Display for Margin {
    /// `λ_max growth 3.17 against ≥ 1.5 (+111%)`, or `… (−4%, on the threshold)` within
    /// [`NEAR_THRESHOLD`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.nearest() {
            None => write!(f, "{} n/a against {}", self.quantity, self.bound),
            Some((value, distance)) => write!(
                f,
                "{} {} against {} ({:+.0}%{}{})",
                self.quantity,
                number(Some(value)),
                self.bound,
                distance * 100.0,
                self.bound.scale(),
                if distance.abs() < NEAR_THRESHOLD {
                    ", on the threshold"
                } else {
                    ""
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distance_is_relative_to_the_threshold_and_signed_by_the_verdict() {
        assert!((Bound::AtLeast(1.5).relative_distance(3.0) - 1.0).abs() < 1e-12);
        assert!((Bound::AtLeast(1.5).relative_distance(1.2) + 0.2).abs() < 1e-12);
        assert!((Bound::Below(1.8).relative_distance(0.9) - 0.5).abs() < 1e-12);
        assert!((Bound::AtMost(0.67).relative_distance(0.67)).abs() < 1e-12);
        // Within: the nearer end decides, relative to the half-width.
        let band = Bound::Within(1.8, 2.2);
        assert!((band.relative_distance(2.0) - 1.0).abs() < 1e-12);
        assert!((band.relative_distance(2.19) - 0.05).abs() < 1e-9);
        assert!((band.relative_distance(2.42) + 1.1).abs() < 1e-9);
    }

    #[test]
    fn the_nearest_seed_is_reported_and_flagged_on_the_threshold() {
        let margin = Margin {
            quantity: "λ_max growth".into(),
            values: vec![Some(3.36), Some(1.56), None, Some(f64::NAN)],
            bound: Bound::AtLeast(1.5),
        };
        assert_eq!(margin.nearest().map(|(v, _)| v), Some(1.56));
        assert!(margin.sits_on_threshold());
        assert_eq!(
            margin.to_string(),
            "λ_max growth 1.5600 against ≥ 1.5 (+4%, on the threshold)"
        );
        let safe = Margin {
            values: vec![Some(3.36)],
            ..margin
        };
        assert!(!safe.sits_on_threshold());
        assert_eq!(
            safe.to_string(),
            "λ_max growth 3.3600 against ≥ 1.5 (+124%)"
        );
    }
}
