//! tanh as a Candle custom op on the CPU, with exact derivatives of every order: its values
//! come from [`crate::ops::tanh_values`] (vectorised; f32 as XLA and Eigen compute it, f64 as
//! Cephes does) instead of Candle's element-by-element libm calls.
//!
//! The derivative is `1 − tanh(x)²` evaluated with the op's own output `y` — the rule Candle
//! and JAX use. Its product with the upstream gradient, `g·(1 − y²)`, is one more custom op
//! ([`tanh_gradient`], one pass instead of Candle's three and their graph nodes), whose own
//! derivatives are `∂/∂g = v·(1 − y²)` (the same op) and `∂/∂y = −2·g·y·v` (tensor ops), and
//! differentiating through `y` goes through the tanh op once more: Hessian-vector products
//! by double backward stay exact for the function computed. Other devices and dtypes use
//! Candle's ops.

use candle_core::WithDType;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor};

use crate::ops::cpu_values::{contiguous, map, zip_map};
use crate::ops::tanh_values::{tanh_f32, tanh_f64};

/// `tanh(x)` elementwise: on the CPU in f32 and f64 by [`crate::ops::tanh_values`], otherwise
/// Candle's `tanh`. Differentiable to every order.
pub(crate) fn tanh(x: &Tensor) -> Result<Tensor> {
    if is_cpu_float(x) {
        x.contiguous()?.apply_op1(Tanh)
    } else {
        x.tanh()
    }
}

/// `g·(1 − y²)` elementwise, the gradient through `y = tanh(x)` for the upstream gradient
/// `g`; one pass on the CPU in f32 and f64. Differentiable to every order (module
/// documentation).
pub(crate) fn tanh_gradient(g: &Tensor, y: &Tensor) -> Result<Tensor> {
    if is_cpu_float(g) && g.dtype() == y.dtype() {
        g.contiguous()?.apply_op2(&y.contiguous()?, TanhGradient)
    } else {
        g.mul(&y.sqr()?.affine(-1.0, 1.0)?)
    }
}

/// Whether the custom ops of this module take `x`: an f32 or f64 tensor on the CPU.
fn is_cpu_float(x: &Tensor) -> bool {
    x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// Candle's custom-op interface for [`tanh`] on the CPU.
struct Tanh;

impl CustomOp1 for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let out = match storage {
            CpuStorage::F32(x) => {
                CpuStorage::F32(map(contiguous(self.name(), x, layout)?, |&x| tanh_f32(x)))
            }
            CpuStorage::F64(x) => {
                CpuStorage::F64(map(contiguous(self.name(), x, layout)?, |&x| tanh_f64(x)))
            }
            other => candle_core::bail!("tanh: dtype {:?} (f32 or f64 expected)", other.dtype()),
        };
        Ok((out, layout.shape().clone()))
    }

    /// `∂L/∂x = g·(1 − y²)` with `y` this op's output (a tensor of the graph).
    fn bwd(&self, _x: &Tensor, y: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(tanh_gradient(grad, y)?))
    }
}

/// Candle's custom-op interface for [`tanh_gradient`] on the CPU.
struct TanhGradient;

/// `g·(1 − y·y)` elementwise.
fn through_tanh<T: WithDType>(g: &[T], y: &[T]) -> Vec<T> {
    let one = T::from_f64(1.0);
    zip_map(g, y, |&g, &y| g * (one - y * y))
}

