//! Fully connected network.

use candle_core::{Result, Tensor};

use crate::Activation;
use crate::architectures::init::ParamBuilder;
use crate::architectures::layers::{Linear, activate};

/// Input dimension of every MLP: a flattened 3×32×32 CIFAR image.
pub(crate) const MLP_INPUT_DIM: usize = 3 * 32 * 32;

/// Linear layers with the activation between them (not after the last).
pub(crate) struct Mlp {
    layers: Vec<Linear>,
    activation: Activation,
}

impl Mlp {
    pub(crate) fn build(
        builder: &mut ParamBuilder,
        hidden: &[usize],
        activation: Activation,
        bias: bool,
        num_classes: usize,
    ) -> Result<Self> {
        let mut widths = vec![MLP_INPUT_DIM];
        widths.extend_from_slice(hidden);
        widths.push(num_classes);
        let layers = widths
            .windows(2)
            .map(|w| builder.linear("linear", w[0], w[1], bias))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers, activation })
    }

    /// Logits for `x` (n, 3072).
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.layers[0].forward(x)?;
        for layer in &self.layers[1..] {
            h = layer.forward(&activate(&h, self.activation)?)?;
        }
        Ok(h)
    }

    /// The layers, input side first.
    pub(crate) fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// The activation between layers.
    pub(crate) fn activation(&self) -> Activation {
        self.activation
    }
}
