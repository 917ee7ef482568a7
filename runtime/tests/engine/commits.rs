//! What waits for a commit and what does not, and what a step writes.

use super::*;
use support::within;

/// Commits allowed (`usize::MAX`: all), and a signal when that changes.
type Permits = Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>;

/// A store whose commits wait for permits the test hands out (none at
/// first).
fn gated() -> (Hooked, Permits) {
    let permits: Permits = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
    let held = permits.clone();
    let store = hooked(move |_| {
        let (lock, changed) = &*held;
        let mut left = lock.lock().unwrap();
        while *left == 0 {
            left = changed.wait(left).unwrap();
        }
        if *left != usize::MAX {
            *left -= 1;
        }
        Ok(())
    });
    (store, permits)
}

fn allow(permits: &Permits, commits: usize) {
    let (lock, changed) = &**permits;
    *lock.lock().unwrap() = commits;
    changed.notify_all();
}

/// A workflow task only computes, so it is handed out while the commit that
/// scheduled it is still on its way; the start's acknowledgement, the
/// completion's, the activity it schedules and `wait_durable` wait for
/// their commits.
#[tokio::test]
async fn workflow_tasks_are_handed_out_before_their_commit_but_activities_wait() {
    use futures::poll;

    let (store, permits) = gated();
    let e = Engine::start(store, EngineOptions::default()).unwrap();
    let mut started = Box::pin(e.start_workflow(request("w", "r")));
    assert!(poll!(&mut started).is_pending());
    // Nothing is durable yet, and the task is out.
    let task = poll_wft(&e).await;
    assert_eq!(names(&task.events), ["WorkflowExecutionStarted"]);
    assert!(
        poll!(&mut started).is_pending(),
        "acknowledged before durable"
    );

    let completion = WorkflowTaskCompletion {
        token: task.token.clone(),
        commands: vec![activity(1, quick_retries())],
        sdk_flags: vec![1],
        identity: "test-worker".into(),
    };
    let mut completed = Box::pin(e.complete_workflow_task(completion));
    assert!(poll!(&mut completed).is_pending());
    let mut act = Box::pin(e.poll_activity_task(NS, TQ));
    assert!(poll!(&mut act).is_pending());
    let mut durable = Box::pin(e.wait_durable());
    assert!(poll!(&mut durable).is_pending());
    // The engine handles requests in order: once a later start's task is
    // out, the activity poll has been handled, and its task must still be
    // held back.
    let mut later = Box::pin(e.start_workflow(request("w2", "r2")));
    assert!(poll!(&mut later).is_pending());
    let second = poll_wft(&e).await;
    assert_eq!(second.workflow_id, "w2");
    assert!(
        poll!(&mut act).is_pending(),
        "activity dispatched before its schedule was durable"
    );
    assert!(
        poll!(&mut completed).is_pending(),
        "completion acknowledged before durable"
    );
    assert!(
        poll!(&mut durable).is_pending(),
        "wait_durable returned early"
    );

    allow(&permits, usize::MAX);
    durable.await.unwrap();
    assert!(started.await.unwrap().started);
    completed.await.unwrap();
    let act = match act.await {
        Ok(Some(act)) => act,
        other => panic!("expected the activity task, got {other:?}"),
    };
    assert_eq!(act.activity_type, "Charge");
    assert!(later.await.unwrap().started);
    e.shutdown().await;
}

