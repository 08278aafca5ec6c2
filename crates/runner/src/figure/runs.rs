//! A figure's runs: every group × series × seed of a scale, its config the scale's `base` with
//! the group's and then the series' `set` tables deep-merged over it (a table with a different
//! `kind` replaces instead of merging; a tuned series starts at its grid anchor η0).

use toml::{Table, Value};

use super::{FigureConfig, GroupSpec, Regime, Scale, ScaleSpec, TuneSpec};
use crate::config::{Seeds, ValidRunConfig};
use crate::error::Result;

/// One resolved run of a figure.
#[derive(Clone, Debug)]
pub struct FigureRun {
    /// Group label.
    pub group: String,
    /// Series label.
    pub series: String,
    /// The seed from the figure's `seeds` list (None: the base's seeds).
    pub seed: Option<u64>,
    /// The regime the group is judged as.
    pub regime: Regime,
    /// The resolved config, validated.
    pub config: ValidRunConfig,
}

impl FigureRun {
    /// `group / series` and the seed, for progress lines and tables.
    pub fn label(&self) -> String {
        let seed = self.seed.map_or(String::new(), |s| format!(" / seed {s}"));
        format!("{} / {}{seed}", self.group, self.series)
    }
}

impl FigureConfig {
    /// The runs of `scale` (a tuned series appears with its grid anchor η0 as stepsize).
    pub fn runs(&self, scale: Scale) -> Result<Vec<FigureRun>> {
        let spec = self.scale(scale);
        let unnamed = [GroupSpec {
            label: String::new(),
            set: Table::new(),
            seeds: None,
            regime: None,
        }];
        let groups = if spec.groups.is_empty() {
            &unnamed[..]
        } else {
            &spec.groups[..]
        };
        let mut runs = Vec::new();
        for group in groups {
            let seeds: Vec<Option<u64>> = match group.seeds.as_ref().unwrap_or(&spec.seeds) {
                seeds if seeds.is_empty() => vec![None],
                seeds => seeds.iter().copied().map(Some).collect(),
            };
            for series in &spec.series {
                let mut table = spec.base.clone();
                merge(&mut table, &group.set);
                merge(&mut table, &series.set);
                if let Some(tune) = &series.tune {
                    merge(&mut table, &constant_stepsize(tune.eta0));
                }
                let origin = format!("group `{}`, series `{}`", group.label, series.label);
                let template = ValidRunConfig::from_table(table, &origin)?;
                let regime = group
                    .regime
                    .unwrap_or_else(|| Regime::default_for(template.training.batch_size));
                for &seed in &seeds {
                    let config = match seed {
                        Some(s) => template.clone().with_seeds(Seeds {
                            init: s,
                            data_order: s,
                            probe: s,
                        }),
                        None => template.clone(),
                    };
                    runs.push(FigureRun {
                        group: group.label.clone(),
                        series: series.label.clone(),
                        seed,
                        regime,
                        config,
                    });
                }
            }
        }
        Ok(runs)
    }

    /// The spec of `scale`.
    pub fn scale(&self, scale: Scale) -> &ScaleSpec {
        match scale {
            Scale::Quick => &self.quick,
            Scale::Paper => &self.paper,
        }
    }

    /// The grid search of `series` at `scale`, if it is tuned.
    pub(crate) fn tune_of(&self, scale: Scale, series: &str) -> Option<&TuneSpec> {
        self.scale(scale)
            .series
            .iter()
            .find(|s| s.label == series)
            .and_then(|s| s.tune.as_ref())
    }
}

fn constant_stepsize(eta: f64) -> Table {
    let mut stepsize = Table::new();
    stepsize.insert("kind".into(), Value::String("constant".into()));
    stepsize.insert("eta".into(), Value::Float(eta));
    let mut table = Table::new();
    table.insert("stepsize".into(), Value::Table(stepsize));
    table
}

/// Deep merge of `over` into `base`; a table whose `kind` differs replaces the base table.
fn merge(base: &mut Table, over: &Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Table(base_table)), Value::Table(over_table))
                if over_table
                    .get("kind")
                    .is_none_or(|k| base_table.get("kind") == Some(k)) =>
            {
                merge(base_table, over_table)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_deep_but_kind_changes_replace() {
        let mut base: Table = toml::from_str(
            "training = { max_steps = 10, chunk_size = 5 }\nstepsize = { kind = \"armijo\", c = 0.1 }",
        )
        .unwrap();
        let over: Table = toml::from_str(
            "training = { max_steps = 20 }\nstepsize = { kind = \"constant\", eta = 0.5 }",
        )
        .unwrap();
        merge(&mut base, &over);
        assert_eq!(base["training"]["max_steps"].as_integer(), Some(20));
        assert_eq!(base["training"]["chunk_size"].as_integer(), Some(5));
        assert!(base["stepsize"].get("c").is_none());
        assert_eq!(base["stepsize"]["eta"].as_float(), Some(0.5));
    }
}
