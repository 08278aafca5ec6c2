//! `reproduce --executor slurm`: a figure's missing runs as one SLURM job array, one task per
//! run, and a plotting job that starts once the array has ended (`--dependency=afterany`).
//!
//! Everything goes to `<results>/slurm/<figure>-<scale>-<unix time>/`: `configs/<i>.toml` (the
//! resolved config of task `i`), `runs.txt` (task, run id, label), `array.sh`, `plot.sh` and
//! `logs/`. Each task runs this binary as `xtask --threads <cpus_per_task> --wait run
//! configs/$SLURM_ARRAY_TASK_ID.toml`: the run's lock lets one task write a run (a duplicated
//! task waits, then reuses it), and a task stopped by SIGTERM (time limit, preemption)
//! checkpoints after its current step; submitting again resumes it. Planning skips every run
//! that has ended, so submitting again is idempotent; a tuning grid is submitted one round per
//! invocation ([`stepsharp_runner::sweep::plan_figure`]).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clap::Args;
use stepsharp_runner::figure::{FigureConfig, SlurmResources};
use stepsharp_runner::store::SUBMISSIONS_DIR;
use stepsharp_runner::sweep::{FigurePlan, plan_figure};

use crate::Global;
use crate::local::forwarded_args;

/// The time limit of the plotting job (plots and claims read finished trajectories only).
const PLOT_TIME: &str = "00:30:00";
/// CPU cores of the plotting job.
const PLOT_CPUS: usize = 1;

/// Options of `reproduce --executor slurm`.
#[derive(Args)]
pub struct SlurmArgs {
    /// CPU cores per run (instead of the figure's `[<scale>.slurm] cpus_per_task`).
    #[arg(long)]
    cpus_per_task: Option<usize>,
    /// Generic resources per run, e.g. `gpu:1` (instead of `[<scale>.slurm] gres`).
    #[arg(long)]
    gres: Option<String>,
    /// Time limit per run, e.g. `04:00:00` (instead of `[<scale>.slurm] time`).
    #[arg(long)]
    time: Option<String>,
    /// Memory per run, e.g. `4G` (instead of `[<scale>.slurm] mem`).
    #[arg(long)]
    mem: Option<String>,
    /// Extra `sbatch` arguments for both jobs, split at whitespace, e.g.
    /// `--sbatch "--partition=cpu --account=lab"`.
    #[arg(long, allow_hyphen_values = true)]
    sbatch: Option<String>,
    /// Write and print the scripts and the `sbatch` commands without submitting anything.
    #[arg(long)]
    dry_run: bool,
}

/// What [`submit`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Every run has ended: nothing was submitted (the caller plots at once).
    NothingMissing,
    /// Jobs were submitted, or printed with `--dry-run`.
    Jobs,
}

impl SlurmArgs {
    /// The figure's resources with the command line's overrides, validated.
    fn resources(&self, figure: &FigureConfig, global: &Global) -> anyhow::Result<SlurmResources> {
        let mut resources = figure.scale(global.scale()).slurm.clone();
        if let Some(cpus) = self.cpus_per_task {
            resources.cpus_per_task = cpus;
        }
        if let Some(gres) = &self.gres {
            resources.gres = Some(gres.clone());
        }
        if let Some(time) = &self.time {
            resources.time = time.clone();
        }
        if let Some(mem) = &self.mem {
            resources.mem = mem.clone();
        }
        resources
            .validate(global.scale())
            .context("SLURM resources (the figure's section with the command line's overrides)")?;
        Ok(resources)
    }
}

