//! Stepsize rules for gradient methods, with full diagnostics: constant, Armijo backtracking,
//! Polyak SPS_max and CDAT. Pure Rust over `f64` and closures; no tensor library.
//!
//! A rule proposes η from what it needs: the loss `f(w)` and the slope `∇f(w)ᵀu` along the
//! update `u` ([`StepContext`]; `−‖g‖²` for gradient descent), plus lazy oracles
//! ([`Oracle`]) for `φ(η) = f(w + ηu)` (line searches) and `uᵀHu` (CDAT). Every step returns a serializable [`StepRecord`]; the rule's state is a
//! serializable [`RuleState`], so runs resume exactly.
//!
//! ```
//! use stepsharp_stepsize::{FnOracle, PolyakConfig, RuleConfig, StepContext, Stepsize};
//! let mut rule = Stepsize::new(RuleConfig::Polyak(PolyakConfig::cdat_paper(100.0))).unwrap();
//! let mut oracle = FnOracle { loss_at: |_| f64::NAN, curvature: || f64::NAN };
//! // (f − f*)/(c‖g‖²) = 3/(1·2) = 1.5.
//! let record = rule.step(&StepContext::gradient_descent(3.0, 2.0), &mut oracle).unwrap();
//! assert_eq!(record.eta, 1.5);
//! ```
#![warn(missing_docs)]

mod armijo;
mod armijo_options;
mod cdat;
mod constant;
mod context;
mod error;
mod polyak;
mod record;
mod rule;

pub use armijo::{ArmijoConfig, ArmijoState};
pub use armijo_options::{FailurePolicy, Growth, TrialLimit};
pub use cdat::{CdatAverages, CdatConfig, CdatState};
pub use constant::ConstantConfig;
pub use context::{FnOracle, Oracle, StepContext};
pub use error::StepsizeError;
pub use polyak::PolyakConfig;
pub use record::{Diagnostics, StepRecord};
pub use rule::{RuleConfig, RuleState, Stepsize};
