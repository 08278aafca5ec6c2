//! `reproduce` (`--executor local`, the default; `--jobs N`, default one per core): a figure's
//! missing runs as child processes of this binary (`xtask run <config>`), `N` at once, each
//! with `--threads` (default: all cores) divided by `N` threads.
//!
//! Tuning grids are resolved round by round ([`stepsharp_runner::sweep::plan_figure`]), and the figure
//! is planned again whenever a child ends, so a run that waits for a grid (the other seeds at
//! the best stepsize, a widened grid) starts as soon as that grid's round has ended while the
//! other runs go on. Each child computes exactly what the sequential executor computes with
//! the same thread count, so trajectories are bit-identical to `--threads <per run> reproduce
//! --executor sequential`. Children stay in this process's group: Ctrl-C reaches them too,
//! each checkpoints and stops, and this process waits for them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use stepsharp_runner::figure::FigureConfig;
use stepsharp_runner::sweep::{MissingRun, plan_figure};

use crate::Global;

/// How often running children are polled.
const POLL: Duration = Duration::from_millis(200);
/// Lines of a failed child's log quoted in the error.
const LOG_TAIL_LINES: usize = 20;

/// The threads runs may use: `--threads`, else every core.
pub fn cores(global: &Global) -> anyhow::Result<usize> {
    Ok(match global.threads {
        Some(threads) => threads,
        None => std::thread::available_parallelism()
            .context("cannot count the CPU cores (pass --threads)")?
            .get(),
    })
}

/// Runs every missing run of `figure` with `jobs` child processes at once. The figure is
/// planned again whenever a child ends, so that a run which waited for a tuning grid starts as
/// soon as that grid's round has ended, while the other runs go on (no core waits for a whole
/// round to finish).
pub fn run_missing(figure: &FigureConfig, global: &Global, jobs: usize) -> anyhow::Result<()> {
    let threads = (cores(global)? / jobs).max(1);
    let scratch = tempfile::tempdir().context("cannot create a folder for run configs")?;
    let mut pool = Pool {
        figure,
        global,
        jobs,
        threads,
        folder: scratch.path().to_path_buf(),
        bars: MultiProgress::new(),
        running: Vec::new(),
        started: Vec::new(),
        succeeded: Vec::new(),
        failures: Vec::new(),
        waiting: None,
    };
    pool.run()
}

/// The pool of child processes of [`run_missing`]: what runs, what has run, what failed.
struct Pool<'a> {
    figure: &'a FigureConfig,
    global: &'a Global,
    jobs: usize,
    threads: usize,
    /// Where the children's configs and logs go.
    folder: PathBuf,
    bars: MultiProgress,
    running: Vec<Running>,
    /// Every run started, in order (run id hash and label).
    started: Vec<MissingRun>,
    /// Hashes of the runs whose child succeeded.
    succeeded: Vec<String>,
    failures: Vec<String>,
    /// Runs that waited for a tuning round at the last planning (for the progress lines).
    waiting: Option<usize>,
}

impl Pool<'_> {
    fn run(&mut self) -> anyhow::Result<()> {
        let mut plan_again = true;
        loop {
            let stop = self.global.interrupt.is_requested() || !self.failures.is_empty();
            if !stop && plan_again && self.running.len() < self.jobs {
                if self.start_missing()? {
                    break;
                }
                plan_again = false;
            }
            if self.running.is_empty() {
                break;
            }
            std::thread::sleep(POLL);
            plan_again |= self.collect_ended()?;
        }
        if self.global.interrupt.is_requested() {
            anyhow::bail!(
                "interrupted: the runs that were running stopped with a checkpoint; run the same \
                 command again to resume them"
            );
        }
        anyhow::ensure!(self.failures.is_empty(), "{}", self.failures.join("\n\n"));
        Ok(())
    }

    /// Plans the figure and starts missing runs that are not running yet, up to `jobs` at
    /// once; returns whether the figure is complete (nothing missing, nothing running).
    fn start_missing(&mut self) -> anyhow::Result<bool> {
        let plan = plan_figure(self.figure, self.global.scale(), &self.global.options())?;
        // A run whose child succeeded has ended: if it is still missing, the child computed
        // another run id (it would loop forever).
        if let Some(run) = plan
            .missing
            .iter()
            .find(|m| self.succeeded.contains(&m.dir.hash))
        {
            anyhow::bail!(
                "run `{}` ({}) is still missing after its child process succeeded",
                run.label,
                run.dir.id()
            );
        }
        let new: Vec<&MissingRun> = plan
            .missing
            .iter()
            .filter(|m| !self.started.iter().any(|s| s.dir.hash == m.dir.hash))
            .collect();
        if new.is_empty() && self.running.is_empty() {
            anyhow::ensure!(
                plan.waiting.is_empty(),
                "runs wait for a tuning round that has no missing run: {:?}",
                plan.waiting
            );
            return Ok(true);
        }
        if !new.is_empty() && self.waiting != Some(plan.waiting.len()) {
            let waiting = if plan.waiting.is_empty() {
                String::new()
            } else {
                format!(" ({} more wait for a tuning round)", plan.waiting.len())
            };
            let line = match self.waiting {
                None => format!(
                    "{} runs, {} at a time, {} threads each{waiting}",
                    new.len(),
                    self.jobs,
                    self.threads
                ),
                Some(_) => format!("a tuning round ended: {} more runs{waiting}", new.len()),
            };
            self.say(line);
            self.waiting = Some(plan.waiting.len());
        }
        let known = self.started.len() + new.len();
        for run in new {
            if self.running.len() >= self.jobs {
                break;
            }
            let index = self.started.len();
            let job = start(
                run,
                index,
                known,
                self.global,
                self.threads,
                &self.folder,
                &self.bars,
            )?;
            self.running.push(job);
            self.started.push(run.clone());
        }
        Ok(false)
    }

    /// Reports the children that have ended; returns whether any did.
    fn collect_ended(&mut self) -> anyhow::Result<bool> {
        let mut still = Vec::new();
        let mut ended = false;
        for mut job in std::mem::take(&mut self.running) {
            let Some(status) = job.child.try_wait().context("cannot wait for a run")? else {
                still.push(job);
                continue;
            };
            ended = true;
            job.bar.finish_and_clear();
            let run = &self.started[job.run];
            match report_end(&job, status, run, &|line| self.say(line))? {
                Some(failure) => self.failures.push(failure),
                None => self.succeeded.push(run.dir.hash.clone()),
            }
        }
        self.running = still;
        Ok(ended)
    }

    /// A line above the progress bars.
    fn say(&self, line: String) {
        if self.bars.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bars.suspend(|| eprintln!("{line}"));
        }
    }
}

