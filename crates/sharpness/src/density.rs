//! The spectral density of a symmetric operator by stochastic Lanczos quadrature (SLQ).

use nalgebra::SymmetricEigen;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::recurrence::{BREAKDOWN, Recurrence, Step};
use crate::spectrum::rademacher_vector;
use crate::{LinearOperator, SharpnessError, Vector};

/// Settings of [`spectral_density`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DensityConfig {
    /// Number `n_v` of probes averaged. Default: 1 (PyHessian's `density(n_v=1)`; Ghorbani et
    /// al. 2019 average 10 for smoother tails).
    pub probes: usize,
    /// Lanczos steps `m` per probe (= products; capped by the dimension). Default: 100
    /// (PyHessian's `density(iter=100)`; Ghorbani et al. 2019 use 90).
    pub steps: usize,
    /// Number of grid points of the smoothed density. Default: 10000 (PyHessian's
    /// `num_bins`).
    pub grid_points: usize,
    /// Relative variance of the Gaussian kernel: `σ² = kernel_variance · max(1, θ_max − θ_min)`
    /// over the Ritz nodes. Default: 1e-5 (PyHessian's `sigma_squared`, scaled the same way).
    pub kernel_variance: f64,
    /// Seed of the Rademacher probes (one ChaCha8 stream for all of them). Default: 0.
    pub seed: u64,
}

impl Default for DensityConfig {
    fn default() -> Self {
        Self {
            probes: 1,
            steps: 100,
            grid_points: 10_000,
            kernel_variance: 1e-5,
            seed: 0,
        }
    }
}

impl DensityConfig {
    /// The same settings for measurement `index` (from 0) of a sequence: seed `seed + index`,
    /// so that every measurement draws its own probes and a resumed run draws the same ones.
    pub fn for_measurement(&self, index: u64) -> Self {
        Self {
            seed: self.seed.wrapping_add(index),
            ..self.clone()
        }
    }

    /// Checks the ranges: `probes ≥ 1`, `steps ≥ 1`, `grid_points ≥ 2`, `kernel_variance`
    /// finite and positive.
    pub fn validate(&self) -> Result<(), SharpnessError> {
        if self.probes == 0 {
            return Err(SharpnessError::invalid("probes", self.probes, "at least 1"));
        }
        if self.steps == 0 {
            return Err(SharpnessError::invalid("steps", self.steps, "at least 1"));
        }
        if self.grid_points < 2 {
            return Err(SharpnessError::invalid(
                "grid_points",
                self.grid_points,
                "at least 2",
            ));
        }
        if !(self.kernel_variance.is_finite() && self.kernel_variance > 0.0) {
            return Err(SharpnessError::invalid(
                "kernel_variance",
                self.kernel_variance,
                "a finite number above 0",
            ));
        }
        Ok(())
    }
}

/// The Gauss quadrature of one probe's spectral measure: `Σ_i weights[i] · f(nodes[i]) ≈
/// qᵀ f(H) q`, exact for polynomials `f` of degree below `2m` (Golub & Meurant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quadrature {
    /// The Ritz values `θ_i` (eigenvalues of the Lanczos tridiagonal `T_m`), ascending.
    pub nodes: Vec<f64>,
    /// The weights `τ_i = (e_1ᵀ s_i)²` (squared first entries of the eigenvectors of `T_m`);
    /// they sum to 1.
    pub weights: Vec<f64>,
}

/// An estimate of the spectral density `φ(t) = (1/n) Σ_k δ(t − λ_k)` of an `n × n` operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpectralDensity {
    /// One quadrature per probe (the raw nodes and weights, PyHessian's `eigen_list_full`
    /// and `weight_list_full`). A probe whose products were not finite has the single node
    /// NaN with weight 1, and is the last one.
    pub quadratures: Vec<Quadrature>,
    /// Evenly spaced points from `θ_min − 5σ` to `θ_max + 5σ` over all nodes; empty when a
    /// node is not finite.
    pub grid: Vec<f64>,
    /// The smoothed density at each grid point (same length as `grid`).
    pub density: Vec<f64>,
    /// The kernel variance `σ²` used.
    pub sigma_squared: f64,
    /// Hessian-vector products used (Lanczos steps over all probes).
    pub hvps: usize,
}

