//! What a driver knows of its run that commands refer to: the run's task
//! queue and type, the events of the activities and timers its code
//! started, and the updates delivered to it. It answers the command
//! mapping's questions ([`RunView`]) for replay checks and for strict
//! mode, which rebuilds a task's events as the engine writes them.

use std::collections::HashMap;

use crate::backend::UpdateDelivery;
use crate::history::commands::{DeliveredUpdate, OpenActivity, OpenChild, RunView, TrackingView};
use crate::protocol::Command;

#[derive(Clone, Debug, Default)]
pub(crate) struct Known {
    pub task_queue: String,
    pub workflow_type: String,
    /// The `ActivityTaskScheduled` event of each activity, by seq.
    pub activities: HashMap<u32, i64>,
    /// The `TimerStarted` event of each timer, by seq.
    pub timers: HashMap<u32, i64>,
    /// The updates delivered live, by id.
    pub updates: HashMap<String, UpdateDelivery>,
    /// The children the code started, by seq (their run once started).
    pub children: HashMap<u32, OpenChild>,
}

impl RunView for Known {
    fn task_queue(&self) -> &str {
        &self.task_queue
    }

    fn workflow_type(&self) -> &str {
        &self.workflow_type
    }

    /// Every activity the code scheduled. History does not tell a worker
    /// whether another worker holds an attempt, so it is taken as held: a
    /// cancel request's own event is the same either way, and the
    /// cancellation that may follow it at once is an incoming event.
    fn activity(&self, seq: u32) -> Option<OpenActivity> {
        self.activities
            .get(&seq)
            .map(|&scheduled_event_id| OpenActivity {
                scheduled_event_id,
                started: true,
            })
    }

    fn timer(&self, seq: u32) -> Option<i64> {
        self.timers.get(&seq).copied()
    }

    fn update(&self, id: &str) -> Option<DeliveredUpdate<'_>> {
        self.updates.get(id).map(|u| DeliveredUpdate {
            name: &u.name,
            input: &u.input,
            sequencing_event_id: u.sequencing_event_id,
        })
    }

    fn child(&self, seq: u32) -> Option<OpenChild> {
        self.children.get(&seq).cloned()
    }

    /// A worker does not know the id of the run a continue-as-new starts;
    /// replay does not compare it.
    fn next_run_id(&self) -> &str {
        ""
    }
}

impl TrackingView for Known {
    fn track(&mut self, command: &Command, event_id: i64) {
        match command {
            Command::ScheduleActivity(sa) => {
                self.activities.insert(sa.seq, event_id);
            }
            Command::StartTimer { seq, .. } => {
                self.timers.insert(*seq, event_id);
            }
            Command::StartChildWorkflow(sc) => {
                let child = OpenChild {
                    workflow_id: sc.workflow_id.clone(),
                    run_id: None,
                };
                self.children.insert(sc.seq, child);
            }
            _ => {}
        }
    }
}
