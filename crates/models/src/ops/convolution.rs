//! 2-D convolution on the CPU as matrix products, with exact derivatives of every order.
//!
//! With `P` the patch extraction of [`crate::ops::patches`] and `W_mat` the weight `W` (o, c, k, k)
//! reshaped to (o, c·k²), a convolution of `x` (n, c, h, w) is, image by image,
//!
//! `y_i = W_mat · P(x_i)`.
//!
//! It is bilinear in (x, W), so with `G` the gradient of the output its backward pass is two
//! more products of the same kind,
//!
//! `∂⟨G, y⟩/∂x_i = Pᵀ(W_matᵀ · G_i)` ([`Product::InputGradient`]),
//! `∂⟨G, y⟩/∂W_mat = Σ_i G_i · P(x_i)ᵀ` ([`Product::WeightGradient`]),
//!
//! and the three close under differentiation: the input gradient, bilinear in (G, W), has
//! backward `(R ↦ conv(R, W), G·P(R)ᵀ)`, and the weight gradient, bilinear in (G, x), has
//! backward `(E ↦ conv(x, E), Pᵀ(Eᵀ·G))`. Each is a Candle custom op whose `bwd` applies the
//! others, so double backward (Hessian-vector products) is exact, and every product runs in
//! the `gemm` crate (Candle's own matmul kernel) on one image's patch matrix at a time, which
//! is never kept in the graph. An operand that depends on no variable (the images, for the
//! first layer) gets no gradient computed.
//!
//! Why not Candle's `conv2d` on the CPU: its backward passes (`conv_transpose2d` for the input
//! and a convolution over the batch for the kernel, candle-core 0.11.1) are loops of short dot
//! products and strided copies, several times slower than the same arithmetic as matrix
//! products (measurements in the crate README). Patches built from Candle ops (shifted
//! `narrow`s, or a patch op followed by a batched matmul) were slower still, because Candle's
//! backward pass allocates and accumulates gradients of the full patch tensors. These ops have
//! CPU kernels only; on other devices the layers use Candle's `conv2d`.

use crate::ops::cpu_values::contiguous;
use crate::ops::matrix::{Matrix, multiply};
use crate::ops::patches::Patches;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor, WithDType};

/// Convolution of `x` (n, c, h, w) with `weight` (o, c, k, k), stride and zero padding, as
/// matrix products (see the module documentation). CPU tensors, f32 or f64.
pub(crate) fn convolve(
    x: &Tensor,
    weight: &Tensor,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    let (_, c, h, w) = x.dims4()?;
    let (outputs, c_weight, k, k_width) = weight.dims4()?;
    if c_weight != c || k_width != k {
        candle_core::bail!(
            "convolve: weight {:?} does not fit an input of {:?}",
            weight.dims(),
            x.dims()
        );
    }
    let geometry = Patches::new((c, h, w), k, stride, padding)?;
    Convolution {
        product: Product::Output,
        geometry,
        outputs,
    }
    .apply(x, weight)
}

/// Which of the three products of a convolution an op computes; operands in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Product {
    /// `(x, W) ↦ y`, `y_i = W_mat · P(x_i)`.
    Output,
    /// `(G, W) ↦ ∂⟨G, y⟩/∂x`, image `i`: `Pᵀ(W_matᵀ · G_i)`.
    InputGradient,
    /// `(G, x) ↦ ∂⟨G, y⟩/∂W`: `Σ_i G_i · P(x_i)ᵀ`, summed over images in order.
    WeightGradient,
}

/// One product of a convolution of the given geometry with `outputs` output channels.
#[derive(Clone, Copy, Debug)]
struct Convolution {
    product: Product,
    geometry: Patches,
    outputs: usize,
}

impl Convolution {
    /// Applies this product to `(a, b)` as a Candle op (made contiguous first).
    fn apply(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        a.contiguous()?.apply_op2(&b.contiguous()?, self)
    }

    /// The same geometry computing another product.
    fn with(self, product: Product) -> Self {
        Self { product, ..self }
    }

    fn image_dims(&self) -> [usize; 3] {
        let (c, h, w) = self.geometry.image_dims();
        [c, h, w]
    }

    fn output_dims(&self) -> [usize; 3] {
        let g = &self.geometry;
        [self.outputs, g.out_height(), g.out_width()]
    }

    fn weight_dims(&self) -> [usize; 4] {
        let (c, k) = (self.geometry.image_dims().0, self.geometry.kernel());
        [self.outputs, c, k, k]
    }

    /// Checks both operands' shapes; returns the number of images and the result's shape.
    fn shapes(&self, a: &Layout, b: &Layout) -> Result<(usize, Shape)> {
        let n = a.dims().first().copied().unwrap_or(0);
        let batch = |dims: [usize; 3]| vec![n, dims[0], dims[1], dims[2]];
        let (expected_a, expected_b, result) = match self.product {
            Product::Output => (
                batch(self.image_dims()),
                self.weight_dims().to_vec(),
                batch(self.output_dims()),
            ),
            Product::InputGradient => (
                batch(self.output_dims()),
                self.weight_dims().to_vec(),
                batch(self.image_dims()),
            ),
            Product::WeightGradient => (
                batch(self.output_dims()),
                batch(self.image_dims()),
                self.weight_dims().to_vec(),
            ),
        };
        if a.dims() != expected_a || b.dims() != expected_b {
            candle_core::bail!(
                "convolution {:?}: operands {:?} and {:?}, expected {expected_a:?} and {expected_b:?}",
                self.product,
                a.dims(),
                b.dims()
            );
        }
        Ok((n, Shape::from(result)))
    }