/// The spectral density of a symmetric operator by stochastic Lanczos quadrature (Ubaru,
/// Chen & Saad 2017; for network Hessians Ghorbani, Krishnan & Xiao 2019, and PyHessian's
/// `density`).
///
/// For a unit probe `q`, `qᵀ f(H) q = Σ_k (qᵀu_k)² f(λ_k)` is an integral against the
/// spectral measure of `q`, whose expectation over normalized Rademacher probes is the
/// spectral density `φ` (each `(qᵀu_k)²` has mean `1/n`). `m` Lanczos steps from `q`
/// (full reorthogonalization, as for [`crate::lanczos`]) give the tridiagonal `T_m`, and
/// its eigenpairs `(θ_i, s_i)` give the Gauss quadrature of that measure: nodes `θ_i`,
/// weights `τ_i = (e_1ᵀ s_i)²`. Averaging over `n_v` probes and smoothing each node with a
/// Gaussian kernel of variance `σ²`:
///
/// `φ̂(t) = (1/n_v) Σ_l Σ_i τ_i^(l) · exp(−(t − θ_i^(l))² / 2σ²) / √(2πσ²)`.
///
/// Differences from PyHessian's `density_generate`, both so that `φ̂` integrates to 1 on
/// its grid without a numerical renormalization: the grid spans the extreme nodes of all
/// probes (not their average) padded by `5σ` (not 0.01), so less than `6·10⁻⁷` of the mass
/// falls outside. The grid resolves the kernel when its spacing is at most `σ`, i.e.
/// `grid_points ≳ √(width / kernel_variance)` for a spectrum of width ≥ 1 (3163 for a width
/// of 100 at the defaults).
///
/// A probe stops early when its Krylov space becomes invariant (`β_j ≈ 0`: its quadrature is
/// then exact). A non-finite product ends the estimate: the probe gets a NaN node and the
/// grid and density are empty (a diverged model is a result, not an error).
///
/// ```
/// use stepsharp_sharpness::{spectral_density, DensityConfig, LinearOperator, SharpnessError};
/// struct Diagonal(Vec<f64>);
/// impl LinearOperator for Diagonal {
///     type Vector = Vec<f64>;
///     fn dim(&self) -> usize { self.0.len() }
///     fn template(&self) -> Result<Vec<f64>, SharpnessError> { Ok(vec![0.0; self.0.len()]) }
///     fn apply(&mut self, v: &Vec<f64>) -> Result<Vec<f64>, SharpnessError> {
///         Ok(self.0.iter().zip(v).map(|(d, x)| d * x).collect())
///     }
/// }
/// // Four steps on a 4 × 4 operator: the nodes are its eigenvalues, each of weight 1/4
/// // (a Rademacher probe has (qᵀe_k)² = 1/4).
/// let density = spectral_density(&mut Diagonal(vec![1.0, 2.0, 3.0, 10.0]), &DensityConfig::default()).unwrap();
/// let quadrature = &density.quadratures[0];
/// for (node, exact) in quadrature.nodes.iter().zip([1.0, 2.0, 3.0, 10.0]) {
///     assert!((node - exact).abs() < 1e-10);
/// }
/// assert!(quadrature.weights.iter().all(|w| (w - 0.25).abs() < 1e-10));
/// assert_eq!(density.hvps, 4);
/// ```
pub fn spectral_density<O: LinearOperator>(
    op: &mut O,
    config: &DensityConfig,
) -> Result<SpectralDensity, SharpnessError> {
    config.validate()?;
    let steps = config.steps.min(op.dim());
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut quadratures = Vec::with_capacity(config.probes);
    let mut hvps = 0;
    for _probe in 0..config.probes {
        let mut q = rademacher_vector(op, &mut rng)?;
        q.scale(1.0 / q.norm()?)?;
        let (quadrature, products) = lanczos_quadrature(op, q, steps)?;
        hvps += products;
        let finite = quadrature.nodes.iter().all(|node| node.is_finite());
        quadratures.push(quadrature);
        if !finite {
            return Ok(SpectralDensity {
                quadratures,
                grid: Vec::new(),
                density: Vec::new(),
                sigma_squared: f64::NAN,
                hvps,
            });
        }
    }
    Ok(smooth(quadratures, config, hvps))
}

/// `steps` Lanczos steps from the unit vector `q` (fewer on breakdown) and the Gauss
/// quadrature of `T`; also returns the number of products.
fn lanczos_quadrature<O: LinearOperator>(
    op: &mut O,
    mut q: O::Vector,
    steps: usize,
) -> Result<(Quadrature, usize), SharpnessError> {
    let not_finite = |products| {
        let quadrature = Quadrature {
            nodes: vec![f64::NAN],
            weights: vec![1.0],
        };
        Ok((quadrature, products))
    };
    let mut recurrence = Recurrence::with_capacity(steps);
    let mut scale: f64 = 0.0;
    loop {
        let products = recurrence.basis.len() + 1;
        let Step::Next { w, beta } = recurrence.step(op, q)? else {
            return not_finite(products);
        };
        let alpha = recurrence.alphas[products - 1];
        scale = scale.max(alpha.abs() + beta);
        if products == steps || beta <= BREAKDOWN * scale {
            break;
        }
        q = w;
        q.scale(1.0 / beta)?;
        recurrence.betas.push(beta);
    }
    let products = recurrence.basis.len();
    let t = recurrence.tridiagonal();
    let Some(eigen) = SymmetricEigen::try_new(t, f64::EPSILON, 100 * products.max(10)) else {
        return not_finite(products);
    };
    let mut pairs: Vec<(f64, f64)> = eigen
        .eigenvalues
        .iter()
        .zip(eigen.eigenvectors.row(0).iter())
        .map(|(&node, &first)| (node, first * first))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (nodes, weights) = pairs.into_iter().unzip();
    Ok((Quadrature { nodes, weights }, products))
}

/// The Gaussian-smoothed average of the quadratures on the padded grid.
fn smooth(quadratures: Vec<Quadrature>, config: &DensityConfig, hvps: usize) -> SpectralDensity {
    let nodes = || quadratures.iter().flat_map(|q| q.nodes.iter().copied());
    let low = nodes().fold(f64::INFINITY, f64::min);
    let high = nodes().fold(f64::NEG_INFINITY, f64::max);
    let sigma_squared = config.kernel_variance * (high - low).max(1.0);
    let sigma = sigma_squared.sqrt();
    let (start, end) = (low - 5.0 * sigma, high + 5.0 * sigma);
    let spacing = (end - start) / (config.grid_points - 1) as f64;
    let grid: Vec<f64> = (0..config.grid_points)
        .map(|g| start + spacing * g as f64)
        .collect();
    let normalization =
        (2.0 * std::f64::consts::PI * sigma_squared).sqrt() * quadratures.len() as f64;
    let density = grid
        .iter()
        .map(|&t| {
            quadratures
                .iter()
                .flat_map(|q| q.nodes.iter().zip(&q.weights))
                .map(|(node, weight)| weight * (-(t - node).powi(2) / (2.0 * sigma_squared)).exp())
                .sum::<f64>()
                / normalization
        })
        .collect();
    SpectralDensity {
        quadratures,
        grid,
        density,
        sigma_squared,
        hvps,
    }
}
