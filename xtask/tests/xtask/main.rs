//! The package's integration tests, in one binary: the tidy checks of the repository's text
//! first, then the built `xtask` binary on fixture data: `bench`, the executors of
//! `reproduce`, and runs under kills, signals, concurrent writers and tampering. The fixture
//! figures (`tiny.toml`, `tiny-preempt.toml`) and the scripts' helpers stay in `xtask/tests/`,
//! where `slurm.sh` and `xtask/scripts/store-check.sh` read them too.

mod bench;
mod common;
mod crash;
mod executors;
mod tidy;
