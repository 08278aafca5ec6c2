//! The product `X·W` of constant data `X` with a weight `W`, whose backward pass computes only
//! the weight side — to every order.
//!
//! Candle's matmul backward computes the gradient of *both* operands, also of one that is not a
//! variable (candle-core 0.11.1, `backprop.rs`, `Op::Matmul`). For the first layer of an MLP on
//! CIFAR-10 that unused gradient `∂L/∂X = G·Wᵀ` (batch × 3072) costs as much as the layer's
//! forward pass, and a Hessian-vector product by double backward pays it twice more (once for
//! the data side of `∂L/∂W = Xᵀ·G`, once for the data side of the forward product).
//!
//! [`data_product`] records its own backward: for `Y = X·W` with constant `X`,
//!
//! `∂⟨G, Y⟩/∂W = Xᵀ·G`,
//!
//! computed by [`data_product`] again (with the constant `Xᵀ`), so the gradient is itself
//! differentiable with the same saving, and a second backward through it gives
//! `∂⟨V, Xᵀ·G⟩/∂G = X·V`. Each pass therefore does one large product per layer instead of two.
//! Forward values are Candle's own matmul (the same kernel, bitwise the same result).

use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CudaStorage, CustomOp2, Layout, MetalStorage, Result, Shape, Tensor,
};

/// `data · weight` for `data` of shape (m, k) that depends on no variable and `weight` of
/// shape (k, n); the gradient flows to `weight` only (see the module documentation).
///
/// Errors if `data` carries a gradient graph (its gradient would silently be dropped), if
/// either operand is not 2-D, or if the inner dimensions differ.
pub(crate) fn data_product(data: &Tensor, weight: &Tensor) -> Result<Tensor> {
    if data.track_op() {
        candle_core::bail!("data_product: the data operand depends on a variable");
    }
    let (_, k) = data.dims2()?;
    let (k_weight, _) = weight.dims2()?;
    if k != k_weight {
        candle_core::bail!(
            "data_product: data {:?} and weight {:?} do not multiply",
            data.shape(),
            weight.shape()
        );
    }
    data.apply_op2(weight, DataProduct)
}

/// Candle's custom-op interface for [`data_product`].
struct DataProduct;

/// `data · weight` on any backend: Candle's own matmul kernel with `(b, m, n, k) = (1, m, n, k)`,
/// called exactly as `Tensor::matmul` calls it (the layouts as they are, no copy). On CUDA
/// that is cuBLAS gemm, which takes either operand transposed, as the backward passes
/// produce them (`Xᵀ` as the data of the gradient, a transposed probe in the second
/// backward); layouts it cannot take give Candle's `MatMulNonContiguous` error, as they would
/// in `Tensor::matmul`. The backward (`bwd` below) is built from tensor ops only, so the
/// double backward is the same on every device.
fn product<S: BackendStorage>(
    data: &S,
    data_layout: &Layout,
    weight: &S,
    weight_layout: &Layout,
) -> Result<(S, Shape)> {
    let (m, k) = data_layout.shape().dims2()?;
    let (_, n) = weight_layout.shape().dims2()?;
    let result = data.matmul(weight, (1, m, n, k), data_layout, weight_layout)?;
    Ok((result, Shape::from((m, n))))
}

impl CustomOp2 for DataProduct {
    fn name(&self) -> &'static str {
        "data-product"
    }

    fn cpu_fwd(
        &self,
        data: &CpuStorage,
        data_layout: &Layout,
        weight: &CpuStorage,
        weight_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        product(data, data_layout, weight, weight_layout)
    }

    fn cuda_fwd(
        &self,
        data: &CudaStorage,
        data_layout: &Layout,
        weight: &CudaStorage,
        weight_layout: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        product(data, data_layout, weight, weight_layout)
    }

    fn metal_fwd(
        &self,
        data: &MetalStorage,
        data_layout: &Layout,
        weight: &MetalStorage,
        weight_layout: &Layout,
    ) -> Result<(MetalStorage, Shape)> {
        product(data, data_layout, weight, weight_layout)
    }

    /// `∂⟨G, X·W⟩/∂W = Xᵀ·G`, as a data product again; nothing for the constant `X`.
    fn bwd(
        &self,
        data: &Tensor,
        _weight: &Tensor,
        _result: &Tensor,
        gradient: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((None, Some(data_product(&data.t()?, gradient)?)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::data_product;

    fn operands() -> (Tensor, Var) {
        let data = Tensor::arange(0.0f64, 12.0, &Device::Cpu)
            .unwrap()
            .reshape((4, 3))
            .unwrap()
            .cos()
            .unwrap();
        let weight = Tensor::arange(0.0f64, 6.0, &Device::Cpu)
            .unwrap()
            .reshape((3, 2))
            .unwrap()
            .sin()
            .unwrap();
        (data, Var::from_tensor(&weight).unwrap())
    }

    #[test]
    fn values_and_weight_gradient_equal_candle_matmul_bitwise() {
        let (data, weight) = operands();
        let ours = data_product(&data, weight.as_tensor()).unwrap();
        let reference = data.matmul(weight.as_tensor()).unwrap();
        assert_eq!(
            ours.to_vec2::<f64>().unwrap(),
            reference.to_vec2::<f64>().unwrap()
        );
        let gradient = |y: Tensor| {
            let loss = y.tanh().unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            grads.get(&weight).unwrap().to_vec2::<f64>().unwrap()
        };
        assert_eq!(gradient(ours), gradient(reference));
    }

    #[test]
    fn rejects_data_with_a_graph_and_mismatched_shapes() {
        let (data, weight) = operands();
        let tracked = weight.as_tensor().t().unwrap();
        let error = data_product(&tracked, weight.as_tensor()).unwrap_err();
        assert!(
            error.to_string().contains("depends on a variable"),
            "{error}"
        );
        let error = data_product(&data.t().unwrap(), weight.as_tensor()).unwrap_err();
        assert!(error.to_string().contains("do not multiply"), "{error}");
    }
}
