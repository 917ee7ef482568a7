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
