//! Long-running Entity: a customer reward account that lives as a workflow,
//! changed by updates (one with a validator), read by queries, and closed
//! through an update.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "reward-accounts";

// ANCHOR: types
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
}
// ANCHOR_END: types

// ANCHOR: activity
#[activity(start_to_close_timeout = "1s")]
pub async fn get_user(user_id: String) -> Result<UserInfo, ApplicationError> {
    let name = format!("user {user_id}");
    Ok(UserInfo { id: user_id, name })
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
pub struct CustomerRewardAccount {
    status: Status,
    user_id: String,
}

#[workflow]
impl CustomerRewardAccount {
    #[init]
    fn new(input: &AccountInput) -> Self {
        let (level, points) = (input.starting_level, input.starting_points);
        let status = Status {
            level,
            points,
            is_active: true,
        };
        let user_id = input.user_id.clone();
        CustomerRewardAccount { status, user_id }
    }

    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, input: AccountInput) -> WorkflowResult<Status> {
        let user = ctx.activity(GET_USER, input.user_id).await?;
        ctx.logger()
            .info(format_args!("reward account for {} created", user.name));
        ctx.state_mut(|s| s.user_id = user.id);
        // The account lives until an update closes it, continuing as new
        // whenever its history grows long.
        weft::select! {
            closed = ctx.wait_condition(|s| !s.status.is_active) => closed?,
            suggested = ctx.continue_as_new_suggested() => suggested?,
        }
        // Let running handlers finish before the run returns or continues.
        ctx.all_handlers_finished().await?;
        if ctx.state(|s| s.status.is_active) {
            let next = ctx.state(|s| AccountInput {
                user_id: s.user_id.clone(),
                starting_points: s.status.points,
                starting_level: s.status.level,
            });
            return ctx.continue_as_new(next);
        }
        Ok(ctx.state(Self::query_reward_status))
    }

    #[query]
    fn query_reward_status(&self) -> Status {
        self.status.clone()
    }

    #[update]
    fn add_points(&mut self, input: AddPoints) -> Result<Status, ApplicationError> {
        let status = &mut self.status;
        status.points = (status.points + input.points).max(0);
        status.level = match status.points {
            1000.. => Level::Platinum,
            500.. => Level::Gold,
            _ => Level::Basic,
        };
        Ok(self.status.clone())
    }

    #[validator(add_points)]
    fn validate_add_points(&self, input: &AddPoints) -> Result<(), ApplicationError> {
        if input.points == 0 {
            return Err(ApplicationError::new("Points must be a non-zero integer."));
        }
        Ok(())
    }

    /// The update is named `cancel`, as in the reference; the fn (and so
    /// the handle's stub) is `cancel_account`, because `handle.cancel()`
    /// asks the workflow run itself to cancel.
    #[update(name = "cancel")]
    fn cancel_account(&mut self) -> Result<Status, ApplicationError> {
        self.status.is_active = false;
        Ok(self.status.clone())
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<CustomerRewardAccount>()
        .register_activity(GET_USER)
}

// ANCHOR: client
/// Opens an account as workflow `id`; the handle's typed stubs
/// (`add_points`, `query_reward_status`, `cancel_account`) reach it.
pub async fn open(
    client: &Client,
    id: &str,
    input: AccountInput,
) -> Result<WorkflowHandle<CustomerRewardAccount>, ClientError> {
    client
        .start_workflow(CustomerRewardAccount::run, input, options(id, TASK_QUEUE))
        .await
}
// ANCHOR_END: client
