//! Visibility: `list_workflows` and `count_workflows` with Temporal's list
//! filter, search attributes set at start and upserted by workflow code,
//! on both stores (one evaluator answers for both); the queries and
//! answers of Temporal's own measurements
//! (`reference/temporal-semantics-more.md`, section 6), then what a
//! hostile or careless caller sends.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use support::within;
use weft::backend::{BackendError, RunStatus};
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::prelude::*;
use weft::search_attributes::{
    SearchAttributeKey, SearchAttributeType, SearchAttributeValue, Text,
};
use weft::visibility::WorkflowExecutionInfo;

fn customer() -> SearchAttributeKey<String> {
    SearchAttributeKey::new("CustomerId")
}
fn order_count() -> SearchAttributeKey<i64> {
    SearchAttributeKey::new("OrderCount")
}
fn amount() -> SearchAttributeKey<f64> {
    SearchAttributeKey::new("Amount")
}
fn vip() -> SearchAttributeKey<bool> {
    SearchAttributeKey::new("IsVip")
}
fn due_at() -> SearchAttributeKey<SystemTime> {
    SearchAttributeKey::new("DueAt")
}
fn notes() -> SearchAttributeKey<Text> {
    SearchAttributeKey::new("Notes")
}

/// What a run of `VisA` or `VisB` does.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Step {
    Complete,
    Fail,
    Wait,
    /// Upserts `CustomerId = 'c3'`, `IsVip = true`, then waits.
    UpsertThenWait,
    /// Runs a `VisB` child with `CustomerId = 'c-kid'` to completion.
    Parent,
    /// Upserts `OrderCount = n`, continues as new with `n - 1` until 0,
    /// then returns the `CustomerId` it sees.
    Continue(i64),
}

#[weft::deterministic]
async fn step<W>(
    ctx: WorkflowContext<W>,
    step: Step,
    done: fn(&W) -> bool,
) -> WorkflowResult<String>
where
    W: weft::Workflow<Input = Step>,
{
    match step {
        Step::Complete => Ok("done".into()),
        Step::Fail => Err(ApplicationError::new("failed on purpose").into()),
        Step::Wait => {
            ctx.wait_condition(done).await?;
            Ok("released".into())
        }
        Step::UpsertThenWait => {
            ctx.upsert_search_attributes([
                customer().value_set("c3".into()),
                vip().value_set(true),
            ]);
            ctx.wait_condition(done).await?;
            let seen = ctx.search_attribute(&customer()).unwrap_or_default();
            Ok(seen)
        }
        Step::Parent => {
            let options = ChildOptions::new("kid").search_attribute(&customer(), "c-kid".into());
            Ok(ctx
                .execute_child(VisB::run, Step::Complete, options)
                .await?)
        }
        Step::Continue(n) => {
            ctx.upsert_search_attributes([order_count().value_set(n)]);
            if n > 0 {
                return ctx.continue_as_new(Step::Continue(n - 1));
            }
            Ok(format!("{:?}", ctx.search_attribute(&customer())))
        }
    }
}

#[workflow]
#[derive(Default)]
struct VisA {
    done: bool,
}

#[workflow]
impl VisA {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, input: Step) -> WorkflowResult<String> {
        step(ctx, input, |s: &VisA| s.done).await
    }
    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }
    /// Answered in a workflow task after the run's first: once it
    /// returns, what that task recorded is durable.
    #[update]
    fn ping(&mut self) -> Result<bool, ApplicationError> {
        Ok(self.done)
    }
}

#[workflow]
#[derive(Default)]
struct VisB {
    done: bool,
}

#[workflow]
impl VisB {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, input: Step) -> WorkflowResult<String> {
        step(ctx, input, |s: &VisB| s.done).await
    }
    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }
    #[update]
    fn ping(&mut self) -> Result<bool, ApplicationError> {
        Ok(self.done)
    }
}

