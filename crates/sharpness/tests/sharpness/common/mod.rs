//! Shared test fixtures: dense symmetric operators with a known spectrum, and a tiny MLP.
#![allow(dead_code)]

#[cfg(feature = "candle")]
pub mod mlp;

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use stepsharp_sharpness::{LinearOperator, SharpnessError};

/// A dense symmetric matrix as an operator over `Vec<f64>`, counting its products.
pub struct Dense {
    pub matrix: DMatrix<f64>,
    pub products: usize,
}

impl Dense {
    pub fn new(matrix: DMatrix<f64>) -> Self {
        Self {
            matrix,
            products: 0,
        }
    }
}

impl LinearOperator for Dense {
    type Vector = Vec<f64>;
    fn dim(&self) -> usize {
        self.matrix.nrows()
    }
    fn template(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(vec![0.0; self.dim()])
    }
    fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
        self.products += 1;
        let x = nalgebra::DVector::from_column_slice(v);
        Ok((&self.matrix * x).iter().copied().collect())
    }
}

/// A Haar-ish random orthogonal matrix (Q of a Gaussian matrix's QR).
pub fn random_orthogonal(n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gaussian = DMatrix::from_fn(n, n, |_, _| StandardNormal.sample(&mut rng));
    gaussian.qr().q()
}

/// `Q diag(eigenvalues) Qᵀ` with a seeded random orthogonal `Q`.
pub fn with_spectrum(eigenvalues: &[f64], seed: u64) -> DMatrix<f64> {
    let n = eigenvalues.len();
    let q = random_orthogonal(n, seed);
    let d = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(eigenvalues));
    &q * d * q.transpose()
}

/// A seeded symmetric Gaussian matrix scaled to spectral norm about 1.
pub fn random_symmetric(n: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g = DMatrix::from_fn(n, n, |_, _| StandardNormal.sample(&mut rng));
    (&g + g.transpose()) / (2.0 * (2.0 * n as f64).sqrt())
}

/// Relative difference `|a − b| / max(|b|, tiny)`.
#[track_caller]
pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// `‖a − b‖ / ‖b‖` of two vectors.
#[track_caller]
pub fn relative_vec(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let norm: f64 = b.iter().map(|y| y * y).sum();
    (diff / norm).sqrt()
}

/// An operator of dimension `.0` whose every product is NaN (a diverged model).
pub struct NanOperator(pub usize);

impl LinearOperator for NanOperator {
    type Vector = Vec<f64>;
    fn dim(&self) -> usize {
        self.0
    }
    fn template(&self) -> Result<Vec<f64>, SharpnessError> {
        Ok(vec![0.0; self.0])
    }
    fn apply(&mut self, _v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
        Ok(vec![f64::NAN; self.0])
    }
}
