//! ResNets with basic blocks for 32×32 inputs.

use candle_core::{Result, Tensor};

use crate::architectures::init::ParamBuilder;
use crate::architectures::layers::{BatchNorm, Conv2d, Linear, global_avg_pool};
use crate::{BatchNormMode, ResNetDepth};

/// A convolution followed by an optional BatchNorm (no activation).
struct ConvBn {
    conv: Conv2d,
    bn: Option<BatchNorm>,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)]
    fn build(
        builder: &mut ParamBuilder,
        path: &str,
        inputs: usize,
        outputs: usize,
        kernel: usize,
        stride: usize,
        batch_norm: bool,
    ) -> Result<Self> {
        let padding = kernel / 2;
        let conv = builder.conv(
            &format!("{path}.conv"),
            inputs,
            outputs,
            kernel,
            stride,
            padding,
            !batch_norm,
        )?;
        let bn = if batch_norm {
            Some(builder.batch_norm(&format!("{path}.bn"), outputs)?)
        } else {
            None
        };
        Ok(Self { conv, bn })
    }

    fn forward(&self, x: &Tensor, mode: BatchNormMode) -> crate::Result<Tensor> {
        let y = self.conv.forward(x)?;
        match &self.bn {
            Some(bn) => bn.forward(&y, mode),
            None => Ok(y),
        }
    }
}

/// Basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both convs 3×3, the
/// first with the block's stride. The shortcut is the identity when shapes agree, otherwise a
/// strided 1×1 convolution (+ BatchNorm): He et al.'s option B.
struct BasicBlock {
    first: ConvBn,
    second: ConvBn,
    shortcut: Option<ConvBn>,
}

impl BasicBlock {
    fn forward(&self, x: &Tensor, mode: BatchNormMode) -> crate::Result<Tensor> {
        let h = self.first.forward(x, mode)?.relu()?;
        let h = self.second.forward(&h, mode)?;
        let s = match &self.shortcut {
            Some(sc) => sc.forward(x, mode)?,
            None => x.clone(),
        };
        Ok((h + s)?.relu()?)
    }
}

/// Stem 3×3 conv (stride 1) + BatchNorm + relu, stages of basic blocks with channels
/// w·2^s (stride 2 at the first block of every stage after the first), global average pool,
/// one linear layer.
pub(crate) struct ResNet {
    stem: ConvBn,
    blocks: Vec<BasicBlock>,
    head: Linear,
}

impl ResNet {
    pub(crate) fn build(
        builder: &mut ParamBuilder,
        depth: ResNetDepth,
        batch_norm: bool,
        width: usize,
        num_classes: usize,
    ) -> Result<Self> {
        let stem = ConvBn::build(builder, "stem", 3, width, 3, 1, batch_norm)?;
        let mut blocks = Vec::new();
        let mut channels = width;
        for (stage, &count) in depth.blocks_per_stage().iter().enumerate() {
            let out = width << stage;
            for block in 0..count {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                let path = format!("stage{}.block{block}", stage + 1);
                let first = ConvBn::build(
                    builder,
                    &format!("{path}.first"),
                    channels,
                    out,
                    3,
                    stride,
                    batch_norm,
                )?;
                let second = ConvBn::build(
                    builder,
                    &format!("{path}.second"),
                    out,
                    out,
                    3,
                    1,
                    batch_norm,
                )?;
                let shortcut = if stride != 1 || channels != out {
                    Some(ConvBn::build(
                        builder,
                        &format!("{path}.shortcut"),
                        channels,
                        out,
                        1,
                        stride,
                        batch_norm,
                    )?)
                } else {
                    None
                };
                blocks.push(BasicBlock {
                    first,
                    second,
                    shortcut,
                });
                channels = out;
            }
        }
        let head = builder.linear("head", channels, num_classes, true)?;
        Ok(Self { stem, blocks, head })
    }

    /// `x`: (n, 3, 32, 32).
    pub(crate) fn forward(&self, x: &Tensor, mode: BatchNormMode) -> crate::Result<Tensor> {
        let mut h = self.stem.forward(x, mode)?.relu()?;
        for block in &self.blocks {
            h = block.forward(&h, mode)?;
        }
        Ok(self.head.forward(&global_avg_pool(&h)?)?)
    }
}
