//! The configuration of one training run: everything that determines its trajectory.
//!
//! A [`RunConfig`] is written in TOML (usually as part of a figure file under `experiments/`),
//! every field has a documented default, unknown keys are rejected, and [`RunConfig::validate`]
//! names the offending field path. The fully resolved config (defaults filled in) is what the
//! run hash is computed from (see [`crate::run_hash`]).

use serde::{Deserialize, Serialize};
use stepsharp_data::{BatchSize, DataConfig, Subset};
use stepsharp_models::{Architecture, Loss};
pub use stepsharp_sharpness::WarmStart;
use stepsharp_sharpness::{DensityConfig, SharpnessError, TraceConfig};
use stepsharp_stepsize::RuleConfig;

use crate::ConfigError;

/// One training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// What is trained: a network on CIFAR-10 (`kind = "mlp" | "vgg11" | "resnet"`) or a
    /// quadratic (`kind = "quadratic"`, no data). Default: Cohen et al.'s fully connected tanh
    /// net `[200, 200]`.
    pub model: ModelSpec,
    /// Which CIFAR-10 examples, and how they are preprocessed. Default: see [`DataConfig`].
    pub data: DataConfig,
    /// Training loss. Default: MSE (Cohen et al.).
    pub loss: Loss,
    /// Regime (full batch or mini-batch), length and stop conditions.
    pub training: TrainingConfig,
    /// The stepsize rule and all its constants. Default: Armijo with optax constants.
    pub stepsize: RuleConfig,
    /// How and when the sharpness λ_max is measured.
    pub sharpness: SharpnessConfig,
    /// Seeds of every random stream of the run.
    pub seeds: Seeds,
    /// Floating-point precision of parameters and data. Default: f32.
    pub dtype: Precision,
    /// Where tensors live. Default: CPU. CUDA needs the `cuda` cargo feature.
    pub device: DeviceKind,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            model: ModelSpec::Network(Architecture::mlp_cohen()),
            data: DataConfig::default(),
            loss: Loss::Mse,
            training: TrainingConfig::default(),
            stepsize: RuleConfig::Armijo(Default::default()),
            sharpness: SharpnessConfig::default(),
            seeds: Seeds::default(),
            dtype: Precision::F32,
            device: DeviceKind::Cpu,
        }
    }
}

/// What a run trains.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ModelSpec {
    /// A quadratic objective (`kind = "quadratic"`).
    Quadratic(QuadraticSpec),
    /// A network (`kind = "mlp"`, `"vgg11"` or `"resnet"`).
    Network(Architecture),
}

impl<'de> Deserialize<'de> for ModelSpec {
    /// Dispatches on `kind` so that errors come from the matching type (an untagged enum would
    /// only say that no variant matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::Value::deserialize(deserializer)?;
        if value.get("kind").and_then(toml::Value::as_str) == Some("quadratic") {
            value
                .try_into()
                .map(ModelSpec::Quadratic)
                .map_err(D::Error::custom)
        } else {
            value
                .try_into()
                .map(ModelSpec::Network)
                .map_err(D::Error::custom)
        }
    }
}

/// The tag of [`QuadraticSpec`]: always `"quadratic"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuadraticKind {
    /// The only value.
    #[default]
    Quadratic,
}

/// A quadratic objective `f(w) = ½(w − w*)ᵀH(w − w*)`, `H = Q diag(spectrum) Qᵀ`, `w* = 0`,
/// started at a seeded standard-normal point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuadraticSpec {
    /// Always `"quadratic"`.
    pub kind: QuadraticKind,
    /// Eigenvalues of `H`. Default: `[100, 10, 1, 0.1]`.
    pub spectrum: Vec<f64>,
    /// Seed of the orthogonal basis `Q` and of the starting point. Default: 0.
    pub seed: u64,
}

impl Default for QuadraticSpec {
    fn default() -> Self {
        Self {
            kind: QuadraticKind::Quadratic,
            spectrum: vec![100.0, 10.0, 1.0, 0.1],
            seed: 0,
        }
    }
}

