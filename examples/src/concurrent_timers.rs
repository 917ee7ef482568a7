//! Concurrent timers: one workflow keeps three maintenance schedules (oil
//! change every 90 days, inspection every 365, coolant every 730), each on
//! its own durable timer, waits for whichever fires first, sends that
//! notification, and restarts only that timer.
//!
//! The tour runs the schedule on a short real clock, one day of the plan per
//! millisecond; the tests run it in days on the time-skipping test clock
//! (`weft::engine::VirtualClock`), where 1,096 days pass in moments.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "concurrent-timers";

// ANCHOR: types
/// Who gets the notifications, how long a day of the plan lasts
/// (86,400,000 ms for real days), and on how many days notifications may
/// fall due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenancePlan {
    pub user_email: String,
    pub day_ms: u64,
    pub days: u32,
}

// ANCHOR_END: types

// ANCHOR: activity
#[activity(start_to_close_timeout = "30s")]
pub async fn send_notification(
    user_email: String,
    message: String,
) -> Result<(), ApplicationError> {
    tracing::info!("[Notify] {user_email}: {message}");
    Ok(())
}
// ANCHOR_END: activity

// ANCHOR: workflow
/// Returns the notifications sent, `(day, message)`, in order.
#[workflow]
pub async fn maintenance_workflow(
    ctx: WorkflowContext,
    plan: MaintenancePlan,
) -> WorkflowResult<Vec<(u32, String)>> {
    let (day, start) = (Duration::from_millis(plan.day_ms), ctx.now());
    // A timer until day `due` of the plan: measured from the start, so the
    // schedules do not drift by the time the notifications take.
    let until = |due: u32| {
        let elapsed = ctx.now().duration_since(start);
        ctx.sleep((day * due).saturating_sub(elapsed))
    };
    let (mut oil_due, mut inspection_due, mut coolant_due) = (90, 365, 730);
    let mut oil_change = until(oil_due);
    let mut inspection = until(inspection_due);
    let mut coolant = until(coolant_due);
    let mut sent = Vec::new();
    // The reference runs for ever; this plan ends after its last day.
    while [oil_due, inspection_due, coolant_due]
        .iter()
        .any(|due| *due <= plan.days)
    {
        // Whichever fires first; the others keep running.
        let (due, message) = weft::select! {
            fired = &mut oil_change => {
                fired?;
                oil_due += 90;
                oil_change = until(oil_due);
                (oil_due - 90, "Your car needs an oil change")
            },
            fired = &mut inspection => {
                fired?;
                inspection_due += 365;
                inspection = until(inspection_due);
                (inspection_due - 365, "Your car needs an annual inspection")
            },
            fired = &mut coolant => {
                fired?;
                coolant_due += 730;
                coolant = until(coolant_due);
                (coolant_due - 730, "Your car needs a coolant system service")
            },
        };
        ctx.activity(SEND_NOTIFICATION, (plan.user_email.clone(), message.into()))
            .await?;
        sent.push((due, message.to_string()));
    }
    Ok(sent)
}
// ANCHOR_END: workflow

/// A worker for this example.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<MaintenanceWorkflow>()
        .register_activity(SEND_NOTIFICATION)
}

// ANCHOR: client
/// Runs a maintenance plan as workflow `id`.
pub async fn run(
    client: &Client,
    id: &str,
    plan: MaintenancePlan,
) -> Result<Vec<(u32, String)>, ClientError> {
    client
        .execute_workflow(maintenance_workflow, plan, options(id, TASK_QUEUE))
        .await
}
// ANCHOR_END: client
