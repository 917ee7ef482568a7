//! The tour: every pattern, in the reference's order, on one database. Each
//! pattern's run here calls the client fn of its module and turns what it
//! returns into the lines the tour prints; the tests check those lines.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use weft::history::EventAttributes;
use weft::prelude::*;

use crate::support::ExampleError;
use crate::{
    activity_choice, cancellation, child_workflow, concurrent_timers, continue_as_new,
    custom_metrics, encryption, exceptions, local_activity, long_running_entity, parallel_activity,
    polling_frequent, polling_infrequent, schedule, validated_models,
};

/// Workflow ids of the runs the tour starts whose histories its tests
/// replay in [`replayer`] (the Schedule pattern's runs are on an engine of
/// its own).
pub const REPLAYED_RUNS: [&str; 15] = [
    "long-running",
    "activity-choice-1",
    "activity-choice-2",
    "parallel-activity",
    "reward-account-42",
    "exception-workflow-id",
    "local-activity",
    polling_frequent::WORKFLOW_ID,
    polling_infrequent::WORKFLOW_ID,
    CANCELLATION_ID,
    MAINTENANCE_ID,
    "validated-models-1",
    "validated-models-3",
    encryption::WORKFLOW_ID,
    custom_metrics::WORKFLOW_ID,
];

/// A replayer for the workflows of every pattern whose runs the tour's
/// tests replay, with the encryption example's converter (that pattern's
/// history is stored encrypted).
pub fn replayer() -> Result<weft::replay::Replayer, weft::converter::CodecError> {
    let mut r = weft::replay::Replayer::new();
    r.register_workflow::<activity_choice::PurchaseFruits>()
        .register_workflow::<parallel_activity::SayHello>()
        .register_workflow::<long_running_entity::CustomerRewardAccount>()
        .register_workflow::<continue_as_new::LongRunningWorkflow>()
        .register_workflow::<exceptions::DataProcessing>()
        .register_workflow::<local_activity::LocalActivityWorkflow>()
        .register_workflow::<polling_frequent::FrequentPolling>()
        .register_workflow::<polling_infrequent::InfrequentPolling>()
        .register_workflow::<cancellation::CancellationWorkflow>()
        .register_workflow::<concurrent_timers::MaintenanceWorkflow>()
        .register_workflow::<validated_models::ValidatedModelsWorkflow>()
        .register_workflow::<encryption::GreetingWorkflow>()
        .register_workflow::<custom_metrics::MyWorkflow>()
        .with_data_converter(encryption::converter()?);
    Ok(r)
}

/// What a pattern's run returns: the lines it prints.
pub type Lines = Result<Vec<String>, ExampleError>;

/// What a pattern's `run` returns.
pub type BoxRun<'a> = Pin<Box<dyn Future<Output = Lines> + Send + 'a>>;

/// A pattern of the tour.
pub struct Pattern {
    /// Its name, as the reference titles it.
    pub name: &'static str,
    /// Registers its workflows and activities on a worker for its task queue.
    pub worker: fn(&Client) -> Worker,
    /// Runs it and returns the lines it prints.
    pub run: fn(&Client) -> BoxRun<'_>,
}

/// Every pattern that exists, in the reference's order.
pub fn patterns() -> Vec<Pattern> {
    vec![
        Pattern {
            name: "Activity Choice",
            worker: activity_choice::worker,
            run: |c| Box::pin(activity_choice_run(c)),
        },
        Pattern {
            name: "Parallel Activity",
            worker: parallel_activity::worker,
            run: |c| Box::pin(parallel_activity_run(c)),
        },
        Pattern {
            name: "Cancellation",
            worker: cancellation::worker,
            run: |c| Box::pin(cancellation_run(c)),
        },
        Pattern {
            name: "Continue-as-New",
            worker: continue_as_new::worker,
            run: |c| Box::pin(continue_as_new_run(c)),
        },
        Pattern {
            name: "Long-running Entity",
            worker: long_running_entity::worker,
            run: |c| Box::pin(long_running_entity_run(c)),
        },
        Pattern {
            name: "Concurrent Timers",
            worker: concurrent_timers::worker,
            run: |c| Box::pin(concurrent_timers_run(c)),
        },
        Pattern {
            name: "Child Workflow",
            worker: child_workflow::worker,
            run: |c| Box::pin(child_workflow::run(c)),
        },
        Pattern {
            name: "Exceptions",
            worker: exceptions::worker,
            run: |c| Box::pin(exceptions_run(c)),
        },
        Pattern {
            name: "Local Activity",
            worker: local_activity::worker,
            run: |c| Box::pin(local_activity_run(c)),
        },
        Pattern {
            name: "Custom Metrics",
            worker: custom_metrics::worker,
            run: |c| Box::pin(custom_metrics::run(c)),
        },
        Pattern {
            name: "Encryption",
            worker: encryption::worker,
            run: |c| Box::pin(encryption::run(c)),
        },
        Pattern {
            name: "Polling (frequent)",
            worker: polling_frequent::worker,
            run: |c| Box::pin(polling_frequent_run(c)),
        },
        Pattern {
            name: "Polling (infrequent)",
            worker: polling_infrequent::worker,
            run: |c| Box::pin(polling_infrequent_run(c)),
        },
        Pattern {
            name: "Schedule",
            worker: schedule::worker,
            run: |c| Box::pin(schedule::run(c)),
        },
        Pattern {
            name: "Pydantic Converter",
            worker: validated_models::worker,
            run: |c| Box::pin(validated_models::run(c)),
        },
    ]
}