/// Regime, length and stop conditions of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingConfig {
    /// `"full"` (deterministic GD on the whole training subset) or a mini-batch size.
    /// Default: `"full"`.
    pub batch_size: BatchSize,
    /// Drop the last incomplete mini-batch of each epoch. Default: true.
    pub drop_last: bool,
    /// Number of optimizer steps. Default: 100.
    pub max_steps: usize,
    /// Stop once the training loss (as measured at a step) falls below this value.
    /// Default: none.
    pub loss_goal: Option<f64>,
    /// A loss above this value (or NaN/Inf) ends the run with status "diverged". Default: 1e6.
    pub divergence_threshold: f64,
    /// Examples per chunk when a loss, gradient or Hessian product runs over many examples
    /// (bounds memory; results agree across chunk sizes up to rounding). Default: 1000.
    pub chunk_size: usize,
    /// Which examples the line search evaluates trial steps on. Default: the same batch.
    pub line_search_batch: LineSearchBatch,
    /// Test-set evaluation schedule, e.g. `test = { every = 50 }`. Default: `"never"`.
    pub test: Schedule,
    /// Write a checkpoint every this many steps (and at the end). Default: 50.
    pub checkpoint_every: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            batch_size: BatchSize::Full,
            drop_last: true,
            max_steps: 100,
            loss_goal: None,
            divergence_threshold: 1e6,
            chunk_size: 1000,
            line_search_batch: LineSearchBatch::Same,
            test: Schedule::Never,
            checkpoint_every: 50,
        }
    }
}

/// Which batch the line search evaluates `f(w + ηu)` on (paper-spec.md: same batch by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSearchBatch {
    /// The batch the gradient was taken on.
    Same,
    /// A second, independently shuffled batch of the same size.
    Independent,
}

/// A periodic schedule in steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Never.
    Never,
    /// At step 0, every `n` steps, and at the last step.
    Every(usize),
}

impl Schedule {
    /// Whether the schedule fires at `step` of a run with `max_steps` steps.
    pub fn fires(self, step: usize, max_steps: usize) -> bool {
        match self {
            Schedule::Never => false,
            Schedule::Every(n) => step.is_multiple_of(n) || step + 1 == max_steps,
        }
    }
}

/// Which eigen-solver measures λ_max.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharpnessMethod {
    /// Lanczos with full reorthogonalization (top-k, Ritz residuals).
    Lanczos,
    /// Power iteration (CDAT paper), top-1 only.
    Power,
}

/// What the Hessian operator of a sharpness measurement keeps in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphMemory {
    /// Keep every chunk's gradient graph for the whole measurement: one backward pass per
    /// chunk per HVP; memory grows with `eval_examples`.
    #[default]
    Keep,
    /// Rebuild one chunk's graph per chunk and HVP (`RecomputingHessian`): bounded memory, at
    /// the price of a forward and a backward pass more per chunk and HVP. Same values.
    Recompute,
}

impl GraphMemory {
    /// The default, left out of the canonical form so that run ids from before this field
    /// existed stay valid (`hash.rs`).
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How and when the sharpness is measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharpnessConfig {
    /// Eigen-solver. Default: Lanczos.
    pub method: SharpnessMethod,
    /// Number of top eigenvalues. Default: 1.
    pub k: usize,
    /// When to measure (at w_t, before step t is applied), e.g. `measure = { every = 10 }` or
    /// `"never"`. Default: every 10 steps.
    pub measure: Schedule,
    /// Size of the fixed evaluation set: the first this many examples of the training subset
    /// (Cohen et al.: the first 5000 training examples). Default: 1000.
    pub eval_examples: usize,
    /// Relative Ritz-residual tolerance ‖Hv − λv‖ ≤ tol·|λ|. Default: 1e-3.
    pub tolerance: f64,
    /// Iteration cap of the solver. Default: 50.
    pub max_iterations: usize,
    /// Warm starts across measurements. Default: previous eigenvector.
    pub warm_start: WarmStart,
    /// Keep the gradient graphs of all evaluation chunks, or recompute them chunk by chunk
    /// for bounded memory (large CNNs). Default: keep.
    #[serde(skip_serializing_if = "GraphMemory::is_default")]
    pub graphs: GraphMemory,
    /// The Hutchinson trace `tr(H)` on the evaluation set, on its own schedule, e.g.
    /// `trace = { every = 500 }`; stored in the trajectory. Default: none (left out of the
    /// canonical form, so run ids from before this field existed stay valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceOptions>,
    /// The spectral density (SLQ) on the evaluation set, on its own schedule, e.g.
    /// `density = { steps = [0, 1500, 2999] }`; stored in `density.csv`. Default: none (left
    /// out of the canonical form like `trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<DensityOptions>,
}

/// `sharpness.trace`: when and how the Hessian trace is estimated ([`TraceConfig`], with the
/// probes seeded from `seeds.probe`).
///
/// An estimate is taken at step `t` (at `w_t`, before the update, like `λ_max`) when `every`
/// fires (steps `0, n, 2n, …` and the last step) or `t` is in `steps`; at least one of the two
/// must be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceOptions {
    /// Estimate every this many steps (and at step 0 and the last step). Default: none.
    #[serde(default)]
    pub every: Option<usize>,
    /// Estimate at these steps. Default: none.
    #[serde(default)]
    pub steps: Vec<usize>,
    /// Stop once the standard error is at most this fraction of `|tr(H)|`. Default: 1e-2
    /// ([`TraceConfig::default`]).
    #[serde(default = "default_relative_standard_error")]
    pub relative_standard_error: f64,
    /// Probes before the stopping test applies. Default: 10 ([`TraceConfig::default`]).
    #[serde(default = "default_min_probes")]
    pub min_probes: usize,
    /// Cap on probes (= HVPs) per estimate. Default: 100 (PyHessian, [`TraceConfig::default`]).
    #[serde(default = "default_max_probes")]
    pub max_probes: usize,
}

