//! `⟨g, v⟩` for a gradient `g` with its graph and a constant probe `v`, as a Candle custom op
//! whose backward pass computes only `g`'s side: `∂⟨g, v⟩/∂g = v`.
//!
//! `g.mul(v)?.sum_all()` would cost the second backward pass of a Hessian-vector product more
//! than it needs (candle-core 0.11.1, `backprop.rs`): the sum's backward materialises a tensor
//! of ones the size of `g`, accumulated into a zero tensor, and the product's backward also
//! computes the gradient of the constant `v` (another product, zero tensor and sum), for every
//! parameter tensor. Here the backward is `v` scaled by the incoming scalar, one pass. The
//! products `Hv` are the same values either way (the incoming scalar is the root's 1); the
//! forward value, which only seeds the backward pass, is accumulated in f64.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType};

use crate::cpu_vector;

/// `⟨g, v⟩` as a scalar tensor whose gradient flows to `g` only (module documentation). On
/// other devices than the CPU, or for dtypes other than f32 and f64, `(g ⊙ v).sum()`.
pub(crate) fn probe_product(g: &Tensor, v: &Tensor) -> Result<Tensor> {
    let on_cpu = g.device().is_cpu() && matches!(g.dtype(), DType::F32 | DType::F64);
    if on_cpu && g.shape() == v.shape() && g.dtype() == v.dtype() && !v.track_op() {
        g.contiguous()?.apply_op2(&v.contiguous()?, ProbeProduct)
    } else {
        g.mul(v)?.sum_all()
    }
}

/// Candle's custom-op interface for [`probe_product`].
struct ProbeProduct;

impl CustomOp2 for ProbeProduct {
    fn name(&self) -> &'static str {
        "probe-product"
    }

    fn cpu_fwd(
        &self,
        g: &CpuStorage,
        g_layout: &Layout,
        v: &CpuStorage,
        v_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        fn dot<T: WithDType>(
            g: &CpuStorage,
            g_layout: &Layout,
            v: &CpuStorage,
            v_layout: &Layout,
        ) -> Result<f64> {
            match (
                cpu_vector::contiguous_values::<T>(g, g_layout),
                cpu_vector::contiguous_values::<T>(v, v_layout),
            ) {
                (Some(g), Some(v)) => Ok(cpu_vector::dot(g, v)),
                _ => candle_core::bail!("probe-product: contiguous operands of one dtype expected"),
            }
        }
        let value = match g {
            CpuStorage::F32(_) => {
                CpuStorage::F32(vec![dot::<f32>(g, g_layout, v, v_layout)? as f32])
            }
            CpuStorage::F64(_) => CpuStorage::F64(vec![dot::<f64>(g, g_layout, v, v_layout)?]),
            _ => candle_core::bail!("probe-product: f32 or f64 operands expected"),
        };
        Ok((value, Shape::from(())))
    }

    /// `∂⟨g, v⟩/∂g = s·v` for the incoming scalar `s`; nothing for the constant `v`.
    fn bwd(
        &self,
        _g: &Tensor,
        v: &Tensor,
        _result: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(v.broadcast_mul(grad)?), None))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::probe_product;

    #[test]
    fn value_and_gradient_equal_candles_product_and_sum() {
        // SAFETY: every test that sets it sets the same value; candle reads it per backward.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
        let w =
            Var::from_tensor(&Tensor::new(&[[1.0f64, -2.0], [0.5, 3.0]], &Device::Cpu).unwrap())
                .unwrap();
        let v = Tensor::new(&[[0.3f64, 0.7], [-1.1, 2.0]], &Device::Cpu).unwrap();
        // g = ∇ Σ w³ = 3w² keeps its graph; ∇⟨g, v⟩ = 6 w ⊙ v.
        let loss = w.as_tensor().powf(3.0).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        let g = grads.get(&w).unwrap();
        let ours = probe_product(g, &v).unwrap();
        let reference = g.mul(&v).unwrap().sum_all().unwrap();
        assert!(
            (ours.to_scalar::<f64>().unwrap() - reference.to_scalar::<f64>().unwrap()).abs()
                < 1e-14
        );
        let hv = |root: Tensor| {
            let store = root.backward().unwrap();
            store
                .get(&w)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap()
        };
        assert_eq!(hv(ours), hv(reference));
        let expected = [1.8, -8.4, -3.3, 36.0];
        for (a, b) in hv(probe_product(g, &v).unwrap()).iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
