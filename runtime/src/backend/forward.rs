//! Schedule and visibility calls a wrapping backend passes on unchanged:
//! one definition for every wrapper, so none of them answers
//! `Unsupported` by the trait's default while its inner backend has them.

/// The schedule calls without payloads, passed to `self.inner`.
macro_rules! forward_schedule_calls {
    () => {
        fn delete_schedule(
            &self,
            namespace: String,
            schedule_id: String,
        ) -> BoxFuture<'_, Result<(), BackendError>> {
            self.inner.delete_schedule(namespace, schedule_id)
        }

        fn list_schedules(
            &self,
            namespace: String,
        ) -> BoxFuture<'_, Result<Vec<crate::schedule::ScheduleListEntry>, BackendError>> {
            self.inner.list_schedules(namespace)
        }

        fn trigger_schedule(
            &self,
            namespace: String,
            schedule_id: String,
            overlap: Option<crate::schedule::OverlapPolicy>,
        ) -> BoxFuture<'_, Result<(), BackendError>> {
            self.inner.trigger_schedule(namespace, schedule_id, overlap)
        }

        fn backfill_schedule(
            &self,
            namespace: String,
            schedule_id: String,
            backfills: Vec<crate::schedule::Backfill>,
        ) -> BoxFuture<'_, Result<(), BackendError>> {
            self.inner
                .backfill_schedule(namespace, schedule_id, backfills)
        }

        fn pause_schedule(
            &self,
            namespace: String,
            schedule_id: String,
            paused: bool,
            note: Option<String>,
        ) -> BoxFuture<'_, Result<(), BackendError>> {
            self.inner
                .pause_schedule(namespace, schedule_id, paused, note)
        }
    };
}

pub(super) use forward_schedule_calls;

/// List and count, passed to `self.inner`. What they answer holds no
/// payloads (search attributes are never encoded), so a codec has
/// nothing to decode in it.
macro_rules! forward_visibility_calls {
    () => {
        fn list_workflows(
            &self,
            namespace: String,
            query: String,
        ) -> BoxFuture<'_, Result<Vec<crate::visibility::WorkflowExecutionInfo>, BackendError>> {
            self.inner.list_workflows(namespace, query)
        }

        fn count_workflows(
            &self,
            namespace: String,
            query: String,
        ) -> BoxFuture<'_, Result<crate::visibility::WorkflowExecutionCount, BackendError>> {
            self.inner.count_workflows(namespace, query)
        }
    };
}

pub(super) use forward_visibility_calls;