/// One child process running one run.
struct Running {
    child: Child,
    /// Its index in [`Pool::started`].
    run: usize,
    bar: ProgressBar,
    log: PathBuf,
}

/// Says how the child `job`, running `run`, ended; its failure (with the tail of its log) when
/// it failed.
fn report_end(
    job: &Running,
    status: ExitStatus,
    run: &MissingRun,
    say: &dyn Fn(String),
) -> anyhow::Result<Option<String>> {
    let position = format!("[{}] {} {}", job.run + 1, run.label, run.dir.id());
    if status.success() {
        let ended = run
            .dir
            .metadata()?
            .map_or("ended".into(), |m| m.status.describe());
        say(format!("{position} {ended}"));
        return Ok(None);
    }
    let log = std::fs::read_to_string(&job.log).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(LOG_TAIL_LINES).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    say(format!("{position} FAILED ({status})"));
    Ok(Some(format!(
        "run `{}` ({}) failed ({status}):\n{}",
        run.label,
        run.dir.id(),
        tail.join("\n")
    )))
}

/// Writes the config of `run` and starts `xtask run` on it.
fn start(
    run: &MissingRun,
    index: usize,
    total: usize,
    global: &Global,
    threads: usize,
    folder: &Path,
    bars: &MultiProgress,
) -> anyhow::Result<Running> {
    let config = folder.join(format!("{index}.toml"));
    let text = toml::to_string(&run.config).context("serializing a run config")?;
    std::fs::write(&config, text).with_context(|| format!("cannot write {}", config.display()))?;
    let log = folder.join(format!("{index}.log"));
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut command = Command::new(std::env::current_exe().context("cannot locate this binary")?);
    command
        .arg("--threads")
        .arg(threads.to_string())
        .args(forwarded_args(global)?);
    if global.wait {
        command.arg("--wait");
    }
    let child = command
        .arg("run")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("cannot start run `{}`", run.label))?;
    let bar = bars.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} running {elapsed}")
            .expect("valid template"),
    );
    bar.set_prefix(format!(
        "[{}/{total}] {} {}",
        index + 1,
        run.label,
        run.dir.id()
    ));
    bar.enable_steady_tick(POLL);
    Ok(Running {
        child,
        run: index,
        bar,
        log,
    })
}

/// The global options another process of this binary needs to find the same runs: absolute
/// `--results`, `--data` (else `$STEPSHARP_DATA`, made absolute), `--device`, `--dtype` and
/// `--scale`.
pub fn forwarded_args(global: &Global) -> anyhow::Result<Vec<OsString>> {
    let absolute = |path: &Path| {
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
    };
    let mut args: Vec<OsString> = vec!["--results".into(), absolute(&global.results)?.into()];
    let data = global
        .data
        .clone()
        .or_else(|| std::env::var_os("STEPSHARP_DATA").map(PathBuf::from));
    if let Some(data) = data {
        args.extend(["--data".into(), absolute(&data)?.into()]);
    }
    if let Some(device) = global.device {
        let name = device.to_possible_value().expect("no skipped variants");
        args.extend(["--device".into(), name.get_name().into()]);
    }
    if let Some(dtype) = global.dtype {
        let name = dtype.to_possible_value().expect("no skipped variants");
        args.extend(["--dtype".into(), name.get_name().into()]);
    }
    let scale = global
        .scale
        .to_possible_value()
        .expect("no skipped variants");
    args.extend(["--scale".into(), scale.get_name().into()]);
    Ok(args)
}