/// Plans `figure` and submits a job array for its missing runs plus a plotting job.
pub fn submit(
    name: &str,
    figure: &FigureConfig,
    global: &Global,
    args: &SlurmArgs,
) -> anyhow::Result<Submitted> {
    let resources = args.resources(figure, global)?;
    let scale = global.scale();
    let plan = plan_figure(figure, scale, &global.options())?;
    if plan.missing.is_empty() {
        anyhow::ensure!(
            plan.waiting.is_empty(),
            "runs wait for a tuning round that has no missing run: {:?}",
            plan.waiting
        );
        eprintln!("{name}: every run has ended, nothing to submit");
        return Ok(Submitted::NothingMissing);
    }
    let submission = Submission::write(name, global, &plan, &resources)?;
    let extra: Vec<String> = args
        .sbatch
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    println!(
        "{name} ({} scale): {} runs to submit, listed in {}",
        scale.name(),
        plan.missing.len(),
        submission.folder.join("runs.txt").display()
    );
    if !plan.waiting.is_empty() {
        println!(
            "{} more runs wait for this round of a tuning grid: no plotting job now; once the \
             array has ended, run this command again to submit the next round",
            plan.waiting.len()
        );
    }
    if args.dry_run {
        submission.print(&extra);
    } else {
        submission.submit(&extra, plan.missing.len())?;
    }
    Ok(Submitted::Jobs)
}

/// The files of one submission: a folder with each missing run's config, `runs.txt`, the
/// array script and, when no run waits for a tuning round, the plotting script.
struct Submission {
    folder: PathBuf,
    array: String,
    plot: Option<String>,
}

