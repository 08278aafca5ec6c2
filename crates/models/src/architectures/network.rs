//! The network: construction, forward pass, flat parameter view and BatchNorm buffers.

use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var};

use crate::architectures::init::ParamBuilder;
use crate::architectures::layers::BnState;
use crate::architectures::mlp::{MLP_INPUT_DIM, Mlp};
use crate::architectures::resnet::ResNet;
use crate::architectures::vgg::Vgg11;
use crate::ops::elementwise::plus_scaled;
use crate::{Architecture, BatchNormMode, ModelError};

enum Body {
    Mlp(Mlp),
    Vgg11(Vgg11),
    ResNet(ResNet),
}

/// A CIFAR-10 classifier with a flat, name-ordered view of its trainable parameters.
///
/// - Inputs: MLPs take (n, 3072) or (n, 3, 32, 32) (flattened internally); CNNs take
///   (n, 3, 32, 32). Output: logits (n, num_classes).
/// - Parameters: candle [`Var`]s sorted by name. Names are `layerNNN.<path>.<weight|bias>`
///   with a zero-padded construction index, so the order is the forward order. BatchNorm
///   running statistics are buffers, not parameters.
/// - Initialization: [`crate::seeded_uniform`] per parameter (PyTorch defaults), independent
///   of device and dtype.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use stepsharp_models::{Architecture, BatchNormMode, Network};
/// # fn main() -> Result<(), stepsharp_models::ModelError> {
/// let net = Network::new(&Architecture::mlp_cohen(), 10, 0, DType::F32, &Device::Cpu)?;
/// assert_eq!(net.num_parameters(), 656_810);
/// let x = Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::Cpu)?;
/// assert_eq!(net.forward(&x, BatchNormMode::Train)?.dims(), &[2, 10]);
/// # Ok(()) }
/// ```
pub struct Network {
    arch: Architecture,
    num_classes: usize,
    dtype: DType,
    device: Device,
    body: Body,
    params: Vec<Var>,
    names: Vec<String>,
    num_parameters: usize,
    bn_states: Vec<Arc<BnState>>,
}

fn shape_err(expected: impl Into<String>, found: impl std::fmt::Debug) -> ModelError {
    ModelError::Shape {
        expected: expected.into(),
        found: format!("{found:?}"),
    }
}

