//! Resources of a figure's runs on a SLURM cluster: the `[<scale>.slurm]` table of a figure
//! file, one job-array task per run (`cargo xtask reproduce <figure> --executor slurm`).
//!
//! ```toml
//! [quick.slurm]
//! cpus_per_task = 2
//! time = "01:00:00"
//! mem = "4G"
//! ```

use serde::{Deserialize, Serialize};

use super::Scale;
use crate::config::ConfigError;

/// What one run asks SLURM for (`sbatch` options of each array task).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmResources {
    /// CPU cores per run (`--cpus-per-task`); the run uses as many candle threads, and the
    /// thread count is part of what makes two runs bit-identical. Default: 2 (the quick
    /// scale's machine).
    pub cpus_per_task: usize,
    /// Generic resources (`--gres`), e.g. `"gpu:1"` for a CUDA run. Default: none.
    pub gres: Option<String>,
    /// Time limit per run (`--time`) in a SLURM format: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M` or
    /// `D-H:M:S`. A run stopped at the limit checkpoints and resumes when resubmitted.
    /// Default: `"04:00:00"`.
    pub time: String,
    /// Memory per run (`--mem`): a whole number with an optional unit `K`, `M`, `G` or `T`
    /// (megabytes without one). Default: `"4G"`.
    pub mem: String,
}

impl Default for SlurmResources {
    fn default() -> Self {
        Self {
            cpus_per_task: 2,
            gres: None,
            time: "04:00:00".into(),
            mem: "4G".into(),
        }
    }
}

impl SlurmResources {
    /// Checks every field; errors name `<scale>.slurm.<field>`.
    pub fn validate(&self, scale: Scale) -> Result<(), ConfigError> {
        let field = |name: &str| format!("{}.slurm.{name}", scale.name());
        if self.cpus_per_task == 0 {
            return Err(ConfigError::invalid(
                &field("cpus_per_task"),
                0,
                "at least 1",
            ));
        }
        if let Some(gres) = &self.gres
            && (gres.is_empty() || gres.contains(char::is_whitespace))
        {
            return Err(ConfigError::invalid(
                &field("gres"),
                format!("{gres:?}"),
                "a SLURM gres such as \"gpu:1\" (no spaces)",
            ));
        }
        if !is_slurm_time(&self.time) {
            return Err(ConfigError::invalid(
                &field("time"),
                format!("{:?}", self.time),
                "a SLURM time limit: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S",
            ));
        }
        if !is_slurm_memory(&self.mem) {
            return Err(ConfigError::invalid(
                &field("mem"),
                format!("{:?}", self.mem),
                "a whole number with an optional unit K, M, G or T, e.g. \"4G\"",
            ));
        }
        Ok(())
    }
}

/// Whether `text` is a time limit in one of SLURM's formats.
fn is_slurm_time(text: &str) -> bool {
    let numbers = |parts: &str, max: usize| {
        let fields: Vec<&str> = parts.split(':').collect();
        fields.len() <= max
            && fields
                .iter()
                .all(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    match text.split_once('-') {
        Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
        None => numbers(text, 3),
    }
}

/// Whether `text` is a memory size in SLURM's format.
fn is_slurm_memory(text: &str) -> bool {
    let digits = text.trim_end_matches(['K', 'M', 'G', 'T']);
    text.len() - digits.len() <= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_pinned() {
        let resources = SlurmResources::default();
        resources.validate(Scale::Quick).unwrap();
        assert_eq!(resources.cpus_per_task, 2);
        assert_eq!(resources.gres, None);
        assert_eq!(resources.time, "04:00:00");
        assert_eq!(resources.mem, "4G");
    }

    #[test]
    fn slurm_time_formats() {
        for ok in ["30", "30:00", "4:00:00", "1-0", "1-12:00", "2-00:00:00"] {
            assert!(is_slurm_time(ok), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-1", "1-", "1-2-3", "a:00"] {
            assert!(!is_slurm_time(bad), "{bad}");
        }
    }

    #[test]
    fn slurm_memory_formats() {
        for ok in ["4G", "4000", "512M", "1T"] {
            assert!(is_slurm_memory(ok), "{ok}");
        }
        for bad in ["", "G", "0", "4GB", "4 G", "-4G", "4.5G"] {
            assert!(!is_slurm_memory(bad), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_scale_and_field() {
        let resources = SlurmResources {
            time: "1h".into(),
            ..Default::default()
        };
        let error = resources.validate(Scale::Paper).unwrap_err();
        assert_eq!(error.field().as_deref(), Some("paper.slurm.time"));
        let resources = SlurmResources {
            cpus_per_task: 0,
            ..Default::default()
        };
        let error = resources.validate(Scale::Quick).unwrap_err();
        assert_eq!(error.field().as_deref(), Some("quick.slurm.cpus_per_task"));
    }
}
