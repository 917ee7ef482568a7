//! Long-running Entity: a customer reward account that lives as a workflow,
//! changed by updates (one with a validator), read by queries, and closed
//! through an update.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "reward-accounts";

// ANCHOR: types
/// Reward levels, by points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    #[default]
    Basic,
    Gold,
    Platinum,
}

/// What queries and updates report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub level: Level,
    pub points: i64,
    pub is_active: bool,
}

/// Input of the account workflow.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountInput {
    pub user_id: String,
    pub starting_points: i64,
    pub starting_level: Level,
}

/// Points to add (negative to take away).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddPoints {
    pub points: i64,
}

/// A user, as the user service knows them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
}
// ANCHOR_END: types

/// Looks the user up.
#[activity]
pub async fn get_user(user_id: String) -> Result<UserInfo, ApplicationError> {
    Ok(UserInfo {
        name: format!("user {user_id}"),
        id: user_id,
    })
}

// ANCHOR: workflow
#[workflow]
pub struct CustomerRewardAccount {
    level: Level,
    points: i64,
    is_active: bool,
    user_id: String,
    update_count: u64,
}

#[workflow]
impl CustomerRewardAccount {
    #[init]
    fn new(input: &AccountInput) -> Self {
        CustomerRewardAccount {
            level: input.starting_level,
            points: input.starting_points,
            is_active: true,
            user_id: input.user_id.clone(),
            update_count: 0,
        }
    }

    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, input: AccountInput) -> WorkflowResult<Status> {
        let user = ctx
            .activity(GET_USER, input.user_id)
            .start_to_close_timeout(Duration::from_secs(1))
            .await?;
        ctx.state_mut(|s| s.user_id = user.id);
        ctx.logger()
            .info(format_args!("reward account for {} created", user.name));
        // The account lives until an update closes it, continuing as new
        // whenever its history grows long.
        weft::select! {
            _ = ctx.wait_condition(|s| !s.is_active) => {},
            _ = ctx.continue_as_new_suggested() => {},
        }
        // Let running handlers finish before the run returns or continues.
        ctx.all_handlers_finished().await;
        if ctx.state(|s| s.is_active) {
            let next = ctx.state(|s| AccountInput {
                user_id: s.user_id.clone(),
                starting_points: s.points,
                starting_level: s.level,
            });
            return ctx.continue_as_new(next);
        }
        Ok(ctx.state(|s| s.status()))
    }

    #[query]
    fn query_reward_status(&self) -> Status {
        self.status()
    }

    #[update]
    fn add_points(&mut self, input: AddPoints) -> Result<Status, ApplicationError> {
        self.update_count += 1;
        self.points = (self.points + input.points).max(0);
        self.level = match self.points {
            p if p >= 1000 => Level::Platinum,
            p if p >= 500 => Level::Gold,
            _ => Level::Basic,
        };
        Ok(self.status())
    }

    #[validator(add_points)]
    fn validate_add_points(&self, input: &AddPoints) -> Result<(), ApplicationError> {
        if input.points == 0 {
            return Err(
                ApplicationError::new("Points must be a non-zero integer.").with_type("ValueError")
            );
        }
        if !self.is_active {
            return Err(ApplicationError::new("The account is closed.").with_type("ValueError"));
        }
        Ok(())
    }

    /// The update is named `cancel`, as in the reference; the fn (and so
    /// the handle's stub) is `cancel_account`, because `handle.cancel()`
    /// asks the workflow run itself to cancel.
    #[update(name = "cancel")]
    fn cancel_account(&mut self) -> Result<Status, ApplicationError> {
        self.is_active = false;
        Ok(self.status())
    }

    fn status(&self) -> Status {
        Status {
            level: self.level,
            points: self.points,
            is_active: self.is_active,
        }
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<CustomerRewardAccount>()
        .register_activity(GET_USER)
}

fn show(status: &Status) -> String {
    format!(
        "level {:?}, {} points, {}",
        status.level,
        status.points,
        if status.is_active { "active" } else { "closed" }
    )
}

/// Adds 600 then 500 points, has one update rejected, queries, closes the
/// account and prints its final status.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let input = AccountInput {
        user_id: "user-42".into(),
        starting_points: 0,
        starting_level: Level::Basic,
    };
    let account = client
        .start_workflow(
            CustomerRewardAccount::run,
            input,
            options("reward-account-42", TASK_QUEUE),
        )
        .await?;
    let mut lines = Vec::new();
    // Fixed update ids: run again after a crash, each update returns its
    // first result instead of adding the points twice.
    let status = account
        .with_update_id("add-600")
        .add_points(AddPoints { points: 600 })
        .await?;
    lines.push(format!("after adding 600: {}", show(&status)));
    let status = account
        .with_update_id("add-500")
        .add_points(AddPoints { points: 500 })
        .await?;
    lines.push(format!("after adding 500: {}", show(&status)));
    match account.add_points(AddPoints { points: 0 }).await {
        Ok(status) => lines.push(format!("unexpectedly accepted: {}", show(&status))),
        Err(rejected) => lines.push(format!("rejected: {rejected}")),
    }
    let status = account.query_reward_status().await?;
    lines.push(format!("query: {}", show(&status)));
    let status = account.with_update_id("cancel").cancel_account().await?;
    lines.push(format!("cancel: {}", show(&status)));
    let status = account.result().await?;
    lines.push(format!("final: {}", show(&status)));
    // ANCHOR_END: client
    Ok(lines)
}
