//! List and count requests: the engine task types the query against the
//! registered search attributes (a bad query is answered at once), then
//! the writer thread reads the store's candidates behind every batch sent
//! so far and runs the shared evaluator on them, off the engine task.

use tokio::sync::oneshot;

use crate::backend::BackendError;
use crate::visibility::{Plan, WorkflowExecutionCount, WorkflowExecutionInfo};

use super::engine_task::EngineTask;
use super::requests::Tx;
use super::store::Store;
use super::writer::WriterMsg;

/// A list or count request.
pub(crate) struct VisibilityCall {
    pub namespace: String,
    pub query: String,
    pub count: bool,
}

/// What a list or count answers.
pub(crate) enum Answer {
    List(Vec<WorkflowExecutionInfo>),
    Count(WorkflowExecutionCount),
}

pub(crate) type AnswerRx = oneshot::Receiver<Result<Answer, BackendError>>;

impl EngineTask {
    pub(super) fn visibility(&mut self, call: VisibilityCall, tx: Tx<AnswerRx>) {
        let result = self.visibility_read(call);
        let _ = tx.send(result);
    }

    fn visibility_read(&mut self, call: VisibilityCall) -> Result<AnswerRx, BackendError> {
        super::runs::check_id("namespace", &call.namespace)?;
        if call.query.len() > MAX_QUERY_BYTES {
            return Err(BackendError::InvalidArgument(format!(
                "invalid query: it is {} bytes, over the limit of {MAX_QUERY_BYTES}",
                call.query.len()
            )));
        }
        let plan = crate::visibility::plan_query(&call.query, &self.options.search_attributes)?;
        if !call.count && plan.group_by_status {
            return Err(BackendError::InvalidArgument(
                "invalid query: 'GROUP BY' clause is only supported for count".into(),
            ));
        }
        let (reply, rx) = oneshot::channel();
        let msg = WriterMsg::Visibility {
            namespace: call.namespace,
            plan: Box::new(plan),
            count: call.count,
            reply,
        };
        self.send_to_writer(msg).map(|()| rx)
    }
}

/// Longest query accepted, in bytes.
const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Answers a list or count from the store (on the writer thread).
pub(crate) fn answer(
    store: &mut dyn Store,
    namespace: &str,
    plan: &Plan,
    count: bool,
) -> Result<Answer, BackendError> {
    let rows = store.visibility(namespace, plan.filter.as_ref())?;
    Ok(if count {
        Answer::Count(crate::visibility::count(plan, &rows))
    } else {
        Answer::List(crate::visibility::list(plan, rows))
    })
}
