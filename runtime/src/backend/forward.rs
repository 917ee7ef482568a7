//! Calls a wrapping backend passes on unchanged (listing runs, the
//! schedule calls without payloads, list and count): one definition for
//! every wrapper, so none of them answers `Unsupported` by the trait's
//! default while its inner backend (an engine, a remote server) offers
//! the call.

/// The calls without payloads, passed to `self.inner`.
macro_rules! forward_payload_free_calls {
    () => {
        fn worker_host(&self) -> Option<std::sync::Arc<dyn std::any::Any + Send + Sync>> {
            self.inner.worker_host()
        }

        fn list_runs(
            &self,
            filter: crate::backend::ListFilter,
        ) -> BoxFuture<'_, Result<Vec<crate::backend::WorkflowSummary>, BackendError>> {
            self.inner.list_runs(filter)
        }

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

pub(super) use forward_payload_free_calls;

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
