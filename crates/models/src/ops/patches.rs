//! Patch extraction ("im2col") and its adjoint ("col2im"), image by image: the memory
//! layout behind [`crate::ops::convolution`].
//!
//! For an input `x` of shape (n, c, h, w), a k×k kernel, stride s and zero padding p, the
//! patch matrix of image `i` has one row per (channel, kernel row, kernel column) and one
//! column per output position:
//!
//! `P(x)[i, (c·k + a)·k + b, u·w_out + v] = x[i, c, u·s + a − p, v·s + b − p]` (0 outside),
//!
//! with `h_out = (h + 2p − k)/s + 1`, `w_out = (w + 2p − k)/s + 1`. A convolution with weight
//! `W` of shape (o, c, k, k) is `y[i] = W_mat · P(x)[i]`, `W_mat` = `W` reshaped to (o, c·k²).
//! The adjoint `Pᵀ` adds each patch entry back onto the pixel it came from.

use std::ops::Range;

use candle_core::{Result, WithDType};

/// The geometry of a patch extraction: input channels and size, kernel, stride, padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Patches {
    channels: usize,
    height: usize,
    width: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

impl Patches {
    /// The geometry for inputs of shape (n, `channels`, `height`, `width`); errors if the
    /// kernel does not fit the padded input or the kernel or stride is 0.
    pub(crate) fn new(
        (channels, height, width): (usize, usize, usize),
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Self> {
        if stride == 0 || kernel == 0 || kernel > height.min(width) + 2 * padding {
            candle_core::bail!(
                "patches: a {kernel}×{kernel} kernel with stride {stride} and padding {padding} \
                 does not fit {height}×{width} images"
            );
        }
        Ok(Self {
            channels,
            height,
            width,
            kernel,
            stride,
            padding,
        })
    }

    /// (channels, height, width) of one input image.
    pub(crate) fn image_dims(&self) -> (usize, usize, usize) {
        (self.channels, self.height, self.width)
    }

    /// Kernel size k.
    pub(crate) fn kernel(&self) -> usize {
        self.kernel
    }

    /// Output height `(h + 2p − k)/s + 1`.
    pub(crate) fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Output width `(w + 2p − k)/s + 1`.
    pub(crate) fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Rows of one image's patch matrix, `c·k²`.
    pub(crate) fn rows(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Output positions per image, `h_out·w_out`.
    pub(crate) fn positions(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Values of one image's patch matrix, `c·k²·h_out·w_out`.
    pub(crate) fn patch_len(&self) -> usize {
        self.rows() * self.positions()
    }

    /// Values of one input image, `c·h·w`.
    pub(crate) fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The outputs `v < out_len` whose input `v·s + offset − p` lies in `0..in_len`.
    fn inside(&self, offset: usize, out_len: usize, in_len: usize) -> Range<usize> {
        let (s, p) = (self.stride, self.padding);
        let first = p.saturating_sub(offset).div_ceil(s).min(out_len);
        let end = (in_len + p)
            .checked_sub(offset)
            .map_or(0, |limit| limit.div_ceil(s))
            .min(out_len);
        first..end.max(first)
    }

    /// Calls `f(patch, pixel, count)` for every run of `count` patch entries
    /// `patch, patch + 1, …` of one image that come from the pixels `pixel, pixel + s, …`
    /// (one run per channel, kernel offset and output row; padding entries are skipped).
    fn for_each_run(&self, mut f: impl FnMut(usize, usize, usize)) {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let (out_h, out_w) = (self.out_height(), self.out_width());
        for c in 0..self.channels {
            for a in 0..k {
                let rows = self.inside(a, out_h, self.height);
                for b in 0..k {
                    let columns = self.inside(b, out_w, self.width);
                    let patch_row = ((c * k + a) * k + b) * out_h * out_w;
                    for u in rows.clone() {
                        let pixel =
                            (c * self.height + u * s + a - p) * self.width + columns.start * s + b
                                - p;
                        f(patch_row + u * out_w + columns.start, pixel, columns.len());
                    }
                }
            }
        }
    }

    /// Writes `P(image)` into `patches` (c·k² × h_out·w_out values; padding entries untouched).
    pub(crate) fn unfold_image<T: WithDType>(&self, image: &[T], patches: &mut [T]) {
        let s = self.stride;
        self.for_each_run(|patch, pixel, count| {
            for j in 0..count {
                patches[patch + j] = image[pixel + j * s];
            }
        });
    }

    /// Adds `Pᵀ(patches)` onto `image`.
    pub(crate) fn fold_image<T: WithDType>(&self, patches: &[T], image: &mut [T]) {
        let s = self.stride;
        self.for_each_run(|patch, pixel, count| {
            for j in 0..count {
                image[pixel + j * s] += patches[patch + j];
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Patches;

    fn values(count: usize, seed: f64) -> Vec<f64> {
        (0..count).map(|i| (0.7 * i as f64 + seed).sin()).collect()
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(a, b)| a * b).sum()
    }

    /// ⟨P(x), c⟩ = ⟨x, Pᵀ(c)⟩ for kernels, strides and paddings of every kind.
    #[test]
    fn fold_is_the_adjoint_of_unfold() {
        let geometries = [
            (3, 8, 3, 1, 1),
            (2, 7, 3, 2, 1),
            (2, 6, 1, 2, 0),
            (1, 5, 2, 3, 1),
            (2, 4, 3, 1, 2),
        ];
        for (i, &(c, size, k, stride, padding)) in geometries.iter().enumerate() {
            let g = Patches::new((c, size, size + 1), k, stride, padding).unwrap();
            let x = values(g.image_len(), i as f64);
            let columns = values(g.patch_len(), 10.0 + i as f64);
            let mut unfolded = vec![0.0; g.patch_len()];
            g.unfold_image(&x, &mut unfolded);
            let mut folded = vec![0.0; g.image_len()];
            g.fold_image(&columns, &mut folded);
            let (lhs, rhs) = (dot(&unfolded, &columns), dot(&x, &folded));
            assert!(
                (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
                "{i}: {lhs} vs {rhs}"
            );
            assert!(
                unfolded.contains(&0.0) == (padding > 0),
                "{i}: padding entries"
            );
        }
    }

    #[test]
    fn rejects_kernels_that_do_not_fit() {
        let error = Patches::new((1, 2, 2), 5, 1, 1).unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
        assert!(Patches::new((1, 4, 4), 3, 0, 0).is_err());
    }
}