fn options() -> EngineOptions {
    EngineOptions::default()
        .search_attribute("CustomerId", SearchAttributeType::Keyword)
        .search_attribute("OrderCount", SearchAttributeType::Int)
        .search_attribute("Amount", SearchAttributeType::Double)
        .search_attribute("IsVip", SearchAttributeType::Bool)
        .search_attribute("DueAt", SearchAttributeType::Datetime)
        .search_attribute("Notes", SearchAttributeType::Text)
}

struct Env {
    client: Client,
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn env_with(sqlite: bool, options: EngineOptions) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let engine = if sqlite {
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        Engine::start(store, options).unwrap()
    } else {
        Engine::start(MemoryStore::new(), options).unwrap()
    };
    Env {
        client: Client::new(engine.clone()),
        engine,
        _dir: dir,
    }
}

fn ids(runs: &[WorkflowExecutionInfo]) -> Vec<&str> {
    runs.iter().map(|r| r.workflow_id.as_str()).collect()
}

async fn list(client: &Client, query: &str) -> Vec<String> {
    let runs = client.list_workflows(query).await.unwrap();
    let count = client.count_workflows(query).await.unwrap();
    assert_eq!(count.count, runs.len() as u64, "{query}");
    runs.iter().map(|r| r.workflow_id.clone()).collect()
}

fn refused<T>(result: Result<T, ClientError>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the start was not refused"),
    }
}

