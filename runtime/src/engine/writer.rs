//! The writer thread: the only user of the store once the engine runs.
//!
//! It takes batches and reads in the order the engine sent them. Batches
//! queued together are committed in one transaction (group commit: one
//! fsync for many steps; with group commit off, each batch gets its own
//! transaction); a read first commits what precedes it, so reads
//! see committed data only and everything sent before them. After each
//! commit it tells the engine "committed up to batch N". A failed commit
//! ends all writing: the engine is told, later reads get `Stopped`.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::backend::BackendError;

use super::store::{ExecutionRow, Store, StoreOp};

/// A run's row and (when asked) its serialized events.
pub(crate) struct StoredRun {
    pub row: ExecutionRow,
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
        with_events: bool,
        reply: ReadReply,
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

pub(crate) fn spawn(
    mut store: Box<dyn Store>,
    events: mpsc::UnboundedSender<WriterEvent>,
    group_commit: bool,
) -> Result<(std_mpsc::Sender<WriterMsg>, JoinHandle<()>), BackendError> {
    let (tx, rx) = std_mpsc::channel::<WriterMsg>();
    let handle = std::thread::Builder::new()
        .name("weft-writer".into())
        .spawn(move || {
            run(&mut *store, &rx, &events, group_commit);
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
) {
    let mut failed: Option<String> = None;
    let mut ops: Vec<StoreOp> = Vec::new();
    let mut last_id: Option<u64> = None;
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
                            flush(store, &mut ops, &mut last_id, &mut failed, events);
                        }
                    }
                }
                WriterMsg::Read {
                    namespace,
                    run_id,
                    with_events,
                    reply,
                } => {
                    flush(store, &mut ops, &mut last_id, &mut failed, events);
                    let result = match &failed {
                        Some(reason) => Err(BackendError::Stopped(reason.clone())),
                        None => read(store, &namespace, &run_id, with_events),
                    };
                    // The reader may have given up waiting; that is fine.
                    let _ = reply.send(result);
                }
            }
        }
        flush(store, &mut ops, &mut last_id, &mut failed, events);
    }
}

fn flush(
    store: &mut dyn Store,
    ops: &mut Vec<StoreOp>,
    last_id: &mut Option<u64>,
    failed: &mut Option<String>,
    events: &mpsc::UnboundedSender<WriterEvent>,
) {
    let Some(id) = last_id.take() else {
        return;
    };
    let result = store.commit(ops);
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

fn read(
    store: &mut dyn Store,
    namespace: &str,
    run_id: &str,
    with_events: bool,
) -> Result<Option<StoredRun>, BackendError> {
    let Some(row) = store.execution(namespace, run_id)? else {
        return Ok(None);
    };
    let events = if with_events {
        store.events(namespace, run_id, 1)?
    } else {
        Vec::new()
    };
    Ok(Some(StoredRun { row, events }))
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
            ops: vec![StoreOp::AppendEvent {
                namespace: "default".into(),
                run_id: "r".into(),
                event_id: i64::try_from(id).unwrap(),
                data: Vec::new(),
            }],
        }
    }

    /// Ops per commit when batch 1 is committed alone and batches 2 to 4
    /// queue up behind it.
    fn commits(group_commit: bool) -> Vec<usize> {
        let commits = Arc::new(Mutex::new(Vec::new()));
        let (began, first_began) = std_mpsc::channel();
        let (release, hold) = std_mpsc::channel();
        let store = Counting {
            commits: commits.clone(),
            hold_first: Some((began, hold)),
        };
        let (events, mut events_rx) = mpsc::unbounded_channel();
        let (tx, thread) = spawn(Box::new(store), events, group_commit).unwrap();
        tx.send(batch(1)).unwrap();
        first_began.recv().unwrap();
        for id in 2..=4 {
            tx.send(batch(id)).unwrap();
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
    fn without_group_commit_each_batch_is_committed_alone() {
        assert_eq!(commits(false), vec![1, 1, 1, 1]);
    }
}