impl Network {
    /// Builds `arch` with `num_classes` outputs, weights drawn from `seed`, stored in `dtype`
    /// on `device`. Validates the architecture; `num_classes` must be at least 1.
    pub fn new(
        arch: &Architecture,
        num_classes: usize,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, ModelError> {
        arch.validate()?;
        if num_classes == 0 {
            return Err(ModelError::InvalidConfig {
                field: "num_classes",
                value: "0".into(),
                expected: ">= 1",
            });
        }
        if !dtype.is_float() {
            return Err(ModelError::InvalidConfig {
                field: "dtype",
                value: format!("{dtype:?}"),
                expected: "a float dtype (f32, f64, f16, bf16)",
            });
        }
        let mut builder = ParamBuilder::new(seed, dtype, device);
        let body = match arch {
            Architecture::Mlp {
                hidden,
                activation,
                bias,
            } => Body::Mlp(Mlp::build(
                &mut builder,
                hidden,
                *activation,
                *bias,
                num_classes,
            )?),
            Architecture::Vgg11 { batch_norm, width } => Body::Vgg11(Vgg11::build(
                &mut builder,
                *batch_norm,
                *width,
                num_classes,
            )?),
            Architecture::ResNet {
                depth,
                batch_norm,
                width,
            } => Body::ResNet(ResNet::build(
                &mut builder,
                *depth,
                *batch_norm,
                *width,
                num_classes,
            )?),
        };
        let mut named = builder.params;
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let num_parameters = named.iter().map(|(_, v)| v.elem_count()).sum();
        let (names, params) = named.into_iter().unzip();
        Ok(Self {
            arch: arch.clone(),
            num_classes,
            dtype,
            device: device.clone(),
            body,
            params,
            names,
            num_parameters,
            bn_states: builder.bn_states,
        })
    }

    /// Logits (n, num_classes). `mode` selects BatchNorm statistics (see [`BatchNormMode`]);
    /// it is ignored by networks without BatchNorm.
    pub fn forward(&self, x: &Tensor, mode: BatchNormMode) -> Result<Tensor, ModelError> {
        let dims = x.dims();
        let image = dims.len() == 4 && dims[1..] == [3, 32, 32];
        match &self.body {
            Body::Mlp(mlp) => Ok(mlp.forward(&self.mlp_input(x)?)?),
            Body::Vgg11(_) | Body::ResNet(_) if !image => Err(shape_err("(n, 3, 32, 32)", dims)),
            Body::Vgg11(vgg) => Ok(vgg.forward(x, mode)?),
            Body::ResNet(resnet) => Ok(resnet.forward(x, mode)?),
        }
    }

    /// `x` as the (n, 3072) input of an MLP: images (n, 3, 32, 32) are flattened.
    pub(crate) fn mlp_input(&self, x: &Tensor) -> Result<Tensor, ModelError> {
        let dims = x.dims();
        if dims.len() == 4 && dims[1..] == [3, 32, 32] {
            Ok(x.flatten_from(1)?)
        } else if dims.len() == 2 && dims[1] == MLP_INPUT_DIM {
            Ok(x.clone())
        } else {
            Err(shape_err("(n, 3072) or (n, 3, 32, 32)", dims))
        }
    }

    /// The body when the network is an MLP.
    pub(crate) fn mlp(&self) -> Option<&Mlp> {
        match &self.body {
            Body::Mlp(mlp) => Some(mlp),
            Body::Vgg11(_) | Body::ResNet(_) => None,
        }
    }

    /// The position of `var` in [`Network::parameters`].
    ///
    /// Panics if `var` is not one of this network's parameters (a bug of this crate).
    pub(crate) fn parameter_index(&self, var: &Var) -> usize {
        self.params
            .iter()
            .position(|p| p.as_tensor().id() == var.as_tensor().id())
            .expect("a layer variable is a network parameter")
    }

    /// Trainable parameters, sorted by name.
    pub fn parameters(&self) -> &[Var] {
        &self.params
    }

    /// Names of [`Network::parameters`], same order.
    pub fn parameter_names(&self) -> &[String] {
        &self.names
    }

    /// Total number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.num_parameters
    }

    /// The architecture this network was built from.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Number of output classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Parameter dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Parameter device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the network has BatchNorm layers (and therefore buffers).
    pub fn has_batch_norm(&self) -> bool {
        !self.bn_states.is_empty()
    }

    /// Concatenates per-parameter tensors (e.g. gradients, in [`Network::parameters`] order)
    /// into one detached 1-D tensor of length [`Network::num_parameters`].
    pub fn flatten(&self, per_parameter: &[Tensor]) -> Result<Tensor, ModelError> {
        if per_parameter.len() != self.params.len() {
            return Err(shape_err(
                format!("{} tensors", self.params.len()),
                per_parameter.len(),
            ));
        }
        let mut parts = Vec::with_capacity(per_parameter.len());
        for ((t, v), name) in per_parameter.iter().zip(&self.params).zip(&self.names) {
            if t.elem_count() != v.elem_count() {
                return Err(shape_err(
                    format!("{} elements for {name}", v.elem_count()),
                    t.dims(),
                ));
            }
            parts.push(t.detach().flatten_all()?);
        }
        let flat = Tensor::cat(&parts, 0)?;
        // `cat` of a single part returns that part, which may alias its source storage.
        Ok(if parts.len() == 1 { flat.copy()? } else { flat })
    }

    /// A fresh 1-D copy of all parameters (never aliases the parameters' storage).
    pub fn flat_parameters(&self) -> Result<Tensor, ModelError> {
        let tensors: Vec<Tensor> = self.params.iter().map(|v| v.as_tensor().clone()).collect();
        self.flatten(&tensors)
    }

