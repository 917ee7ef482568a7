//! Limits on what one run may have outstanding at once: activities,
//! children, signals and cancellation requests to other workflows
//! (Temporal's defaults, 2,000 each). A workflow task whose commands would
//! go over one fails, with the cause Temporal gives it, and is retried
//! with backoff, as Temporal does; `describe` shows why.

use crate::history::WorkflowTaskFailedCause;
use crate::protocol::Command;

/// How many of each kind one run may have pending; see
/// [`EngineOptions::pending_limits`](super::EngineOptions::pending_limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingLimits {
    /// Activities scheduled and not closed.
    pub activities: usize,
    /// Children started and not closed.
    pub children: usize,
    /// Signals to other workflows sent by one workflow task.
    pub signals: usize,
    /// Cancellation requests to other workflows (children included) sent
    /// by one workflow task.
    pub cancellations: usize,
}

impl Default for PendingLimits {
    /// Temporal's defaults: 2,000 of each.
    fn default() -> Self {
        PendingLimits {
            activities: 2000,
            children: 2000,
            signals: 2000,
            cancellations: 2000,
        }
    }
}

/// One kind's count after a completion, against its limit.
struct Kind {
    what: &'static str,
    field: &'static str,
    cause: WorkflowTaskFailedCause,
    pending: usize,
    limit: usize,
}

/// What a run has pending before a completion.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pending {
    pub activities: usize,
    pub children: usize,
}

/// Checks that `commands` leave a run with `pending` within `limits`; the
/// failure's cause and message when they do not.
pub(super) fn check_pending(
    pending: Pending,
    commands: &[Command],
    limits: &PendingLimits,
) -> Result<(), (WorkflowTaskFailedCause, String)> {
    let count = |matches: fn(&Command) -> bool| commands.iter().filter(|c| matches(c)).count();
    let kinds = [
        Kind {
            what: "activities",
            field: "activities",
            cause: WorkflowTaskFailedCause::PendingActivitiesLimitExceeded,
            pending: pending.activities + count(|c| matches!(c, Command::ScheduleActivity(_))),
            limit: limits.activities,
        },
        Kind {
            what: "child workflows",
            field: "children",
            cause: WorkflowTaskFailedCause::PendingChildWorkflowsLimitExceeded,
            pending: pending.children + count(|c| matches!(c, Command::StartChildWorkflow(_))),
            limit: limits.children,
        },
        Kind {
            what: "signals to other workflows",
            field: "signals",
            cause: WorkflowTaskFailedCause::PendingSignalsLimitExceeded,
            pending: count(|c| matches!(c, Command::SignalExternalWorkflow { .. })),
            limit: limits.signals,
        },
        Kind {
            what: "cancellation requests to other workflows",
            field: "cancellations",
            cause: WorkflowTaskFailedCause::PendingRequestCancelLimitExceeded,
            pending: count(|c| {
                matches!(
                    c,
                    Command::RequestCancelExternalWorkflow { .. }
                        | Command::CancelChildWorkflow { .. }
                )
            }),
            limit: limits.cancellations,
        },
    ];
    match kinds.into_iter().find(|k| k.pending > k.limit) {
        None => Ok(()),
        Some(k) => Err((
            k.cause,
            format!(
                "the workflow task would leave {} {} pending, over the limit of {} \
                 (EngineOptions::pending_limits.{}); start fewer at once, or wait for \
                 some to close first",
                k.pending, k.what, k.limit, k.field
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ExternalTarget;

    fn signal(seq: u32) -> Command {
        Command::SignalExternalWorkflow {
            seq,
            target: ExternalTarget {
                workflow_id: "other".into(),
                run_id: None,
                child_workflow_only: false,
            },
            signal_name: "go".into(),
            input: Vec::new(),
        }
    }

    #[test]
    fn a_completion_over_a_limit_is_refused_with_its_cause_and_the_option_to_change() {
        let state = Pending::default();
        let limits = PendingLimits {
            signals: 2,
            ..PendingLimits::default()
        };
        assert!(check_pending(state, &[signal(1), signal(2)], &limits).is_ok());
        let (cause, message) =
            check_pending(state, &[signal(1), signal(2), signal(3)], &limits).unwrap_err();
        assert_eq!(cause, WorkflowTaskFailedCause::PendingSignalsLimitExceeded);
        assert!(
            message.contains("3 signals to other workflows pending"),
            "{message}"
        );
        assert!(message.contains("pending_limits.signals"), "{message}");
    }
}
