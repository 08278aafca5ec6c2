//! VGG-11 for 32×32 inputs, without dropout.

use candle_core::{Result, Tensor};

use crate::BatchNormMode;
use crate::architectures::init::ParamBuilder;
use crate::architectures::layers::{BatchNorm, Conv2d, Linear, flatten, max_pool_2x2};

/// VGG-11 ("A") layer plan in multiples of the base width; `None` is a 2×2 max-pool.
pub(crate) const VGG11_PLAN: [Option<usize>; 13] = [
    Some(1),
    None,
    Some(2),
    None,
    Some(4),
    Some(4),
    None,
    Some(8),
    Some(8),
    None,
    Some(8),
    Some(8),
    None,
];

enum Item {
    /// 3×3 conv (padding 1), optional BatchNorm, relu.
    Conv(Conv2d, Option<BatchNorm>),
    Pool,
}

/// Eight conv layers and five pools take 32×32 to 1×1; a single linear layer 8w → classes
/// (the common CIFAR head, e.g. `kuangliu/pytorch-cifar`) replaces ImageNet VGG's three
/// 4096-wide layers.
pub(crate) struct Vgg11 {
    items: Vec<Item>,
    classifier: Linear,
}

impl Vgg11 {
    pub(crate) fn build(
        builder: &mut ParamBuilder,
        batch_norm: bool,
        width: usize,
        num_classes: usize,
    ) -> Result<Self> {
        let mut items = Vec::new();
        let mut channels = 3;
        for step in VGG11_PLAN {
            match step {
                Some(mult) => {
                    let out = mult * width;
                    let conv = builder.conv("conv", channels, out, 3, 1, 1, !batch_norm)?;
                    let bn = if batch_norm {
                        Some(builder.batch_norm("bn", out)?)
                    } else {
                        None
                    };
                    items.push(Item::Conv(conv, bn));
                    channels = out;
                }
                None => items.push(Item::Pool),
            }
        }
        let classifier = builder.linear("classifier", channels, num_classes, true)?;
        Ok(Self { items, classifier })
    }

    /// `x`: (n, 3, 32, 32).
    pub(crate) fn forward(&self, x: &Tensor, mode: BatchNormMode) -> crate::Result<Tensor> {
        let mut h = x.clone();
        for item in &self.items {
            h = match item {
                Item::Conv(conv, bn) => {
                    let mut y = conv.forward(&h)?;
                    if let Some(bn) = bn {
                        y = bn.forward(&y, mode)?;
                    }
                    y.relu()?
                }
                Item::Pool => max_pool_2x2(&h)?,
            };
        }
        Ok(self.classifier.forward(&flatten(&h)?)?)
    }
}