/// A shopping list from `(fruit, amount)` pairs.
pub fn shopping_list(items: &[(activity_choice::Fruit, u32)]) -> activity_choice::ShoppingList {
    let items = items
        .iter()
        .map(|&(fruit, amount)| activity_choice::ShoppingItem { fruit, amount })
        .collect();
    activity_choice::ShoppingList { items }
}

/// Orders apples and bananas, then a list with a cherry, which fails.
pub async fn activity_choice_run(client: &Client) -> Lines {
    use activity_choice::Fruit::{Apple, Banana, Cherry};
    let list = shopping_list(&[(Apple, 8), (Banana, 5)]);
    let ordered = activity_choice::order(client, "activity-choice-1", list).await?;
    let list = shopping_list(&[(Apple, 1), (Cherry, 2)]);
    let failed = activity_choice::order(client, "activity-choice-2", list).await;
    let failed = match failed {
        Ok(unexpected) => format!("unexpectedly ordered: {unexpected}"),
        Err(e) => format!("{e:#}"),
    };
    Ok(vec![ordered, failed])
}

/// Greets three users in parallel.
pub async fn parallel_activity_run(client: &Client) -> Lines {
    let names = ["user1", "user2", "user3"].map(String::from).to_vec();
    Ok(parallel_activity::greet(client, names).await?)
}

/// The cancellation example's workflow id.
pub const CANCELLATION_ID: &str = "cancellation";

/// Starts the cancellation workflow, cancels it once its activity is
/// running, and prints what history says: the cleanup ran, and the run
/// ended canceled.
pub async fn cancellation_run(client: &Client) -> Lines {
    // ANCHOR: cancellation_client
    let handle = cancellation::start(client, CANCELLATION_ID).await?;
    // Cancel once the activity is running (unless the run ended first: a
    // rerun on the same database finds it closed).
    if heartbeating(&handle).await? {
        handle.cancel().await?;
    }
    let outcome = handle.result().await;
    // ANCHOR_END: cancellation_client
    let history = handle.history().await?;
    let completed = history
        .iter()
        .filter(|e| matches!(e.attributes, EventAttributes::ActivityTaskCompleted { .. }))
        .count();
    let status = handle.describe().await?.status;
    let status = match outcome {
        Ok(()) => format!("status: {status:?}"),
        Err(ClientError::Workflow(e)) => format!("status: {status:?} ({})", e.cause),
        Err(e) => return Err(e.into()),
    };
    Ok(vec![format!("cleanups run: {completed}"), status])
}