impl CustomOp2 for TanhGradient {
    fn name(&self) -> &'static str {
        "tanh-gradient"
    }

    fn cpu_fwd(
        &self,
        g: &CpuStorage,
        g_layout: &Layout,
        y: &CpuStorage,
        y_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        if g_layout.shape() != y_layout.shape() {
            candle_core::bail!(
                "tanh-gradient: gradient {:?} and output {:?} differ",
                g_layout.shape(),
                y_layout.shape()
            );
        }
        let name = self.name();
        let out = match (g, y) {
            (CpuStorage::F32(g), CpuStorage::F32(y)) => CpuStorage::F32(through_tanh(
                contiguous(name, g, g_layout)?,
                contiguous(name, y, y_layout)?,
            )),
            (CpuStorage::F64(g), CpuStorage::F64(y)) => CpuStorage::F64(through_tanh(
                contiguous(name, g, g_layout)?,
                contiguous(name, y, y_layout)?,
            )),
            (g, y) => candle_core::bail!(
                "tanh-gradient: dtypes {:?} and {:?} (both f32 or both f64 expected)",
                g.dtype(),
                y.dtype()
            ),
        };
        Ok((out, g_layout.shape().clone()))
    }

    /// For the output `g·(1 − y²)` and its upstream gradient `v`: `v·(1 − y²)` for `g`,
    /// `−2·g·y·v` for `y`.
    fn bwd(
        &self,
        g: &Tensor,
        y: &Tensor,
        _result: &Tensor,
        v: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let for_g = tanh_gradient(v, y)?;
        let for_y = ((g * v)? * y)?.affine(-2.0, 0.0)?;
        Ok((Some(for_g), Some(for_y)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Tensor, Var};

    use super::*;
    use crate::ops::tanh_values::{tanh_f32, tanh_f64};
    use crate::test_support::{max_difference, values};

    /// Value, gradient and Hessian-vector product of `L(x) = Σ w ⊙ f(1.3·f(x))` with fixed
    /// weights `w`, as f64: the nesting makes the upstream gradient of the inner tanh depend
    /// on `x`, so the HVP differentiates [`tanh_gradient`] in both of its operands.
    fn derivatives(x0: &Tensor, v: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> [Tensor; 3] {
        let x = Var::from_tensor(x0).unwrap();
        let w = values(x0.dims(), 0.3).to_dtype(x0.dtype()).unwrap();
        let y = f(&(f(x.as_tensor()) * 1.3).unwrap());
        let loss = (&y * w).unwrap().sum_all().unwrap();
        let g = loss.backward().unwrap().get(&x).unwrap().clone();
        let hv = (&g * v).unwrap().sum_all().unwrap().backward().unwrap();
        let hv = hv.get(&x).unwrap().clone();
        [y, g, hv].map(|t| t.to_dtype(DType::F64).unwrap())
    }

    #[test]
    fn value_gradient_and_hessian_vector_product_match_candles_tanh() {
        // SAFETY: every test that sets it sets the same value; candle reads it per backward.
        unsafe { std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1") };
        for (dtype, tolerance) in [(DType::F32, 1e-6), (DType::F64, 1e-13)] {
            let x = (values(&[40, 25], 1.1) * 3.0)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let v = values(&[40, 25], 2.0).to_dtype(dtype).unwrap();
            let ours = derivatives(&x, &v, |x| tanh(x).unwrap());
            let candles = derivatives(&x, &v, |x| x.tanh().unwrap());
            for ((what, a), b) in ["value", "gradient", "HVP"].iter().zip(&ours).zip(&candles) {
                let difference = max_difference(a, b);
                assert!(difference < tolerance, "{what} in {dtype:?}: {difference}");
            }
            // The HVP is a second derivative, not zero.
            assert!(max_difference(&ours[2], &ours[2].zeros_like().unwrap()) > 0.1);
        }
    }

    /// `f` applied to every entry of `x`, in row-major order.
    fn entrywise<T: candle_core::WithDType>(x: &Tensor, f: fn(T) -> T) -> Vec<T> {
        let values = x.flatten_all().unwrap().to_vec1::<T>().unwrap();
        values.into_iter().map(f).collect()
    }

    #[test]
    fn values_come_from_tanh_values_also_for_strided_inputs() {
        let x = values(&[7, 3], 0.2);
        assert_eq!(
            entrywise(&tanh(&x).unwrap(), |y: f64| y),
            entrywise(&x, tanh_f64)
        );
        let strided = values(&[6, 4], 0.5)
            .to_dtype(DType::F32)
            .unwrap()
            .t()
            .unwrap();
        let got = tanh(&strided).unwrap();
        assert_eq!(got.dims(), [4, 6]);
        assert_eq!(entrywise(&got, |y: f32| y), entrywise(&strided, tanh_f32));
    }
}
