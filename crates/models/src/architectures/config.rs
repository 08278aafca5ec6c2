//! Architecture configuration: which network to build.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Pointwise nonlinearity of the MLP (Cohen et al. 2021 use tanh, relu, elu and softplus).
///
/// Every variant is built from candle ops whose backward pass is itself differentiable, so
/// Hessian-vector products by double backward are exact:
/// - `Tanh`: tanh(x).
/// - `Relu`: max(x, 0); second derivative 0 almost everywhere.
/// - `Elu`: x for x > 0, eˣ − 1 otherwise (α = 1, PyTorch default).
/// - `Softplus`: log(1 + eˣ), computed as relu(x) + log(1 + e^(−|x|)) (β = 1, PyTorch default).
/// - `Gelu`: exact (erf) GELU, x·½·(1 + erf(x/√2)) (PyTorch default `approximate='none'`),
///   written from generic ops because candle's fused `gelu`/`gelu_erf` backward passes use
///   six-digit constants and are therefore not exact derivatives.
///
/// Default: `Tanh` (Cohen et al. 2021, main fully connected experiments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Hyperbolic tangent.
    #[default]
    Tanh,
    /// Rectified linear unit.
    Relu,
    /// Exponential linear unit with α = 1.
    Elu,
    /// Softplus with β = 1.
    Softplus,
    /// Exact (erf-based) Gaussian error linear unit.
    Gelu,
}

/// Depth of a CIFAR ResNet.
///
/// - `ResNet20` / `ResNet32`: He et al. 2016 (Sec. 4.2) CIFAR family, 3 stages of
///   n = 3 / 5 basic blocks (6n + 2 layers), channels (w, 2w, 4w), standard w = 16.
/// - `ResNet18` / `ResNet34`: ImageNet-style 4 stages of [2, 2, 2, 2] / [3, 4, 6, 3] basic
///   blocks, channels (w, 2w, 4w, 8w), with a 3×3 stride-1 stem for 32×32 inputs (as in the
///   widely used `kuangliu/pytorch-cifar`), standard w = 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResNetDepth {
    /// 3 stages × 3 blocks.
    #[serde(rename = "resnet20")]
    ResNet20,
    /// 3 stages × 5 blocks (Cohen et al. 2021 use this depth).
    #[serde(rename = "resnet32")]
    ResNet32,
    /// 4 stages of [2, 2, 2, 2] blocks.
    #[serde(rename = "resnet18")]
    ResNet18,
    /// 4 stages of [3, 4, 6, 3] blocks (CDAT uses this depth without BatchNorm).
    #[serde(rename = "resnet34")]
    ResNet34,
}

impl ResNetDepth {
    /// Number of basic blocks in each stage; the stage channels are `width · 2^stage`.
    pub fn blocks_per_stage(self) -> &'static [usize] {
        match self {
            Self::ResNet20 => &[3, 3, 3],
            Self::ResNet32 => &[5, 5, 5],
            Self::ResNet18 => &[2, 2, 2, 2],
            Self::ResNet34 => &[3, 4, 6, 3],
        }
    }

    /// The base width of the published network: 16 for ResNet-20/32 (He et al. 2016),
    /// 64 for ResNet-18/34 (He et al. 2016, ImageNet table).
    pub fn standard_width(self) -> usize {
        match self {
            Self::ResNet20 | Self::ResNet32 => 16,
            Self::ResNet18 | Self::ResNet34 => 64,
        }
    }
}

