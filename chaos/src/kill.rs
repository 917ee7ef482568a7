//! The kill driver: runs the workload in a child process (a generation),
//! SIGKILLs it after a random delay, reads what the store committed, and
//! starts the next generation on the same file; when an epoch's workload
//! finishes, checks it and starts the next epoch in a fresh directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::check;
use crate::epoch::Plan;
use crate::verify::{self, Snapshot, Tally};

/// How the driver runs.
#[derive(Clone, Debug)]
pub struct KillOptions {
    /// Kills to make in all.
    pub kills: u64,
    /// Seeds the kill delays.
    pub seed: u64,
    /// Longest delay before a kill, in milliseconds (shortest: 1).
    pub max_delay_ms: u64,
    /// Kills in one epoch; its next process then runs it to the end, so
    /// a run checks many epochs, each killed at every stage of its work.
    pub kills_per_epoch: u64,
    /// Where the epochs' directories go.
    pub dir: PathBuf,
    /// Keeps each checked epoch's directory.
    pub keep: bool,
    /// Longest an epoch's last, unkilled, process may take.
    pub finish_timeout: Duration,
    /// Prints a line per epoch.
    pub verbose: bool,
    /// The workload of each epoch.
    pub plan: Plan,
}

impl Default for KillOptions {
    fn default() -> Self {
        KillOptions {
            kills: 100,
            seed: 1,
            max_delay_ms: 300,
            kills_per_epoch: 20,
            dir: std::env::temp_dir().join("weft-chaos"),
            keep: false,
            finish_timeout: Duration::from_secs(300),
            verbose: false,
            plan: Plan::default(),
        }
    }
}

/// splitmix64: a seeded sequence of kill delays, no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// One epoch's files and the process running it.
struct Epoch {
    number: u32,
    dir: PathBuf,
}

/// Store operations between a worker's background checkpoints: the
/// engine's default (1,000) is more than an epoch commits, and kills
/// should land inside checkpoints too.
pub const CHECKPOINT_EVERY: usize = 20;

impl Epoch {
    fn spawn(&self, exe: &Path, generation: u32) -> Result<Child, String> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("stderr.log"))
            .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        Command::new(exe)
            .arg("worker")
            .arg("--db")
            .arg(self.dir.join("chaos.db"))
            .arg("--ledger")
            .arg(self.dir.join("ledger.log"))
            .args(["--epoch", &self.number.to_string()])
            .args(["--generation", &generation.to_string()])
            .args(["--checkpoint-every", &CHECKPOINT_EVERY.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", exe.display()))
    }

    fn failed(&self, status: ExitStatus) -> String {
        let log = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "epoch {} ({}): the workload process ended with {status}:\n{}",
            self.number,
            self.dir.display(),
            tail.join("\n")
        )
    }
}

/// Waits up to `limit` for `child` to end by itself.
fn wait_for(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>, String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if start.elapsed() >= limit {
            return Ok(None);
        }
        // Polling a child's exit has no event to wait on without unsafe code.
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs the kills; returns the tally, or every problem found.
pub fn run(options: &KillOptions) -> Result<Tally, Vec<String>> {
    let exe = std::env::current_exe().map_err(|e| vec![format!("current_exe: {e}")])?;
    let mut rng = Rng(options.seed);
    let mut tally = Tally::default();
    let mut generation = 0u32;
    let mut number = 0u32;
    while tally.kills < options.kills {
        let epoch = Epoch {
            number,
            dir: options.dir.join(format!("epoch-{number}")),
        };
        let _ = std::fs::remove_dir_all(&epoch.dir);
        std::fs::create_dir_all(&epoch.dir).map_err(|e| vec![e.to_string()])?;
        let snapshots = run_epoch(&epoch, options, &exe, &mut rng, &mut generation, &mut tally)
            .map_err(|e| vec![e])?;
        verify::epoch(&epoch.dir, number, &options.plan, &snapshots, &mut tally).map_err(
            |mut problems| {
                problems.insert(0, format!("epoch {number} in {}:", epoch.dir.display()));
                problems
            },
        )?;
        if options.verbose {
            eprintln!(
                "epoch {number} checked: {} kills so far, {} workflows",
                tally.kills, tally.workflows
            );
        }
        if !options.keep {
            let _ = std::fs::remove_dir_all(&epoch.dir);
        }
        number += 1;
    }
    Ok(tally)
}

/// Runs one epoch's generations until one finishes; returns what each
/// kill left committed.
fn run_epoch(
    epoch: &Epoch,
    options: &KillOptions,
    exe: &Path,
    rng: &mut Rng,
    generation: &mut u32,
    tally: &mut Tally,
) -> Result<Vec<Snapshot>, String> {
    let mut snapshots = Vec::new();
    let mut kills = 0;
    loop {
        *generation += 1;
        tally.generations += 1;
        let mut child = epoch.spawn(exe, *generation)?;
        let last = tally.kills >= options.kills || kills >= options.kills_per_epoch;
        let limit = if last {
            options.finish_timeout
        } else {
            Duration::from_millis(1 + rng.next() % options.max_delay_ms.max(1))
        };
        match wait_for(&mut child, limit)? {
            Some(status) if status.success() => return Ok(snapshots),
            Some(status) => return Err(epoch.failed(status)),
            None if last => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "epoch {}: not finished after {:?} without kills",
                    epoch.number, options.finish_timeout
                ));
            }
            None => {}
        }
        child.kill().map_err(|e| format!("kill: {e}"))?;
        let status = child.wait().map_err(|e| format!("wait: {e}"))?;
        if status.success() {
            // It finished between the last look and the kill.
            return Ok(snapshots);
        }
        tally.kills += 1;
        kills += 1;
        let db = epoch.dir.join("chaos.db");
        // A process killed before it created the file left nothing.
        let runs = if db.exists() {
            check::histories(&db)?
        } else {
            Vec::new()
        };
        snapshots.push(Snapshot::of(*generation, &runs));
    }
}