/// `sharpness.density`: when and how the spectral density is estimated by stochastic Lanczos
/// quadrature ([`DensityConfig`], with the probes seeded from `seeds.probe`); scheduled like
/// [`TraceOptions`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DensityOptions {
    /// Estimate every this many steps (and at step 0 and the last step). Default: none.
    #[serde(default)]
    pub every: Option<usize>,
    /// Estimate at these steps. Default: none.
    #[serde(default)]
    pub steps: Vec<usize>,
    /// Rademacher probes `n_v` averaged. Default: 1 (PyHessian, [`DensityConfig::default`]).
    #[serde(default = "default_density_probes")]
    pub probes: usize,
    /// Lanczos steps `m` (= HVPs) per probe. Default: 100 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_lanczos_steps")]
    pub lanczos_steps: usize,
    /// Points of the smoothed density's grid. Default: 10000 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_grid_points")]
    pub grid_points: usize,
    /// Kernel variance relative to the width of the Ritz nodes. Default: 1e-5 (PyHessian,
    /// [`DensityConfig::default`]).
    #[serde(default = "default_kernel_variance")]
    pub kernel_variance: f64,
}

fn default_relative_standard_error() -> f64 {
    TraceConfig::default().relative_standard_error
}
fn default_min_probes() -> usize {
    TraceConfig::default().min_probes
}
fn default_max_probes() -> usize {
    TraceConfig::default().max_probes
}
fn default_density_probes() -> usize {
    DensityConfig::default().probes
}
fn default_lanczos_steps() -> usize {
    DensityConfig::default().steps
}
fn default_grid_points() -> usize {
    DensityConfig::default().grid_points
}
fn default_kernel_variance() -> f64 {
    DensityConfig::default().kernel_variance
}

/// Whether an estimate scheduled by `every` and `steps` is due at `step` of `max_steps`.
fn scheduled(every: Option<usize>, steps: &[usize], step: usize, max_steps: usize) -> bool {
    every.is_some_and(|n| Schedule::Every(n).fires(step, max_steps)) || steps.contains(&step)
}

/// Checks a schedule `every`/`steps` of the table `field` against `max_steps`.
fn validate_schedule(
    field: &str,
    every: Option<usize>,
    steps: &[usize],
    max_steps: usize,
) -> Result<(), ConfigError> {
    if every.is_none() && steps.is_empty() {
        return Err(ConfigError::invalid(
            field,
            "",
            "`every = n` or `steps = [...]` (or leave the table out)",
        ));
    }
    if let Some(n) = every {
        positive(&format!("{field}.every"), n)?;
    }
    if let Some(&step) = steps.iter().find(|&&s| s >= max_steps) {
        return Err(ConfigError::invalid(
            &format!("{field}.steps"),
            step,
            format!("steps below training.max_steps = {max_steps}"),
        ));
    }
    Ok(())
}

/// The error of a sharpness-crate config as one of `table`'s fields (renamed by `rename`).
fn estimator_error(table: &str, error: SharpnessError, rename: &[(&str, &str)]) -> ConfigError {
    match error {
        SharpnessError::InvalidConfig {
            field,
            value,
            expected,
        } => {
            let name = rename
                .iter()
                .find(|(from, _)| *from == field)
                .map_or(field, |(_, to)| to);
            ConfigError::invalid(&format!("{table}.{name}"), value, expected)
        }
        other => ConfigError::invalid(table, "", other),
    }
}

