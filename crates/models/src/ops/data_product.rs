//! The product `X·Wᵀ` of constant data `X` with a weight `W` (a linear layer's form), whose
//! backward pass computes only the weight side — to every order.
//!
//! Candle's matmul backward computes the gradient of *both* operands, also of one that is not a
//! variable (candle-core 0.11.1, `backprop.rs`, `Op::Matmul`). For the first layer of an MLP on
//! CIFAR-10 that unused gradient `∂L/∂X = G·W` (batch × 3072) costs as much as the layer's
//! forward pass, and a Hessian-vector product by double backward pays it twice more (once for
//! the data side of `∂L/∂W = Gᵀ·X`, once for the data side of the forward product).
//!
//! Two custom ops close under differentiation, for `X` (m, k) constant, `W` (n, k), `G` (m, n):
//!
//! - [`data_product`] `A(X, W) = X·Wᵀ`, whose backward is `∂⟨G, X·Wᵀ⟩/∂W = Gᵀ·X = B(X, G)`;
//! - `B(X, G) = Gᵀ·X`, whose backward is `∂⟨V, Gᵀ·X⟩/∂G = X·Vᵀ = A(X, V)`.
//!
//! So the gradient is itself differentiable with the same saving, and each pass does one large
//! product per layer instead of two. `W` enters untransposed, so its gradient is produced in
//! its own layout: no transpose node in the graph, whose gradient Candle would accumulate into
//! a zero tensor and then copy back transposed. Values are Candle's own matmul kernel, called
//! with the transposes as strided layouts (no copy); on the CPU split across Candle's threads
//! by blocks of the result ([`crate::ops::matrix`], bitwise the same values).

use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CudaStorage, CustomOp2, Layout, MetalStorage, Result, Shape, Tensor,
};

use crate::ops::matrix::storage_product;

/// `data · weightᵀ` for `data` of shape (m, k) that depends on no variable and `weight` of
/// shape (n, k); the gradient flows to `weight` only (see the module documentation).
///
/// Errors if `data` carries a gradient graph (its gradient would silently be dropped), if
/// either operand is not 2-D, or if their column counts differ.
pub(crate) fn data_product(data: &Tensor, weight: &Tensor) -> Result<Tensor> {
    check(data)?;
    let (_, k) = data.dims2()?;
    let (_, k_weight) = weight.dims2()?;
    if k != k_weight {
        candle_core::bail!(
            "data_product: data {:?} and weight {:?} (n, k) do not multiply",
            data.shape(),
            weight.shape()
        );
    }
    data.apply_op2(weight, DataProduct::Forward)
}

/// `gradientᵀ · data` (n, k) for `data` (m, k) that depends on no variable and `gradient`
/// (m, n): the weight gradient of [`data_product`], differentiable in `gradient`.
pub(crate) fn weight_gradient(data: &Tensor, gradient: &Tensor) -> Result<Tensor> {
    check(data)?;
    data.apply_op2(gradient, DataProduct::WeightGradient)
}

/// Errors if `data` depends on a variable.
fn check(data: &Tensor) -> Result<()> {
    if data.track_op() {
        candle_core::bail!("data_product: the data operand depends on a variable");
    }
    Ok(())
}

/// Candle's custom-op interface for the pair `A` ([`data_product`]) and `B`
/// ([`weight_gradient`]); the first operand is always the constant data.
#[derive(Clone, Copy)]
enum DataProduct {
    /// `A(X, W) = X·Wᵀ`.
    Forward,
    /// `B(X, G) = Gᵀ·X`.
    WeightGradient,
}

/// The two operands of a product, each with the layout it enters with.
type Operands<'a, S> = (&'a S, Layout, &'a S, Layout);

impl DataProduct {
    /// The op's operands in product order, the transposed one as a transposed layout (no
    /// copy): `(X, Wᵀ)` for `A`, `(Gᵀ, X)` for `B`.
    fn operands<'a, S>(
        self,
        data: &'a S,
        data_layout: &Layout,
        other: &'a S,
        other_layout: &Layout,
    ) -> Result<Operands<'a, S>> {
        Ok(match self {
            Self::Forward => (
                data,
                data_layout.clone(),
                other,
                other_layout.transpose(0, 1)?,
            ),
            Self::WeightGradient => (
                other,
                other_layout.transpose(0, 1)?,
                data,
                data_layout.clone(),
            ),
        })
    }

    /// The op's product off the CPU: Candle's own matmul kernel with `(b, m, n, k) =
    /// (1, m, n, k)`. On CUDA that is cuBLAS gemm, which takes either operand transposed;
    /// layouts it cannot take give Candle's `MatMulNonContiguous` error, as they would in
    /// `Tensor::matmul`. The backward (`bwd` below) is built from these ops only, so the
    /// double backward is the same on every device.
    fn product<S: BackendStorage>(
        self,
        data: &S,
        data_layout: &Layout,
        other: &S,
        other_layout: &Layout,
    ) -> Result<(S, Shape)> {
        let (lhs, lhs_layout, rhs, rhs_layout) =
            self.operands(data, data_layout, other, other_layout)?;
        let (m, k) = lhs_layout.shape().dims2()?;
        let (k_rhs, n) = rhs_layout.shape().dims2()?;
        if k != k_rhs {
            candle_core::bail!(
                "data_product: {:?} and {:?} do not multiply",
                lhs_layout.shape(),
                rhs_layout.shape()
            );
        }
        let result = lhs.matmul(rhs, (1, m, n, k), &lhs_layout, &rhs_layout)?;
        Ok((result, Shape::from((m, n))))
    }
}

