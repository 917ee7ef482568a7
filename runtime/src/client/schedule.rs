//! The schedule part of the client: creating and listing schedules, and
//! [`ScheduleHandle`], which reaches one. Everything goes through the
//! [`Backend`](crate::backend::Backend) trait.

use crate::backend::BackendError;
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};

use super::{Client, ClientError};

/// Times an update's closure runs at most when the schedule keeps
/// changing between its description and the update.
const UPDATE_ATTEMPTS: usize = 5;

impl Client {
    /// Creates a schedule and returns its handle. The schedule is checked
    /// first: a spec, action or policy that cannot work is refused with a
    /// message naming it (`ClientError::Backend(InvalidArgument)`), and an
    /// id in use with `ScheduleAlreadyExists`.
    pub async fn create_schedule(
        &self,
        schedule_id: impl Into<String>,
        schedule: Schedule,
    ) -> Result<ScheduleHandle, ClientError> {
        let handle = self.schedule_handle(schedule_id);
        self.backend
            .create_schedule(self.namespace.clone(), handle.id.clone(), schedule)
            .await?;
        Ok(handle)
    }

    /// A handle to the schedule `schedule_id` (not checked until used).
    pub fn schedule_handle(&self, schedule_id: impl Into<String>) -> ScheduleHandle {
        ScheduleHandle {
            client: self.clone(),
            id: schedule_id.into(),
        }
    }

    /// The schedules of this client's namespace, by id.
    pub async fn list_schedules(&self) -> Result<Vec<ScheduleListEntry>, ClientError> {
        Ok(self.backend.list_schedules(self.namespace.clone()).await?)
    }
}

/// Reaches one schedule: describe, trigger, backfill, pause, update, delete.
#[derive(Clone)]
pub struct ScheduleHandle {
    client: Client,
    id: String,
}

impl std::fmt::Debug for ScheduleHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduleHandle")
            .field("namespace", &self.client.namespace)
            .field("id", &self.id)
            .finish()
    }
}

impl ScheduleHandle {
    /// The schedule's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn parts(&self) -> (String, String) {
        (self.client.namespace.clone(), self.id.clone())
    }

    /// The schedule, what it did (actions, running workflows, counters,
    /// errors) and its next action times.
    pub async fn describe(&self) -> Result<ScheduleDescription, ClientError> {
        let (namespace, id) = self.parts();
        Ok(self.client.backend.describe_schedule(namespace, id).await?)
    }

    /// Takes the action now, under the schedule's overlap policy (so under
    /// `Skip`, nothing starts while a workflow of it runs). A paused
    /// schedule is triggered too.
    pub async fn trigger(&self) -> Result<(), ClientError> {
        self.trigger_with(None).await
    }

    /// Takes the action now under `overlap` (`Some(OverlapPolicy::AllowAll)`
    /// starts it whatever runs), or the schedule's policy.
    pub async fn trigger_with(&self, overlap: Option<OverlapPolicy>) -> Result<(), ClientError> {
        let (namespace, id) = self.parts();
        Ok(self
            .client
            .backend
            .trigger_schedule(namespace, id, overlap)
            .await?)
    }

    /// Takes the action for every time of the schedule's spec in each
    /// range, both ends included (two hours of a 30-minute interval are 5
    /// actions), whether the schedule is paused or not.
    pub async fn backfill(
        &self,
        backfills: impl IntoIterator<Item = Backfill>,
    ) -> Result<(), ClientError> {
        let (namespace, id) = self.parts();
        let backfills = backfills.into_iter().collect();
        Ok(self
            .client
            .backend
            .backfill_schedule(namespace, id, backfills)
            .await?)
    }

    /// Pauses the schedule, with a note saying why ("Paused via weft" when
    /// `None`). Starts waiting in its buffer are dropped.
    pub async fn pause(&self, note: Option<&str>) -> Result<(), ClientError> {
        self.set_paused(true, note).await
    }

    /// Unpauses the schedule, with a note ("Unpaused via weft" when
    /// `None`). Times that passed while it was paused are not caught up.
    pub async fn unpause(&self, note: Option<&str>) -> Result<(), ClientError> {
        self.set_paused(false, note).await
    }

    async fn set_paused(&self, paused: bool, note: Option<&str>) -> Result<(), ClientError> {
        let (namespace, id) = self.parts();
        Ok(self
            .client
            .backend
            .pause_schedule(namespace, id, paused, note.map(str::to_string))
            .await?)
    }

    /// Updates the schedule through `updater`: it gets the current
    /// description and returns the new schedule, or `None` to change
    /// nothing. If the schedule changes between the description and the
    /// update, `updater` runs again on the new description (a few times at
    /// most).
    ///
    /// ```ignore
    /// handle.update(|current| {
    ///     let mut schedule = current.schedule.clone();
    ///     schedule.state.note = "Updated schedule".into();
    ///     Some(schedule)
    /// }).await?;
    /// ```
    pub async fn update<F>(&self, mut updater: F) -> Result<(), ClientError>
    where
        F: FnMut(&ScheduleDescription) -> Option<Schedule>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self.describe().await?;
            let Some(schedule) = updater(&current) else {
                return Ok(());
            };
            let (namespace, id) = self.parts();
            let token = Some(current.conflict_token);
            match self
                .client
                .backend
                .update_schedule(namespace, id, schedule, token)
                .await
            {
                Err(BackendError::ScheduleConflict { .. }) if attempt < UPDATE_ATTEMPTS => {}
                other => return Ok(other?),
            }
        }
    }

    /// Deletes the schedule. The workflows it started run on.
    pub async fn delete(&self) -> Result<(), ClientError> {
        let (namespace, id) = self.parts();
        Ok(self.client.backend.delete_schedule(namespace, id).await?)
    }
}
