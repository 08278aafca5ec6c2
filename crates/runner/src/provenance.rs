//! Where a run was computed: the host, its CPU model, the instruction-set features the CPU
//! kernels may dispatch on, and the scheduler's job ids. Recorded in `metadata.json` for every
//! attempt (the first and each resume), never in the run hash: the same run id computed on
//! CPUs with different vector kernels (e.g. AVX2 against AVX-512) may give different floating
//! point results, so `verify` reports a figure whose runs saw different features.

use serde::{Deserialize, Serialize};

/// The machine one attempt of a run was computed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// Host name (as `host_name` reads it).
    pub host: String,
    /// CPU model (`model name` in `/proc/cpuinfo`), or `unknown`.
    pub cpu_model: String,
    /// The features of [`KERNEL_FEATURES`] this CPU has, in that order.
    pub cpu_features: Vec<String>,
    /// The SLURM job, when the attempt ran inside one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmJob>,
}

/// The SLURM ids of a job, from its environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlurmJob {
    /// `SLURM_JOB_ID`.
    pub job_id: String,
    /// `SLURM_ARRAY_JOB_ID`, in a job array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_job_id: Option<String>,
    /// `SLURM_ARRAY_TASK_ID`, in a job array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_task_id: Option<String>,
}

/// Instruction-set extensions that select different CPU kernels (gemm and candle's vectorized
/// reductions dispatch on them at run time).
#[cfg(target_arch = "x86_64")]
pub const KERNEL_FEATURES: &[&str] = &[
    "sse4.1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
];
/// Instruction-set extensions that select different CPU kernels.
#[cfg(target_arch = "aarch64")]
pub const KERNEL_FEATURES: &[&str] = &["neon", "fp16", "sve"];
/// Instruction-set extensions that select different CPU kernels (none known here).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const KERNEL_FEATURES: &[&str] = &[];

impl Machine {
    /// The machine this process runs on.
    pub fn current() -> Self {
        Self {
            host: host_name(),
            cpu_model: cpu_model(),
            cpu_features: cpu_features(),
            slurm: SlurmJob::from_env(),
        }
    }
}

impl SlurmJob {
    /// The job this process runs in, if `SLURM_JOB_ID` is set.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok();
        Some(Self {
            job_id: var("SLURM_JOB_ID")?,
            array_job_id: var("SLURM_ARRAY_JOB_ID"),
            array_task_id: var("SLURM_ARRAY_TASK_ID"),
        })
    }
}

/// The host name (`/etc/hostname`, else `$HOSTNAME`), or `unknown`.
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// The `model name` line of `/proc/cpuinfo`, or `unknown`.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| key.trim() == "model name")
                .map(|(_, value)| value.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The [`KERNEL_FEATURES`] this CPU has.
fn cpu_features() -> Vec<String> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    macro_rules! detect {
        ($($feature:tt),*) => {
            $(if std::is_x86_feature_detected!($feature) { found.push($feature.to_string()); })*
        };
    }
    #[cfg(target_arch = "aarch64")]
    macro_rules! detect {
        ($($feature:tt),*) => {
            $(if std::arch::is_aarch64_feature_detected!($feature) {
                found.push($feature.to_string());
            })*
        };
    }
    #[cfg(target_arch = "x86_64")]
    detect!(
        "sse4.1", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl"
    );
    #[cfg(target_arch = "aarch64")]
    detect!("neon", "fp16", "sve");
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_features_are_kernel_features_in_order() {
        let found = cpu_features();
        let order: Vec<usize> = found
            .iter()
            .map(|f| KERNEL_FEATURES.iter().position(|k| k == f).expect("listed"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{found:?}");
    }

    #[test]
    fn metadata_without_a_slurm_job_omits_it() {
        let machine = Machine {
            host: "h".into(),
            cpu_model: "m".into(),
            cpu_features: vec!["avx2".into()],
            slurm: None,
        };
        let json = serde_json::to_string(&machine).unwrap();
        assert!(!json.contains("slurm"), "{json}");
        assert_eq!(serde_json::from_str::<Machine>(&json).unwrap(), machine);
    }
}
