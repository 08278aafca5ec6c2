//! Quadratic objectives with a prescribed spectrum.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::QuadraticError;

/// The quadratic `f(w) = ½ (w − w*)ᵀ H (w − w*)` with `H = Q diag(s) Qᵀ`.
///
/// `s` is the spectrum as given and `Q` is a random orthogonal matrix drawn from a seed: the
/// QR factorization of an `n × n` matrix of independent standard normals (ChaCha8 stream of
/// `seed`), with each column of `Q` multiplied by the sign of the matching diagonal entry of
/// `R`. The sign fix makes `Q` a deterministic function of the seed and Haar-distributed
/// (Mezzadri 2007, "How to generate random matrices from the classical compact groups").
/// Column `i` of `Q` is the eigenvector of `spectrum[i]`.
///
/// Everything is exact: the value, the gradient `H(w − w*)`, the Hessian-vector product `Hv`
/// and `λ_max = max(s)`. `H` is stored densely, so keep `n` to a few thousand.
///
/// ```
/// use stepsharp_quadratic::Quadratic;
/// let q = Quadratic::with_spectrum(&[1.0, 10.0, -0.5], 7).unwrap();
/// assert_eq!(q.lambda_max(), 10.0);
/// let v = q.eigenvector(1);
/// let hv = q.hvp(&v);
/// for (hv_i, v_i) in hv.iter().zip(&v) {
///     assert!((hv_i - 10.0 * v_i).abs() < 1e-12);
/// }
/// assert!(q.value(&vec![0.0; 3]).abs() < 1e-15); // w* = 0
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Quadratic {
    spectrum: Vec<f64>,
    basis: DMatrix<f64>,
    hessian: DMatrix<f64>,
    w_star: DVector<f64>,
}

impl Quadratic {
    /// The quadratic with Hessian eigenvalues `spectrum` (in any order, any sign), a random
    /// orthogonal eigenbasis drawn from `seed`, and minimizer (stationary point) `w* = 0`.
    ///
    /// Errors: [`QuadraticError::EmptySpectrum`], or
    /// [`QuadraticError::InvalidConfig`] on a non-finite eigenvalue.
    pub fn with_spectrum(spectrum: &[f64], seed: u64) -> Result<Self, QuadraticError> {
        if spectrum.is_empty() {
            return Err(QuadraticError::EmptySpectrum);
        }
        if let Some(&bad) = spectrum.iter().find(|s| !s.is_finite()) {
            return Err(QuadraticError::InvalidConfig {
                field: "spectrum",
                value: bad,
                expected: "finite eigenvalues",
            });
        }
        let n = spectrum.len();
        let basis = random_orthogonal(n, seed);
        let scaled = &basis * DMatrix::from_diagonal(&DVector::from_column_slice(spectrum));
        let mut hessian = scaled * basis.transpose();
        // Symmetrize exactly, so `hvp` is the product with a symmetric matrix to the last bit.
        hessian = (&hessian + hessian.transpose()) * 0.5;
        Ok(Self {
            spectrum: spectrum.to_vec(),
            basis,
            hessian,
            w_star: DVector::zeros(n),
        })
    }

    /// The same quadratic with minimizer (stationary point) `w_star`.
    ///
    /// Errors: [`QuadraticError::DimensionMismatch`] if `w_star.len() != self.dim()`,
    /// [`QuadraticError::InvalidConfig`] on a non-finite entry.
    pub fn with_minimizer(self, w_star: Vec<f64>) -> Result<Self, QuadraticError> {
        check_len(self.dim(), w_star.len())?;
        if let Some(&bad) = w_star.iter().find(|w| !w.is_finite()) {
            return Err(QuadraticError::InvalidConfig {
                field: "w_star",
                value: bad,
                expected: "finite entries",
            });
        }
        Ok(Self {
            w_star: DVector::from_vec(w_star),
            ..self
        })
    }

    /// The dimension `n`.
    pub fn dim(&self) -> usize {
        self.spectrum.len()
    }