/// A query is answered from what the worker has seen; the query task waits
/// until that is durable, so no client reads a signal or a completion that
/// a crash could still take back.
#[tokio::test]
async fn query_tasks_wait_for_the_commit_of_what_they_could_see() {
    use futures::poll;

    let (store, permits) = gated();
    allow(&permits, usize::MAX);
    let options = EngineOptions {
        group_commit: false,
        ..EngineOptions::default()
    };
    let e = Engine::start(store, options).unwrap();
    start(&e, "w").await;
    let t0 = poll_wft(&e).await;
    complete(&e, &t0, vec![]).await.unwrap();

    allow(&permits, 0);
    // A batch in flight that has nothing to do with the run.
    let mut other = request("w2", "r2");
    other.task_queue = "elsewhere".into();
    let mut other = Box::pin(e.start_workflow(other));
    assert!(poll!(&mut other).is_pending());
    // The query waits for that batch before it joins the run's queue.
    let mut answer = Box::pin(e.query_workflow(QueryRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        query_name: "state".into(),
        input: vec![],
    }));
    assert!(poll!(&mut answer).is_pending());
    // A signal, not durable yet; its workflow task goes out at once.
    let mut signaled = Box::pin(e.signal_workflow(SignalRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        signal_name: "s".into(),
        input: vec![],
        request_id: "sig-1".into(),
    }));
    assert!(poll!(&mut signaled).is_pending());
    let t1 = poll_wft(&e).await;
    assert!(t1.query.is_none());
    // Only the unrelated batch commits: the query joins the queue.
    allow(&permits, 1);
    assert!(other.await.unwrap().started);
    // The workflow task that saw the signal completes, not durable yet.
    let mut completed = Box::pin(complete(&e, &t1, vec![]));
    assert!(poll!(&mut completed).is_pending());
    let mut query_task = Box::pin(e.poll_workflow_task(NS, TQ));
    assert!(poll!(&mut query_task).is_pending());
    // Requests are handled in order: once a later start's task is out on
    // another queue, the poll has been handled.
    let mut barrier = request("w3", "r3");
    barrier.task_queue = "barrier".into();
    let mut barrier = Box::pin(e.start_workflow(barrier));
    assert!(poll!(&mut barrier).is_pending());
    poll_wft_on(&e, "barrier").await;
    assert!(
        poll!(&mut query_task).is_pending(),
        "query task handed out before the signal it sees was durable"
    );

    allow(&permits, usize::MAX);
    let task = match query_task.await {
        Ok(Some(task)) => task,
        other => panic!("expected the query task, got {other:?}"),
    };
    assert!(task.query.is_some());
    signaled.await.unwrap();
    completed.await.unwrap();
    e.respond_query(task.token.clone(), Ok(encode(&"seen").unwrap()))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), encode(&"seen").unwrap());
    assert!(barrier.await.unwrap().started);
    e.shutdown().await;
}

/// The activity writes in `batches`: (ids put, ids deleted).
fn activity_writes(batches: &[Vec<StoreOp>]) -> (Vec<i64>, Vec<i64>) {
    let (mut puts, mut deletes) = (Vec::new(), Vec::new());
    for op in batches.iter().flatten() {
        match op {
            StoreOp::PutActivity { id, .. } => puts.push(*id),
            StoreOp::DeleteActivity { id, .. } => deletes.push(*id),
            _ => {}
        }
    }
    (puts, deletes)
}

/// A step writes the activities it changed, not every pending one; a
/// closed run leaves no activity rows behind.
#[tokio::test]
async fn a_step_writes_only_the_activities_it_changed() {
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = batches.clone();
    let store = hooked(move |ops| {
        recorded.lock().unwrap().push(ops.to_vec());
        Ok(())
    });
    let e = Engine::start(store, EngineOptions::default()).unwrap();
    start(&e, "w").await;
    let t = poll_wft(&e).await;
    let three = (1..=3).map(|seq| activity(seq, quick_retries())).collect();
    complete(&e, &t, three).await.unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap());
    assert_eq!((puts.len(), deletes.len()), (3, 0), "{puts:?}");

    let a = poll_act(&e).await;
    let seen = batches.lock().unwrap().len();
    e.complete_activity_task(
        a.token.clone(),
        ActivityTaskResult::Completed(encode(&1).unwrap()),
    )
    .await
    .unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!(puts, Vec::<i64>::new());
    assert_eq!(deletes, [a.token.task_id]);

    // Handing an attempt out is stored with the run's next write; a
    // heartbeat that changes no details is not.
    let b = poll_act(&e).await;
    let seen = batches.lock().unwrap().len();
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    let (puts, _) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!(puts, [b.token.task_id]);
    e.record_activity_heartbeat(b.token.clone(), vec![])
        .await
        .unwrap();
    let seen = batches.lock().unwrap().len();
    e.signal_workflow(signal("w", "s2")).await.unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!((puts.len(), deletes.len()), (0, 0), "{puts:?}");

    // The run closes with two activities pending: their rows go with it.
    let t = poll_wft(&e).await;
    let seen = batches.lock().unwrap().len();
    complete(&e, &t, vec![done("early")]).await.unwrap();
    let (puts, mut deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    deletes.sort_unstable();
    assert_eq!(puts, Vec::<i64>::new());
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert!(!deletes.contains(&a.token.task_id));
    e.shutdown().await;
}

/// Records the ops of each commit, each commit taking 100 ms, as on a
/// slow disk: a batch is held only while workflow tasks come back faster
/// than commits take, and the tests' tasks come back in well under that,
/// however busy the machine.
fn recording() -> (Hooked, Arc<std::sync::Mutex<Vec<Vec<StoreOp>>>>) {
    let commits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = commits.clone();
    let store = hooked(move |ops| {
        std::thread::sleep(Duration::from_millis(100));
        recorded.lock().unwrap().push(ops.to_vec());
        Ok(())
    });
    (store, commits)
}

/// An engine whose batches wait up to `hold` for the workflow tasks they
/// hand out. A task left out does not time out while a test runs, which
/// would end a hold too.
fn holding(store: Hooked, hold: Duration) -> Engine {
    let options = EngineOptions {
        workflow_task_hold: hold,
        workflow_task_timeout: Duration::from_secs(3600),
        ..EngineOptions::default()
    };
    Engine::start(store, options).unwrap()
}

