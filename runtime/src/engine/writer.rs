//! The writer thread: the only user of the store once the engine runs.
//!
//! It takes batches and reads in the order the engine sent them. Batches
//! queued together are committed in one transaction (group commit: one
//! fsync for many steps; with group commit off, each batch gets its own
//! transaction); reads are served after the commit of everything queued
//! with them, so they see committed data only and everything sent before
//! them, and reads queued together share that one commit. After each
//! commit it tells the engine "committed up to batch N". A failed commit
//! ends all writing: the engine is told, later reads get `Stopped`.

use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::backend::BackendError;

use super::engine_task::FastMap;
use super::store::{ExecutionRow, Store, StoreOp};

/// What a read of a stored run brings besides its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The row alone.
    Row,
    /// The row and the run's serialized events.
    History,
    /// The row and the run's update rows (an update id's kept outcome).
    Updates,
}

/// A run's row and what the read asked for besides (else empty).
pub(crate) struct StoredRun {
    pub row: ExecutionRow,
    pub updates: Vec<(String, Vec<u8>)>,
    pub events: Vec<Vec<u8>>,
}

pub(crate) type ReadReply = oneshot::Sender<Result<Option<StoredRun>, BackendError>>;

pub(crate) enum WriterMsg {
    Batch {
        id: u64,
        ops: Vec<StoreOp>,
    },
    Read {
        namespace: String,
        run_id: String,
        reading: Reading,
        reply: ReadReply,
    },
    /// A list or count, served as reads are.
    Visibility {
        namespace: String,
        plan: Box<crate::visibility::Plan>,
        count: bool,
        reply: oneshot::Sender<Result<super::visibility::Answer, BackendError>>,
    },
}

/// What the writer tells the engine.
#[derive(Debug)]
pub(crate) enum WriterEvent {
    /// Every batch up to this id is durable.
    Committed(u64),
    /// A commit failed; nothing from that batch on is durable.
    Failed(String),
    /// The writer has ended and closed the store.
    Closed,
}

/// Told each commit's duration and number of store operations.
pub(crate) type CommitHook = Box<dyn Fn(Duration, usize) + Send>;

pub(crate) fn spawn(
    mut store: Box<dyn Store>,
    events: mpsc::UnboundedSender<WriterEvent>,
    group_commit: bool,
    on_commit: Option<CommitHook>,
) -> Result<(std_mpsc::Sender<WriterMsg>, JoinHandle<()>), BackendError> {
    let (tx, rx) = std_mpsc::channel::<WriterMsg>();
    let handle = std::thread::Builder::new()
        .name("weft-writer".into())
        .spawn(move || {
            run(&mut *store, &rx, &events, group_commit, on_commit.as_ref());
            drop(store);
            // The engine may be gone already; nothing to do then.
            let _ = events.send(WriterEvent::Closed);
        })
        .map_err(|e| BackendError::Store(format!("cannot start the writer thread: {e}")))?;
    Ok((tx, handle))
}

fn run(
    store: &mut dyn Store,
    rx: &std_mpsc::Receiver<WriterMsg>,
    events: &mpsc::UnboundedSender<WriterEvent>,
    group_commit: bool,
    on_commit: Option<&CommitHook>,
) {
    let mut failed: Option<String> = None;
    let mut ops: Vec<StoreOp> = Vec::new();
    let mut last_id: Option<u64> = None;
    let mut reads = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut queued = vec![first];
        queued.extend(rx.try_iter());
        for msg in queued {
            match msg {
                WriterMsg::Batch { id, ops: batch } => {
                    if failed.is_none() {
                        ops.extend(batch);
                        last_id = Some(id);
                        if !group_commit {
                            flush(
                                store,
                                &mut ops,
                                &mut last_id,
                                &mut failed,
                                events,
                                on_commit,
                            );
                        }
                    }
                }
                // Served once what was queued with it is committed: the read
                // sees everything sent before it (and perhaps more, all of
                // it committed), and many reads share one commit instead of
                // forcing one each.
                read @ (WriterMsg::Read { .. } | WriterMsg::Visibility { .. }) => reads.push(read),
            }
        }
        flush(
            store,
            &mut ops,
            &mut last_id,
            &mut failed,
            events,
            on_commit,
        );
        for msg in reads.drain(..) {
            serve(store, msg, failed.as_deref());
        }
    }
}

/// Answers a read or a list (after the commit of what was queued with it).
fn serve(store: &mut dyn Store, msg: WriterMsg, failed: Option<&str>) {
    let stopped = |reason: &str| BackendError::Stopped(reason.to_string());
    // The reader may have given up waiting; that is fine.
    match msg {
        WriterMsg::Read {
            namespace,
            run_id,
            reading,
            reply,
        } => {
            let result = match failed {
                Some(reason) => Err(stopped(reason)),
                None => read(store, &namespace, &run_id, reading),
            };
            let _ = reply.send(result);
        }
        WriterMsg::Visibility {
            namespace,
            plan,
            count,
            reply,
        } => {
            let result = match failed {
                Some(reason) => Err(stopped(reason)),
                None => super::visibility::answer(store, &namespace, &plan, count),
            };
            let _ = reply.send(result);
        }
        WriterMsg::Batch { .. } => {}
    }
}

