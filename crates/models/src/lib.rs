//! MLP, VGG-11 and ResNet classifiers for CIFAR-10 on candle, built for curvature work:
//! seeded device- and dtype-independent initialization, exact second derivatives through every
//! layer (Hessian-vector products by double backward), a flat name-ordered parameter view,
//! a documented BatchNorm policy, MSE and cross-entropy, and chunked full-dataset evaluation
//! of a network with its loss ([`Objective`]).
//!
//! Hessian-vector products need `CANDLE_GRAD_DO_NOT_DETACH=1` in the environment before the
//! first backward pass on a thread (candle detaches gradients otherwise, silently).
//!
//! Architectures (details on [`Architecture`]) and their parameter counts for 10 classes:
//!
//! | architecture | width | no BatchNorm | BatchNorm |
//! |---|---:|---:|---:|
//! | MLP 3072-200-200-10, bias ([`Architecture::mlp_cohen`]) | – | 656,810 | – |
//! | VGG-11, one linear head | 64 | 9,225,610 | 9,228,362 |
//! | ResNet-20, option-B shortcuts | 16 | 271,690 | 272,474 |
//! | ResNet-32 | 16 | 465,674 | 466,906 |
//! | ResNet-18 | 64 | 11,169,162 | 11,173,962 |
//! | ResNet-34 | 64 | 21,273,610 | 21,282,122 |
//!
//! See [`BatchNormMode`] for which calls may update BatchNorm running statistics and how the
//! loss used for sharpness is evaluated (ghost batches of a configurable chunk size).
#![warn(missing_docs)]

mod architectures;
mod chunks;
mod closed_form;
mod error;
mod evaluate;
mod loss;
mod objective;
mod ops;
#[cfg(test)]
mod test_support;

pub use architectures::batch_norm::BatchNormMode;
pub use architectures::config::{Activation, Architecture, ResNetDepth};
pub use architectures::init::seeded_uniform;
pub use architectures::network::Network;
pub use chunks::chunk_ranges;
pub use closed_form::backprop::MlpCurvature;
pub use closed_form::line::{LineLoss, LineOrigin};
pub use error::ModelError;
pub use evaluate::Evaluation;
pub use loss::{Loss, accuracy, loss};
pub use objective::{Gradient, Objective};
pub use ops::elementwise::plus_scaled;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, ModelError>;
