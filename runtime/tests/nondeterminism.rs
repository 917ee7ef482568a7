//! Silent divergence, caught at run time: workflow code whose commands
//! depend on more than history (here the iteration order of a std
//! `HashMap`, reached through a helper the macros cannot see) fails its
//! workflow task with a `NondeterminismError` as soon as a replay gives an
//! activity a different argument in the same slot. The run stays open and
//! history keeps what the first run recorded: nothing is matched to the
//! wrong item.

mod support;

use support::{env, task_failure, within};

use std::time::Duration;

use weft::backend::RunStatus;
use weft::history::{Event, EventAttributes, WorkflowTaskFailedCause};
use weft::prelude::*;
use weft::workflow::join_all;
use weft::{WorkerOptions, WorkflowHandle};

const QUEUE: &str = "nondeterminism";

/// Items in the price list: enough that two maps agree on their order only
/// by a chance of about 1 in 32! (a map's `RandomState` is seeded afresh
/// for each map, so the order is a fresh shuffle each time the activity's
/// result is decoded).
const ITEMS: u32 = 32;

/// Outside the workflow: the macros check the items they are on, not the
/// bodies of the functions those call, so iterating a std map here compiles.
mod pricing {
    use std::collections::HashMap;

    /// The price list's lines in the map's iteration order.
    pub fn lines(prices: HashMap<String, u32>) -> Vec<(String, u32)> {
        prices.into_iter().collect()
    }
}

#[activity]
async fn load_prices(
    count: u32,
) -> Result<std::collections::HashMap<String, u32>, ApplicationError> {
    Ok((0..count)
        .map(|i| (format!("item-{i:02}"), 100 + i))
        .collect())
}

#[activity]
async fn quote(line: (String, u32)) -> Result<String, ApplicationError> {
    Ok(format!("{}: {} cents", line.0, line.1))
}

/// Quotes every line of a price list, one activity per line, scheduled
/// together in the map's order.
#[workflow]
#[derive(Default)]
struct PriceList;

#[workflow]
impl PriceList {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<Vec<String>> {
        let prices = ctx
            .activity(LOAD_PRICES, count)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        let calls = pricing::lines(prices).into_iter().map(|line| {
            ctx.activity(QUOTE, line)
                .start_to_close_timeout(Duration::from_secs(30))
                .into_future()
        });
        Ok(join_all(calls)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?)
    }
}

/// [`PriceList`] with local activities: their markers record each call.
#[workflow]
#[derive(Default)]
struct LocalPriceList;

#[workflow]
impl LocalPriceList {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<Vec<String>> {
        let prices = ctx
            .local_activity(LOAD_PRICES, count)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        let calls = pricing::lines(prices).into_iter().map(|line| {
            ctx.local_activity(QUOTE, line)
                .start_to_close_timeout(Duration::from_secs(30))
                .into_future()
        });
        let quoted = join_all(calls)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        // A later task replays the one that ran the quotes.
        ctx.sleep(Duration::from_millis(1)).await?;
        Ok(quoted)
    }
}

#[activity]
async fn total(prices: std::collections::HashMap<String, u32>) -> Result<u32, ApplicationError> {
    Ok(prices.values().sum())
}

/// Passes the price list on to another activity as it came: the argument is
/// the same map, whatever order each decoded copy keeps its entries in.
#[workflow]
#[derive(Default)]
struct Relay;

#[workflow]
impl Relay {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<u32> {
        let prices = ctx
            .activity(LOAD_PRICES, count)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        let sum = ctx
            .activity(TOTAL, prices)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        ctx.sleep(Duration::from_millis(1)).await?;
        Ok(sum)
    }
}

/// Outside the workflow, like `pricing`: reads the wall clock.
mod stamps {
    use std::time::{SystemTime, UNIX_EPOCH};

    /// The wall clock in milliseconds since the Unix epoch.
    pub fn wall_clock_millis() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[activity]
async fn record(stamp: u64) -> Result<u64, ApplicationError> {
    Ok(stamp)
}

/// Stamps an activity's input with the wall clock, through a helper.
#[workflow]
#[derive(Default)]
struct WallStamp;

#[workflow]
impl WallStamp {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u64> {
        Ok(ctx
            .activity(RECORD, stamps::wall_clock_millis())
            .start_to_close_timeout(Duration::from_secs(30))
            .await?)
    }
}

/// Stamps an activity's input with workflow time, then waits on a timer
/// so that a later task replays the stamp.
#[workflow]
#[derive(Default)]
struct TaskStamp;

#[workflow]
impl TaskStamp {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u64> {
        let stamp = u64::try_from(ctx.now().unix_millis()).unwrap_or(0);
        let recorded = ctx
            .activity(RECORD, stamp)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        ctx.sleep(Duration::from_millis(1)).await?;
        Ok(recorded)
    }
}

#[activity]
async fn load_tags(count: u32) -> Result<std::collections::HashSet<String>, ApplicationError> {
    Ok((0..count).map(|i| format!("tag-{i:02}")).collect())
}

#[activity]
async fn count_tags(tags: std::collections::HashSet<String>) -> Result<usize, ApplicationError> {
    Ok(tags.len())
}

/// [`Relay`] with a std `HashSet`, which JSON writes as a list.
#[workflow]
#[derive(Default)]
struct SetRelay;

#[workflow]
impl SetRelay {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, count: u32) -> WorkflowResult<usize> {
        let tags = ctx
            .activity(LOAD_TAGS, count)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        let counted = ctx
            .activity(COUNT_TAGS, tags)
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
        ctx.sleep(Duration::from_millis(1)).await?;
        Ok(counted)
    }
}

