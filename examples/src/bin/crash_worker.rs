//! Test driver for the crash tests (not an example): `crash_worker counted
//! --db PATH --workflows N --steps S` runs N `CrashFlow` workflows and prints
//! `result <id> <value>` for each; `crash_worker entity --db PATH --steps N`
//! sends N updates with fixed ids to a reward account; `crash_worker tour
//! --db PATH` runs the tour exactly as `cargo run --example tour` does;
//! `nap --steps MS` sleeps on a durable timer; `beats --steps N` runs a
//! heartbeating activity; `schedule --steps N` lets a schedule take N
//! actions, one a second. `--temporal HOST:PORT` instead of `--db` (built
//! with the feature `temporal`) runs the same on a Temporal frontend.

use std::path::PathBuf;
use std::process::ExitCode;

use weft::Client;
use weft::engine::Engine;
use weft_examples::crash::{CrashFlow, worker};
use weft_examples::support::{ExampleError, options};
use weft_examples::tour;

struct Args {
    mode: String,
    db: PathBuf,
    temporal: Option<String>,
    workflows: u32,
    steps: u32,
}

fn parse() -> Result<Args, ExampleError> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let mut parsed = Args {
        mode,
        db: PathBuf::new(),
        temporal: None,
        workflows: 4,
        steps: 6,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| ExampleError::Usage(format!("{flag} needs a value")))?;
        let number = || {
            value
                .parse::<u32>()
                .map_err(|e| ExampleError::Usage(format!("{flag}: {e}")))
        };
        match flag.as_str() {
            "--db" => parsed.db = PathBuf::from(&value),
            "--temporal" => parsed.temporal = Some(value),
            "--workflows" => parsed.workflows = number()?,
            "--steps" => parsed.steps = number()?,
            other => return Err(ExampleError::Usage(format!("unknown flag {other}"))),
        }
    }
    Ok(parsed)
}

async fn counted(client: &Client, args: &Args) -> Result<(), ExampleError> {
    let worker = worker(client).start()?;
    let mut handles = Vec::new();
    for n in 0..args.workflows {
        let id = format!("crash-{n}");
        let handle = client
            .start_workflow(
                CrashFlow::run,
                args.steps,
                options(&id, weft_examples::crash::TASK_QUEUE),
            )
            .await?;
        handles.push((id, handle));
    }
    for (id, handle) in handles {
        let value = handle.result().await?;
        println!("result {id} {value}");
    }
    worker.shutdown().await;
    Ok(())
}

/// Sends `--steps` updates of one point each, with fixed update ids, to the
/// reward account, printing `update <i> <points>` after each; then prints
/// `points <n>`. Run again after a kill, it sends the same ids.
async fn entity(client: &Client, args: &Args) -> Result<(), ExampleError> {
    use weft_examples::long_running_entity::{
        self as entity, AccountInput, AddPoints, CustomerRewardAccount,
        CustomerRewardAccountHandle, Level,
    };
    let worker = entity::worker(client).start()?;
    let input = AccountInput {
        user_id: "crash".into(),
        starting_points: 0,
        starting_level: Level::Basic,
    };
    let account = client
        .start_workflow(
            CustomerRewardAccount::run,
            input,
            options("crash-account", entity::TASK_QUEUE),
        )
        .await?;
    for i in 1..=args.steps {
        let status = account
            .with_update_id(format!("u-{i}"))
            .add_points(AddPoints { points: 1 })
            .await?;
        println!("update {i} {}", status.points);
    }
    let status = account.query_reward_status().await?;
    println!("points {}", status.points);
    worker.shutdown().await;
    Ok(())
}

/// Sends `--steps` pairs of an update (+1, id `u-<i>`) and a signal (+100,
/// request id `s-<i>`) to a tally, printing `pair <i>` after each; then
/// prints `total <n>`. Run again after a kill, it sends the same ids.
async fn stream(client: &Client, args: &Args) -> Result<(), ExampleError> {
    use weft_examples::crash::{Tally, TallyHandle, tally_worker};
    let worker = tally_worker(client).start()?;
    let tally = client
        .start_workflow(
            Tally::run,
            args.steps,
            options("crash-tally", weft_examples::crash::TASK_QUEUE),
        )
        .await?;
    for i in 1..=args.steps {
        tally.with_update_id(format!("u-{i}")).add_now(1).await?;
        let signaled = tally
            .signal_with_request_id("add", &100i64, format!("s-{i}"))
            .await;
        if let Err(e) = signaled {
            // The run ends once every signal has arrived: if it closed
            // while a killed run of this program was sending, it has them
            // all, and a closed run takes no signal, even a retried one.
            if tally.describe().await?.status == weft::backend::RunStatus::Running {
                return Err(e.into());
            }
            break;
        }
        println!("pair {i}");
    }
    println!("total {}", tally.result().await?);
    worker.shutdown().await;
    Ok(())
}

