//! `reproduce` (`--executor local`, the default; `--jobs N`, default one per core): a figure's
//! missing runs as child processes of this binary (`xtask run <config>`), `N` at once, each
//! with `--threads` (default: all cores) divided by `N` threads. Tuning grids are planned round by round
//! ([`stepsharp_runner::plan_figure`]): once a round's runs have ended the figure is planned
//! again, until nothing is missing.
//!
//! Each child computes exactly what the sequential executor computes with the same thread
//! count, so trajectories are bit-identical to `--threads <per run> reproduce`. Children stay
//! in this process's group: Ctrl-C reaches them too, each checkpoints and stops, and this
//! process waits for them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use stepsharp_runner::{FigureConfig, MissingRun, plan_figure};

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

/// Runs every missing run of `figure` with `jobs` child processes at once.
pub fn run_missing(figure: &FigureConfig, global: &Global, jobs: usize) -> anyhow::Result<()> {
    let threads = (cores(global)? / jobs).max(1);
    let scratch = tempfile::tempdir().context("cannot create a folder for run configs")?;
    let options = global.options();
    let mut round = 0;
    let mut previous: Vec<String> = Vec::new();
    loop {
        round += 1;
        let plan = plan_figure(figure, global.scale(), &options)?;
        // A run that ran without error in the previous round has ended: if it is still
        // missing, the child computed another run id (it would loop forever).
        if let Some(run) = plan.missing.iter().find(|m| previous.contains(&m.dir.hash)) {
            anyhow::bail!(
                "run `{}` ({}) is still missing after its child process succeeded",
                run.label,
                run.dir.id()
            );
        }
        previous = plan.missing.iter().map(|m| m.dir.hash.clone()).collect();
        if plan.missing.is_empty() {
            anyhow::ensure!(
                plan.waiting.is_empty(),
                "runs wait for a tuning round that has no missing run: {:?}",
                plan.waiting
            );
            return Ok(());
        }
        eprintln!(
            "round {round}: {} runs, {jobs} at a time, {threads} threads each{}",
            plan.missing.len(),
            if plan.waiting.is_empty() {
                String::new()
            } else {
                format!(" ({} more wait for a tuning round)", plan.waiting.len())
            }
        );
        let folder = scratch.path().join(format!("round-{round}"));
        run_children(&plan.missing, global, jobs, threads, &folder)?;
    }
}

/// One child process running one run.
struct Running {
    child: Child,
    run: usize,
    bar: ProgressBar,
    log: PathBuf,
}

/// Runs `missing` as children, `jobs` at once; fails (after every started child has ended)
/// if one failed or an interrupt was requested.
fn run_children(
    missing: &[MissingRun],
    global: &Global,
    jobs: usize,
    threads: usize,
    folder: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let bars = MultiProgress::new();
    let say = |line: String| {
        if bars.is_hidden() {
            eprintln!("{line}");
        } else {
            bars.suspend(|| eprintln!("{line}"));
        }
    };
    let mut next = 0;
    let mut running: Vec<Running> = Vec::new();
    let mut failures = Vec::new();
    loop {
        let stop = global.interrupt.is_requested() || !failures.is_empty();
        while !stop && running.len() < jobs && next < missing.len() {
            running.push(start(
                &missing[next],
                next,
                missing.len(),
                global,
                threads,
                folder,
                &bars,
            )?);
            next += 1;
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(POLL);
        let mut still = Vec::new();
        for mut job in running {
            let Some(status) = job.child.try_wait().context("cannot wait for a run")? else {
                still.push(job);
                continue;
            };
            job.bar.finish_and_clear();
            failures.extend(report_end(&job, status, missing, &say)?);
        }
        running = still;
    }
    if global.interrupt.is_requested() {
        anyhow::bail!(
            "interrupted: the runs that were running stopped with a checkpoint; run the same \
             command again to resume them"
        );
    }
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n\n"));
    Ok(())
}

/// Says how the child `job` ended; its failure (with the tail of its log) when it failed.
fn report_end(
    job: &Running,
    status: ExitStatus,
    missing: &[MissingRun],
    say: &impl Fn(String),
) -> anyhow::Result<Option<String>> {
    let run = &missing[job.run];
    let position = format!(
        "[{}/{}] {} {}",
        job.run + 1,
        missing.len(),
        run.label,
        run.dir.id()
    );
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