impl TraceOptions {
    /// Whether an estimate is due at `step` of a run of `max_steps` steps.
    pub fn fires(&self, step: usize, max_steps: usize) -> bool {
        scheduled(self.every, &self.steps, step, max_steps)
    }

    /// The estimator's settings, its probes seeded by `seed`.
    pub fn estimator(&self, seed: u64) -> TraceConfig {
        TraceConfig {
            relative_standard_error: self.relative_standard_error,
            min_probes: self.min_probes,
            max_probes: self.max_probes,
            seed,
        }
    }

    fn validate(&self, max_steps: usize) -> Result<(), ConfigError> {
        validate_schedule("sharpness.trace", self.every, &self.steps, max_steps)?;
        self.estimator(0)
            .validate()
            .map_err(|e| estimator_error("sharpness.trace", e, &[]))
    }
}

impl DensityOptions {
    /// Whether an estimate is due at `step` of a run of `max_steps` steps.
    pub fn fires(&self, step: usize, max_steps: usize) -> bool {
        scheduled(self.every, &self.steps, step, max_steps)
    }

    /// The estimator's settings, its probes seeded by `seed`.
    pub fn estimator(&self, seed: u64) -> DensityConfig {
        DensityConfig {
            probes: self.probes,
            steps: self.lanczos_steps,
            grid_points: self.grid_points,
            kernel_variance: self.kernel_variance,
            seed,
        }
    }

    fn validate(&self, max_steps: usize) -> Result<(), ConfigError> {
        validate_schedule("sharpness.density", self.every, &self.steps, max_steps)?;
        self.estimator(0)
            .validate()
            .map_err(|e| estimator_error("sharpness.density", e, &[("steps", "lanczos_steps")]))
    }
}

impl Default for SharpnessConfig {
    fn default() -> Self {
        Self {
            method: SharpnessMethod::Lanczos,
            k: 1,
            measure: Schedule::Every(10),
            eval_examples: 1000,
            tolerance: 1e-3,
            max_iterations: 50,
            warm_start: WarmStart::Previous,
            graphs: GraphMemory::Keep,
            trace: None,
            density: None,
        }
    }
}

/// Seeds of the run's random streams (all default to 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Seeds {
    /// Initial weights. Default: 0.
    pub init: u64,
    /// Mini-batch order. Default: 0.
    pub data_order: u64,
    /// Start vectors of the eigen-solvers. Default: 0.
    pub probe: u64,
}

/// Floating-point precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

impl Precision {
    /// The candle dtype.
    pub fn dtype(self) -> candle_core::DType {
        match self {
            Precision::F32 => candle_core::DType::F32,
            Precision::F64 => candle_core::DType::F64,
        }
    }
}

/// Where tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU (needs the `cuda` feature).
    Cuda,
}

impl DeviceKind {
    /// Opens the device. `Cuda` fails with an error naming the `device` field and what to
    /// do: in a build without the `cuda` feature, and when GPU 0 cannot be opened (no GPU,
    /// no driver, out of memory).
    ///
    /// A build with the `cuda` feature links the CUDA driver library (`libcuda.so.1`,
    /// candle's `cudarc` uses dynamic linking): without an NVIDIA driver installed, such a
    /// binary does not start at all, whatever the device asked for.
    pub fn open(self) -> Result<candle_core::Device, ConfigError> {
        match self {
            DeviceKind::Cpu => Ok(candle_core::Device::Cpu),
            DeviceKind::Cuda if !cfg!(feature = "cuda") => Err(ConfigError::invalid(
                "device",
                "cuda",
                "\"cpu\" in this build, which has no CUDA support: rebuild with \
                 `--features cuda` (e.g. `cargo run --release -p xtask --features cuda -- ...`, \
                 which needs nvcc), or set device = \"cpu\" (`--device cpu`)",
            )),
            DeviceKind::Cuda => candle_core::Device::new_cuda(0).map_err(|error| {
                ConfigError::invalid(
                    "device",
                    "cuda",
                    format!(
                        "a usable CUDA GPU 0, but opening it failed ({error}): run on a \
                         machine with an NVIDIA GPU and driver (`nvidia-smi` lists it), or set \
                         device = \"cpu\" (`--device cpu`)"
                    ),
                )
            }),
        }
    }
}