/// Starts a `Nap` of `--steps` ms, prints `armed` once its timer is in
/// history, then `slept <ms>` when it returns. Run again after a kill, it
/// waits for the same run.
async fn nap(client: &Client, args: &Args) -> Result<(), ExampleError> {
    use weft::history::EventAttributes;
    use weft_examples::crash::{Nap, timing_worker};
    let worker = timing_worker(client).start()?;
    let nap = client
        .start_workflow(
            Nap::run,
            u64::from(args.steps),
            options("crash-nap", weft_examples::crash::TASK_QUEUE),
        )
        .await?;
    // The only way to see the timer is durable is to read history.
    loop {
        let history = nap.history().await?;
        if history
            .iter()
            .any(|e| matches!(e.attributes, EventAttributes::TimerStarted { .. }))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    println!("armed");
    println!("slept {}", nap.result().await?);
    worker.shutdown().await;
    Ok(())
}

/// Runs `Beats` counting to `--steps`, printing `resumed-from <n>`.
async fn beats(client: &Client, args: &Args) -> Result<(), ExampleError> {
    use weft_examples::crash::{Beats, timing_worker};
    let worker = timing_worker(client).start()?;
    let beats = client
        .start_workflow(
            Beats::run,
            args.steps,
            options("crash-beats", weft_examples::crash::TASK_QUEUE),
        )
        .await?;
    println!("resumed-from {}", beats.result().await?);
    worker.shutdown().await;
    Ok(())
}

/// Creates schedule `crash-schedule` (or finds it, after a kill): every
/// second, `ScheduledWorkflow`s that may overlap. Prints `action <n>` as
/// its count of actions grows, until `--steps`; then pauses it and prints
/// `nominal <unix seconds> <workflow id>` for each action it recalls.
async fn schedule(client: &Client, args: &Args) -> Result<(), ExampleError> {
    use weft::backend::BackendError;
    use weft::schedule::{OverlapPolicy, Schedule, ScheduleAction, ScheduleSpec};
    use weft_examples::schedule::{ScheduledWorkflow, TASK_QUEUE};
    let worker = weft_examples::schedule::worker(client).start()?;
    let action = ScheduleAction::start_workflow(
        ScheduledWorkflow::run,
        "tick".to_string(),
        "crash-tick",
        TASK_QUEUE,
    )?;
    let every = ScheduleSpec::every(std::time::Duration::from_secs(1));
    let schedule = Schedule::new(action, every).overlap(OverlapPolicy::AllowAll);
    match client.create_schedule("crash-schedule", schedule).await {
        Ok(_) => {}
        Err(weft::ClientError::Backend(BackendError::ScheduleAlreadyExists { .. })) => {}
        Err(e) => return Err(e.into()),
    }
    let handle = client.schedule_handle("crash-schedule");
    let mut seen = 0;
    while seen < u64::from(args.steps) {
        let d = handle.describe().await?;
        while seen < d.info.num_actions {
            seen += 1;
            println!("action {seen}");
        }
        // A schedule's progress is not something a client call awaits.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    handle.pause(Some("done")).await?;
    for action in handle.describe().await?.info.recent_actions {
        let secs = action
            .nominal_time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        println!("nominal {secs} {}", action.workflow.workflow_id);
    }
    worker.shutdown().await;
    Ok(())
}

/// A client of the engine on `--db`, or of the Temporal frontend
/// `--temporal` names; and the engine, to stop at the end.
async fn connect(args: &Args) -> Result<(Client, Option<Engine>), ExampleError> {
    match &args.temporal {
        #[cfg(feature = "temporal")]
        Some(target) => {
            let options = weft::temporal::TemporalOptions::new();
            Ok((Client::connect_temporal(target, options).await?, None))
        }
        #[cfg(not(feature = "temporal"))]
        Some(_) => Err(ExampleError::Usage(
            "--temporal needs crash_worker built with the feature `temporal`".into(),
        )),
        None => {
            let engine = Engine::sqlite(&args.db).await?;
            Ok((Client::new(engine.clone()), Some(engine)))
        }
    }
}

async fn run() -> Result<(), ExampleError> {
    let args = parse()?;
    let (client, engine) = connect(&args).await?;
    match args.mode.as_str() {
        "counted" => counted(&client, &args).await?,
        "entity" => entity(&client, &args).await?,
        "stream" => stream(&client, &args).await?,
        "nap" => nap(&client, &args).await?,
        "beats" => beats(&client, &args).await?,
        "schedule" => schedule(&client, &args).await?,
        "tour" => {
            let rows = tour::run(&client).await?;
            print!("{}", tour::table(&rows));
        }
        other => return Err(ExampleError::Usage(format!("unknown mode {other:?}"))),
    }
    if let Some(engine) = engine {
        engine.shutdown().await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