fn flush(
    store: &mut dyn Store,
    ops: &mut Vec<StoreOp>,
    last_id: &mut Option<u64>,
    failed: &mut Option<String>,
    events: &mpsc::UnboundedSender<WriterEvent>,
    on_commit: Option<&CommitHook>,
) {
    let Some(id) = last_id.take() else {
        return;
    };
    let started = Instant::now();
    keep_last_row_writes(ops);
    let result = store.commit(ops);
    if let Some(hook) = on_commit {
        hook(started.elapsed(), ops.len());
    }
    ops.clear();
    let event = match result {
        Ok(()) => WriterEvent::Committed(id),
        Err(e) => {
            let reason = format!("commit failed: {e}");
            tracing::error!(%reason, "store commit failed; the engine stops");
            *failed = Some(reason.clone());
            WriterEvent::Failed(reason)
        }
    };
    let _ = events.send(event);
}

/// Writes each run's row once per transaction. When two steps of a run
/// share a group commit, its first row write keeps its place (a row's
/// insertion position is what tells the latest run of a workflow id) and
/// takes the last one's content; the later ones go. The write kept is a
/// whole row's when any of them was: a later write of the state alone
/// takes for granted the status an earlier one of the group put.
fn keep_last_row_writes(ops: &mut Vec<StoreOp>) {
    let mut at: FastMap<(Arc<str>, Arc<str>), usize> = FastMap::default();
    let mut kept = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        let (StoreOp::PutExecution(row) | StoreOp::PutExecutionState(row)) = &op else {
            kept.push(op);
            continue;
        };
        match at.entry((row.namespace.clone(), row.run_id.clone())) {
            Entry::Occupied(first) => {
                let earlier = &mut kept[*first.get()];
                *earlier = match (&earlier, op) {
                    (StoreOp::PutExecution(_), StoreOp::PutExecutionState(row)) => {
                        StoreOp::PutExecution(row)
                    }
                    (_, later) => later,
                };
            }
            Entry::Vacant(first) => {
                first.insert(kept.len());
                kept.push(op);
            }
        }
    }
    *ops = kept;
}