    fn check_flat(&self, w: &Tensor) -> Result<(), ModelError> {
        if w.dims() != [self.num_parameters] {
            return Err(shape_err(format!("({},)", self.num_parameters), w.dims()));
        }
        if w.dtype() != self.dtype || !w.device().same_device(&self.device) {
            return Err(shape_err(
                format!("{:?} on {:?}", self.dtype, self.device.location()),
                (w.dtype(), w.device().location()),
            ));
        }
        Ok(())
    }

    /// Overwrites every parameter from the flat vector `w` (length, dtype and device must
    /// match). The data is copied (`Var::set` copies from the view); `w` is not aliased.
    pub fn set_flat_parameters(&self, w: &Tensor) -> Result<(), ModelError> {
        for (v, part) in self.params.iter().zip(self.split_flat(w)?) {
            v.set(&part)?;
        }
        Ok(())
    }

    /// In-place update w ← w + η·u for a flat direction `u`.
    pub fn add_scaled(&self, eta: f64, u: &Tensor) -> Result<(), ModelError> {
        for (v, part) in self.params.iter().zip(self.split_flat(u)?) {
            let updated = plus_scaled(&v.as_tensor().detach(), eta, &part)?;
            v.set(&updated)?;
        }
        Ok(())
    }

    /// Views of a flat vector (checked like [`Network::set_flat_parameters`]) with the shape of
    /// each parameter, in [`Network::parameters`] order.
    pub(crate) fn split_flat(&self, w: &Tensor) -> Result<Vec<Tensor>, ModelError> {
        self.check_flat(w)?;
        let mut offset = 0;
        let mut parts = Vec::with_capacity(self.params.len());
        for v in &self.params {
            let n = v.elem_count();
            parts.push(w.narrow(0, offset, n)?.reshape(v.shape())?);
            offset += n;
        }
        Ok(parts)
    }

    /// BatchNorm running statistics as (name, copy) pairs in layer order: for each layer
    /// `<prefix>.running_mean` then `<prefix>.running_var`. Empty without BatchNorm.
    pub fn buffers(&self) -> Result<Vec<(String, Tensor)>, ModelError> {
        let mut out = Vec::with_capacity(2 * self.bn_states.len());
        for state in &self.bn_states {
            let running = state.running.lock().expect("BatchNorm state poisoned");
            out.push((format!("{}.running_mean", state.name), running.0.copy()?));
            out.push((format!("{}.running_var", state.name), running.1.copy()?));
        }
        Ok(out)
    }

    /// Restores buffers saved by [`Network::buffers`]: the names must be exactly those of
    /// `buffers()` (any order) and the shapes must match. Tensors are converted to the
    /// network's dtype and device.
    pub fn set_buffers(&self, buffers: &[(String, Tensor)]) -> Result<(), ModelError> {
        let expected = 2 * self.bn_states.len();
        if buffers.len() != expected {
            return Err(shape_err(format!("{expected} buffers"), buffers.len()));
        }
        let find = |name: String, like: &Tensor| -> Result<Tensor, ModelError> {
            let (_, t) = buffers
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| shape_err(format!("a buffer named {name}"), "none"))?;
            if t.dims() != like.dims() {
                return Err(shape_err(
                    format!("{name} of shape {:?}", like.dims()),
                    t.dims(),
                ));
            }
            Ok(t.to_dtype(self.dtype)?.to_device(&self.device)?.copy()?)
        };
        let mut updates = Vec::with_capacity(self.bn_states.len());
        for state in &self.bn_states {
            let running = state.running.lock().expect("BatchNorm state poisoned");
            let mean = find(format!("{}.running_mean", state.name), &running.0)?;
            let var = find(format!("{}.running_var", state.name), &running.1)?;
            updates.push((mean, var));
        }
        for (state, update) in self.bn_states.iter().zip(updates) {
            *state.running.lock().expect("BatchNorm state poisoned") = update;
        }
        Ok(())
    }

    /// One line: architecture, classes, parameter count, e.g.
    /// `"mlp[200,200] tanh bias, 10 classes: 656810 parameters"`.
    pub fn describe(&self) -> String {
        format!(
            "{}, {} classes: {} parameters",
            self.arch.name(),
            self.num_classes,
            self.num_parameters
        )
    }
}
