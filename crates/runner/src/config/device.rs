//! `dtype` and `device`: the floating-point precision of parameters and data, and where
//! tensors live.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

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
    /// `"f32"` or `"f64"`, as in configs.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }

    /// The other of the two precisions: what a precision cross-check compares with.
    pub fn other(self) -> Self {
        match self {
            Precision::F32 => Precision::F64,
            Precision::F64 => Precision::F32,
        }
    }

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