fn invalid(result: Result<impl std::fmt::Debug, ClientError>) -> String {
    match result {
        Err(ClientError::Backend(BackendError::InvalidArgument(m))) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// Temporal's six runs: a1 VisA completed (custom attributes), a2 VisA
/// failed, a3 VisA running, b1 VisB completed, b2 VisB running with
/// upserted attributes, a4 VisA started last. Returns the time between
/// b2's start and a4's. The engine keeps times to the millisecond: the
/// manual `clock` moves a second after each step, so no two share one.
async fn six_runs(client: &Client, queue: &str, clock: &VirtualClock) -> SystemTime {
    let tick = || clock.advance(Duration::from_secs(1));
    let due = chrono::DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z").unwrap();
    let a1 = WorkflowOptions::new("a1", queue)
        .search_attribute(&customer(), "c1".into())
        .search_attribute(&order_count(), 7)
        .search_attribute(&amount(), 9.5)
        .search_attribute(&vip(), true)
        .search_attribute(&due_at(), SystemTime::from(due))
        .search_attribute(&notes(), Text("rush order please".into()));
    let h = client
        .start_workflow(VisA::run, Step::Complete, a1)
        .await
        .unwrap();
    within(h.result()).await.unwrap();
    tick();
    let h = client
        .start_workflow(VisA::run, Step::Fail, WorkflowOptions::new("a2", queue))
        .await
        .unwrap();
    assert!(within(h.result()).await.is_err());
    tick();
    let a3 = WorkflowOptions::new("a3", queue).search_attribute(&order_count(), 3);
    let h = client
        .start_workflow(VisA::run, Step::Wait, a3)
        .await
        .unwrap();
    assert!(!within(h.ping()).await.unwrap());
    tick();
    let h = client
        .start_workflow(VisB::run, Step::Complete, WorkflowOptions::new("b1", queue))
        .await
        .unwrap();
    within(h.result()).await.unwrap();
    tick();
    let h = client
        .start_workflow(
            VisB::run,
            Step::UpsertThenWait,
            WorkflowOptions::new("b2", queue),
        )
        .await
        .unwrap();
    within(h.ping()).await.unwrap();
    let mid = client.list_workflows("WorkflowId = 'b2'").await.unwrap()[0].start_time;
    tick();
    let h = client
        .start_workflow(VisA::run, Step::Complete, WorkflowOptions::new("a4", queue))
        .await
        .unwrap();
    within(h.result()).await.unwrap();
    mid
}

fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

both_stores! {
    temporals_queries_find_what_temporal_found(sqlite) {
        let clock = VirtualClock::manual();
        let env = env_with(sqlite, EngineOptions { clock: Arc::new(clock.clone()), ..options() });
        let queue = "vis";
        let w = Worker::new(&env.client, queue)
            .register_workflow::<VisA>()
            .register_workflow::<VisB>()
            .start()
            .unwrap();
        let c = &env.client;
        let mid = six_runs(c, queue, &clock).await;
        // Default order: running first, newest start first; then closed,
        // latest close first.
        assert_eq!(list(c, "").await, ["b2", "a3", "a4", "b1", "a2", "a1"]);
        assert_eq!(list(c, "WorkflowType='VisA'").await, ["a3", "a4", "a2", "a1"]);
        for (status, n) in [("Running", 2), ("Completed", 3), ("Failed", 1), ("Canceled", 0)] {
            let q = format!("ExecutionStatus='{status}'");
            assert_eq!(list(c, &q).await.len(), n, "{q}");
        }
        assert_eq!(list(c, "WorkflowId='a1'").await, ["a1"]);
        assert_eq!(list(c, "WorkflowId IN ('a1', \"b1\", 'zz')").await, ["b1", "a1"]);
        assert_eq!(list(c, "WorkflowId STARTS_WITH 'a'").await.len(), 4);
        assert_eq!(list(c, "WorkflowId NOT STARTS_WITH 'a'").await, ["b2", "b1"]);
        assert_eq!(list(c, "WorkflowId != 'a1'").await.len(), 5);
        assert_eq!(list(c, "TaskQueue = 'vis'").await.len(), 6);
        let after_mid = format!("StartTime > '{}'", rfc3339(mid));
        assert_eq!(list(c, &after_mid).await, ["a4"]);
        let closed_after = format!("CloseTime > '{}'", rfc3339(mid));
        assert_eq!(list(c, &closed_after).await, ["a4"]);
        assert_eq!(list(c, "CloseTime IS NULL").await, ["b2", "a3"]);
        // Custom attributes, set at start or upserted.
        assert_eq!(list(c, "CustomerId='c1'").await, ["a1"]);
        assert_eq!(list(c, "CustomerId='C1'").await, Vec::<String>::new(), "case-sensitive");
        assert_eq!(list(c, "CustomerId IN ('c1', 'c3')").await, ["b2", "a1"]);
        assert_eq!(list(c, "CustomerId IS NULL").await, ["a3", "a4", "b1", "a2"]);
        assert_eq!(list(c, "CustomerId IS NOT NULL").await, ["b2", "a1"]);
        assert_eq!(list(c, "OrderCount > 5").await, ["a1"]);
        assert_eq!(list(c, "OrderCount BETWEEN 3 AND 10").await, ["a3", "a1"]);
        assert_eq!(list(c, "IsVip = true").await, ["b2", "a1"]);
        assert_eq!(list(c, "IsVip = false").await, Vec::<String>::new());
        assert_eq!(list(c, "Amount > 9").await, ["a1"]);
        assert_eq!(list(c, "Amount > 9.5").await, Vec::<String>::new());
        assert_eq!(list(c, "Notes = 'rush'").await, ["a1"]);
        assert_eq!(list(c, "Notes = 'slow'").await, Vec::<String>::new());
        assert_eq!(list(c, "DueAt > '2029-12-31T00:00:00Z'").await, ["a1"]);
        let near = "DueAt BETWEEN '2030-01-02T03:04:04Z' AND '2030-01-02T03:04:06Z'";
        assert_eq!(list(c, near).await, ["a1"]);
        // Temporal never matches Datetime equality; weft does (the book says so).
        assert_eq!(list(c, "DueAt = '2030-01-02T04:04:05+01:00'").await, ["a1"]);
        assert_eq!(
            list(c, "(WorkflowType = 'VisB' OR CustomerId = 'c1') AND ExecutionStatus = 'Completed'").await,
            ["b1", "a1"]
        );
        assert_eq!(
            list(c, "WorkflowType = 'VisB' OR CustomerId = 'c1' AND ExecutionStatus = 'Completed'").await,
            ["b2", "b1", "a1"],
            "AND binds tighter than OR"
        );
        // ORDER BY (Temporal's SQLite visibility refuses it; weft sorts).
        assert_eq!(list(c, "ORDER BY WorkflowId").await, ["a1", "a2", "a3", "a4", "b1", "b2"]);
        assert_eq!(
            list(c, "WorkflowType = 'VisA' ORDER BY StartTime DESC").await,
            ["a4", "a3", "a2", "a1"]
        );
        assert_eq!(list(c, "ORDER BY OrderCount DESC, WorkflowId").await[..3], ["a1", "a3", "a2"]);
        // Counts grouped by status.
        let count = c.count_workflows("GROUP BY ExecutionStatus").await.unwrap();
        assert_eq!(count.count, 6);
        let groups: Vec<(String, u64)> = count
            .groups
            .iter()
            .map(|g| (g.values[0].to_string(), g.count))
            .collect();
        assert_eq!(
            groups,
            [("\"Completed\"".to_string(), 3), ("\"Running\"".into(), 2), ("\"Failed\"".into(), 1)]
        );
        let count = c.count_workflows("WorkflowType = 'VisA' GROUP BY ExecutionStatus").await.unwrap();
        assert_eq!((count.count, count.groups.len()), (4, 3));
        // What a list entry and describe show of the upserted attributes.
        let b2 = &c.list_workflows("WorkflowId = 'b2'").await.unwrap()[0];
        assert_eq!(b2.workflow_type, "VisB");
        assert_eq!(b2.status, RunStatus::Running);
        assert_eq!(b2.search_attributes.get(&customer()).as_deref(), Some("c3"));
        let d = c.workflow_handle::<VisB>("b2", None).describe().await.unwrap();
        assert_eq!(d.search_attributes.get(&vip()), Some(true));
        let h = c.workflow_handle::<VisB>("b2", None);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "c3");
        let a3 = c.workflow_handle::<VisA>("a3", None);
        a3.signal("finish", &()).await.unwrap();
        within(a3.result()).await.unwrap();
        assert_eq!(list(c, "ExecutionStatus = 'Running'").await.len(), 0);
        assert_eq!(list(c, "CustomerId = 'c3' AND ExecutionStatus = 'Completed'").await, ["b2"]);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    bad_queries_are_invalid_arguments_that_say_where(sqlite) {
        let env = env_with(sqlite, options());
        let c = &env.client;
        let cases: &[(&str, &str)] = &[
            ("Foo='x'", "invalid search attribute: Foo (at position 1; known: WorkflowId,"),
            ("workflowtype='VisA'", "invalid search attribute: workflowtype"),
            ("WorkflowType = ", "syntax error at position 16: expected a value"),
            ("WorkflowType = 'a' ORDER", "expected BY"),
            ("WorkflowType = 'a' LIMIT 3", "operation is not supported: 'LIMIT' clause"),
            ("WorkflowType LIKE 'a%'", "operation is not supported: 'LIKE' operator"),
            ("OrderCount='abc'", "invalid value type for search attribute OrderCount of type Int: \"abc\" (type: string)"),
            ("CustomerId=1", "of type Keyword: 1 (type: int64)"),
            ("StartTime > 'not-a-date'", "unable to parse datetime 'not-a-date'"),
            ("StartTime > '2026-01-01'", "unable to parse datetime '2026-01-01'"),
            ("ExecutionStatus='running'", "invalid ExecutionStatus value 'running'"),
            ("((WorkflowId = 'a')", "expected ')'"),
            ("WorkflowId = 'unclosed", "a string is not closed"),
            ("OrderCount > 99999999999999999999", "is not a number"),
            ("IsVip > true", "not supported for Bool"),
            ("Notes STARTS_WITH 'r'", "not supported for Text"),
            ("ORDER BY Nope", "invalid search attribute: Nope"),
        ];
        for (query, expected) in cases {
            let message = invalid(c.list_workflows(*query).await);
            assert!(message.contains(expected), "{query}: {message}");
            assert!(message.starts_with("invalid query: ") || message.starts_with("invalid value"),
                "{query}: {message}");
            let message = invalid(c.count_workflows(*query).await);
            assert!(message.contains(expected), "{query}: {message}");
        }
        let message = invalid(c.count_workflows("GROUP BY WorkflowType").await);
        assert!(message.contains("'GROUP BY' clause is not supported for search attribute WorkflowType"), "{message}");
        let message = invalid(c.list_workflows("GROUP BY ExecutionStatus").await);
        assert!(message.contains("only supported for count"), "{message}");
        // Nothing a query says can run as SQL: every value is bound.
        let start = |id: &str| WorkflowOptions::new(id, "nobody");
        let odd = "x'); DROP TABLE executions; --";
        c.start_workflow(VisA::run, Step::Wait, start(odd)).await.unwrap();
        c.start_workflow(VisA::run, Step::Wait, start("plain")).await.unwrap();
        for query in [
            "WorkflowId = 'x'' OR ''1''=''1'",
            "WorkflowId = 'plain'' OR 1=1 --'",
            "WorkflowId = \"'); DELETE FROM executions; --\"",
        ] {
            assert_eq!(list(c, query).await, Vec::<String>::new(), "{query}");
        }
        let escaped = "WorkflowId = 'x''); DROP TABLE executions; --'";
        assert_eq!(list(c, escaped).await, [odd]);
        assert_eq!(list(c, "").await.len(), 2, "both runs are still listed");
        let message = invalid(c.list_workflows("WorkflowId = 'a'; DROP TABLE executions").await);
        assert!(message.contains("unexpected character ';'"), "{message}");
        env.engine.shutdown().await;
    }

    unregistered_or_mistyped_attributes_are_refused_at_start(sqlite) {
        let env = env_with(sqlite, options());
        let c = &env.client;
        let unknown = SearchAttributeKey::<String>::new("Region");
        let opts = WorkflowOptions::new("r", "nobody").search_attribute(&unknown, "eu".into());
        let message = refused(c.start_workflow(VisA::run, Step::Wait, opts).await);
        assert!(message.contains("search attribute Region is not registered"), "{message}");
        let wrong = SearchAttributeKey::<String>::new("OrderCount");
        let opts = WorkflowOptions::new("r", "nobody").search_attribute(&wrong, "7".into());
        let message = refused(c.start_workflow(VisA::run, Step::Wait, opts).await);
        assert!(message.contains("of type Int: \"7\" (type: Keyword)"), "{message}");
        let opts = WorkflowOptions::new("r", "nobody").search_attribute(&amount(), f64::NAN);
        let message = refused(c.start_workflow(VisA::run, Step::Wait, opts).await);
        assert!(message.contains("not a finite number"), "{message}");
        assert_eq!(list(c, "").await, Vec::<String>::new(), "nothing started");
        env.engine.shutdown().await;
    }

    a_child_starts_with_its_own_attributes(sqlite) {
        let env = env_with(sqlite, options());
        let queue = "family";
        let w = Worker::new(&env.client, queue)
            .register_workflow::<VisA>()
            .register_workflow::<VisB>()
            .start()
            .unwrap();
        let c = &env.client;
        let h = c
            .start_workflow(VisA::run, Step::Parent, WorkflowOptions::new("parent", queue))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "done");
        assert_eq!(list(c, "CustomerId = 'c-kid' AND WorkflowType = 'VisB'").await, ["kid"]);
        // (Times are kept to the millisecond: the two may close in one.)
        let completed = "ExecutionStatus = 'Completed' ORDER BY WorkflowId";
        assert_eq!(list(c, completed).await, ["kid", "parent"]);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    continued_runs_carry_their_attributes(sqlite) {
        let env = env_with(sqlite, options());
        let queue = "chain";
        let w = Worker::new(&env.client, queue).register_workflow::<VisA>().start().unwrap();
        let c = &env.client;
        let opts = WorkflowOptions::new("chain", queue).search_attribute(&customer(), "c9".into());
        let h = c.start_workflow(VisA::run, Step::Continue(2), opts).await.unwrap();
        // The result follows the chain to its last run.
        assert_eq!(within(h.result()).await.unwrap(), "Some(\"c9\")");
        // (A run and the next of its chain may start at the same instant.)
        let query = "WorkflowId = 'chain' ORDER BY OrderCount DESC";
        let runs = c.list_workflows(query).await.unwrap();
        let seen: Vec<(RunStatus, Option<i64>, Option<String>)> = runs
            .iter()
            .map(|r| (r.status, r.search_attributes.get(&order_count()), r.search_attributes.get(&customer())))
            .collect();
        let c9 = Some("c9".to_string());
        assert_eq!(seen, [
            (RunStatus::ContinuedAsNew, Some(2), c9.clone()),
            (RunStatus::ContinuedAsNew, Some(1), c9.clone()),
            (RunStatus::Completed, Some(0), c9.clone()),
        ]);
        assert_eq!(list(c, "ExecutionStatus = 'ContinuedAsNew'").await.len(), 2);
        assert_eq!(list(c, "OrderCount = 1").await, ["chain"]);
        let first = &runs[0].run_id;
        assert_eq!(list(c, &format!("RunId = '{first}'")).await, ["chain"]);
        w.shutdown().await;
        env.engine.shutdown().await;
    }
}

/// Many runs (no worker: they stay running) at known start times, one
/// second apart: ranges at their exact boundaries, ordering by a custom
/// attribute, and the same answers from both stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_runs_ranges_at_their_boundaries_and_order_agree_on_both_stores() {
    let mut answers = Vec::new();
    for sqlite in [false, true] {
        let clock = VirtualClock::manual();
        let env = env_with(
            sqlite,
            EngineOptions {
                clock: Arc::new(clock.clone()),
                ..options()
            },
        );
        let c = &env.client;
        let mut starts = Vec::new();
        for i in 0..300i64 {
            let opts = WorkflowOptions::new(format!("many-{i:03}"), "nobody")
                .search_attribute(&order_count(), i % 50)
                .search_attribute(&customer(), format!("cust-{}", i % 7));
            let h = c.start_workflow(VisA::run, Step::Wait, opts).await.unwrap();
            starts.push(h.describe().await.unwrap().start_time);
            clock.advance(Duration::from_secs(1));
        }
        let t = |i: usize| rfc3339(starts[i]);
        let n = |q: String| async move { c.count_workflows(q).await.unwrap().count };
        assert_eq!(n(format!("StartTime >= '{}'", t(100))).await, 200);
        assert_eq!(n(format!("StartTime > '{}'", t(100))).await, 199);
        assert_eq!(n(format!("StartTime <= '{}'", t(100))).await, 101);
        assert_eq!(n(format!("StartTime < '{}'", t(100))).await, 100);
        assert_eq!(n(format!("StartTime = '{}'", t(100))).await, 1);
        assert_eq!(n(format!("StartTime != '{}'", t(100))).await, 299);
        assert_eq!(
            n(format!("StartTime BETWEEN '{}' AND '{}'", t(10), t(19))).await,
            10
        );
        assert_eq!(
            n(format!("StartTime NOT BETWEEN '{}' AND '{}'", t(10), t(19))).await,
            290
        );
        assert_eq!(n("OrderCount BETWEEN 10 AND 19".into()).await, 60);
        assert_eq!(n("OrderCount >= 49".into()).await, 6);
        assert_eq!(n("OrderCount NOT IN (0, 1, 2)".into()).await, 282);
        assert_eq!(n("CustomerId STARTS_WITH 'cust-'".into()).await, 300);
        assert_eq!(
            n("CustomerId = 'cust-3' AND OrderCount < 10".into()).await,
            9
        );
        assert_eq!(n("CloseTime IS NOT NULL".into()).await, 0);
        let top = c
            .list_workflows("OrderCount >= 48 ORDER BY OrderCount DESC, StartTime")
            .await
            .unwrap();
        assert_eq!(ids(&top)[..3], ["many-049", "many-099", "many-149"]);
        let all = c.list_workflows("").await.unwrap();
        assert_eq!(ids(&all)[0], "many-299", "newest start first");
        answers.push(
            c.list_workflows(
                "CustomerId IN ('cust-1', 'cust-2') OR OrderCount = 7 ORDER BY WorkflowId DESC",
            )
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.workflow_id, r.search_attributes))
            .collect::<Vec<_>>(),
        );
        env.engine.shutdown().await;
    }
    assert_eq!(answers[0].len(), 90);
    assert_eq!(answers[0], answers[1], "memory and SQLite answer alike");
}