/// Which network to build. Serialized with a `kind` tag, e.g.
/// `{"kind": "mlp", "hidden": [200, 200], "activation": "tanh", "bias": true}`.
///
/// Default: [`Architecture::mlp_cohen`] (Cohen et al. 2021's fully connected network).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Architecture {
    /// Fully connected network `3072 → hidden[0] → … → hidden[k−1] → classes`, with the
    /// activation after every hidden layer and none after the output layer.
    Mlp {
        /// Hidden widths. Default: [200, 200] (Cohen et al. 2021).
        #[serde(default = "default_hidden")]
        hidden: Vec<usize>,
        /// Nonlinearity after each hidden layer. Default: tanh (Cohen et al. 2021).
        #[serde(default)]
        activation: Activation,
        /// Whether every linear layer has a bias. Default: true (PyTorch `nn.Linear`).
        #[serde(default = "default_true")]
        bias: bool,
    },
    /// VGG-11 (Simonyan & Zisserman 2015, configuration "A") for 32×32 inputs, without
    /// dropout: channels [w, M, 2w, M, 4w, 4w, M, 8w, 8w, M, 8w, 8w, M] (M = 2×2 max-pool)
    /// with 3×3 convolutions, padding 1, relu; then one linear layer 8w → classes.
    Vgg11 {
        /// BatchNorm after every convolution (then the convolutions have no bias).
        batch_norm: bool,
        /// Base channel count w. Default: 64 (standard VGG-11).
        #[serde(default = "default_vgg_width")]
        width: usize,
    },
    /// ResNet with basic blocks for 32×32 inputs (see [`ResNetDepth`]).
    #[serde(rename = "resnet")]
    ResNet {
        /// Depth family.
        depth: ResNetDepth,
        /// BatchNorm after every convolution (then the convolutions have no bias).
        batch_norm: bool,
        /// Base channel count w: 16 for ResNet-20/32, 64 for ResNet-18/34
        /// ([`ResNetDepth::standard_width`]). No default: it depends on the depth.
        width: usize,
    },
}

fn default_hidden() -> Vec<usize> {
    vec![200, 200]
}

fn default_true() -> bool {
    true
}

fn default_vgg_width() -> usize {
    64
}

impl Default for Architecture {
    fn default() -> Self {
        Self::mlp_cohen()
    }
}

impl Architecture {
    /// Cohen et al. 2021's fully connected network: hidden [200, 200], tanh, with bias.
    pub fn mlp_cohen() -> Self {
        Self::Mlp {
            hidden: default_hidden(),
            activation: Activation::Tanh,
            bias: true,
        }
    }

    /// Standard-width VGG-11 (w = 64), with or without BatchNorm.
    pub fn vgg11(batch_norm: bool) -> Self {
        Self::Vgg11 {
            batch_norm,
            width: default_vgg_width(),
        }
    }

    /// Standard-width ResNet of the given depth ([`ResNetDepth::standard_width`]).
    pub fn resnet(depth: ResNetDepth, batch_norm: bool) -> Self {
        Self::ResNet {
            depth,
            batch_norm,
            width: depth.standard_width(),
        }
    }

    /// Checks every field; names the first offending one.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Mlp { hidden, .. } => {
                if hidden.contains(&0) {
                    return Err(ModelError::InvalidConfig {
                        field: "mlp.hidden",
                        value: format!("{hidden:?}"),
                        expected: "every hidden width >= 1",
                    });
                }
            }
            Self::Vgg11 { width, .. } => {
                if *width == 0 {
                    return Err(ModelError::InvalidConfig {
                        field: "vgg11.width",
                        value: width.to_string(),
                        expected: ">= 1",
                    });
                }
            }
            Self::ResNet { width, .. } => {
                if *width == 0 {
                    return Err(ModelError::InvalidConfig {
                        field: "resnet.width",
                        value: width.to_string(),
                        expected: ">= 1",
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the network contains BatchNorm layers.
    pub fn has_batch_norm(&self) -> bool {
        match self {
            Self::Mlp { .. } => false,
            Self::Vgg11 { batch_norm, .. } | Self::ResNet { batch_norm, .. } => *batch_norm,
        }
    }

    /// A short human-readable name, e.g. `"mlp[200,200] tanh bias"` or `"resnet20 bn w16"`.
    pub fn name(&self) -> String {
        let bn = |b: bool| if b { "bn" } else { "no-bn" };
        match self {
            Self::Mlp {
                hidden,
                activation,
                bias,
            } => {
                let widths: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
                let bias = if *bias { "bias" } else { "no-bias" };
                format!("mlp[{}] {activation:?} {bias}", widths.join(",")).to_lowercase()
            }
            Self::Vgg11 { batch_norm, width } => format!("vgg11 {} w{width}", bn(*batch_norm)),
            Self::ResNet {
                depth,
                batch_norm,
                width,
            } => format!("{depth:?} {} w{width}", bn(*batch_norm)).to_lowercase(),
        }
    }
}
