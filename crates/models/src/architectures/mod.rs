//! The networks and what they are built from: the architecture configuration, the layers,
//! seeded initialization, the BatchNorm policy, the MLP, VGG-11 and ResNets, and [`Network`]
//! over them with its flat parameter view.
//!
//! [`Network`]: network::Network

pub(crate) mod batch_norm;
pub(crate) mod config;
pub(crate) mod init;
pub(crate) mod layers;
pub(crate) mod mlp;
pub(crate) mod network;
pub(crate) mod resnet;
pub(crate) mod vgg;