fn start_worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .with_options(options)
        .register_workflow::<PriceList>()
        .register_workflow::<LocalPriceList>()
        .register_workflow::<Relay>()
        .register_workflow::<SetRelay>()
        .register_workflow::<WallStamp>()
        .register_workflow::<TaskStamp>()
        .register_activity(LOAD_PRICES)
        .register_activity(QUOTE)
        .register_activity(TOTAL)
        .register_activity(RECORD)
        .register_activity(LOAD_TAGS)
        .register_activity(COUNT_TAGS);
    w.start().unwrap()
}

/// The events commands wrote, with the id of the task that wrote them.
fn command_events(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.attributes.command_of().is_some())
        .collect()
}

fn quote_inputs(events: &[Event]) -> Vec<(String, u32)> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::ActivityTaskScheduled {
                activity_type,
                input,
                ..
            } if activity_type == "quote" => weft::converter::decode_single(input).ok(),
            _ => None,
        })
        .collect()
}

/// Waits until the run's current workflow task is at `attempt` or later:
/// the attempts before it failed. There is no event to await for a retry
/// (it writes no history), so `describe` is read until then, for at most
/// 10 s.
async fn attempts_failed(h: &WorkflowHandle<PriceList>, attempt: u32) {
    for _ in 0..2000 {
        if h.describe().await.unwrap().workflow_task_attempt >= attempt {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the workflow task never reached attempt {attempt}");
}

/// The `WorkflowTaskFailed` events of a history, by cause.
fn task_failures(events: &[Event]) -> Vec<WorkflowTaskFailedCause> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowTaskFailed { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect()
}

both_stores! {
    // Issue: after a cache eviction, a run that scheduled activities in a
    // std map's order completed with results matched to the wrong items.
    hash_map_order_on_replay_fails_the_task(sqlite) {
        let env = env(sqlite).await;
        // Cache 0: every workflow task rebuilds the run by replay, so the
        // task after the quotes were scheduled decodes a new map.
        let options = WorkerOptions { max_cached_workflows: 0, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let h = env
            .client
            .start_workflow(PriceList::run, ITEMS, WorkflowOptions::new("prices", QUEUE))
            .await
            .unwrap();
        let failure = within(task_failure(&h)).await;
        assert!(failure.contains("NondeterminismError"), "{failure}");
        assert!(
            failure.contains("history has ActivityTaskScheduled(type quote")
                && failure.contains("the code produced ScheduleActivity(type quote")
                && failure.contains("was scheduled with input"),
            "the same slot, with another input: {failure}"
        );
        let recorded = h.history().await.unwrap();
        // A retry replays with a map of its own, and fails again, writing
        // nothing.
        within(attempts_failed(&h, 3)).await;
        let events = h.history().await.unwrap();
        assert_eq!(command_events(&events), command_events(&recorded));
        assert_eq!(task_failures(&events), [WorkflowTaskFailedCause::NonDeterministicError]);
        // What history holds is the live run's order, every line once.
        let mut quoted = quote_inputs(&events);
        assert_eq!(quoted.len(), ITEMS as usize);
        quoted.sort();
        let all: Vec<_> = (0..ITEMS).map(|i| (format!("item-{i:02}"), 100 + i)).collect();
        assert_eq!(quoted, all);
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Running);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    hash_map_order_of_local_activities_on_replay_fails_the_task(sqlite) {
        let env = env(sqlite).await;
        let options = WorkerOptions { max_cached_workflows: 0, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let h = env
            .client
            .start_workflow(LocalPriceList::run, ITEMS, WorkflowOptions::new("local-prices", QUEUE))
            .await
            .unwrap();
        let failure = within(task_failure(&h)).await;
        assert!(failure.contains("NondeterminismError"), "{failure}");
        assert!(
            failure.contains("history has MarkerRecorded(local activity")
                && failure.contains("the code produced ScheduleLocalActivity(type quote")
                && failure.contains("was scheduled with input"),
            "{failure}"
        );
        let events = h.history().await.unwrap();
        assert_eq!(task_failures(&events), [WorkflowTaskFailedCause::NonDeterministicError]);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    hash_map_order_fails_the_task_in_strict_mode(sqlite) {
        let env = env(sqlite).await;
        // Cached: only strict mode's fresh replay sees a second map.
        let options = WorkerOptions { strict_replay: true, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let h = env
            .client
            .start_workflow(PriceList::run, ITEMS, WorkflowOptions::new("prices", QUEUE))
            .await
            .unwrap();
        let failure = within(task_failure(&h)).await;
        assert!(failure.contains("NondeterminismError"), "{failure}");
        assert!(failure.contains("strict replay"), "{failure}");
        assert!(failure.contains("was scheduled with input"), "{failure}");
        within(attempts_failed(&h, 3)).await;
        let events = h.history().await.unwrap();
        // The task that scheduled the quotes never completed: history holds
        // the price list's activity and nothing the live code did after it.
        assert!(quote_inputs(&events).is_empty(), "{:?}", quote_inputs(&events));
        let scheduled: Vec<_> = command_events(&events)
            .into_iter()
            .map(|e| e.attributes.name())
            .collect();
        assert_eq!(scheduled, ["ActivityTaskScheduled"]);
        assert_eq!(task_failures(&events), [WorkflowTaskFailedCause::NonDeterministicError]);
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Running);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    // Regression: comparing inputs byte for byte failed the replay of a run
    // that passed a std map from one activity to the next, since JSON
    // writes a map's entries in the order of the copy each run decodes.
    a_map_passed_on_unchanged_replays(sqlite) {
        let env = env(sqlite).await;
        let options = WorkerOptions { max_cached_workflows: 0, strict_replay: true, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let sum = within(env.client.execute_workflow(
            Relay::run,
            ITEMS,
            WorkflowOptions::new("relay", QUEUE),
        ))
        .await
        .unwrap();
        assert_eq!(sum, (0..ITEMS).map(|i| 100 + i).sum::<u32>());
        let h = env.client.workflow_handle::<Relay>("relay", None);
        let events = h.history().await.unwrap();
        assert!(task_failures(&events).is_empty(), "{events:?}");
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    // What the book's table says: a set passed on unchanged does not replay,
    // since JSON writes it as a list in the order of the copy each run
    // decodes, and a list's order is compared.
    a_set_passed_on_unchanged_fails_replay(sqlite) {
        let env = env(sqlite).await;
        let options = WorkerOptions { max_cached_workflows: 0, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let h = env
            .client
            .start_workflow(SetRelay::run, ITEMS, WorkflowOptions::new("set-relay", QUEUE))
            .await
            .unwrap();
        let failure = within(task_failure(&h)).await;
        assert!(failure.contains("NondeterminismError"), "{failure}");
        assert!(failure.contains("activity count_tags 2 was scheduled with input"), "{failure}");
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    // Strict mode replays each task in a later millisecond of the wall
    // clock than the live code ran in; started at once, the replay ran in
    // the same millisecond most of the time and passed.
    wall_clock_read_through_a_helper_fails_strict_mode_every_time(sqlite) {
        let env = env(sqlite).await;
        let options = WorkerOptions { strict_replay: true, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        for i in 0..8 {
            let h = env
                .client
                .start_workflow(WallStamp::run, (), WorkflowOptions::new(format!("wall-{i}"), QUEUE))
                .await
                .unwrap();
            let failure = within(task_failure(&h)).await;
            assert!(failure.contains("NondeterminismError"), "run {i}: {failure}");
            assert!(failure.contains("strict replay"), "run {i}: {failure}");
            assert!(failure.contains("activity record 1 was scheduled with input"), "run {i}: {failure}");
            let events = h.history().await.unwrap();
            assert!(command_events(&events).is_empty(), "run {i}: {events:?}");
        }
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    // History is the truth: the fresh replay, shifted in wall-clock time,
    // reads the same workflow time as the live code, and so does a replay
    // after the cache.
    workflow_time_is_the_same_in_strict_mode_and_on_replay(sqlite) {
        let env = env(sqlite).await;
        let options = WorkerOptions { max_cached_workflows: 0, strict_replay: true, ..WorkerOptions::default() };
        let w = start_worker(&env.client, options);
        let stamp = within(env.client.execute_workflow(
            TaskStamp::run,
            (),
            WorkflowOptions::new("task-stamp", QUEUE),
        ))
        .await
        .unwrap();
        let h = env.client.workflow_handle::<TaskStamp>("task-stamp", None);
        let events = h.history().await.unwrap();
        let first_task = events
            .iter()
            .find(|e| matches!(e.attributes, EventAttributes::WorkflowTaskStarted { .. }))
            .unwrap();
        let recorded = first_task.event_time.duration_since(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(u128::from(stamp), recorded.as_millis());
        assert!(task_failures(&events).is_empty(), "{events:?}");
        w.shutdown().await;
        env.engine.shutdown().await;
    }
}
