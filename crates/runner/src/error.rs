//! The runner's error: [`Error`], a typed cause (a config, store or lower-crate error, an
//! interrupted run, a failed check) inside the context of what was being done.
//!
//! A function of the runner that trains, sweeps, reads results or writes a report returns
//! [`Result`] (one that only reads a config or a store file returns its own [`ConfigError`] or
//! [`StoreError`], which converts into [`Error`] with `?`). An error reads as a chain,
//! outermost first: each [`Error::Context`] says what was being done, and the last link is the
//! typed cause with its own sources. `{}` prints the outermost message; `{:#}` prints the whole
//! chain joined by `": "`, as `anyhow` does (and an `anyhow::Error` made from an [`Error`] with
//! `?` prints the same chain, `{:#}` or `Caused by:`):
//!
//! ```text
//! run `full batch / armijo / seed 0`: interrupted: run 3f2a9c1e0b7d4e65 stopped after step 12
//! with a checkpoint; run the same command again to resume it
//! ```
//!
//! The typed cause is found with [`Error::find`], wherever it sits in the chain: the
//! [`Interrupted`] of a stopped run, the [`ConfigError`] of a bad config, or the error of a
//! lower crate underneath one (every link of [`std::error::Error::source`] past a context is
//! the typed error itself, so a walk over the sources that downcasts finds it too).
//!
//! ```
//! use stepsharp_runner::config::ConfigError;
//! use stepsharp_runner::figure::load_figure;
//!
//! let folder = tempfile::tempdir().unwrap();
//! let path = folder.path().join("bad.toml");
//! std::fs::write(&path, "title = \"bad\"\nkind = \"no such kind\"\n").unwrap();
//! let error = load_figure(&path).unwrap_err();
//! assert!(error.find::<ConfigError>().is_some(), "{error:#}");
//! ```

use std::error::Error as StdError;
use std::fmt::{self, Display};

use stepsharp_data::DataError;
use stepsharp_direction::DirectionError;
use stepsharp_models::ModelError;
use stepsharp_quadratic::QuadraticError;
use stepsharp_sharpness::SharpnessError;
use stepsharp_stepsize::StepsizeError;

use crate::config::ConfigError;
use crate::interrupt::Interrupted;
use crate::store::{StoreError, StoredConfigError};

/// The runner's [`Error`] from the list of its typed causes: the enum (those variants, then
/// `Plot`, `Invalid` and `Context`), `From` for each cause, so that `?` wraps it, and
/// `Error::typed`, which returns it.
macro_rules! error_with_typed_causes {
    ($($(#[$doc:meta])* $variant:ident($error:ty),)*) => {
        /// An error of the runner: a typed cause, with the context of what was being done.
        #[derive(Debug)]
        pub enum Error {
            $($(#[$doc])* $variant($error),)*
            /// Drawing a figure failed.
            Plot {
                /// What the plotting library said.
                message: String,
            },
            /// A failed check that has no error of a lower crate: the message says what is wrong.
            Invalid(String),
            /// `source` happened while doing what `context` says.
            Context {
                /// What was being done, e.g. ``run `armijo` ``.
                context: String,
                /// What went wrong.
                source: Box<Error>,
            },
        }

        $(impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Error::$variant(error)
            }
        })*

        impl Error {
            /// The typed error this variant holds, when it holds one.
            fn typed(&self) -> Option<&(dyn StdError + 'static)> {
                match self {
                    $(Error::$variant(error) => Some(error as &(dyn StdError + 'static)),)*
                    Error::Plot { .. } | Error::Invalid(_) | Error::Context { .. } => None,
                }
            }
        }
    };
}

error_with_typed_causes!(
    /// A config that cannot be used.
    Config(ConfigError),
    /// A file operation of the run store failed, or a run folder cannot be used.
    Store(StoreError),
    /// A run's stored config cannot be read back.
    StoredConfig(StoredConfigError),
    /// The run stopped on a Ctrl-C, after writing a checkpoint.
    Interrupted(Interrupted),
    /// The data crate failed (loading or batching CIFAR-10).
    Data(DataError),
    /// The models crate failed (building or evaluating a network).
    Model(ModelError),
    /// The sharpness crate failed (an eigen-solver or estimator).
    Sharpness(SharpnessError),
    /// The stepsize crate failed (a stepsize rule).
    Stepsize(StepsizeError),
    /// The direction crate failed (an update direction).
    Direction(DirectionError),
    /// The quadratic crate failed (a quadratic objective or the simple model).
    Quadratic(QuadraticError),
    /// A tensor operation failed.
    Candle(candle_core::Error),
    /// A file operation outside the run store failed.
    Io(std::io::Error),
    /// A CSV file (trajectory, density) cannot be read or written.
    Csv(csv::Error),
    /// A JSON value cannot be written.
    Json(serde_json::Error),
    /// A config cannot be written as TOML.
    Toml(toml::ser::Error),
    /// A report's text cannot be formatted.
    Format(fmt::Error),
);

/// A result whose error is the runner's [`Error`] unless another one is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The first error of type `E` in the chain (this error's typed cause included), e.g. the
    /// [`Interrupted`] of a stopped run or the lower crate's error under a [`ConfigError`].
    pub fn find<E: StdError + 'static>(&self) -> Option<&E> {
        let mut next = Some(self.as_link());
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<E>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }

    /// `self` in the context of `context` ([`Error::Context`]).
    pub(crate) fn in_context(self, context: impl Display) -> Self {
        Error::Context {
            context: context.to_string(),
            source: Box::new(self),
        }
    }

    /// This error as a link of a source chain: the typed error itself (so that a downcast
    /// along the chain finds it), or `self` when it holds none.
    fn as_link(&self) -> &(dyn StdError + 'static) {
        self.typed().unwrap_or(self)
    }
}

impl Display for Error {
    /// The outermost message; with `{:#}`, the whole chain joined by `": "`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Plot { message } => write!(f, "plotting failed: {message}")?,
            Error::Invalid(message) => f.write_str(message)?,
            Error::Context { context, .. } => f.write_str(context)?,
            typed => write!(f, "{}", typed.as_link())?,
        }
        if f.alternate() {
            let mut next = self.source();
            while let Some(source) = next {
                write!(f, ": {source}")?;
                next = source.source();
            }
        }
        Ok(())
    }
}

impl StdError for Error {
    /// Past a [`Error::Context`], its source as a link ([`Error::find`]); past a typed cause,
    /// that error's own source.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Context { source, .. } => Some(source.as_link()),
            Error::Plot { .. } | Error::Invalid(_) => None,
            typed => typed.as_link().source(),
        }
    }
}

