//! The Lanczos recurrence with full reorthogonalization, shared by [`crate::lanczos`] (top
//! eigenpairs) and [`crate::spectral_density`] (Gauss quadrature of the spectral measure).

use nalgebra::DMatrix;

use crate::{LinearOperator, SharpnessError, Vector};

/// `β_j ≤ BREAKDOWN · ‖T‖` means the Krylov space is invariant (to rounding).
pub(crate) const BREAKDOWN: f64 = 1e-12;

/// The Krylov basis `Q_j = [q_1 … q_j]` and the tridiagonal `T_j = Q_jᵀ H Q_j` (diagonal
/// `alphas`, off-diagonal `betas`) built so far.
pub(crate) struct Recurrence<V> {
    pub(crate) basis: Vec<V>,
    pub(crate) alphas: Vec<f64>,
    pub(crate) betas: Vec<f64>,
}

/// What one step produced: the unnormalized next direction `w` with `β_j = ‖w‖`, or a
/// non-finite product.
pub(crate) enum Step<V> {
    Next { w: V, beta: f64 },
    NonFinite,
}

impl<V: Vector> Recurrence<V> {
    /// An empty recurrence with room for `steps` basis vectors.
    pub(crate) fn with_capacity(steps: usize) -> Self {
        Self {
            basis: Vec::with_capacity(steps),
            alphas: Vec::with_capacity(steps),
            betas: Vec::with_capacity(steps),
        }
    }

    /// One step from the unit vector `q = q_j` (orthogonal to the basis):
    /// `w = H q_j − α_j q_j − β_{j−1} q_{j−1}`, then two passes of classical Gram–Schmidt
    /// against all of `Q_j` ([`Vector::project_out`], "twice is enough"), whose coefficients
    /// on `q_j` correct `α_j`. Appends `q_j` to the basis and `α_j` to `alphas`; the caller
    /// appends `β_j` (or 0 after a restart) before the next step.
    pub(crate) fn step<O>(&mut self, op: &mut O, q: V) -> Result<Step<V>, SharpnessError>
    where
        O: LinearOperator<Vector = V>,
    {
        let j = self.basis.len();
        self.basis.push(q);
        let q = &self.basis[j];
        let mut w = op.apply(q)?;
        let mut alpha = w.dot(q)?;
        if !alpha.is_finite() {
            return Ok(Step::NonFinite);
        }
        w.axpy(-alpha, q)?;
        if j > 0 {
            w.axpy(-self.betas[j - 1], &self.basis[j - 1])?;
        }
        for pass in w.project_out_repeatedly(&self.basis, 2)? {
            alpha += pass[j];
        }
        self.alphas.push(alpha);
        let beta = w.norm()?;
        if !beta.is_finite() {
            return Ok(Step::NonFinite);
        }
        Ok(Step::Next { w, beta })
    }

    /// The dense `T_j` (`j × j`).
    pub(crate) fn tridiagonal(&self) -> DMatrix<f64> {
        let (alphas, betas) = (&self.alphas, &self.betas);
        let m = alphas.len();
        DMatrix::from_fn(m, m, |r, c| {
            if r == c {
                alphas[r]
            } else if r + 1 == c {
                betas[r]
            } else if c + 1 == r {
                betas[c]
            } else {
                0.0
            }
        })
    }
}
