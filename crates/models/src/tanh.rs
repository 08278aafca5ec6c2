//! tanh on the CPU in f32 as XLA and Eigen compute it: a vectorised rational approximation
//! instead of Candle's element-by-element libm `tanhf`, with exact derivatives of every order.
//!
//! For |x| ≥ 0.0004 (Eigen's `generic_fast_tanh_float`, the same constants in XLA's CPU
//! emitter), with x clamped to [−c, c], c = 7.90531110763549805 (where the quotient reaches 1):
//!
//! `tanh(x) ≈ x·(α₁ + α₃x² + … + α₁₃x¹²) / (β₀ + β₂x² + β₄x⁴ + β₆x⁶)`,
//!
//! and `tanh(x) = x` below 0.0004 (the next term, x³/3, is below half an ulp there). A NaN
//! stays NaN (the clamp is written with comparisons, which a NaN fails), ±∞ gives ±1.
//! Evaluated in f64 and rounded once: within 2 ulps of the correctly rounded tanh on a sweep
//! of every 97th positive f32 (this module's tests; the worst case sits just above 0.0004,
//! where the quotient tends to α₁/β₀ = 1 − 1.3·10⁻⁷).
//!
//! Why: `tanhf` from libm, one element at a time, was about 8% of a gradient of figure 3's
//! MLP (profile in the crate README); this loop is compiled for the baseline instruction set
//! (SSE2 on x86-64, no FMA, no runtime dispatch), so it gives the same values on every CPU.
//!
//! f64 keeps libm's `tanh` (the values Candle gives), in the same op.
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

use crate::cpu_values::contiguous;

/// Inputs are clamped to ±`CLAMP`, beyond which tanh is 1 − 3·10⁻⁸ or closer to ±1.
const CLAMP: f32 = 9.0;
/// Below this magnitude `tanh(x) = x` in f32.
const LINEAR_BELOW: f32 = 0.0004;
/// Numerator coefficients α₁, α₃, …, α₁₃ (odd powers).
#[allow(clippy::excessive_precision)] // Eigen's decimal constants, as published.
const NUMERATOR: [f32; 7] = [
    4.89352455891786e-03,
    6.37261928875436e-04,
    1.48572235717979e-05,
    5.12229709037114e-08,
    -8.60467152213735e-11,
    2.00018790482477e-13,
    -2.76076847742355e-16,
];
/// Denominator coefficients β₀, β₂, β₄, β₆ (even powers).
#[allow(clippy::excessive_precision)]
const DENOMINATOR: [f32; 4] = [
    4.89352518554385e-03,
    2.26843463243900e-03,
    1.18534705686654e-04,
    1.19825839466702e-06,
];

/// `tanh(x)` elementwise: on the CPU in f32 the vectorised approximation of the module
/// documentation, in f64 libm's `tanh`; otherwise Candle's `tanh`. Differentiable to every
/// order.
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
fn tanh_gradient(g: &Tensor, y: &Tensor) -> Result<Tensor> {
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

/// The approximation of one f32 (see the module documentation), evaluated in f64 and rounded
/// once; written without branches so that the compiler vectorises loops over it.
fn tanh_f32(x: f32) -> f32 {
    let clamp = f64::from(CLAMP);
    let wide = f64::from(x);
    let clamped = if wide > clamp {
        clamp
    } else if wide < -clamp {
        -clamp
    } else {
        wide
    };
    let x2 = clamped * clamped;
    let mut p = f64::from(NUMERATOR[6]);
    for &alpha in NUMERATOR[..6].iter().rev() {
        p = p * x2 + f64::from(alpha);
    }
    let mut q = f64::from(DENOMINATOR[3]);
    for &beta in DENOMINATOR[..3].iter().rev() {
        q = q * x2 + f64::from(beta);
    }
    let y = (clamped * p / q) as f32;
    if x.abs() < LINEAR_BELOW { x } else { y }
}

/// Candle's custom-op interface for [`tanh`] on the CPU.
struct Tanh;

impl CustomOp1 for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let out = match storage {
            CpuStorage::F32(x) => CpuStorage::F32(
                contiguous(self.name(), x, layout)?
                    .iter()
                    .map(|&x| tanh_f32(x))
                    .collect(),
            ),
            CpuStorage::F64(x) => CpuStorage::F64(
                contiguous(self.name(), x, layout)?
                    .iter()
                    .map(|x| x.tanh())
                    .collect(),
            ),
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
    g.iter().zip(y).map(|(&g, &y)| g * (one - y * y)).collect()
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
    use crate::test_support::{max_difference, values};

    /// Distance in f32 units in the last place between `a` and `b` (same sign assumed
    /// except around 0, where it counts through zero).
    fn ulps(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let bits = v.to_bits() as i64;
            if bits < 0x8000_0000 {
                bits
            } else {
                0x8000_0000 - bits
            }
        };
        (key(a) - key(b)).unsigned_abs() as u32
    }

    #[test]
    fn is_within_a_few_ulps_of_the_true_tanh_over_a_sweep_of_all_f32() {
        let mut worst = (0, 0.0f32);
        // Every 97th bit pattern of the positive floats (the approximation is odd).
        for bits in (0..0x7f80_0000u32).step_by(97) {
            let x = f32::from_bits(bits);
            let exact = (x as f64).tanh() as f32;
            let error = ulps(tanh_f32(x), exact);
            assert_eq!(tanh_f32(-x), -tanh_f32(x), "odd at {x}");
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn stays_in_the_unit_interval_and_is_monotone_on_a_fine_grid() {
        let mut previous = -1.0f32;
        for i in -200_000..=200_000 {
            let y = tanh_f32(i as f32 * 5e-5);
            assert!(y.abs() <= 1.0, "|tanh| > 1 at {}", i as f32 * 5e-5);
            assert!(y >= previous, "decreasing at {}", i as f32 * 5e-5);
            previous = y;
        }
        assert_eq!(tanh_f32(100.0), tanh_f32(9.0));
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -tanh_f32(9.0));
        assert!(ulps(tanh_f32(f32::INFINITY), 1.0) <= 1);
        assert!(tanh_f32(f32::NAN).is_nan(), "a NaN must stay NaN");
        assert_eq!(tanh_f32(1e-30), 1e-30);
    }

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

    #[test]
    fn f64_keeps_libms_tanh_bit_for_bit_and_strided_inputs_are_read_in_order() {
        let x = values(&[7, 3], 0.2);
        assert_eq!(
            tanh(&x).unwrap().to_vec2::<f64>().unwrap(),
            x.tanh().unwrap().to_vec2::<f64>().unwrap()
        );
        let strided = values(&[6, 4], 0.5)
            .to_dtype(DType::F32)
            .unwrap()
            .t()
            .unwrap();
        let expected: Vec<f32> = strided
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .into_iter()
            .map(tanh_f32)
            .collect();
        let got = tanh(&strided).unwrap();
        assert_eq!(got.dims(), [4, 6]);
        assert_eq!(
            got.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            expected
        );
    }
}
