//! Why a workflow task could not be completed.

/// Why a workflow task could not be completed. It fails the task (which is
/// retried), never the workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskError {
    pub message: String,
    pub nondeterminism: bool,
}

impl TaskError {
    pub fn new(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
            nondeterminism: false,
        }
    }

    pub fn nondeterminism(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
            nondeterminism: true,
        }
    }
}
