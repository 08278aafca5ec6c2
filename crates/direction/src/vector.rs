//! The element-wise operations a direction needs from a vector type.

use crate::DirectionError;

/// The constants of one Adam update ([`DirectionVector::adam_step`]): the decays and this
/// update's bias corrections `c₁ = 1 − β₁ᵗ`, `c₂ = 1 − β₂ᵗ` (1 without correction), and ε.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStepConstants {
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// `c₁`.
    pub c1: f64,
    /// `c₂`.
    pub c2: f64,
    /// ε.
    pub eps: f64,
}

/// A flat real vector the directions can update: `Vec<f64>` here, flat Candle tensors (f32
/// or f64, any device) with the `candle` feature. Scalars cross the boundary as `f64`.
///
/// Every operation is element-wise except [`dot`](Self::dot); implementations must not
/// reorder a sum other than in `dot`, so that a direction's update is reproducible bit for bit.
pub trait DirectionVector: Clone {
    /// Zeros of the same length (and dtype and device).
    fn zeros_like(&self) -> Result<Self, DirectionError>;
    /// `−self`.
    fn negated(&self) -> Result<Self, DirectionError>;
    /// `a·self + b·x`.
    fn combined(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError>;
    /// `a·self + b·x⊙x` (the second-moment average).
    fn combined_with_square(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError>;
    /// `−(m/c₁)/(√(v/c₂) + ε)` element-wise with `m = self`: Adam's update.
    fn adam_update(&self, v: &Self, c1: f64, c2: f64, eps: f64) -> Result<Self, DirectionError>;
    /// One Adam update from the gradient `g = self`: the new moments
    /// `m' = β₁m + (1 − β₁)g`, `v' = β₂v + (1 − β₂)g²` and the update `−(m'/c₁)/(√(v'/c₂) + ε)`,
    /// each element computed as [`combined`](Self::combined),
    /// [`combined_with_square`](Self::combined_with_square) and
    /// [`adam_update`](Self::adam_update) compute it (the default calls them; an
    /// implementation may fuse them into one pass over the vectors, with the same values).
    fn adam_step(
        &self,
        m: &Self,
        v: &Self,
        constants: AdamStepConstants,
    ) -> Result<(Self, Self, Self), DirectionError> {
        adam_step_by_parts(self, m, v, constants)
    }
    /// `(√(v/c₂) + ε)^{−1/2}` element-wise with `v = self`: the diagonal of `P^{−1/2}` for
    /// Adam's preconditioner `P = diag(√v̂ + ε)`.
    fn inverse_root_preconditioner(&self, c2: f64, eps: f64) -> Result<Self, DirectionError>;
    /// The inner product `⟨self, x⟩`, in the vector's own precision.
    fn dot(&self, x: &Self) -> Result<f64, DirectionError>;
}

impl DirectionVector for Vec<f64> {
    fn zeros_like(&self) -> Result<Self, DirectionError> {
        Ok(vec![0.0; self.len()])
    }

    fn negated(&self) -> Result<Self, DirectionError> {
        Ok(self.iter().map(|x| -x).collect())
    }

    fn combined(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError> {
        zip(self, x, |s, x| a * s + b * x)
    }

    fn combined_with_square(&self, a: f64, x: &Self, b: f64) -> Result<Self, DirectionError> {
        zip(self, x, |s, x| a * s + b * (x * x))
    }

    fn adam_update(&self, v: &Self, c1: f64, c2: f64, eps: f64) -> Result<Self, DirectionError> {
        zip(self, v, |m, v| -(m / c1) / ((v / c2).sqrt() + eps))
    }

    fn inverse_root_preconditioner(&self, c2: f64, eps: f64) -> Result<Self, DirectionError> {
        Ok(self
            .iter()
            .map(|v| ((v / c2).sqrt() + eps).sqrt().recip())
            .collect())
    }

    fn dot(&self, x: &Self) -> Result<f64, DirectionError> {
        check_len(self, x)?;
        Ok(self.iter().zip(x).map(|(a, b)| a * b).sum())
    }
}

fn zip(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Result<Vec<f64>, DirectionError> {
    check_len(a, b)?;
    Ok(a.iter().zip(b).map(|(a, b)| f(*a, *b)).collect())
}

fn check_len(a: &[f64], b: &[f64]) -> Result<(), DirectionError> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(DirectionError::Vector(format!(
            "lengths differ: {} and {}",
            a.len(),
            b.len()
        )))
    }
}

/// Adam's step `(m', v', u)` for the gradient `g` by the separate operations
/// [`combined`](DirectionVector::combined), [`combined_with_square`](DirectionVector::combined_with_square)
/// and [`adam_update`](DirectionVector::adam_update): the default of
/// [`DirectionVector::adam_step`], and the fallback of an implementation that fuses it.
pub(crate) fn adam_step_by_parts<V: DirectionVector>(
    g: &V,
    m: &V,
    v: &V,
    constants: AdamStepConstants,
) -> Result<(V, V, V), DirectionError> {
    let AdamStepConstants {
        beta1,
        beta2,
        c1,
        c2,
        eps,
    } = constants;
    let m = m.combined(beta1, g, 1.0 - beta1)?;
    let v = v.combined_with_square(beta2, g, 1.0 - beta2)?;
    let update = m.adam_update(&v, c1, c2, eps)?;
    Ok((m, v, update))
}
