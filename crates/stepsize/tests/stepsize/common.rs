//! Dense quadratics f(w) = ½wᵀHw and counting oracles for the tests.

use stepsharp_stepsize::{Oracle, StepContext};

/// f(w) = ½wᵀHw with a dense symmetric H.
#[derive(Clone, Debug)]
pub struct Quadratic {
    pub h: Vec<Vec<f64>>,
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn axpy(w: &[f64], eta: f64, u: &[f64]) -> Vec<f64> {
    w.iter().zip(u).map(|(x, y)| x + eta * y).collect()
}

impl Quadratic {
    pub fn diagonal(d: &[f64]) -> Self {
        let n = d.len();
        let h = (0..n)
            .map(|i| (0..n).map(|j| if i == j { d[i] } else { 0.0 }).collect())
            .collect();
        Self { h }
    }

    /// H = AᵀA + μI for a row-major n×n matrix `a`.
    pub fn gram(a: &[f64], n: usize, mu: f64) -> Self {
        let h = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let s: f64 = (0..n).map(|k| a[k * n + i] * a[k * n + j]).sum();
                        s + if i == j { mu } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        Self { h }
    }

    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        self.h.iter().map(|row| dot(row, v)).collect()
    }

    pub fn loss(&self, w: &[f64]) -> f64 {
        0.5 * dot(w, &self.apply(w))
    }

    pub fn grad(&self, w: &[f64]) -> Vec<f64> {
        self.apply(w)
    }

    /// vᵀHv.
    pub fn curvature(&self, v: &[f64]) -> f64 {
        dot(v, &self.apply(v))
    }

    /// Context and direction for gradient descent at `w`: u = −g.
    pub fn gd(&self, w: &[f64]) -> (StepContext, Vec<f64>) {
        let g = self.grad(w);
        let u: Vec<f64> = g.iter().map(|x| -x).collect();
        (StepContext::gradient_descent(self.loss(w), dot(&g, &g)), u)
    }
}

/// An exact oracle along `u` from `w` that counts its calls and records the η asked.
pub struct QuadraticOracle<'a> {
    pub q: &'a Quadratic,
    pub w: Vec<f64>,
    pub u: Vec<f64>,
    pub etas: Vec<f64>,
    pub curvature_calls: u32,
}

impl<'a> QuadraticOracle<'a> {
    pub fn new(q: &'a Quadratic, w: &[f64], u: &[f64]) -> Self {
        Self {
            q,
            w: w.to_vec(),
            u: u.to_vec(),
            etas: Vec::new(),
            curvature_calls: 0,
        }
    }
}

impl Oracle for QuadraticOracle<'_> {
    fn loss_at(&mut self, eta: f64) -> f64 {
        self.etas.push(eta);
        self.q.loss(&axpy(&self.w, eta, &self.u))
    }

    fn curvature(&mut self) -> f64 {
        self.curvature_calls += 1;
        self.q.curvature(&self.u)
    }
}

/// An oracle that must not be called.
pub struct NoOracle;

impl Oracle for NoOracle {
    fn loss_at(&mut self, eta: f64) -> f64 {
        panic!("loss_at({eta}) called")
    }

    fn curvature(&mut self) -> f64 {
        panic!("curvature() called")
    }
}

/// Relative closeness with a floor of 1 on the scale.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, rtol: f64) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= rtol * scale,
        "actual {actual:e}, expected {expected:e} (rtol {rtol:e})"
    );
}