    /// The value `f(w) = ½ (w − w*)ᵀ H (w − w*)`.
    ///
    /// # Panics
    /// If `w.len() != self.dim()`.
    #[track_caller]
    pub fn value(&self, w: &[f64]) -> f64 {
        let d = self.displacement(w);
        0.5 * d.dot(&(&self.hessian * &d))
    }

    /// The gradient `∇f(w) = H (w − w*)`.
    ///
    /// # Panics
    /// If `w.len() != self.dim()`.
    #[track_caller]
    pub fn gradient(&self, w: &[f64]) -> Vec<f64> {
        let d = self.displacement(w);
        (&self.hessian * d).data.into()
    }

    /// The Hessian-vector product `Hv` (the Hessian is constant).
    ///
    /// # Panics
    /// If `v.len() != self.dim()`.
    #[track_caller]
    pub fn hvp(&self, v: &[f64]) -> Vec<f64> {
        assert_len(self.dim(), v.len());
        (&self.hessian * DVector::from_column_slice(v)).data.into()
    }

    /// The top (largest algebraic) eigenvalue `λ_max = max_i spectrum[i]`: the sharpness.
    pub fn lambda_max(&self) -> f64 {
        self.spectrum
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Index of the top eigenvalue in [`spectrum`](Self::spectrum) (the first, on ties).
    pub fn top_index(&self) -> usize {
        let top = self.lambda_max();
        self.spectrum
            .iter()
            .position(|&s| s == top)
            .expect("the spectrum is non-empty and finite")
    }

    /// The eigenvalues, in the order given to [`with_spectrum`](Self::with_spectrum).
    pub fn spectrum(&self) -> &[f64] {
        &self.spectrum
    }

    /// The unit eigenvector of `spectrum()[i]` (column `i` of `Q`).
    ///
    /// # Panics
    /// If `i >= self.dim()`.
    #[track_caller]
    pub fn eigenvector(&self, i: usize) -> Vec<f64> {
        assert!(
            i < self.dim(),
            "eigenvector index {i} out of range for dimension {}",
            self.dim()
        );
        self.basis.column(i).iter().copied().collect()
    }

    /// The minimizer (stationary point) `w*`.
    pub fn minimizer(&self) -> Vec<f64> {
        self.w_star.as_slice().to_vec()
    }

    /// The dense Hessian `H = Q diag(spectrum) Qᵀ` (a copy).
    pub fn hessian(&self) -> DMatrix<f64> {
        self.hessian.clone()
    }

    /// The orthogonal eigenbasis `Q` (a copy): column `i` belongs to `spectrum()[i]`.
    pub fn basis(&self) -> DMatrix<f64> {
        self.basis.clone()
    }

    /// The coordinates `Qᵀ(w − w*)` of `w` in the eigenbasis: entry `i` is the component of
    /// the displacement along eigenvector `i`.
    ///
    /// # Panics
    /// If `w.len() != self.dim()`.
    #[track_caller]
    pub fn eigen_coordinates(&self, w: &[f64]) -> Vec<f64> {
        let d = self.displacement(w);
        (self.basis.transpose() * d).data.into()
    }

    #[track_caller]
    fn displacement(&self, w: &[f64]) -> DVector<f64> {
        assert_len(self.dim(), w.len());
        DVector::from_column_slice(w) - &self.w_star
    }
}

/// A uniformly (Haar) distributed orthogonal `n × n` matrix drawn from `seed`.
fn random_orthogonal(n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gaussian = DMatrix::from_fn(n, n, |_, _| rng.sample::<f64, _>(StandardNormal));
    let qr = gaussian.qr();
    let r = qr.r();
    let mut q = qr.q();
    for (j, mut column) in q.column_iter_mut().enumerate() {
        if r[(j, j)] < 0.0 {
            column.neg_mut();
        }
    }
    q
}

fn check_len(expected: usize, found: usize) -> Result<(), QuadraticError> {
    if expected == found {
        Ok(())
    } else {
        Err(QuadraticError::DimensionMismatch { expected, found })
    }
}

#[track_caller]
fn assert_len(expected: usize, found: usize) {
    assert!(
        expected == found,
        "dimension mismatch: the quadratic has dimension {expected}, the vector has {found} entries"
    );
}
