//! The command line's value enums and what each converts into (`--scale`, `--device`,
//! `--dtype`, `bench --dtypes`).

use stepsharp_runner::config::{DeviceKind, Precision};
use stepsharp_runner::figure::Scale;

/// `--scale`: the runner's [`Scale`].
#[derive(clap::ValueEnum, Clone, Copy)]
pub enum ScaleArg {
    Quick,
    Paper,
}

impl From<ScaleArg> for Scale {
    fn from(scale: ScaleArg) -> Self {
        match scale {
            ScaleArg::Quick => Scale::Quick,
            ScaleArg::Paper => Scale::Paper,
        }
    }
}

/// `--device`: the runner's [`DeviceKind`].
#[derive(clap::ValueEnum, Clone, Copy)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

impl From<DeviceArg> for DeviceKind {
    fn from(device: DeviceArg) -> Self {
        match device {
            DeviceArg::Cpu => DeviceKind::Cpu,
            DeviceArg::Cuda => DeviceKind::Cuda,
        }
    }
}

/// `--dtype` and `bench --dtypes`: the runner's [`Precision`].
#[derive(clap::ValueEnum, Clone, Copy, PartialEq)]
pub enum PrecisionArg {
    F32,
    F64,
}

impl From<PrecisionArg> for Precision {
    fn from(precision: PrecisionArg) -> Self {
        match precision {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        }
    }
}