/// Starts `workflow_id` while a worker waits on the queue, so its first
/// task goes out at once: the task, and the start still unacknowledged.
async fn start_to_a_waiting_worker(
    e: &Engine,
    workflow_id: &str,
) -> (
    WorkflowTask,
    std::pin::Pin<
        Box<impl Future<Output = Result<weft::backend::StartWorkflowResponse, BackendError>>>,
    >,
) {
    use futures::poll;
    let mut polled = Box::pin(e.poll_workflow_task(NS, TQ));
    assert!(poll!(&mut polled).is_pending());
    let mut started = Box::pin(e.start_workflow(request(workflow_id, workflow_id)));
    assert!(poll!(&mut started).is_pending());
    let task = match within(polled).await {
        Ok(Some(task)) => task,
        other => panic!("expected the first workflow task, got {other:?}"),
    };
    assert_eq!(task.workflow_id, workflow_id);
    assert!(
        poll!(&mut started).is_pending(),
        "the start was acknowledged before it was durable"
    );
    (task, started)
}

/// With the writer idle, a step's batch waits for the workflow task it
/// handed out: the start and the first task's completion commit together,
/// and so do an activity's result and the task that reads it. Neither is
/// acknowledged before that commit.
#[tokio::test]
async fn a_step_and_the_workflow_task_it_hands_out_commit_together() {
    use futures::poll;

    let (store, commits) = recording();
    let e = holding(store, Duration::from_secs(60));
    let (task, started) = start_to_a_waiting_worker(&e, "w").await;
    assert!(
        commits.lock().unwrap().is_empty(),
        "committed without its task"
    );
    complete(&e, &task, vec![activity(1, quick_retries())])
        .await
        .unwrap();
    assert!(within(started).await.unwrap().started);
    assert_eq!(commits.lock().unwrap().len(), 1, "one commit for both");

    let act = poll_act(&e).await;
    let mut polled = Box::pin(e.poll_workflow_task(NS, TQ));
    assert!(poll!(&mut polled).is_pending());
    let result = ActivityTaskResult::Completed(encode(&1).unwrap());
    let mut reported = Box::pin(e.complete_activity_task(act.token.clone(), result));
    assert!(poll!(&mut reported).is_pending());
    let task = match within(polled).await {
        Ok(Some(task)) => task,
        other => panic!("expected the second workflow task, got {other:?}"),
    };
    assert!(
        poll!(&mut reported).is_pending(),
        "the activity's result was acknowledged before it was durable"
    );
    assert_eq!(commits.lock().unwrap().len(), 1);
    complete(&e, &task, vec![done("ok")]).await.unwrap();
    within(reported).await.unwrap();
    assert_eq!(commits.lock().unwrap().len(), 2, "one commit for both");
    assert!(matches!(
        e.wait_result(NS, "w", None).await,
        Ok(RunOutcome::Completed(_))
    ));
    assert_eq!(
        names(&history(&e, "w").await),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
            "ActivityTaskStarted",
            "ActivityTaskCompleted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionCompleted",
        ]
    );
    e.shutdown().await;
}

/// A held batch goes when its time is up, though its task is still out;
/// the task completes later in a commit of its own.
#[tokio::test]
async fn a_held_batch_goes_when_its_time_is_up() {
    let (store, commits) = recording();
    let e = holding(store, Duration::from_millis(200));
    let (task, started) = start_to_a_waiting_worker(&e, "w").await;
    assert!(within(started).await.unwrap().started);
    assert_eq!(commits.lock().unwrap().len(), 1);
    complete(&e, &task, vec![done("ok")]).await.unwrap();
    assert_eq!(commits.lock().unwrap().len(), 2);
    e.shutdown().await;
}

/// What reads the store (a history, a list) or waits for durability (a
/// workflow task before its first local activity) sends a held batch at
/// once: it sees everything memory holds, and never waits for the hold.
#[tokio::test]
async fn reads_and_waits_for_durability_do_not_wait_for_a_held_batch() {
    let (store, _) = recording();
    let e = holding(store, Duration::from_secs(600));
    // Tasks are held out: no average says they are slower than commits.

    let (_, started) = start_to_a_waiting_worker(&e, "read").await;
    let events = within(e.history(NS, "read", None)).await.unwrap();
    assert_eq!(names(&events).first(), Some(&"WorkflowExecutionStarted"));
    assert!(within(started).await.unwrap().started);

    let (_, started) = start_to_a_waiting_worker(&e, "listed").await;
    let listed = within(e.list_workflows(NS.into(), "WorkflowId = 'listed'".into()))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(within(started).await.unwrap().started);

    let (_, started) = start_to_a_waiting_worker(&e, "durable").await;
    within(e.wait_durable()).await.unwrap();
    assert!(within(started).await.unwrap().started);
    e.shutdown().await;
}

