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
use weft::workflow::select_first;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "concurrent-timers";
/// The example's workflow id (also its request id).
pub const WORKFLOW_ID: &str = "maintenance";

/// What the workflow keeps track of, and for how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenancePlan {
    /// Who gets the notifications.
    pub user_email: String,
    /// How long one day of the plan lasts, in milliseconds (86,400,000 for
    /// real days).
    pub day_ms: u64,
    /// The plan ends after this many days.
    pub days: u32,
}

/// A recurring maintenance task.
#[derive(Clone, Copy, Debug)]
struct Schedule {
    every_days: u32,
    message: &'static str,
}

// ANCHOR: schedules
const SCHEDULES: [Schedule; 3] = [
    Schedule {
        every_days: 90,
        message: "Your car needs an oil change",
    },
    Schedule {
        every_days: 365,
        message: "Your car needs an annual inspection",
    },
    Schedule {
        every_days: 730,
        message: "Your car needs a coolant system service",
    },
];
// ANCHOR_END: schedules

/// The notifications sent, per schedule, and on which day of the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub oil_change: u32,
    pub inspection: u32,
    pub coolant: u32,
    /// `(day, message)` in the order they were sent.
    pub sent: Vec<(u32, String)>,
}

// ANCHOR: activity
/// Sends a notification (a stand-in: it logs it).
#[activity]
pub async fn send_notification(
    user_email: String,
    message: String,
) -> Result<(), ApplicationError> {
    tracing::info!("[Notify] {user_email}: {message}");
    Ok(())
}
// ANCHOR_END: activity

/// Keeps the three maintenance schedules of one car.
#[workflow]
#[derive(Default)]
pub struct MaintenanceWorkflow;

// ANCHOR: workflow
#[workflow]
impl MaintenanceWorkflow {
    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        plan: MaintenancePlan,
    ) -> WorkflowResult<Notifications> {
        let day = Duration::from_millis(plan.day_ms);
        let start = ctx.now();
        // The day each schedule is next due; timers are set for the time
        // left until then, so the schedules do not drift by the time the
        // notifications take.
        let mut due: Vec<u32> = SCHEDULES.iter().map(|s| s.every_days).collect();
        let until = |due_day: u32| {
            let elapsed = ctx.now().duration_since(start).unwrap_or_default();
            (day * due_day).saturating_sub(elapsed)
        };
        // One timer per schedule still inside the plan.
        let mut timers: Vec<_> = due
            .iter()
            .map(|d| (*d <= plan.days).then(|| ctx.sleep(until(*d))))
            .collect();
        let mut notes = Notifications::default();
        loop {
            let live: Vec<usize> = (0..timers.len()).filter(|i| timers[*i].is_some()).collect();
            if live.is_empty() {
                break;
            }
            // Wait for whichever timer fires first; the others keep running.
            let (k, fired) = select_first(timers.iter_mut().flatten()).await;
            let first = live[k];
            fired?;
            let schedule = SCHEDULES[first];
            ctx.activity(
                SEND_NOTIFICATION,
                (plan.user_email.clone(), schedule.message.to_string()),
            )
            .start_to_close_timeout(Duration::from_secs(30))
            .await?;
            notes.sent.push((due[first], schedule.message.to_string()));
            match first {
                0 => notes.oil_change += 1,
                1 => notes.inspection += 1,
                _ => notes.coolant += 1,
            }
            // Restart only the timer that fired.
            due[first] += schedule.every_days;
            timers[first] = (due[first] <= plan.days).then(|| ctx.sleep(until(due[first])));
        }
        Ok(notes)
    }
}
// ANCHOR_END: workflow

/// A worker for this example.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<MaintenanceWorkflow>()
        .register_activity(SEND_NOTIFICATION)
}

/// The tour's plan: 1,096 days, one millisecond each.
pub fn tour_plan() -> MaintenancePlan {
    MaintenancePlan {
        user_email: "driver@example.com".into(),
        day_ms: 1,
        days: 1096,
    }
}

/// Runs the plan for three years (one day per millisecond) and prints the
/// counts.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let notes = client
        .execute_workflow(
            MaintenanceWorkflow::run,
            tour_plan(),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await?;
    // ANCHOR_END: client
    Ok(vec![
        format!(
            "1,096 days (1 day = 1 ms): oil change {}, inspection {}, coolant {}",
            notes.oil_change, notes.inspection, notes.coolant
        ),
        format!(
            "first notifications: {}",
            notes
                .sent
                .iter()
                .take(4)
                .map(|(day, _)| format!("day {day}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ])
}