    /// The product on contiguous values of `n` images, one patch matrix at a time.
    fn compute<T: WithDType>(&self, a: &[T], b: &[T], n: usize) -> Vec<T> {
        let g = &self.geometry;
        let (rows, positions, outputs) = (g.rows(), g.positions(), self.outputs);
        let zero = T::from_f64(0.0);
        // One image's patch matrix; padding entries are never written, so they stay 0.
        let mut patches = vec![zero; g.patch_len()];
        let output_len = outputs * positions;
        match self.product {
            Product::Output => {
                let w = Matrix::new(b, outputs, rows);
                let mut y = vec![zero; n * output_len];
                for (y_i, x_i) in y.chunks_mut(output_len).zip(a.chunks(g.image_len())) {
                    g.unfold_image(x_i, &mut patches);
                    let p = Matrix::new(&patches[..], rows, positions);
                    multiply(w, p, y_i, false);
                }
                y
            }
            Product::InputGradient => {
                let w_t = Matrix::new(b, outputs, rows).t();
                let mut dx = vec![zero; n * g.image_len()];
                for (dx_i, g_i) in dx.chunks_mut(g.image_len()).zip(a.chunks(output_len)) {
                    let g_i = Matrix::new(g_i, outputs, positions);
                    multiply(w_t, g_i, &mut patches, false);
                    g.fold_image(&patches, dx_i);
                }
                dx
            }
            Product::WeightGradient => {
                let mut dw = vec![zero; outputs * rows];
                for (i, (g_i, x_i)) in a
                    .chunks(output_len)
                    .zip(b.chunks(g.image_len()))
                    .enumerate()
                {
                    g.unfold_image(x_i, &mut patches);
                    let p_t = Matrix::new(&patches[..], rows, positions).t();
                    multiply(Matrix::new(g_i, outputs, positions), p_t, &mut dw, i > 0);
                }
                dw
            }
        }
    }
}

