//! A hand-built 5-4-3 MLP in f64 on candle `Var`s, with MSE and cross-entropy.

use candle_core::{D, DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use stepsharp_sharpness::SharpnessError;

pub const SHAPES: [&[usize]; 4] = [&[4, 5], &[4], &[3, 4], &[3]];
pub const BATCH: usize = 8;

#[derive(Clone, Copy, Debug)]
pub enum Activation {
    Tanh,
    Relu,
}

#[derive(Clone, Copy, Debug)]
pub enum Loss {
    Mse,
    CrossEntropy,
}

/// Inputs (BATCH, 5), one-hot targets (BATCH, 3), and a flat parameter vector, all seeded.
pub struct Problem {
    pub inputs: Tensor,
    pub targets: Tensor,
    pub point: Tensor,
    pub activation: Activation,
    pub loss: Loss,
}

pub fn dimension() -> usize {
    SHAPES.iter().map(|s| s.iter().product::<usize>()).sum()
}

impl Problem {
    /// Also turns double backward on: Candle reads that setting once per thread, at the
    /// thread's first backward pass, and tests compute plain gradients (the dense reference)
    /// before they build a `HessianOperator`. Enabling here, before any backward pass, keeps
    /// every test independent of which test happened to set the variable first.
    pub fn new(activation: Activation, loss: Loss, seed: u64) -> Self {
        stepsharp_sharpness::enable_double_backward();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = |n: usize, scale: f64| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let x: f64 = StandardNormal.sample(&mut rng);
                    scale * x
                })
                .collect()
        };
        let inputs = Tensor::from_vec(normal(BATCH * 5, 1.0), (BATCH, 5), &Device::Cpu).unwrap();
        let point = Tensor::from_vec(normal(dimension(), 0.7), dimension(), &Device::Cpu).unwrap();
        let mut onehot = vec![0.0; BATCH * 3];
        for (i, row) in onehot.chunks_mut(3).enumerate() {
            row[(i * 7 + seed as usize) % 3] = 1.0;
        }
        let targets = Tensor::from_vec(onehot, (BATCH, 3), &Device::Cpu).unwrap();
        Self {
            inputs,
            targets,
            point,
            activation,
            loss,
        }
    }

    /// Fresh variables holding the flat point `flat` (in `dtype`).
    pub fn vars(&self, flat: &Tensor, dtype: DType) -> Vec<Var> {
        let mut offset = 0;
        SHAPES
            .iter()
            .map(|shape| {
                let size: usize = shape.iter().product();
                let part = flat
                    .narrow(0, offset, size)
                    .unwrap()
                    .reshape(*shape)
                    .unwrap();
                offset += size;
                Var::from_tensor(&part.to_dtype(dtype).unwrap()).unwrap()
            })
            .collect()
    }

    /// The loss of rows `start..start+len`, divided by the full batch size, so that the
    /// chunk losses of a partition of the batch sum to the batch-mean loss.
    pub fn chunk_loss(&self, vars: &[Var], start: usize, len: usize) -> Tensor {
        let dtype = vars[0].dtype();
        let x = self
            .inputs
            .narrow(0, start, len)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let y = self
            .targets
            .narrow(0, start, len)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let pre = x
            .matmul(&vars[0].as_tensor().t().unwrap())
            .unwrap()
            .broadcast_add(vars[1].as_tensor())
            .unwrap();
        let hidden = match self.activation {
            Activation::Tanh => pre.tanh().unwrap(),
            Activation::Relu => pre.relu().unwrap(),
        };
        let out = hidden
            .matmul(&vars[2].as_tensor().t().unwrap())
            .unwrap()
            .broadcast_add(vars[3].as_tensor())
            .unwrap();
        let total = match self.loss {
            // ½ Σ_classes (f − y)², summed over rows.
            Loss::Mse => (out.sub(&y).unwrap().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap(),
            // −Σ y · log_softmax(f), summed over rows.
            Loss::CrossEntropy => candle_nn::ops::log_softmax(&out, D::Minus1)
                .unwrap()
                .mul(&y)
                .unwrap()
                .sum_all()
                .unwrap()
                .neg()
                .unwrap(),
        };
        (total / BATCH as f64).unwrap()
    }

    /// The batch-mean loss.
    pub fn loss(&self, vars: &[Var]) -> Tensor {
        self.chunk_loss(vars, 0, BATCH)
    }

    /// The flat gradient at `flat`, from fresh variables (so it never touches the graph of
    /// an operator under test).
    pub fn gradient(&self, flat: &Tensor) -> Result<Tensor, SharpnessError> {
        let vars = self.vars(flat, flat.dtype());
        let grads = self.loss(&vars).backward()?;
        let parts = vars
            .iter()
            .map(|v| grads.get(v.as_tensor()).unwrap().detach().flatten_all())
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Tensor::cat(&parts, 0)?)
    }
}

/// The dense Hessian of `loss` with respect to `vars`, column by column from exact products
/// (symmetrized), and its eigenvalues sorted descending.
pub fn dense_hessian(vars: &[Var], loss: Tensor) -> (nalgebra::DMatrix<f64>, Vec<f64>) {
    use stepsharp_sharpness::{HessianOperator, LinearOperator, Vector};
    let mut hessian = HessianOperator::new(vars, &[loss]).unwrap();
    let n = hessian.dim();
    let template = hessian.template().unwrap();
    let columns: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut unit = vec![0.0; n];
            unit[j] = 1.0;
            let column = hessian.apply(&template.like(&unit).unwrap()).unwrap();
            column.to_vec().unwrap()
        })
        .collect();
    let h = nalgebra::DMatrix::from_fn(n, n, |r, c| columns[c][r]);
    let dense = (&h + h.transpose()) * 0.5;
    let mut eigenvalues: Vec<f64> = nalgebra::SymmetricEigen::new(dense.clone())
        .eigenvalues
        .iter()
        .copied()
        .collect();
    eigenvalues.sort_by(|a, b| b.total_cmp(a));
    (dense, eigenvalues)
}