/// An upsert recorded, then the process gone: the reopened engine lists
/// the attributes, and a worker with no cache replays the upsert against
/// history (the same command, so no nondeterminism) and carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upsert_survives_a_restart_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let queue = "crash";
    {
        let engine = Engine::start(SqliteStore::open(&path).unwrap(), options()).unwrap();
        let client = Client::new(engine.clone());
        let w = Worker::new(&client, queue)
            .register_workflow::<VisB>()
            .start()
            .unwrap();
        let h = client
            .start_workflow(
                VisB::run,
                Step::UpsertThenWait,
                WorkflowOptions::new("up", queue),
            )
            .await
            .unwrap();
        within(h.ping()).await.unwrap();
        w.shutdown().await;
        engine.shutdown().await;
    }
    let engine = Engine::start(SqliteStore::open(&path).unwrap(), options()).unwrap();
    let client = Client::new(engine.clone());
    assert_eq!(
        list(&client, "CustomerId = 'c3' AND IsVip = true").await,
        ["up"]
    );
    let w = Worker::new(&client, queue)
        .with_options(support::strict(0))
        .register_workflow::<VisB>()
        .start()
        .unwrap();
    let h = client.workflow_handle::<VisB>("up", None);
    h.signal("finish", &()).await.unwrap();
    assert_eq!(within(h.result()).await.unwrap(), "c3");
    let upserts = h
        .history()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.attributes.name() == "UpsertWorkflowSearchAttributes")
        .count();
    assert_eq!(upserts, 1);
    let d = h.describe().await.unwrap();
    assert_eq!(
        d.search_attributes.get_value("CustomerId"),
        Some(&SearchAttributeValue::Keyword("c3".into()))
    );
    assert_eq!(list(&client, "ExecutionStatus = 'Completed'").await, ["up"]);
    // The exported history replays; one whose upsert says otherwise than
    // the code does not.
    let json = h.history_json().await.unwrap();
    let mut replayer = weft::replay::Replayer::new();
    replayer.register_workflow::<VisB>();
    replayer.replay_json(&json).unwrap();
    let tampered = json.replace("\"c3\"", "\"c4\"");
    assert_ne!(tampered, json);
    match replayer.replay_json(&tampered) {
        Err(weft::replay::ReplayError::Nondeterminism(m)) => {
            assert!(
                m.contains("UpsertSearchAttributes(CustomerId, IsVip)"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    w.shutdown().await;
    engine.shutdown().await;
}

/// An upsert of an attribute the engine does not know fails the workflow
/// task, not the workflow: it stays open, and nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upsert_of_an_unregistered_attribute_fails_the_workflow_task() {
    let logs = support::logs::logs();
    for sqlite in [false, true] {
        let options = EngineOptions::default().search_attribute("IsVip", SearchAttributeType::Bool);
        let env = env_with(sqlite, options);
        let queue = "unregistered";
        let w = Worker::new(&env.client, queue)
            .register_workflow::<VisB>()
            .start()
            .unwrap();
        let opts = WorkflowOptions::new("bad-upsert", queue);
        let h = env
            .client
            .start_workflow(VisB::run, Step::UpsertThenWait, opts)
            .await
            .unwrap();
        let run_id = h.run_id().unwrap().to_string();
        let line = within(logs.wait_for(&["workflow task completion refused", &run_id])).await;
        assert!(
            line.contains("search attribute CustomerId is not registered"),
            "{line}"
        );
        let d = h.describe().await.unwrap();
        assert!(d.search_attributes.is_empty(), "{:?}", d.search_attributes);
        let history = h.history().await.unwrap();
        assert!(
            history
                .iter()
                .all(|e| e.attributes.name() != "UpsertWorkflowSearchAttributes")
        );
        assert_eq!(
            list(&env.client, "IsVip = true").await,
            Vec::<String>::new()
        );
        h.terminate("done").await.unwrap();
        w.shutdown().await;
        env.engine.shutdown().await;
    }
}

/// A name the engine cannot register stops it from starting.
#[tokio::test]
async fn reserved_and_malformed_names_cannot_be_registered() {
    for (name, expected) in [
        ("WorkflowId", "reserved by system"),
        ("TemporalThing", "reserved by system"),
        ("order", "reserved by system"),
        ("has space", "must be a letter"),
        ("", "must be a letter"),
    ] {
        let options = EngineOptions::default().search_attribute(name, SearchAttributeType::Keyword);
        match Engine::start(MemoryStore::new(), options) {
            Err(BackendError::InvalidArgument(m)) => assert!(m.contains(expected), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// Temporal's limits: a Keyword value of at most 2 KB, a run's
/// attributes at most 40 KB together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_search_attributes_are_refused() {
    let mut options = EngineOptions::default();
    for i in 0..21 {
        options = options.search_attribute(format!("K{i}"), SearchAttributeType::Keyword);
    }
    let env = env_with(false, options);
    let c = &env.client;
    let big = SearchAttributeKey::<String>::new("K0");
    let opts = WorkflowOptions::new("big", "nobody").search_attribute(&big, "x".repeat(2049));
    let message = refused(c.start_workflow(VisA::run, Step::Wait, opts).await);
    assert!(
        message.contains("2049 bytes, over the limit of 2048"),
        "{message}"
    );
    let mut opts = WorkflowOptions::new("big", "nobody");
    for i in 0..21 {
        let key = SearchAttributeKey::<String>::new(format!("K{i}"));
        opts = opts.search_attribute(&key, "x".repeat(2000));
    }
    let message = refused(c.start_workflow(VisA::run, Step::Wait, opts).await);
    assert!(message.contains("over the limit of 40960"), "{message}");
    env.engine.shutdown().await;
}

/// Queries as large as a careless program builds: thousands of terms and
/// values, nesting at the limit and past it. Answered, or refused with a
/// message; the engine goes on either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_and_deep_queries_are_answered_or_refused_without_harm() {
    for sqlite in [false, true] {
        let env = env_with(sqlite, options());
        let c = &env.client;
        let opts = WorkflowOptions::new("w-7", "nobody").search_attribute(&order_count(), 7);
        c.start_workflow(VisA::run, Step::Wait, opts).await.unwrap();
        let ids: Vec<String> = (0..3000).map(|i| format!("'w-{i}'")).collect();
        let many_in = format!("WorkflowId IN ({})", ids.join(", "));
        assert_eq!(list(c, &many_in).await, ["w-7"]);
        let chain = vec!["OrderCount IN (1, 2, 3, 4, 5, 6, 7)"; 1000].join(" AND ");
        assert_eq!(list(c, &chain).await, ["w-7"]);
        let nested = format!("{}OrderCount = 7{}", "(".repeat(32), ")".repeat(32));
        assert_eq!(list(c, &nested).await, ["w-7"]);
        let deeper = format!("{}OrderCount = 7{}", "(".repeat(5000), ")".repeat(5000));
        assert!(invalid(c.list_workflows(deeper).await).contains("nest more than 32 deep"));
        let too_long = format!("WorkflowId = '{}'", "x".repeat(70_000));
        assert!(invalid(c.list_workflows(too_long).await).contains("over the limit"));
        assert_eq!(list(c, "").await, ["w-7"], "the engine still answers");
        env.engine.shutdown().await;
    }
}
