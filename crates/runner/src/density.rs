//! `density.csv`: the spectral densities a run measured (`sharpness.density`), one line per
//! grid point and per Ritz node, readable by pandas:
//!
//! - `kind = "density"`: `lambda` a grid point, `value` the smoothed density `φ̂(λ)` there
//!   (`probe` empty);
//! - `kind = "ritz"`: `lambda` a Ritz node `θ_i` of probe `probe`, `value` its weight `τ_i`.
//!
//! The HVP count of each estimate is in the trajectory's `density_hvps` column.

use std::path::Path;

use serde::{Deserialize, Serialize};
use stepsharp_sharpness::SpectralDensity;

use crate::error::{Context, Result};

/// What a line of `density.csv` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DensityLineKind {
    /// A grid point of the smoothed density.
    Density,
    /// A Ritz node and its quadrature weight.
    Ritz,
}

/// One line of `density.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DensityLine {
    /// The training step the density was taken at (at `w_t`, before the update).
    pub step: usize,
    /// Grid point or Ritz node.
    pub kind: DensityLineKind,
    /// The probe of a Ritz node (empty for grid points).
    pub probe: Option<usize>,
    /// The eigenvalue axis: a grid point or a node.
    pub lambda: f64,
    /// The density at the grid point, or the node's weight.
    pub value: f64,
}

/// The lines of the density taken at `step`.
pub(crate) fn density_lines(step: usize, density: &SpectralDensity) -> Vec<DensityLine> {
    let grid = density
        .grid
        .iter()
        .zip(&density.density)
        .map(|(&lambda, &value)| DensityLine {
            step,
            kind: DensityLineKind::Density,
            probe: None,
            lambda,
            value,
        });
    let ritz = density
        .quadratures
        .iter()
        .enumerate()
        .flat_map(|(probe, q)| {
            q.nodes
                .iter()
                .zip(&q.weights)
                .map(move |(&lambda, &value)| DensityLine {
                    step,
                    kind: DensityLineKind::Ritz,
                    probe: Some(probe),
                    lambda,
                    value,
                })
        });
    grid.chain(ritz).collect()
}

/// The file's text (header and one line per entry).
pub(crate) fn density_csv(lines: &[DensityLine]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for line in lines {
        writer.serialize(line)?;
    }
    Ok(writer
        .into_inner()
        .map_err(csv::IntoInnerError::into_error)?)
}

/// Reads a `density.csv`.
pub fn read_density(path: &Path) -> Result<Vec<DensityLine>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot open the density file {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, line)| line.with_context(|| format!("{}: bad line {}", path.display(), i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use stepsharp_sharpness::Quadrature;

    use super::*;

    #[test]
    fn lines_round_trip_through_the_file() {
        let density = SpectralDensity {
            quadratures: vec![Quadrature {
                nodes: vec![-0.5, 2.0],
                weights: vec![0.25, 0.75],
            }],
            grid: vec![-1.0, 0.5, 2.5],
            density: vec![0.1, 0.2, 1e-300],
            sigma_squared: 0.01,
            hvps: 2,
        };
        let lines = density_lines(7, &density);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[3].kind, DensityLineKind::Ritz);
        assert_eq!(
            (lines[4].probe, lines[4].lambda, lines[4].value),
            (Some(0), 2.0, 0.75)
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), density_csv(&lines).unwrap()).unwrap();
        assert_eq!(read_density(file.path()).unwrap(), lines);
    }
}