/// `.context(..)` and `.with_context(..)`: an error (of any type that converts into
/// [`Error`]) in the context of what was being done, or a missing value as an
/// [`Error::Invalid`] saying what is missing.
pub(crate) trait Context<T> {
    /// The error in the context `context`.
    fn context(self, context: impl Display) -> Result<T>;
    /// The error in the context `context()` (evaluated only on an error).
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|error| error.into().in_context(context))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|error| error.into().in_context(context()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Display) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(context.to_string()))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(context().to_string()))
    }
}

/// Returns an [`Error::Invalid`] with the formatted message.
macro_rules! bail {
    ($($message:tt)+) => {
        return Err($crate::error::Error::Invalid(format!($($message)+)))
    };
}

/// Returns an [`Error::Invalid`] with the formatted message unless `condition` holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            $crate::error::bail!($($message)+);
        }
    };
}

pub(crate) use {bail, ensure};

#[cfg(test)]
mod tests {
    use super::*;

    fn interrupted() -> Error {
        Error::from(Interrupted {
            run_id: "0123".to_string(),
            steps_done: 3,
        })
    }

    #[test]
    fn the_chain_prints_like_anyhow() {
        let error = interrupted().in_context("run `a`").in_context("figure `f`");
        assert_eq!(error.to_string(), "figure `f`");
        let cause = interrupted().to_string();
        assert_eq!(
            format!("{error:#}"),
            format!("figure `f`: run `a`: {cause}")
        );
        let anyhow = format!("{:#}", anyhow::Error::from(error));
        assert_eq!(anyhow, format!("figure `f`: run `a`: {cause}"));
    }

    #[test]
    fn a_typed_cause_is_found_at_the_top_and_under_contexts() {
        assert_eq!(interrupted().find::<Interrupted>().unwrap().steps_done, 3);
        let wrapped = interrupted().in_context("run `a`");
        assert_eq!(wrapped.find::<Interrupted>().unwrap().steps_done, 3);
        let source = wrapped.source().expect("a source");
        assert!(source.downcast_ref::<Interrupted>().is_some());
        assert!(Error::Invalid("no".into()).find::<Interrupted>().is_none());
    }

    #[test]
    fn a_missing_value_is_an_invalid_error_with_no_source() {
        let error = None::<u8>.context("gradient missing").unwrap_err();
        assert!(matches!(&error, Error::Invalid(m) if m == "gradient missing"));
        assert!(error.source().is_none());
    }
}