fn read(
    store: &mut dyn Store,
    namespace: &str,
    run_id: &str,
    reading: Reading,
) -> Result<Option<StoredRun>, BackendError> {
    let Some(row) = store.execution(namespace, run_id)? else {
        return Ok(None);
    };
    let events = match reading {
        Reading::History => store.events(namespace, run_id, 1)?,
        Reading::Row | Reading::Updates => Vec::new(),
    };
    let updates = match reading {
        Reading::Updates => store.updates(namespace, run_id)?,
        Reading::Row | Reading::History => Vec::new(),
    };
    Ok(Some(StoredRun {
        row,
        updates,
        events,
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::engine::store::Loaded;

    /// Records how many ops each commit held; the first commit says it
    /// began and waits until the test has queued the rest behind it.
    struct Counting {
        commits: Arc<Mutex<Vec<usize>>>,
        hold_first: Option<(std_mpsc::Sender<()>, std_mpsc::Receiver<()>)>,
    }

    impl Store for Counting {
        fn load(&mut self) -> Result<Loaded, BackendError> {
            Ok(Loaded::default())
        }
        fn events(&mut self, _: &str, _: &str, _: i64) -> Result<Vec<Vec<u8>>, BackendError> {
            Ok(Vec::new())
        }
        fn activities(&mut self, _: &str, _: &str) -> Result<Vec<(i64, Vec<u8>)>, BackendError> {
            Ok(Vec::new())
        }
        fn updates(&mut self, _: &str, _: &str) -> Result<Vec<(String, Vec<u8>)>, BackendError> {
            Ok(Vec::new())
        }
        fn execution(&mut self, _: &str, _: &str) -> Result<Option<ExecutionRow>, BackendError> {
            Ok(None)
        }
        fn commit(&mut self, ops: &[StoreOp]) -> Result<(), BackendError> {
            if let Some((began, release)) = self.hold_first.take() {
                let _ = began.send(());
                let _ = release.recv();
            }
            self.commits.lock().unwrap().push(ops.len());
            Ok(())
        }
    }

    fn batch(id: u64) -> WriterMsg {
        WriterMsg::Batch {
            id,
            ops: vec![StoreOp::AppendEvents {
                namespace: "default".into(),
                run_id: "r".into(),
                first_event_id: i64::try_from(id).unwrap(),
                last_event_id: i64::try_from(id).unwrap(),
                data: Vec::new(),
            }],
        }
    }

    /// Ops per commit when batch 1 is committed alone and batches 2 to 4
    /// queue up behind it.
    fn commits(group_commit: bool) -> Vec<usize> {
        commits_with(group_commit, (2..=4).map(batch).collect())
    }

    /// Ops per commit when batch 1 is committed alone and `queued` waits
    /// behind it; the last batch queued must be batch 4.
    fn commits_with(group_commit: bool, queued: Vec<WriterMsg>) -> Vec<usize> {
        let commits = Arc::new(Mutex::new(Vec::new()));
        let (began, first_began) = std_mpsc::channel();
        let (release, hold) = std_mpsc::channel();
        let store = Counting {
            commits: commits.clone(),
            hold_first: Some((began, hold)),
        };
        let (events, mut events_rx) = mpsc::unbounded_channel();
        let (tx, thread) = spawn(Box::new(store), events, group_commit, None).unwrap();
        tx.send(batch(1)).unwrap();
        first_began.recv().unwrap();
        for msg in queued {
            tx.send(msg).unwrap();
        }
        release.send(()).unwrap();
        drop(tx);
        thread.join().unwrap();
        let mut last = 0;
        while let Ok(event) = events_rx.try_recv() {
            if let WriterEvent::Committed(id) = event {
                last = id;
            }
        }
        assert_eq!(last, 4);
        commits.lock().unwrap().clone()
    }

    #[test]
    fn group_commit_takes_every_queued_batch_in_one_commit() {
        assert_eq!(commits(true), vec![1, 3]);
    }

    #[test]
    fn reads_queued_between_batches_share_their_commit() {
        let read = || {
            let (reply, rx) = oneshot::channel();
            let msg = WriterMsg::Read {
                namespace: "default".into(),
                run_id: "r".into(),
                reading: Reading::History,
                reply,
            };
            (msg, rx)
        };
        let (r1, rx1) = read();
        let (r2, rx2) = read();
        let queued = vec![batch(2), r1, batch(3), r2, batch(4)];
        // Batches 2 to 4 share one commit although reads sit between them,
        // and each read is answered (after that commit).
        assert_eq!(commits_with(true, queued), vec![1, 3]);
        assert!(rx1.blocking_recv().unwrap().unwrap().is_none());
        assert!(rx2.blocking_recv().unwrap().unwrap().is_none());
    }

    #[test]
    fn without_group_commit_each_batch_is_committed_alone() {
        assert_eq!(commits(false), vec![1, 1, 1, 1]);
    }

    fn execution_row(namespace: &str, run_id: &str, state: u8) -> ExecutionRow {
        ExecutionRow {
            namespace: namespace.into(),
            run_id: run_id.into(),
            workflow_id: "w".into(),
            status: crate::backend::RunStatus::Running,
            request_id: "req".into(),
            state: vec![state],
            workflow_type: "T".into(),
            task_queue: "q".into(),
            start_time: std::time::UNIX_EPOCH,
            close_time: None,
        }
    }

    fn row(namespace: &str, run_id: &str, state: u8) -> StoreOp {
        StoreOp::PutExecution(execution_row(namespace, run_id, state))
    }

    fn state_row(namespace: &str, run_id: &str, state: u8) -> StoreOp {
        StoreOp::PutExecutionState(execution_row(namespace, run_id, state))
    }

    /// A write of the state alone that follows a whole row's in the same
    /// transaction leaves a whole row's write (with the later content):
    /// the status the first put is still to be written. Two of the state
    /// alone stay one of the state alone.
    #[test]
    fn a_whole_row_write_is_not_lost_to_a_later_state_write() {
        let mut ops = vec![
            row("default", "a", 1),
            state_row("default", "b", 1),
            state_row("default", "a", 2),
            state_row("default", "b", 2),
            state_row("default", "c", 1),
            row("default", "c", 2),
        ];
        keep_last_row_writes(&mut ops);
        assert_eq!(
            ops,
            [
                row("default", "a", 2),
                state_row("default", "b", 2),
                row("default", "c", 2),
            ]
        );
    }

    /// Several writes of a run's row in one transaction become one, where
    /// the first was, with the last one's content; other ops and other
    /// runs' rows (the same run id in another namespace too) stay as and
    /// where they were.
    #[test]
    fn a_runs_row_is_written_once_per_commit_at_its_first_place() {
        let event = |run_id: &str| StoreOp::AppendEvents {
            namespace: "default".into(),
            run_id: run_id.into(),
            first_event_id: 1,
            last_event_id: 2,
            data: vec![1, 2],
        };
        let mut ops = vec![
            row("default", "a", 1),
            event("a"),
            row("default", "b", 1),
            row("other", "a", 1),
            row("default", "a", 2),
            event("b"),
            row("default", "b", 2),
            row("default", "a", 3),
        ];
        keep_last_row_writes(&mut ops);
        assert_eq!(
            ops,
            [
                row("default", "a", 3),
                event("a"),
                row("default", "b", 2),
                row("other", "a", 1),
                event("b"),
            ]
        );
    }
}
