//! Axis ticks: labelled decades and digits on log axes, short tick labels.

/// Tick labels of smaller magnitude are written as powers of ten.
const SCIENTIFIC_BELOW: f64 = 1e-3;

/// Labelled ticks of a log axis on `[lo, hi]`: `m·10^k` for every digit `m` when the range
/// spans less than a decade, for `m ∈ {1, 2, 5}` up to three decades, `m = 1` beyond.
/// (plotters' own log key points leave ranges below 1 without any label.)
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let multiples: &[f64] = match hi / lo {
        r if r < 10.0 => &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        r if r < 1000.0 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    decade_multiples(lo, hi, multiples)
}

/// Light mesh lines of a log axis: every digit of every decade in `[lo, hi]`.
pub(super) fn log_ticks_every_digit(lo: f64, hi: f64) -> Vec<f64> {
    decade_multiples(lo, hi, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

/// `m·10^k` inside `[lo, hi]` for the given multiples `m`, ascending (empty unless
/// `0 < lo ≤ hi`, both finite).
fn decade_multiples(lo: f64, hi: f64, multiples: &[f64]) -> Vec<f64> {
    if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
        return Vec::new();
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (first..=last)
        .flat_map(|k| multiples.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A tick value with three significant digits and no trailing zeros: 0.26, 0.01, 2.5, 100;
/// below [`SCIENTIFIC_BELOW`] in magnitude as a power of ten, 1e-7 (log density axes).
pub(super) fn tick_label(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    if value.abs() < SCIENTIFIC_BELOW {
        return format!("{value:.0e}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_below_one_get_labelled_ticks() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12 * y)
        };
        // A loss between 0.26 and 0.66: less than a decade, every digit.
        let ticks = log_ticks(0.26, 0.66);
        assert!(close(&ticks, &[0.3, 0.4, 0.5, 0.6]), "{ticks:?}");
        // Two decades: 1, 2, 5.
        let ticks = log_ticks(0.008, 0.9);
        assert!(
            close(&ticks, &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5]),
            "{ticks:?}"
        );
        // Many decades: powers of ten only.
        assert!(close(
            &log_ticks(1e-3, 1e3),
            &[1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3]
        ));
        assert!(log_ticks(0.0, 1.0).is_empty() && log_ticks(2.0, 1.0).is_empty());
        assert_eq!(log_ticks_every_digit(0.26, 0.66).len(), 4);
    }

    #[test]
    fn tick_labels_have_three_significant_digits_and_no_trailing_zeros() {
        let labels: Vec<String> = [
            0.26,
            0.01,
            0.30000000000000004,
            2.5,
            100.0,
            1234.0,
            0.0,
            -0.5,
            1e-7,
            2e-5,
        ]
        .map(tick_label)
        .to_vec();
        assert_eq!(
            labels,
            [
                "0.26", "0.01", "0.3", "2.5", "100", "1234", "0", "-0.5", "1e-7", "2e-5"
            ]
        );
    }
}