impl Submission {
    /// Writes the submission of `plan`'s missing runs into a fresh folder under
    /// `<results>/submissions/`.
    fn write(
        name: &str,
        global: &Global,
        plan: &FigurePlan,
        resources: &SlurmResources,
    ) -> anyhow::Result<Self> {
        let folder = fresh_folder(&std::path::absolute(
            global.results.join(SUBMISSIONS_DIR).join(format!(
                "{name}-{}-{}",
                global.scale().name(),
                unix_now()
            )),
        )?)?;
        for sub in ["configs", "logs"] {
            let path = folder.join(sub);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        let mut listing = String::new();
        for (index, run) in plan.missing.iter().enumerate() {
            let path = folder.join("configs").join(format!("{index}.toml"));
            let text = toml::to_string(&run.config).context("serializing a run config")?;
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(listing, "{index}\t{}\t{}", run.dir.id(), run.label)?;
        }
        write(&folder.join("runs.txt"), &listing)?;
        let forwarded = forwarded_args(global)?;
        let array = array_script(name, &folder, plan.missing.len(), resources, &forwarded)?;
        write(&folder.join("array.sh"), &array)?;
        let plot = (plan.waiting.is_empty())
            .then(|| plot_script(name, &folder, resources, &forwarded))
            .transpose()?;
        if let Some(plot) = &plot {
            write(&folder.join("plot.sh"), plot)?;
        }
        Ok(Self {
            folder,
            array,
            plot,
        })
    }

    /// Prints the scripts and the `sbatch` commands that would submit them (`--dry-run`).
    fn print(&self, extra: &[String]) {
        let array = self.folder.join("array.sh");
        println!("--- {}\n{}", array.display(), self.array);
        println!("sbatch --parsable {}", command_line(extra, &array));
        if let Some(plot) = &self.plot {
            let script = self.folder.join("plot.sh");
            println!("--- {}\n{plot}", script.display());
            println!(
                "sbatch --parsable --dependency=afterany:<array job id> {}",
                command_line(extra, &script)
            );
        }
        println!("dry run: nothing submitted");
    }

    /// Submits the array, then the plotting job after it, and prints how to follow them.
    fn submit(&self, extra: &[String], tasks: usize) -> anyhow::Result<()> {
        let array_id = sbatch(&[], extra, &self.folder.join("array.sh"))?;
        println!("submitted job array {array_id} ({tasks} tasks)");
        let mut follow = array_id.clone();
        if self.plot.is_some() {
            let dependency = format!("--dependency=afterany:{array_id}");
            let plot_id = sbatch(&[dependency], extra, &self.folder.join("plot.sh"))?;
            println!("submitted plotting job {plot_id} (starts when the array has ended)");
            follow = format!("{array_id},{plot_id}");
        }
        println!(
            "follow: squeue --jobs {follow}    account: sacct --jobs {follow}    logs: {}",
            self.folder.join("logs").display()
        );
        Ok(())
    }
}

/// The job-array script: task `i` runs `configs/<i>.toml`.
fn array_script(
    name: &str,
    folder: &Path,
    tasks: usize,
    resources: &SlurmResources,
    forwarded: &[OsString],
) -> anyhow::Result<String> {
    let mut text = header(
        &format!("one task per missing run of `{name}`; task i runs configs/i.toml (see runs.txt)"),
        &format!("stepsharp-{name}"),
    );
    writeln!(text, "#SBATCH --array=0-{}", tasks - 1)?;
    writeln!(text, "#SBATCH --cpus-per-task={}", resources.cpus_per_task)?;
    writeln!(text, "#SBATCH --time={}", resources.time)?;
    writeln!(text, "#SBATCH --mem={}", resources.mem)?;
    if let Some(gres) = &resources.gres {
        writeln!(text, "#SBATCH --gres={gres}")?;
    }
    writeln!(text, "#SBATCH --chdir={}", current_dir()?.display())?;
    writeln!(
        text,
        "#SBATCH --output={}",
        folder.join("logs").join("run-%A_%a.out").display()
    )?;
    writeln!(
        text,
        "# SIGTERM (time limit, preemption) makes the run checkpoint after its current step;\n\
         # submitting the figure again resumes it."
    )?;
    writeln!(
        text,
        "exec {} --threads {} {} --wait run {}\"${{SLURM_ARRAY_TASK_ID}}.toml\"",
        quote(&std::env::current_exe()?.into_os_string()),
        resources.cpus_per_task,
        quote_all(forwarded),
        quote(&folder.join("configs").join("").into_os_string()),
    )?;
    Ok(text)
}

/// The plotting job's script: plots the figure from its runs and writes its claims report.
fn plot_script(
    name: &str,
    folder: &Path,
    resources: &SlurmResources,
    forwarded: &[OsString],
) -> anyhow::Result<String> {
    let mut text = header(
        &format!("plots `{name}` and writes its claims report once the array has ended"),
        &format!("stepsharp-{name}-plot"),
    );
    writeln!(text, "#SBATCH --cpus-per-task={PLOT_CPUS}")?;
    writeln!(text, "#SBATCH --time={PLOT_TIME}")?;
    writeln!(text, "#SBATCH --mem={}", resources.mem)?;
    writeln!(text, "#SBATCH --chdir={}", current_dir()?.display())?;
    writeln!(
        text,
        "#SBATCH --output={}",
        folder.join("logs").join("plot-%j.out").display()
    )?;
    writeln!(
        text,
        "exec {} {} plot {}",
        quote(&std::env::current_exe()?.into_os_string()),
        quote_all(forwarded),
        quote(&OsString::from(name)),
    )?;
    Ok(text)
}

fn header(what: &str, job_name: &str) -> String {
    format!(
        "#!/bin/bash\n# Written by `cargo xtask reproduce --executor slurm`: {what}.\n\
         #SBATCH --job-name={job_name}\n"
    )
}

/// Submits `script` with `sbatch --parsable` and returns the job id.
fn sbatch(options: &[String], extra: &[String], script: &Path) -> anyhow::Result<String> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .args(options)
        .args(extra)
        .arg(script)
        .output()
        .context("cannot run `sbatch` (is SLURM installed and on the PATH?)")?;
    anyhow::ensure!(
        output.status.success(),
        "sbatch {} failed ({}): {}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    // `--parsable` prints `<job id>[;<cluster>]`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "sbatch {} printed no job id: {stdout:?}",
        script.display()
    );
    Ok(id)
}

fn command_line(extra: &[String], script: &Path) -> String {
    let mut words = extra.to_vec();
    words.push(script.display().to_string());
    words.join(" ")
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Creates `base`, or `base-<k>` for the first `k` that does not exist yet (two submissions
/// never share a folder).
fn fresh_folder(base: &Path) -> anyhow::Result<PathBuf> {
    if let Some(parent) = base.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut folder = base.to_path_buf();
    for k in 1.. {
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                folder = PathBuf::from(format!("{}-{k}", base.display()));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", folder.display())),
        }
    }
    unreachable!("some suffix is free")
}

fn current_dir() -> anyhow::Result<PathBuf> {
    std::env::current_dir().context("cannot read the current folder")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `word` in single quotes for bash.
fn quote(word: &OsString) -> String {
    format!("'{}'", word.to_string_lossy().replace('\'', r"'\''"))
}

fn quote_all(words: &[OsString]) -> String {
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}
