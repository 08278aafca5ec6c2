//! Data configuration: subsets, normalization, input layout.

use crate::DataError;
use crate::subset::Subset;
use serde::{Deserialize, Serialize};

/// How pixels are preprocessed. Every variant first scales bytes to [0, 1] by x/255.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// x/255 in [0, 1] (CDAT, Roulet et al. 2024).
    UnitRange,
    /// (x/255 − μ_c)/σ_c with the mean and (population) standard deviation of each colour
    /// channel c over all pixels of the selected training subset (Cohen et al. 2021 standardize).
    PerChannel,
    /// (x/255 − μ_j)/σ_j for each of the 3072 input positions j, statistics over the selected
    /// training subset; a position with σ_j = 0 is only centred (σ_j taken as 1).
    PerPixel,
}

impl Normalization {
    /// The snake_case name used in configs (`unit_range`, `per_channel`, `per_pixel`).
    pub fn name(self) -> &'static str {
        match self {
            Normalization::UnitRange => "unit_range",
            Normalization::PerChannel => "per_channel",
            Normalization::PerPixel => "per_pixel",
        }
    }
}

/// Shape of the input tensor.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// (n, 3072) in record order (R plane, G plane, B plane, each row-major): for MLPs.
    Flat,
    /// (n, 3, 32, 32) in (N, C, H, W) order: for CNNs.
    Image,
}

impl Layout {
    /// The snake_case name used in configs (`flat`, `image`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Flat => "flat",
            Layout::Image => "image",
        }
    }
}

/// Which CIFAR-10 records are used and how they are preprocessed.
///
/// TOML example (all fields optional, defaults shown):
/// ```toml
/// train_subset = { kind = "first", count = 5000 }
/// test_subset = { kind = "all" }
/// normalization = "unit_range"
/// layout = "flat"
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Training records used. Default: `First { count: 5000 }` (Cohen et al. 2021, first 5000
    /// training examples).
    pub train_subset: Subset,
    /// Test records used (the local test file has 1,000 records). Default: `All`.
    pub test_subset: Subset,
    /// Pixel preprocessing; standardization uses training-subset statistics for both splits.
    /// Default: `UnitRange` (CDAT, Roulet et al. 2024).
    pub normalization: Normalization,
    /// Input tensor shape. Default: `Flat` (MLPs of Cohen et al. 2021).
    pub layout: Layout,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            train_subset: Subset::First { count: 5000 },
            test_subset: Subset::All,
            normalization: Normalization::UnitRange,
            layout: Layout::Flat,
        }
    }
}

impl DataConfig {
    /// Checks both subsets; errors name the field (e.g. `train_subset.count`).
    pub fn validate(&self) -> Result<(), DataError> {
        self.train_subset.validate("train_subset")?;
        self.test_subset.validate("test_subset")
    }
}