impl RunConfig {
    /// Parses a run config from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|error| ConfigError::Parse {
            origin: origin.to_string(),
            message: error.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a run config file; an empty file (no setting at all) is an error.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Parse {
            origin: origin.clone(),
            message: format!("cannot read the file: {error}"),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|error| ConfigError::Parse {
            origin: origin.clone(),
            message: error.to_string(),
        })?;
        if table.is_empty() {
            return Err(ConfigError::Empty { origin });
        }
        Self::from_toml(&text, &origin)
    }

    /// Checks that a mini-batch fits in a training set of `examples` records.
    pub fn check_batch_fits(&self, examples: usize) -> Result<(), ConfigError> {
        match self.training.batch_size {
            BatchSize::Size(size) if size > examples => Err(ConfigError::invalid(
                "training.batch_size",
                size,
                format!("at most the {examples} training examples"),
            )),
            _ => Ok(()),
        }
    }

    /// Checks every value against its allowed range; the error names the field path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.model {
            ModelSpec::Network(model) => model.validate()?,
            ModelSpec::Quadratic(quadratic) => {
                if quadratic.spectrum.is_empty()
                    || quadratic.spectrum.iter().any(|l| !l.is_finite())
                {
                    return Err(ConfigError::invalid(
                        "model.spectrum",
                        format!("{:?}", quadratic.spectrum),
                        "a non-empty list of finite eigenvalues",
                    ));
                }
                if self.training.batch_size != BatchSize::Full {
                    return Err(ConfigError::invalid(
                        "training.batch_size",
                        format!("{:?}", self.training.batch_size),
                        "\"full\" for a quadratic objective",
                    ));
                }
            }
        }
        self.data.validate()?;
        self.stepsize.validate()?;
        let training = &self.training;
        positive("training.max_steps", training.max_steps)?;
        positive("training.chunk_size", training.chunk_size)?;
        positive("training.checkpoint_every", training.checkpoint_every)?;
        if let BatchSize::Size(size) = training.batch_size {
            positive("training.batch_size", size)?;
            if let Some(count) = subset_count(&self.data.train_subset) {
                self.check_batch_fits(count)?;
            }
        }
        if let Schedule::Every(n) = training.test {
            positive("training.test", n)?;
        }
        if training.divergence_threshold.is_nan() || training.divergence_threshold <= 0.0 {
            return Err(ConfigError::invalid(
                "training.divergence_threshold",
                training.divergence_threshold,
                "a positive number",
            ));
        }
        if let Some(goal) = training.loss_goal
            && !goal.is_finite()
        {
            return Err(ConfigError::invalid(
                "training.loss_goal",
                goal,
                "a finite number",
            ));
        }
        let sharpness = &self.sharpness;
        positive("sharpness.k", sharpness.k)?;
        positive("sharpness.eval_examples", sharpness.eval_examples)?;
        positive("sharpness.max_iterations", sharpness.max_iterations)?;
        if let Schedule::Every(n) = sharpness.measure {
            positive("sharpness.measure", n)?;
        }
        if sharpness.method == SharpnessMethod::Power && sharpness.k != 1 {
            return Err(ConfigError::invalid(
                "sharpness.k",
                sharpness.k,
                "1 with method = \"power\" (use lanczos for top-k)",
            ));
        }
        if sharpness.max_iterations < sharpness.k {
            return Err(ConfigError::invalid(
                "sharpness.max_iterations",
                sharpness.max_iterations,
                "at least sharpness.k",
            ));
        }
        if !(sharpness.tolerance > 0.0 && sharpness.tolerance < 1.0) {
            return Err(ConfigError::invalid(
                "sharpness.tolerance",
                sharpness.tolerance,
                "a number in (0, 1)",
            ));
        }
        if let Some(trace) = &sharpness.trace {
            trace.validate(training.max_steps)?;
        }
        if let Some(density) = &sharpness.density {
            density.validate(training.max_steps)?;
        }
        Ok(())
    }
}

/// The number of records a subset selects, when the config alone says it.
fn subset_count(subset: &Subset) -> Option<usize> {
    match *subset {
        Subset::All => None,
        Subset::First { count }
        | Subset::ClassBalancedFirst { count }
        | Subset::Random { count, .. } => Some(count),
    }
}

fn positive(field: &str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::invalid(field, value, "an integer ≥ 1"))
    } else {
        Ok(())
    }
}