/// Waits until the run's activity has heartbeated (true), or the run has
/// closed (false). `describe` is read until then: no client call waits for
/// an activity to start.
async fn heartbeating<W: weft::Workflow>(handle: &WorkflowHandle<W>) -> Result<bool, ClientError> {
    loop {
        let description = handle.describe().await?;
        if description.close_time.is_some() {
            return Ok(false);
        }
        if description
            .activities
            .iter()
            .any(|a| a.last_heartbeat.is_some())
        {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs 30 iterations, 10 per run.
pub async fn continue_as_new_run(client: &Client) -> Lines {
    let state = continue_as_new::run(client, 30, 10).await?;
    Ok(vec![format!(
        "{} runs, {} iterations, processed_items {}",
        state.runs, state.iteration, state.processed_items
    )])
}

fn show(status: &long_running_entity::Status) -> String {
    let active = if status.is_active { "active" } else { "closed" };
    format!(
        "level {:?}, {} points, {active}",
        status.level, status.points
    )
}

/// Adds 600 then 500 points, has one update rejected, queries, closes the
/// account and prints its final status.
pub async fn long_running_entity_run(client: &Client) -> Lines {
    use long_running_entity::{AccountInput, AddPoints, CustomerRewardAccountHandle, Level};
    // ANCHOR: entity_client
    let input = AccountInput {
        user_id: "user-42".into(),
        starting_points: 0,
        starting_level: Level::Basic,
    };
    let account = long_running_entity::open(client, "reward-account-42", input).await?;
    // Typed stubs. Fixed update ids: run again after a crash, each update
    // returns its first result instead of adding the points twice.
    let added = account
        .with_update_id("add-600")
        .add_points(AddPoints { points: 600 })
        .await?;
    let added_more = account
        .with_update_id("add-500")
        .add_points(AddPoints { points: 500 })
        .await?;
    let rejected = account.add_points(AddPoints { points: 0 }).await;
    let queried = account.query_reward_status().await?;
    let closed = account.with_update_id("cancel").cancel_account().await?;
    let last = account.result().await?;
    // ANCHOR_END: entity_client
    let rejected = match rejected {
        Ok(status) => format!("unexpectedly accepted: {}", show(&status)),
        Err(e) => format!("rejected: {e}"),
    };
    Ok(vec![
        format!("after adding 600: {}", show(&added)),
        format!("after adding 500: {}", show(&added_more)),
        rejected,
        format!("query: {}", show(&queried)),
        format!("cancel: {}", show(&closed)),
        format!("final: {}", show(&last)),
    ])
}

/// The concurrent timers example's workflow id.
pub const MAINTENANCE_ID: &str = "maintenance";

/// The tour's plan: 1,096 days, one millisecond each.
pub fn tour_plan() -> concurrent_timers::MaintenancePlan {
    concurrent_timers::MaintenancePlan {
        user_email: "driver@example.com".into(),
        day_ms: 1,
        days: 1096,
    }
}

/// Runs the plan for three years (one day per millisecond) and prints the
/// counts.
pub async fn concurrent_timers_run(client: &Client) -> Lines {
    let sent = concurrent_timers::run(client, MAINTENANCE_ID, tour_plan()).await?;
    let count = |word: &str| sent.iter().filter(|(_, m)| m.contains(word)).count();
    // By due day: on a millisecond clock, a slow workflow task (a loaded
    // machine, a worker across the network) can send day 365's notice
    // before day 360's, as both timers have fired by then.
    let mut by_day: Vec<u32> = sent.iter().map(|(day, _)| *day).collect();
    by_day.sort_unstable();
    let first: Vec<String> = by_day
        .iter()
        .take(4)
        .map(|day| format!("day {day}"))
        .collect();
    Ok(vec![
        format!(
            "1,096 days (1 day = 1 ms): oil change {}, inspection {}, coolant {}",
            count("oil change"),
            count("inspection"),
            count("coolant")
        ),
        format!("first notifications: {}", first.join(", ")),
    ])
}

/// Runs the failing workflow and returns the cause chain it printed.
pub async fn exceptions_run(client: &Client) -> Lines {
    match exceptions::run(client).await {
        Ok(value) => Ok(vec![format!("unexpected success: {value}")]),
        // `{:#}` prints every cause of the chain once.
        Err(ClientError::Workflow(err)) => {
            Ok(format!("{err:#}").lines().map(String::from).collect())
        }
        Err(other) => Err(other.into()),
    }
}

/// Greets one name through two local activities.
pub async fn local_activity_run(client: &Client) -> Lines {
    Ok(vec![local_activity::greet(client, "Temporal").await?])
}

/// Polls the service until it is ready; prints the result and the count.
pub async fn polling_frequent_run(client: &Client) -> Lines {
    let result = polling_frequent::run(client).await?;
    Ok(vec![
        format!("result: {}", result.status),
        format!("polls: {}", result.polls),
    ])
}

/// Polls the service by retries until it is ready.
pub async fn polling_infrequent_run(client: &Client) -> Lines {
    let result = polling_infrequent::run(client).await?;
    let completed = polling_infrequent::monitor_job(client, "job-7").await?;
    let failed = match polling_infrequent::monitor_job(client, "job-8").await {
        Ok(done) => format!("job-8 completed: {done}"),
        Err(ClientError::Workflow(e)) => format!("job-8: {}", e.cause.root_cause()),
        Err(other) => return Err(other.into()),
    };
    Ok(vec![
        format!("result: {}", result.status),
        format!("polls: {}", result.polls),
        format!("job-7 completed: {completed}"),
        failed,
    ])
}

/// One row of the tour's table.
#[derive(Debug)]
pub struct Row {
    /// The pattern's name.
    pub pattern: &'static str,
    /// What it printed, or the error it ended with.
    pub result: Result<Vec<String>, String>,
    /// Wall time of its run.
    pub elapsed: Duration,
}

/// Runs every pattern with its worker started, in order.
pub async fn run(client: &Client) -> Result<Vec<Row>, ExampleError> {
    let mut workers = Vec::new();
    for pattern in patterns() {
        workers.push((pattern.worker)(client).start()?);
    }
    let mut rows = Vec::new();
    for pattern in patterns() {
        let started = Instant::now();
        let result = (pattern.run)(client).await.map_err(|e| e.to_string());
        rows.push(Row {
            pattern: pattern.name,
            result,
            elapsed: started.elapsed(),
        });
    }
    for worker in workers {
        worker.shutdown().await;
    }
    Ok(rows)
}

/// Formats the rows as a table: pattern, result (first line), wall time.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!("{:<20} {:<64} {:>9}\n", "pattern", "result", "wall time");
    out.push_str(&format!("{}\n", "-".repeat(95)));
    for row in rows {
        let summary = match &row.result {
            Ok(lines) => lines
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" | "),
            Err(e) => format!("ERROR: {e}"),
        };
        let summary = shorten(&summary, 64);
        out.push_str(&format!(
            "{:<20} {:<64} {:>7.0}ms\n",
            row.pattern,
            summary,
            row.elapsed.as_secs_f64() * 1000.0
        ));
    }
    out
}

fn shorten(text: &str, width: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= width {
        return one_line;
    }
    let cut: String = one_line.chars().take(width.saturating_sub(3)).collect();
    format!("{cut}...")
}
