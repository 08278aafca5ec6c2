//! How a run ended (or that it has not), as stored in `metadata.json` and in the checkpoint.
//!
//! A diverged run's loss is often Inf or NaN, which JSON numbers cannot hold: non-finite
//! values are written as the strings `"inf"`, `"-inf"` and `"nan"` (finite ones stay numbers),
//! and the `null` that older versions wrote for them reads back as NaN.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a run ended (or that it has not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Started, not finished (interrupted runs stay here and resume from their checkpoint).
    Running,
    /// Reached `training.max_steps` or the loss goal.
    Completed {
        /// Steps taken.
        steps: usize,
    },
    /// The loss became NaN/Inf or exceeded the divergence threshold.
    Diverged {
        /// The step at which the loss was non-finite or above the threshold.
        step: usize,
        /// The offending loss.
        #[serde(with = "loss_serde")]
        loss: f64,
    },
}

impl RunStatus {
    /// Whether the run has ended (completed or diverged) and can be reused as it is.
    pub fn is_final(&self) -> bool {
        !matches!(self, RunStatus::Running)
    }

    /// The number of trajectory rows a run with this final status has.
    pub fn rows(&self) -> Option<usize> {
        match *self {
            RunStatus::Running => None,
            RunStatus::Completed { steps } => Some(steps),
            RunStatus::Diverged { step, .. } => Some(step + 1),
        }
    }

    /// A short human-readable form, e.g. `diverged at step 12`.
    pub fn describe(&self) -> String {
        match self {
            RunStatus::Running => "incomplete".into(),
            RunStatus::Completed { steps } => format!("completed ({steps} steps)"),
            RunStatus::Diverged { step, .. } => format!("diverged at step {step}"),
        }
    }
}

/// A loss as a JSON number when finite, else as `"inf"`, `"-inf"` or `"nan"`.
mod loss_serde {
    use super::*;

    /// The stored form of a loss.
    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Number(f64),
        Text(String),
        /// Written for non-finite losses by versions before the text form.
        Null(()),
    }

    pub fn serialize<S: Serializer>(loss: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        match loss.is_finite() {
            true => Stored::Number(*loss),
            false => Stored::Text(loss.to_string().to_lowercase()),
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        match Stored::deserialize(deserializer)? {
            Stored::Number(loss) => Ok(loss),
            Stored::Null(()) => Ok(f64::NAN),
            Stored::Text(text) => text.parse().map_err(|_| {
                serde::de::Error::custom(format!("`{text}` is not a loss (a number, inf or nan)"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_losses_round_trip_and_old_nulls_read_as_nan() {
        for loss in [f64::INFINITY, f64::NEG_INFINITY, 1.5e7] {
            let status = RunStatus::Diverged { step: 3, loss };
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(
                serde_json::from_str::<RunStatus>(&json).unwrap(),
                status,
                "{json}"
            );
        }
        let json = serde_json::to_string(&RunStatus::Diverged {
            step: 1,
            loss: f64::NAN,
        })
        .unwrap();
        assert!(json.contains("\"nan\""), "{json}");
        let old = r#"{"status": "diverged", "step": 4, "loss": null}"#;
        let RunStatus::Diverged { step, loss } = serde_json::from_str(old).unwrap() else {
            panic!("not diverged");
        };
        assert_eq!(step, 4);
        assert!(loss.is_nan());
    }
}
