//! The values of tanh on the CPU, elementwise, vectorised by the compiler (for the
//! [`crate::ops::tanh`] op): Candle evaluates libm's `tanhf`/`tanh` one element at a time, which was
//! about 8% of a gradient of figure 3's MLP (profile in the crate README). Both functions
//! are written without branches (selects and comparisons) and use no FMA: the op's loops run
//! them in the widest vectors the CPU has ([`crate::ops::cpu_values::map`], AVX-512F or AVX2
//! chosen at run time), and since every operation is rounded as in scalar code, they give the
//! same values on every CPU. A NaN stays NaN (clamps are comparisons, which a NaN fails); ±∞
//! gives ±1.
//!
//! - f32 ([`tanh_f32`]), as XLA and Eigen compute it (`generic_fast_tanh_float`, the same
//!   constants in XLA's CPU emitter): for |x| ≥ 0.0004, with x clamped to [−9, 9],
//!   `tanh(x) ≈ x·(α₁ + α₃x² + … + α₁₃x¹²) / (β₀ + β₂x² + β₄x⁴ + β₆x⁶)`, and `tanh(x) = x`
//!   below 0.0004 (the next term, x³/3, is below half an ulp there). Evaluated in f64 and
//!   rounded once: within 2 ulps of the correctly rounded tanh on a sweep of every 97th
//!   positive f32 (the worst case sits just above 0.0004, where the quotient tends to
//!   α₁/β₀ = 1 − 1.3·10⁻⁷).
//! - f64 ([`tanh_f64`]), Cephes' `tanh`: `x + x·z·P(z)/Q(z)` with `z = x²` for |x| < 0.625,
//!   else `±(1 − 2/(e^{2|x|} + 1))` with Cephes' `exp` (argument reduction by ln 2 split in two,
//!   a rational in the remainder, the power of two put in the exponent bits), |x| clamped to
//!   20 (where tanh is 1 in f64). Within 2 ulps of libm's `tanh` on 800 000 points from
//!   10⁻³⁰⁰ to 30 (this module's tests).

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

/// The approximation of one f32 (see the module documentation), evaluated in f64 and rounded
/// once; written without branches so that the compiler vectorises loops over it.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
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

/// Cephes' tanh numerator `P₀z² + P₁z + P₂` (f64, |x| < 0.625).
#[allow(clippy::excessive_precision)] // Cephes' decimal constants, as published.
const TANH_P: [f64; 3] = [
    -9.64399179425052238628e-1,
    -9.92877231001918586564e1,
    -1.61468768441708447952e3,
];
/// Cephes' tanh denominator `z³ + Q₀z² + Q₁z + Q₂`.
#[allow(clippy::excessive_precision)]
const TANH_Q: [f64; 3] = [
    1.12811678491632931402e2,
    2.23548839060100448583e3,
    4.84406305325125486048e3,
];
/// Cephes' exp numerator `x·(P₀x⁴ + P₁x² + P₂)`.
#[allow(clippy::excessive_precision)]
const EXP_P: [f64; 3] = [
    1.26177193074810590878e-4,
    3.02994407707441961300e-2,
    9.99999999999999999910e-1,
];
/// Cephes' exp denominator `Q₀x⁶ + Q₁x⁴ + Q₂x² + Q₃`.
#[allow(clippy::excessive_precision)]
const EXP_Q: [f64; 4] = [
    3.00198505138664455042e-6,
    2.52448340349684104192e-3,
    2.27265548208155028766e-1,
    2.00000000000000000009e0,
];
/// ln 2 = `LN2_HIGH + LN2_LOW`, the high part exact in few bits (Cephes' C1, C2).
#[allow(clippy::excessive_precision)]
const LN2_HIGH: f64 = 6.93145751953125e-1;
#[allow(clippy::excessive_precision)]
const LN2_LOW: f64 = 1.42860682030941723212e-6;
/// 1.5·2⁵²: adding it rounds an f64 of magnitude below 2⁵¹ to an integer, kept in the low
/// mantissa bits.
const ROUNDING: f64 = 6_755_399_441_055_744.0;
/// Below this magnitude the rational branch of [`tanh_f64`].
const RATIONAL_BELOW: f64 = 0.625;
/// |x| is clamped here: tanh(20) = 1 − 8.5·10⁻¹⁸ rounds to 1 in f64.
const SATURATION: f64 = 20.0;

/// `e^y` for `0 ≤ y ≤ 40` (Cephes' `exp`, branch-free; see the module documentation).
#[inline(always)]
fn exp_f64(y: f64) -> f64 {
    let shifted = y * std::f64::consts::LOG2_E + ROUNDING;
    let n = shifted - ROUNDING;
    let power = shifted.to_bits().wrapping_sub(ROUNDING.to_bits());
    let r = (y - n * LN2_HIGH) - n * LN2_LOW;
    let rr = r * r;
    let p = r * ((EXP_P[0] * rr + EXP_P[1]) * rr + EXP_P[2]);
    let q = ((EXP_Q[0] * rr + EXP_Q[1]) * rr + EXP_Q[2]) * rr + EXP_Q[3];
    let mantissa = 1.0 + 2.0 * (p / (q - p));
    mantissa * f64::from_bits((power.wrapping_add(1023)) << 52)
}

/// tanh of one f64 (Cephes; see the module documentation), branch-free.
#[inline(always)]
pub(crate) fn tanh_f64(x: f64) -> f64 {
    let z = x * x;
    let p = ((TANH_P[0] * z + TANH_P[1]) * z + TANH_P[2]) * z;
    let q = ((z + TANH_Q[0]) * z + TANH_Q[1]) * z + TANH_Q[2];
    let rational = x + x * (p / q);
    let magnitude = x.abs();
    let clamped = if magnitude > SATURATION {
        SATURATION
    } else {
        magnitude
    };
    let exponential = (1.0 - 2.0 / (exp_f64(2.0 * clamped) + 1.0)).copysign(x);
    // `x + x·(p/q)` is +0 for x = −0: keep the zero's sign, as libm does.
    if x == 0.0 {
        x
    } else if magnitude < RATIONAL_BELOW {
        rational
    } else {
        exponential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Distance in f64 units in the last place between `a` and `b` of the same sign.
    fn ulps64(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn f64_is_within_a_few_ulps_of_libm_across_magnitudes() {
        let mut worst = (0, 0.0f64);
        // 10⁻³⁰⁰ … 30, log-spaced, and a fine uniform grid on (0, 1.25) around the branch
        // point 0.625.
        let logarithmic = (0..400_000).map(|i| 10f64.powf(-300.0 + i as f64 * 301.5 / 4e5));
        let uniform = (1..400_000).map(|i| i as f64 * 1.25 / 4e5);
        for x in logarithmic.chain(uniform) {
            let error = ulps64(tanh_f64(x), x.tanh());
            assert_eq!(tanh_f64(-x), -tanh_f64(x), "odd at {x}");
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulps at x = {}", worst.0, worst.1);
        assert_eq!(tanh_f64(30.0), 1.0);
        assert_eq!(tanh_f64(f64::NEG_INFINITY), -1.0);
        assert!(tanh_f64(f64::NAN).is_nan(), "a NaN must stay NaN");
        assert_eq!(tanh_f64(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    }
}
