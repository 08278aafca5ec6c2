//! One color per curve label, the same in every panel of a figure.

use plotters::style::RGBColor;

use crate::sweep::FigureResult;

/// The matplotlib "tab10" colors.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The stepsize rules (`RuleConfig::name()`) with a color of their own: the palette entry at
/// the same index, in every figure.
const RULE_COLORS: [&str; 4] = ["constant", "armijo", "polyak", "cdat"];

/// The colors of a figure's curve labels.
pub(super) struct Palette {
    labels: Vec<String>,
    colors: Vec<RGBColor>,
}

impl Palette {
    /// Colors for `labels` in order, each with the stepsize rule its runs use (None for curves
    /// that are not runs): the first label of a rule takes the rule's own color; every other
    /// label takes the next unused palette entry (cycling once all are used).
    pub fn new(labels: Vec<(String, Option<&str>)>) -> Self {
        let mut used = [false; PALETTE.len()];
        let mut colors = Vec::with_capacity(labels.len());
        for (_, rule) in &labels {
            let own = rule
                .and_then(|rule| RULE_COLORS.iter().position(|r| *r == rule))
                .filter(|&i| !used[i]);
            let index = own
                .or_else(|| {
                    (RULE_COLORS.len()..PALETTE.len())
                        .chain(0..RULE_COLORS.len())
                        .find(|&i| !used[i])
                })
                .unwrap_or(colors.len() % PALETTE.len());
            used[index] = true;
            colors.push(PALETTE[index]);
        }
        let labels = labels.into_iter().map(|(label, _)| label).collect();
        Self { labels, colors }
    }

    /// Colors for the series of `runs` (in order of first appearance), keyed by each series'
    /// stepsize rule.
    pub fn of_runs<'a>(runs: impl Iterator<Item = &'a FigureResult>) -> Self {
        let mut labels: Vec<(String, Option<&str>)> = Vec::new();
        for result in runs {
            if !labels.iter().any(|(l, _)| *l == result.run.series) {
                labels.push((
                    result.run.series.clone(),
                    Some(result.run.config.stepsize.name()),
                ));
            }
        }
        Self::new(labels)
    }

    /// Colors for labels that are not runs (simulated trajectories, density steps).
    pub fn plain(labels: &[String]) -> Self {
        Self::new(labels.iter().map(|l| (l.clone(), None)).collect())
    }

    /// The color of `label` (the first palette entry for an unknown label).
    pub fn color(&self, label: &str) -> RGBColor {
        self.labels
            .iter()
            .position(|l| l == label)
            .map_or(PALETTE[0], |i| self.colors[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_colors_are_stable_and_every_label_gets_its_own() {
        let labels: Vec<(String, Option<&str>)> = [
            ("polyak c=1", Some("polyak")),
            ("cdat σ=1", Some("cdat")),
            ("cdat σ=2", Some("cdat")),
            ("constant (tuned)", Some("constant")),
            ("armijo", Some("armijo")),
            ("model", None),
        ]
        .map(|(l, r)| (l.to_string(), r))
        .to_vec();
        let palette = Palette::new(labels.clone());
        let colors: Vec<RGBColor> = labels.iter().map(|(l, _)| palette.color(l)).collect();
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b, "{colors:?}");
            }
        }
        let alone = Palette::new(vec![("armijo".to_string(), Some("armijo"))]);
        assert_eq!(palette.color("armijo"), alone.color("armijo"));
        assert_eq!(palette.color("polyak c=1"), PALETTE[2]);
        assert_eq!(palette.color("cdat σ=1"), PALETTE[3]);
        // The second CDAT series and the plain label take unused entries past the rules'.
        assert_eq!(palette.color("cdat σ=2"), PALETTE[4]);
        assert_eq!(palette.color("model"), PALETTE[5]);
    }

    #[test]
    fn more_labels_than_colors_reuse_colors() {
        let labels: Vec<String> = (0..11).map(|i| format!("step {i}")).collect();
        let palette = Palette::plain(&labels);
        let colors: Vec<RGBColor> = labels.iter().map(|l| palette.color(l)).collect();
        for (i, a) in colors[..10].iter().enumerate() {
            assert!(!colors[i + 1..10].contains(a), "{colors:?}");
        }
        assert!(colors[..10].contains(&colors[10]));
    }
}
