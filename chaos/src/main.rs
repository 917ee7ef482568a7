//! `weft-chaos kill [--kills N] [--seed S] [--max-delay-ms MS]
//! [--kills-per-epoch K] [--dir DIR] [--keep] [--verbose]`: random kill -9
//! under load, then the tally.
//!
//! `weft-chaos worker --db PATH --ledger PATH --epoch E --generation G
//! [--checkpoint-every OPS]` is the process the driver starts and kills:
//! it runs epoch `E` of the workload on the file and exits 0 once every
//! result is right. `--checkpoint-every` sets the store's background
//! checkpoint interval (`SqliteStore::checkpoint_every`; the engine's
//! default when absent): the kill and power-loss tests make it small, so
//! kills and cuts land inside checkpoints too.
//!
//! `weft-chaos hold-lock --db PATH` takes SQLite's write lock on the file
//! (`BEGIN IMMEDIATE`), prints `locked`, and holds it until its standard
//! input closes: another process in the way of an engine's commits.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use weft::Client;
use weft::engine::{Engine, EngineOptions, SqliteStore};
use weft_chaos::epoch::Plan;
use weft_chaos::kill::KillOptions;
use weft_chaos::{epoch, kill, ledger, workload};

const USAGE: &str = "usage: weft-chaos kill [--kills N] [--seed S] [--max-delay-ms MS] [--kills-per-epoch K] [--dir DIR] [--keep] [--verbose]";

fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let v = v.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
    v.parse().map_err(|e| format!("{flag} {v:?}: {e}"))
}

fn kill_options(args: &mut impl Iterator<Item = String>) -> Result<KillOptions, String> {
    let mut o = KillOptions::default();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--kills" => o.kills = value(&flag, args.next())?,
            "--seed" => o.seed = value(&flag, args.next())?,
            "--max-delay-ms" => o.max_delay_ms = value(&flag, args.next())?,
            "--kills-per-epoch" => o.kills_per_epoch = value(&flag, args.next())?,
            "--dir" => o.dir = value(&flag, args.next())?,
            "--keep" => o.keep = true,
            "--verbose" => o.verbose = true,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    Ok(o)
}

fn run_kill(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let options = kill_options(&mut args)?;
    println!(
        "weft-chaos kill: {} kills ({} an epoch), seed {}, delays 1..{} ms, in {}",
        options.kills,
        options.kills_per_epoch,
        options.seed,
        options.max_delay_ms,
        options.dir.display()
    );
    let start = Instant::now();
    match kill::run(&options) {
        Ok(tally) => {
            print!("{tally}");
            println!(
                "all checks passed in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(problems) => Err(problems.join("\n")),
    }
}

struct WorkerArgs {
    db: PathBuf,
    ledger: PathBuf,
    epoch: u32,
    generation: u32,
    checkpoint_every: Option<usize>,
}

fn worker_args(mut args: impl Iterator<Item = String>) -> Result<WorkerArgs, String> {
    let mut w = WorkerArgs {
        db: PathBuf::new(),
        ledger: PathBuf::new(),
        epoch: 0,
        generation: 0,
        checkpoint_every: None,
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--db" => w.db = value(&flag, args.next())?,
            "--ledger" => w.ledger = value(&flag, args.next())?,
            "--epoch" => w.epoch = value(&flag, args.next())?,
            "--generation" => w.generation = value(&flag, args.next())?,
            "--checkpoint-every" => w.checkpoint_every = Some(value(&flag, args.next())?),
            other => return Err(format!("unknown worker flag {other}")),
        }
    }
    Ok(w)
}

async fn run_worker(args: impl Iterator<Item = String>) -> Result<(), String> {
    let w = worker_args(args)?;
    ledger::open(&w.ledger, w.generation).map_err(|e| format!("ledger: {e}"))?;
    let mut store = SqliteStore::open(&w.db).map_err(|e| e.to_string())?;
    if let Some(operations) = w.checkpoint_every {
        store = store.checkpoint_every(operations);
    }
    let engine = Engine::start(store, EngineOptions::default()).map_err(|e| e.to_string())?;
    let client = Client::new(engine.clone());
    let worker = workload::worker(&client)
        .start()
        .map_err(|e| e.to_string())?;
    let outcome = epoch::run(&client, w.epoch, Plan::default()).await;
    worker.shutdown().await;
    engine.shutdown().await;
    outcome.map_err(|e| e.to_string())
}

fn hold_lock(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let db: PathBuf = match args.next().as_deref() {
        Some("--db") => value("--db", args.next())?,
        _ => return Err("usage: weft-chaos hold-lock --db PATH".into()),
    };
    let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    println!("locked");
    let mut rest = String::new();
    // Holds the lock until the test closes our standard input.
    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
    conn.execute_batch("ROLLBACK").map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let outcome = match args.next().as_deref() {
        Some("kill") => run_kill(args),
        Some("hold-lock") => hold_lock(args),
        Some("worker") => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(run_worker(args)),
            Err(e) => Err(e.to_string()),
        },
        _ => Err(USAGE.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
