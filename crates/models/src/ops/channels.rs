//! Per-channel sums of (n, c, h, w) tensors and their adjoint, the per-channel broadcast, as
//! a pair of custom ops whose backward passes are each other: exact derivatives of every order
//! (both maps are linear), in one contiguous pass.
//!
//! `S(x)[c] = Σ_{i, u, v} x[i, c, u, v]` ([`channel_sum`]) and `B(s)[i, c, u, v] = s[c]`
//! ([`channel_broadcast`]) satisfy `⟨S(x), s⟩ = ⟨x, B(s)⟩`, so `S`'s backward is `B` and `B`'s
//! is `S`.
//!
//! Why not Candle's `sum_keepdim((0, 2, 3))` and `broadcast_*` ops: Candle reduces over
//! non-trailing dimensions element by element with an index division per reduced dimension
//! (candle-core 0.11.1, `ReduceSum`), and the backward pass of every broadcast is such a
//! reduction; in a BatchNorm ResNet those reductions cost as much as the convolutions.
//! On other devices than the CPU the same functions fall back to Candle's ops.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor, WithDType};

use crate::ops::cpu_values::contiguous;

/// `S(x)`: the sum over images and positions of each channel of `x` (n, c, h, w), of shape
/// (1, c, 1, 1). Differentiable to every order (its backward is [`channel_broadcast`]).
pub(crate) fn channel_sum(x: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return x.sum_keepdim((0, 2, 3));
    }
    x.contiguous()?.apply_op1(ChannelSum)
}

/// `B(s)`: `s` (1, c, 1, 1) repeated over the images and positions of a tensor of shape
/// `(n, c, h, w)`. Differentiable to every order (its backward is [`channel_sum`]).
pub(crate) fn channel_broadcast(
    s: &Tensor,
    (n, c, h, w): (usize, usize, usize, usize),
) -> Result<Tensor> {
    if s.dims() != [1, c, 1, 1] {
        candle_core::bail!("channel_broadcast: {:?} is not (1, {c}, 1, 1)", s.dims());
    }
    if !s.device().is_cpu() {
        return s.broadcast_as((n, c, h, w))?.contiguous();
    }
    s.contiguous()?.apply_op1(ChannelBroadcast {
        images: n,
        positions: (h, w),
    })
}

/// Candle's custom-op interface for [`channel_sum`].
struct ChannelSum;

/// Candle's custom-op interface for [`channel_broadcast`].
struct ChannelBroadcast {
    images: usize,
    positions: (usize, usize),
}

/// The sum of `values` in 8 interleaved partial sums (vectorised by the compiler), then in
/// order.
fn sum<T: WithDType>(values: &[T]) -> T {
    let zero = T::from_f64(0.0);
    let mut lanes = [zero; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    let tail = chunks.remainder().iter().fold(zero, |a, &v| a + v);
    lanes.iter().fold(zero, |a, &v| a + v) + tail
}

fn sum_channels<T: WithDType>(x: &[T], channels: usize, plane: usize) -> Vec<T> {
    let mut sums = vec![T::from_f64(0.0); channels];
    for image in x.chunks(channels * plane) {
        for (total, values) in sums.iter_mut().zip(image.chunks(plane)) {
            *total += sum(values);
        }
    }
    sums
}

fn broadcast_channels<T: WithDType>(s: &[T], images: usize, plane: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(images * s.len() * plane);
    for _ in 0..images {
        for &value in s {
            out.extend(std::iter::repeat_n(value, plane));
        }
    }
    out
}

impl CustomOp1 for ChannelSum {
    fn name(&self) -> &'static str {
        "channel-sum"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, c, h, w) = layout.shape().dims4()?;
        let values = match storage {
            CpuStorage::F32(x) => {
                CpuStorage::F32(sum_channels(contiguous(self.name(), x, layout)?, c, h * w))
            }
            CpuStorage::F64(x) => {
                CpuStorage::F64(sum_channels(contiguous(self.name(), x, layout)?, c, h * w))
            }
            other => candle_core::bail!(
                "channel-sum: dtype {:?} (f32 or f64 expected)",
                other.dtype()
            ),
        };
        Ok((values, Shape::from((1, c, 1, 1))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(channel_broadcast(grad, arg.dims4()?)?))
    }
}

impl CustomOp1 for ChannelBroadcast {
    fn name(&self) -> &'static str {
        "channel-broadcast"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (_, c, _, _) = layout.shape().dims4()?;
        let (h, w) = self.positions;
        let values = match storage {
            CpuStorage::F32(s) => CpuStorage::F32(broadcast_channels(
                contiguous(self.name(), s, layout)?,
                self.images,
                h * w,
            )),
            CpuStorage::F64(s) => CpuStorage::F64(broadcast_channels(
                contiguous(self.name(), s, layout)?,
                self.images,
                h * w,
            )),
            other => {
                candle_core::bail!(
                    "channel-broadcast: dtype {:?} (f32 or f64 expected)",
                    other.dtype()
                )
            }
        };
        Ok((values, Shape::from((self.images, c, h, w))))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(channel_sum(grad)?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Var;

    use super::{channel_broadcast, channel_sum};
    use crate::test_support::{max_difference, values};

    #[test]
    fn values_equal_candle_reductions_and_broadcasts() {
        let x = values(&[3, 4, 5, 7], 0.0);
        let sums = channel_sum(&x).unwrap();
        assert!(max_difference(&sums, &x.sum_keepdim((0, 2, 3)).unwrap()) < 1e-12);
        let s = values(&[1, 4, 1, 1], 1.0);
        let expanded = channel_broadcast(&s, (3, 4, 5, 7)).unwrap();
        let reference = s.broadcast_as((3, 4, 5, 7)).unwrap();
        assert_eq!(max_difference(&expanded, &reference), 0.0);
    }

    /// Second derivatives through both ops equal those through Candle's: for
    /// f(x) = ⟨B(S(x²)), x⟩ the Hessian-vector product by double backward.
    #[test]
    fn second_derivatives_equal_candle_ops() {
        // SAFETY: every test that sets it sets the same value; candle reads it per backward.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
        let x = Var::from_tensor(&values(&[2, 3, 4, 5], 0.5)).unwrap();
        let v = values(&[2, 3, 4, 5], 2.0);
        let hvp = |ours: bool| {
            let squares = x.sqr().unwrap();
            let expanded = if ours {
                channel_broadcast(&channel_sum(&squares).unwrap(), (2, 3, 4, 5)).unwrap()
            } else {
                let s = squares.sum_keepdim((0, 2, 3)).unwrap();
                s.broadcast_as((2, 3, 4, 5)).unwrap()
            };
            let f = (expanded * x.as_tensor()).unwrap().sum_all().unwrap();
            let g = f.backward().unwrap().get(&x).unwrap().clone();
            let second = (g * &v).unwrap().sum_all().unwrap().backward().unwrap();
            second.get(&x).unwrap().clone()
        };
        let (ours, reference) = (hvp(true), hvp(false));
        let scale = reference
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!(scale > 1.0);
        assert!(max_difference(&ours, &reference) < 1e-12 * scale);
    }

    #[test]
    fn rejects_a_broadcast_of_the_wrong_shape() {
        let error = channel_broadcast(&values(&[1, 3, 1, 1], 0.0), (2, 4, 1, 1)).unwrap_err();
        assert!(error.to_string().contains("is not (1, 4, 1, 1)"), "{error}");
    }
}
