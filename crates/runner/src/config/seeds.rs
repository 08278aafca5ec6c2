//! `seeds`: the seeds of a run's random streams.

use serde::{Deserialize, Serialize};

/// Seeds of the run's random streams (all default to 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Seeds {
    /// Initial weights. Default: 0.
    pub init: u64,
    /// Mini-batch order. Default: 0.
    pub data_order: u64,
    /// Start vectors of the eigen-solvers. Default: 0.
    pub probe: u64,
}