impl CustomOp2 for DataProduct {
    fn name(&self) -> &'static str {
        match self {
            Self::Forward => "data-product",
            Self::WeightGradient => "data-product-weight-gradient",
        }
    }

    fn cpu_fwd(
        &self,
        data: &CpuStorage,
        data_layout: &Layout,
        other: &CpuStorage,
        other_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (lhs, lhs_layout, rhs, rhs_layout) =
            self.operands(data, data_layout, other, other_layout)?;
        storage_product(self.name(), lhs, &lhs_layout, rhs, &rhs_layout)
    }

    fn cuda_fwd(
        &self,
        data: &CudaStorage,
        data_layout: &Layout,
        other: &CudaStorage,
        other_layout: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        self.product(data, data_layout, other, other_layout)
    }

    fn metal_fwd(
        &self,
        data: &MetalStorage,
        data_layout: &Layout,
        other: &MetalStorage,
        other_layout: &Layout,
    ) -> Result<(MetalStorage, Shape)> {
        self.product(data, data_layout, other, other_layout)
    }

    /// `A`'s backward is `B(X, G)`, `B`'s is `A(X, V)` (module documentation); nothing for the
    /// constant `X`.
    fn bwd(
        &self,
        data: &Tensor,
        _other: &Tensor,
        _result: &Tensor,
        gradient: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let other = match self {
            Self::Forward => weight_gradient(data, gradient)?,
            Self::WeightGradient => data_product(data, gradient)?,
        };
        Ok((None, Some(other)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::data_product;
    use crate::test_support::{max_difference, values};

    /// Data (4, 3) and a weight variable (2, 3).
    fn operands() -> (Tensor, Var) {
        let data = Tensor::arange(0.0f64, 12.0, &Device::Cpu)
            .unwrap()
            .reshape((4, 3))
            .unwrap()
            .cos()
            .unwrap();
        (data, Var::from_tensor(&values(&[2, 3], 0.4)).unwrap())
    }

    /// `L = Σ tanh(y)³` of a product `y`: its Hessian in the weight is not zero.
    fn loss(y: &Tensor) -> Tensor {
        y.tanh().unwrap().powf(3.0).unwrap().sum_all().unwrap()
    }

    #[test]
    fn values_and_weight_gradient_equal_candle_matmul_bitwise() {
        let (data, weight) = operands();
        let ours = data_product(&data, weight.as_tensor()).unwrap();
        let reference = data.matmul(&weight.as_tensor().t().unwrap()).unwrap();
        assert_eq!(
            ours.to_vec2::<f64>().unwrap(),
            reference.to_vec2::<f64>().unwrap()
        );
        let gradient = |y: Tensor| {
            let grads = loss(&y).backward().unwrap();
            grads.get(&weight).unwrap().to_vec2::<f64>().unwrap()
        };
        assert_eq!(gradient(ours), gradient(reference));
    }

    /// The Hessian-vector product goes through both ops of the pair (the forward's backward is
    /// the weight-gradient op, whose backward is the forward op again).
    #[test]
    fn hessian_vector_product_equals_candle_matmuls() {
        let (data, weight) = operands();
        let v = values(&[2, 3], 1.7);
        let hvp = |y: Tensor| {
            let grads = loss(&y).backward().unwrap();
            let g = grads.get(&weight).unwrap();
            let hv = (g * &v).unwrap().sum_all().unwrap().backward().unwrap();
            hv.get(&weight).unwrap().clone()
        };
        let ours = hvp(data_product(&data, weight.as_tensor()).unwrap());
        let reference = hvp(data.matmul(&weight.as_tensor().t().unwrap()).unwrap());
        assert!(max_difference(&ours, &reference) < 1e-12);
        assert!(max_difference(&ours, &ours.zeros_like().unwrap()) > 1e-3);
    }

    #[test]
    fn rejects_data_with_a_graph_and_mismatched_shapes() {
        let (data, weight) = operands();
        let tracked = weight.as_tensor().affine(2.0, 0.0).unwrap();
        let error = data_product(&tracked, weight.as_tensor()).unwrap_err();
        assert!(
            error.to_string().contains("depends on a variable"),
            "{error}"
        );
        let error = data_product(&data.t().unwrap(), weight.as_tensor()).unwrap_err();
        assert!(error.to_string().contains("do not multiply"), "{error}");
    }
}