/// Requests queued together are handled before one flush; a read among
/// them still sees what the ones before it changed: the run's close and
/// its last events.
#[tokio::test]
async fn a_read_handled_with_the_step_before_it_sees_that_step() {
    use futures::poll;

    let e = Engine::start(MemoryStore::new(), EngineOptions::default()).unwrap();
    start(&e, "w").await;
    let t = poll_wft(&e).await;
    // On this test's one thread the engine runs only once the test waits:
    // all three are queued by then.
    let mut completed = Box::pin(complete(&e, &t, vec![done("ok")]));
    let mut result = Box::pin(e.wait_result(NS, "w", None));
    let mut events = Box::pin(e.history(NS, "w", None));
    assert!(poll!(&mut completed).is_pending());
    assert!(poll!(&mut result).is_pending());
    assert!(poll!(&mut events).is_pending());
    within(completed).await.unwrap();
    assert!(matches!(within(result).await, Ok(RunOutcome::Completed(_))));
    let events = within(events).await.unwrap();
    assert_eq!(names(&events).last(), Some(&"WorkflowExecutionCompleted"));
    e.shutdown().await;
}

/// Workflow tasks that come back slower than commits take turn the hold
/// off: a later step is acknowledged while its task is still out, though
/// the hold allowed is ten minutes.
#[tokio::test]
async fn workflow_tasks_slower_than_commits_are_not_waited_for() {
    use futures::poll;

    let e = holding(hooked(|_| Ok(())), Duration::from_secs(600));
    let (task, started) = start_to_a_waiting_worker(&e, "slow").await;
    // A worker far slower than this store's commits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    complete(&e, &task, vec![done("ok")]).await.unwrap();
    assert!(within(started).await.unwrap().started);

    let mut polled = Box::pin(e.poll_workflow_task(NS, TQ));
    assert!(poll!(&mut polled).is_pending());
    let mut started = Box::pin(e.start_workflow(request("next", "next")));
    let _ = poll!(&mut started);
    let task = match within(polled).await {
        Ok(Some(task)) => task,
        other => panic!("expected the workflow task, got {other:?}"),
    };
    assert_eq!(task.workflow_id, "next");
    // The task stays out; the start is acknowledged all the same.
    assert!(within(started).await.unwrap().started);
    e.shutdown().await;
}

/// A workflow task waiting for durability (before its first local
/// activity) is answered though a step queued after it is held for that
/// very task: the answer covers what was accepted before the wait only.
#[tokio::test]
async fn a_wait_for_durability_is_not_held_behind_a_later_step() {
    use futures::poll;

    let (store, commits) = recording();
    let e = holding(store, Duration::from_secs(600));
    start(&e, "w").await;
    // The task goes out in a flush with nothing to write: nothing is held.
    let task = poll_wft(&e).await;
    // On this test's one thread both are queued before the engine runs.
    let mut durable = Box::pin(e.wait_durable());
    let mut signaled = Box::pin(e.signal_workflow(signal("w", "s1")));
    assert!(poll!(&mut durable).is_pending());
    assert!(poll!(&mut signaled).is_pending());
    within(durable).await.unwrap();
    // The signal waits for the task, which the worker now completes.
    assert!(poll!(&mut signaled).is_pending());
    let before = commits.lock().unwrap().len();
    complete(&e, &task, vec![]).await.unwrap();
    within(signaled).await.unwrap();
    assert_eq!(
        commits.lock().unwrap().len(),
        before + 1,
        "one commit for both"
    );
    e.shutdown().await;
}

/// Without group commit each step is a transaction of its own, even when
/// the requests were queued together.
#[tokio::test]
async fn without_group_commit_requests_queued_together_commit_apart() {
    use futures::poll;

    let commits = Arc::new(std::sync::Mutex::new(0));
    let counted = commits.clone();
    let store = hooked(move |_| {
        *counted.lock().unwrap() += 1;
        Ok(())
    });
    let options = EngineOptions {
        group_commit: false,
        ..EngineOptions::default()
    };
    let e = Engine::start(store, options).unwrap();
    // On this test's one thread both are queued before the engine runs.
    let mut first = Box::pin(e.start_workflow(request("a", "a")));
    let mut second = Box::pin(e.start_workflow(request("b", "b")));
    assert!(poll!(&mut first).is_pending());
    assert!(poll!(&mut second).is_pending());
    assert!(within(first).await.unwrap().started);
    assert!(within(second).await.unwrap().started);
    assert_eq!(*commits.lock().unwrap(), 2);
    e.shutdown().await;
}