impl CustomOp2 for Convolution {
    fn name(&self) -> &'static str {
        match self.product {
            Product::Output => "convolution",
            Product::InputGradient => "convolution-input-gradient",
            Product::WeightGradient => "convolution-weight-gradient",
        }
    }

    fn cpu_fwd(
        &self,
        a: &CpuStorage,
        a_layout: &Layout,
        b: &CpuStorage,
        b_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, shape) = self.shapes(a_layout, b_layout)?;
        let values = match (a, b) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => CpuStorage::F32(self.compute(
                contiguous(self.name(), a, a_layout)?,
                contiguous(self.name(), b, b_layout)?,
                n,
            )),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => CpuStorage::F64(self.compute(
                contiguous(self.name(), a, a_layout)?,
                contiguous(self.name(), b, b_layout)?,
                n,
            )),
            _ => candle_core::bail!(
                "{}: operands of dtypes {:?} and {:?} (f32 or f64 expected)",
                self.name(),
                a.dtype(),
                b.dtype()
            ),
        };
        Ok((values, shape))
    }

    /// The bilinear backward passes of the module documentation; an operand that depends on
    /// no variable gets `None`.
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _result: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        use Product::*;
        let gradient = |needed: &Tensor, product: Product, first: &Tensor, second: &Tensor| {
            needed
                .track_op()
                .then(|| self.with(product).apply(first, second))
                .transpose()
        };
        match self.product {
            // a = x, b = W.
            Output => Ok((
                gradient(a, InputGradient, grad, b)?,
                gradient(b, WeightGradient, grad, a)?,
            )),
            // a = G, b = W; grad has the shape of x.
            InputGradient => Ok((
                gradient(a, Output, grad, b)?,
                gradient(b, WeightGradient, a, grad)?,
            )),
            // a = G, b = x; grad has the shape of W.
            WeightGradient => Ok((
                gradient(a, Output, b, grad)?,
                gradient(b, InputGradient, a, grad)?,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor, Var};

    use super::convolve;
    use crate::test_support::{max_difference, values};

    /// (channels, size, kernel, stride, padding): the networks' layers and odd shapes.
    const GEOMETRIES: [(usize, usize, usize, usize, usize); 6] = [
        (3, 8, 3, 1, 1),
        (2, 7, 3, 2, 1),
        (2, 6, 1, 2, 0),
        (1, 5, 3, 1, 0),
        (2, 4, 3, 1, 2),
        (1, 5, 2, 3, 1),
    ];

    /// Values on h × (h + 1) images; gradients on square ones, since Candle's own `conv2d`
    /// backward fails on non-square strided inputs (it sizes `conv_transpose2d`'s output
    /// padding from the height alone, candle-core 0.11.1).
    #[test]
    fn values_and_gradients_equal_candle_conv2d() {
        for (i, &(c, size, k, stride, padding)) in GEOMETRIES.iter().enumerate() {
            let w = Var::from_tensor(&values(&[3, c, k, k], 10.0 + i as f64)).unwrap();
            let wide = values(&[2, c, size, size + 1], i as f64);
            let ours = convolve(&wide, &w, stride, padding).unwrap();
            let reference = wide.conv2d(&w, padding, stride, 1, 1).unwrap();
            assert_eq!(ours.dims(), reference.dims(), "geometry {i}");
            assert!(
                max_difference(&ours, &reference) < 1e-13,
                "geometry {i}: values"
            );

            let x = Var::from_tensor(&values(&[2, c, size, size], i as f64)).unwrap();
            let ours = convolve(&x, &w, stride, padding).unwrap();
            let reference = x.conv2d(&w, padding, stride, 1, 1).unwrap();
            let probe = values(ours.dims(), 20.0 + i as f64);
            let gradients =
                |y: &Tensor| (y * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let (g_ours, g_reference) = (gradients(&ours), gradients(&reference));
            for var in [&x, &w] {
                let (a, b) = (g_ours.get(var).unwrap(), g_reference.get(var).unwrap());
                assert!(max_difference(a, b) < 1e-13, "geometry {i}: gradient");
            }
        }
    }

    #[test]
    fn data_operands_get_no_gradient() {
        let x = values(&[2, 3, 8, 8], 0.0);
        let w = Var::from_tensor(&values(&[4, 3, 3, 3], 1.0)).unwrap();
        let grads = convolve(&x, &w, 1, 1)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(grads.get(&x).is_none());
        assert!(grads.get(&w).is_some());
    }

    /// A two-layer CNN loss Σ tanh(conv(tanh(conv(x, w₁, stride 2)), w₂))² through `conv`
    /// (ours or Candle's), and its dense Hessian in (w₁, w₂): row j is the Hessian-vector
    /// product with the j-th unit vector, by double backward.
    fn dense_hessian(
        conv: fn(&Tensor, &Tensor, usize, usize) -> candle_core::Result<Tensor>,
    ) -> Vec<Vec<f64>> {
        // SAFETY: every test that sets it sets the same value; candle reads it per backward.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
        let x = values(&[2, 2, 5, 5], 0.3);
        let w1 = Var::from_tensor(&(values(&[2, 2, 3, 3], 1.0) * 0.5).unwrap()).unwrap();
        let w2 = Var::from_tensor(&(values(&[2, 2, 3, 3], 2.0) * 0.5).unwrap()).unwrap();
        let h = conv(&x, &w1, 2, 1).unwrap().tanh().unwrap();
        let out = conv(&h, &w2, 1, 1).unwrap().tanh().unwrap();
        let grads = out.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        let flat = |grads: &candle_core::backprop::GradStore| {
            let parts = [&w1, &w2].map(|w| grads.get(w).unwrap().flatten_all().unwrap());
            Tensor::cat(&parts, 0).unwrap()
        };
        let gradient = flat(&grads);
        let n = gradient.dim(0).unwrap();
        (0..n)
            .map(|j| {
                let unit = Tensor::ones(1, DType::F64, &Device::Cpu)
                    .unwrap()
                    .pad_with_zeros(0, j, n - j - 1)
                    .unwrap();
                let second = (&gradient * &unit)
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .backward()
                    .unwrap();
                flat(&second).to_vec1::<f64>().unwrap()
            })
            .collect()
    }

    #[test]
    fn dense_hessian_of_a_tiny_cnn_equals_candle_conv2d_and_is_symmetric() {
        let ours = dense_hessian(convolve);
        let reference = dense_hessian(|x, w, stride, padding| x.conv2d(w, padding, stride, 1, 1));
        let scale = ours.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 1e-3,
            "the Hessian is zero (double backward detached?)"
        );
        for (i, (row, reference_row)) in ours.iter().zip(&reference).enumerate() {
            for (j, (value, expected)) in row.iter().zip(reference_row).enumerate() {
                assert!(
                    (value - expected).abs() < 1e-12 * scale,
                    "H[{i}][{j}]: {value} vs Candle's {expected}"
                );
                assert!(
                    (value - ours[j][i]).abs() < 1e-12 * scale,
                    "H[{i}][{j}] ≠ H[{j}][{i}]"
                );
            }
        }
    }

    #[test]
    fn rejects_weights_and_dtypes_that_do_not_fit() {
        let x = values(&[1, 2, 4, 4], 0.0);
        let error = convolve(&x, &values(&[1, 3, 3, 3], 0.0), 1, 1).unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
        let error = convolve(&x, &values(&[1, 2, 7, 7], 0.0), 1, 1).unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
        let w = values(&[1, 2, 3, 3], 0.0).to_dtype(DType::F32).unwrap();
        assert!(convolve(&x, &w, 1, 1).is_err());
    }
}
